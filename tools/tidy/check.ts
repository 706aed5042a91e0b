/**
 * The tidy check: the architecture's import arrows, size limits and a ban list, read from the code
 * itself with the TypeScript compiler so that the rules cannot drift from what the code does.
 *
 * Every rule reports violations as `rule path[#symbol]` keys. Known exceptions sit on the naughty
 * list (naughty-list.ts); a key on that list that no longer occurs fails the check as well, so the
 * list can only shrink.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** The folders whose TypeScript files the check reads. */
const scannedFolders = ['src', 'tests', 'bench', 'tools'] as const;

/** Generated code is exempt from the size limits: it is as long as the schemas make it. */
const generatedFolder = 'src/protocol/messages/';

export const sizeLimits = Object.freeze({
  /** A function longer than this does more than one thing (STYLE.md: "about 70 lines at most"). */
  functionLinesMax: 70,
  /** A file longer than this holds more than one component. */
  fileLinesMax: 600,
});

/** Which top-level folders of src each folder may import from (besides itself). */
export const allowedImports: Readonly<Record<string, readonly string[]>> = Object.freeze({
  base: [],
  protocol: ['base'],
  metadata: ['base', 'protocol'],
  storage: ['base', 'protocol'],
  net: ['base', 'protocol'],
  spu: ['base', 'protocol', 'metadata', 'net', 'storage'],
  sc: ['base', 'protocol', 'metadata', 'net'],
  client: ['base', 'protocol', 'net'],
  cli: ['base', 'protocol', 'client'],
  testing: ['base', 'protocol', 'metadata', 'net', 'storage', 'spu', 'sc', 'client', 'cli'],
  '.': ['base', 'protocol', 'client'],
});

/** The CLI's entry point may start the processes' own entry points, and nothing else of theirs. */
const allowedEntryImports = new Set(['spu/main.ts', 'sc/main.ts']);

/** Where time and randomness may come from directly; everything else takes a Clock or a seed. */
const clockFiles = new Set(['src/base/clock.ts']);
const randomFiles = new Set(['src/base/clock.ts', 'src/testing/random.ts']);

/** The word that marks unfinished work, spelled so that this file does not contain it. */
const unfinishedMarker = ['FIX', 'ME'].join('');

export interface Violation {
  /** `rule path` or `rule path#symbol`: stable across edits that only move lines. */
  key: string;
  /** Where and why, for people. */
  detail: string;
}

interface ScannedFile {
  source: ts.SourceFile;
  /** Path relative to the root, with forward slashes. */
  path: string;
  isTest: boolean;
}

export function checkTree(root: string): Violation[] {
  const program = loadProgram(root);
  const checker = program.getTypeChecker();
  const files = program
    .getSourceFiles()
    .map((source) => ({ source, path: relative(root, source.fileName).split(sep).join('/') }))
    .filter(({ path }) => scannedFolders.some((folder) => path.startsWith(`${folder}/`)))
    .map(({ source, path }) => ({ source, path, isTest: path.endsWith('.test.ts') }));
  const violations: Violation[] = [];
  for (const file of files) {
    for (const rule of rules) violations.push(...rule(file, checker));
  }
  return violations.sort((a, b) => a.key.localeCompare(b.key));
}

/** Compares what the check found with the naughty list: new violations, and entries now clean. */
export function compareWithNaughtyList(
  violations: readonly Violation[],
  naughtyList: readonly string[],
): { unexpected: string[]; clean: string[] } {
  const allowed = new Set(naughtyList);
  const found = new Set(violations.map((violation) => violation.key));
  const unexpected = violations.filter((v) => !allowed.has(v.key)).map((v) => v.detail);
  const clean = naughtyList
    .filter((key) => !found.has(key))
    .map((key) => `${key} is clean now: remove it from tools/tidy/naughty-list.ts`);
  return { unexpected: [...new Set(unexpected)], clean };
}

function loadProgram(root: string): ts.Program {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config ?? {}, ts.sys, root);
  const rootNames = scannedFolders.flatMap((folder) => typeScriptFiles(join(root, folder)));
  // The type checker needs Node's types even for a tree without node_modules of its own.
  const typeRoots = [join(resolve(import.meta.dirname, '../..'), 'node_modules', '@types')];
  return ts.createProgram({ rootNames, options: { ...parsed.options, typeRoots, noEmit: true } });
}

function typeScriptFiles(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name === 'node_modules' || entry.name === 'fixtures' ? [] : typeScriptFiles(path);
    }
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

type Rule = (file: ScannedFile, checker: ts.TypeChecker) => Violation[];

const rules: readonly Rule[] = [
  importArrows,
  testKitsOnlyInTesting,
  noAny,
  noConsole,
  noBufferSlice,
  functionLength,
  fileLength,
  noUnfinishedMarker,
  noFocusedTests,
  noDirectTimers,
  noDirectTime,
  noMathRandom,
];

function violation(rule: string, file: ScannedFile, node: ts.Node | undefined, why: string) {
  const line =
    node === undefined ? 1 : file.source.getLineAndCharacterOfPosition(node.getStart(file.source)).line + 1;
  return { key: `${rule} ${file.path}`, detail: `${file.path}:${line}: ${why} [${rule}]` };
}

function visit(node: ts.Node, onNode: (node: ts.Node) => void): void {
  onNode(node);
  ts.forEachChild(node, (child) => visit(child, onNode));
}

function collect(file: ScannedFile, match: (node: ts.Node) => string | undefined, rule: string) {
  const found: Violation[] = [];
  visit(file.source, (node) => {
    const why = match(node);
    if (why !== undefined) found.push(violation(rule, file, node, why));
  });
  return found;
}

// ---------------------------------------------------------------------------------------------
// Architecture

function componentOf(srcPath: string): string {
  const parts = srcPath.split('/');
  return parts.length === 1 ? '.' : parts[0]!;
}

function importedPaths(file: ScannedFile): Array<{ node: ts.Node; specifier: string }> {
  const found: Array<{ node: ts.Node; specifier: string }> = [];
  visit(file.source, (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier))
        found.push({ node, specifier: node.moduleSpecifier.text });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteral(argument))
        found.push({ node, specifier: argument.text });
    }
  });
  return found;
}

/**
 * Imports only point down the stack, in tests as in the code they test; only tests (and the
 * benchmarks and tools that drive real processes) may use the test kits in src/testing.
 */
function importArrows(file: ScannedFile): Violation[] {
  const inSrc = file.path.startsWith('src/');
  if (!inSrc) return [];
  const srcPath = file.path.slice('src/'.length);
  const from = componentOf(srcPath);
  const allowed = allowedImports[from];
  if (allowed === undefined) return [violation('imports', file, undefined, `src/${from} has no import rule`)];
  const found: Violation[] = [];
  const fileDir = dirname(srcPath);
  for (const { node, specifier } of importedPaths(file)) {
    if (!specifier.startsWith('.')) continue;
    const target = join(fileDir, specifier).split(sep).join('/');
    if (target.startsWith('..')) {
      found.push(violation('imports', file, node, `imports ${specifier} from outside src/`));
      continue;
    }
    const to = componentOf(target);
    const isCliMain = from === 'cli' && srcPath.endsWith('/main.ts');
    const testImportsKit = file.isTest && to === 'testing';
    if (to === from || allowed.includes(to) || testImportsKit) continue;
    if (isCliMain && allowedEntryImports.has(target)) continue;
    found.push(violation('imports', file, node, `src/${from} must not import src/${to} (${specifier})`));
  }
  return found;
}

/** A test kit in a production folder would be importable by production code. */
function testKitsOnlyInTesting(file: ScannedFile): Violation[] {
  if (!file.path.startsWith('src/') || file.path.startsWith('src/testing/')) return [];
  const name = file.path.slice(file.path.lastIndexOf('/') + 1);
  if (!/(^|-)test-kit\.ts$/.test(name)) return [];
  return [violation('test-kit', file, undefined, 'test kits live under src/testing/')];
}

// ---------------------------------------------------------------------------------------------
// Bans on production code

function isProduction(file: ScannedFile): boolean {
  return file.path.startsWith('src/') && !file.isTest;
}

function noAny(file: ScannedFile): Violation[] {
  if (!isProduction(file)) return [];
  return collect(file, (node) => (node.kind === ts.SyntaxKind.AnyKeyword ? '`any`' : undefined), 'any');
}

function noConsole(file: ScannedFile): Violation[] {
  if (!isProduction(file) || file.path.startsWith('src/cli/') || file.path.endsWith('/main.ts')) return [];
  return collect(
    file,
    (node) =>
      ts.isPropertyAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'console'
        ? 'console.* outside the CLI and main.ts entry points'
        : undefined,
    'console',
  );
}

/** Buffer#slice copies nothing but reads as if it did; subarray says what happens. */
function noBufferSlice(file: ScannedFile, checker: ts.TypeChecker): Violation[] {
  if (!isProduction(file)) return [];
  return collect(
    file,
    (node) => {
      if (!ts.isPropertyAccessExpression(node) || node.name.text !== 'slice') return undefined;
      const type = checker.typeToString(checker.getApparentType(checker.getTypeAtLocation(node.expression)));
      return /^(Buffer|Uint8Array)(<.*>)?$/.test(type) ? `${type}#slice: use subarray` : undefined;
    },
    'buffer-slice',
  );
}

function calledName(node: ts.Node): string | undefined {
  if (!ts.isCallExpression(node)) return undefined;
  const callee = node.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
    return `${callee.expression.text}.${callee.name.text}`;
  }
  return undefined;
}

const directTimers = new Set([
  'setTimeout',
  'setInterval',
  'globalThis.setTimeout',
  'globalThis.setInterval',
]);

/** Timers go through the Clock, so that tests fire them by advancing a manual clock. */
function noDirectTimers(file: ScannedFile): Violation[] {
  if (!isProduction(file) || clockFiles.has(file.path)) return [];
  return collect(
    file,
    (node) => {
      const name = calledName(node);
      if (name !== undefined && directTimers.has(name)) return `${name} outside the Clock`;
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const module = node.moduleSpecifier.text;
        if (module === 'node:timers/promises' || module === 'node:timers')
          return `${module} outside the Clock`;
      }
      return undefined;
    },
    'timers',
  );
}

const directTimeReads = new Set(['Date.now', 'performance.now']);

/** Time is read from the Clock, so that tests control it. */
function noDirectTime(file: ScannedFile): Violation[] {
  if (!isProduction(file) || clockFiles.has(file.path)) return [];
  return collect(
    file,
    (node) => {
      const name = calledName(node);
      return name !== undefined && directTimeReads.has(name) ? `${name}() outside the Clock` : undefined;
    },
    'time',
  );
}

/** Randomness is seeded where a test or the fault injector must replay it. */
function noMathRandom(file: ScannedFile): Violation[] {
  if (!isProduction(file) || randomFiles.has(file.path)) return [];
  return collect(
    file,
    (node) =>
      calledName(node) === 'Math.random' ? 'Math.random outside the Clock and testing/random' : undefined,
    'random',
  );
}

// ---------------------------------------------------------------------------------------------
// Size

function isSizeChecked(file: ScannedFile): boolean {
  return (
    !file.isTest && !file.path.startsWith(generatedFolder) && !file.path.startsWith('tools/kafka-protocol')
  );
}

function functionName(node: ts.FunctionLikeDeclaration): string {
  if (node.name !== undefined && (ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name))) {
    return node.name.text;
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

function qualifiedName(node: ts.FunctionLikeDeclaration): string {
  const names = [functionName(node)];
  for (let parent = node.parent; !ts.isSourceFile(parent); parent = parent.parent) {
    if ((ts.isClassDeclaration(parent) || ts.isFunctionDeclaration(parent)) && parent.name !== undefined) {
      names.unshift(parent.name.text);
    }
  }
  return names.join('.');
}

function functionLength(file: ScannedFile): Violation[] {
  if (!isSizeChecked(file)) return [];
  const found: Violation[] = [];
  visit(file.source, (node) => {
    if (!ts.isFunctionLike(node) || !('body' in node) || node.body === undefined) return;
    const declaration = node as ts.FunctionLikeDeclaration;
    const start = file.source.getLineAndCharacterOfPosition(declaration.getStart(file.source)).line;
    const end = file.source.getLineAndCharacterOfPosition(declaration.getEnd()).line;
    const lines = end - start + 1;
    if (lines <= sizeLimits.functionLinesMax) return;
    const name = qualifiedName(declaration);
    found.push({
      key: `function-length ${file.path}#${name}`,
      detail: `${file.path}:${start + 1}: ${name} is ${lines} lines (max ${sizeLimits.functionLinesMax}) [function-length]`,
    });
  });
  return found;
}

function fileLength(file: ScannedFile): Violation[] {
  if (!isSizeChecked(file)) return [];
  const lines = file.source.getLineAndCharacterOfPosition(file.source.getEnd()).line;
  if (lines <= sizeLimits.fileLinesMax) return [];
  return [violation('file-length', file, undefined, `${lines} lines (max ${sizeLimits.fileLinesMax})`)];
}

// ---------------------------------------------------------------------------------------------
// Everywhere, tests included

function noUnfinishedMarker(file: ScannedFile): Violation[] {
  const text = file.source.getFullText();
  const index = text.indexOf(unfinishedMarker);
  if (index < 0) return [];
  const line = file.source.getLineAndCharacterOfPosition(index).line + 1;
  const rule = 'unfinished';
  return [{ key: `${rule} ${file.path}`, detail: `${file.path}:${line}: ${unfinishedMarker} [${rule}]` }];
}

const focusedCalls = new Set(['test.only', 'it.only', 'describe.only', 'suite.only']);

/** A focused test silently skips the others. */
function noFocusedTests(file: ScannedFile): Violation[] {
  if (!file.isTest) return [];
  return collect(
    file,
    (node) => {
      const name = calledName(node);
      if (name !== undefined && focusedCalls.has(name)) return `${name}`;
      const isOnlyOption =
        ts.isPropertyAssignment(node) &&
        ts.isIdentifier(node.name) &&
        node.name.text === 'only' &&
        node.initializer.kind === ts.SyntaxKind.TrueKeyword;
      return isOnlyOption ? '{ only: true }' : undefined;
    },
    'only',
  );
}
