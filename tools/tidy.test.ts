/**
 * The tidy check: the architecture's import arrows and a few bans, read from the code itself with
 * the TypeScript compiler so that the rules cannot drift from what the code does.
 */
import assert from 'node:assert/strict';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

/** Which top-level folders of src each folder may import from (besides itself). */
const allowedImports: Record<string, readonly string[]> = {
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
};

/** The CLI's entry point may start the processes' own entry points, and nothing else of theirs. */
const allowedEntryImports = new Set(['spu/main.ts', 'sc/main.ts']);

function loadProgram(): ts.Program {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
}

const program = loadProgram();
const checker = program.getTypeChecker();
const sourceFiles = program
  .getSourceFiles()
  .filter((file) => file.fileName.startsWith(src + sep) && !file.fileName.endsWith('.test.ts'));

function componentOf(path: string): string {
  const parts = relative(src, path).split(sep);
  return parts.length === 1 ? '.' : parts[0]!;
}

function where(file: ts.SourceFile, node: ts.Node): string {
  const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
  return `${relative(root, file.fileName)}:${line + 1}`;
}

function visit(file: ts.SourceFile, onNode: (node: ts.Node) => void): void {
  const walk = (node: ts.Node): void => {
    onNode(node);
    ts.forEachChild(node, walk);
  };
  walk(file);
}

function importedPaths(file: ts.SourceFile): Array<{ node: ts.Node; specifier: string }> {
  const found: Array<{ node: ts.Node; specifier: string }> = [];
  visit(file, (node) => {
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

test('source files were found', () => {
  assert.ok(sourceFiles.length > 5, `only ${sourceFiles.length} source files found under src/`);
});

test('imports only point down the stack', () => {
  const violations: string[] = [];
  for (const file of sourceFiles) {
    const from = componentOf(file.fileName);
    const allowed = allowedImports[from];
    if (allowed === undefined) {
      violations.push(`${relative(root, file.fileName)}: folder src/${from} has no import rule`);
      continue;
    }
    for (const { node, specifier } of importedPaths(file)) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file.fileName), specifier);
      if (!target.startsWith(src + sep)) {
        violations.push(`${where(file, node)}: imports ${specifier} from outside src/`);
        continue;
      }
      const to = componentOf(target);
      const entry = relative(src, target).split(sep).join('/');
      const isCliMain = from === 'cli' && file.fileName.endsWith(`${sep}main.ts`);
      if (to === from || allowed.includes(to) || (isCliMain && allowedEntryImports.has(entry))) continue;
      violations.push(`${where(file, node)}: src/${from} must not import src/${to} (${specifier})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('no `any` in src', () => {
  const violations: string[] = [];
  for (const file of sourceFiles) {
    visit(file, (node) => {
      if (node.kind === ts.SyntaxKind.AnyKeyword) violations.push(where(file, node));
    });
  }
  assert.deepEqual(violations, []);
});

test('no console.* in src outside the CLI and main.ts entry points', () => {
  const violations: string[] = [];
  for (const file of sourceFiles) {
    if (componentOf(file.fileName) === 'cli' || file.fileName.endsWith(`${sep}main.ts`)) continue;
    visit(file, (node) => {
      if (
        ts.isPropertyAccessExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'console'
      ) {
        violations.push(where(file, node));
      }
    });
  }
  assert.deepEqual(violations, []);
});

test('no Buffer#slice (it copies nothing but reads as if it did; use subarray)', () => {
  const violations: string[] = [];
  for (const file of sourceFiles) {
    visit(file, (node) => {
      if (!ts.isPropertyAccessExpression(node) || node.name.text !== 'slice') return;
      const type = checker.getTypeAtLocation(node.expression);
      const name = checker.typeToString(checker.getApparentType(type));
      if (/^(Buffer|Uint8Array)(<.*>)?$/.test(name)) violations.push(`${where(file, node)} (${name})`);
    });
  }
  assert.deepEqual(violations, []);
});
