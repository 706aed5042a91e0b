/**
 * The tidy check catches what it claims to: each rule's violation is planted in a temporary tree
 * beside a file that keeps the rule, and the check must report exactly the planted ones.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkTree, compareWithNaughtyList, sizeLimits, type Violation } from './check.ts';

const repoRoot = resolve(import.meta.dirname, '../..');

function lines(count: number, make: (index: number) => string): string {
  return Array.from({ length: count }, (_, index) => make(index)).join('\n');
}

/** A function of exactly `total` lines, counting its first and last. */
function functionOf(name: string, total: number): string {
  return `export function ${name}(): void {\n${lines(total - 2, () => '  void 0;')}\n}`;
}

const marker = ['FIX', 'ME'].join('');

/** Files that break a rule each, keyed by the violation the check must report for them. */
const planted: Record<string, { path: string; text: string }> = {
  'imports src/base/arrow.ts': { path: 'src/base/arrow.ts', text: "export { x } from '../spu/leaf.ts';\n" },
  'imports src/spu/arrow.test.ts': {
    path: 'src/spu/arrow.test.ts',
    text: "import { y } from '../sc/leaf.ts';\nexport const z = y;\n",
  },
  'imports src/spu/uses-kit.ts': {
    path: 'src/spu/uses-kit.ts',
    text: "import { kit } from '../testing/kit.ts';\nexport const k = kit;\n",
  },
  'test-kit src/storage/log-test-kit.ts': {
    path: 'src/storage/log-test-kit.ts',
    text: 'export const kit = 1;\n',
  },
  'any src/spu/any.ts': { path: 'src/spu/any.ts', text: 'export const a: any = 1;\n' },
  'console src/spu/console.ts': { path: 'src/spu/console.ts', text: "console.log('x');\n" },
  'buffer-slice src/spu/slice.ts': {
    path: 'src/spu/slice.ts',
    text: 'export const b = Buffer.alloc(4).slice(1);\n',
  },
  'function-length src/spu/long.ts#tooLong': {
    path: 'src/spu/long.ts',
    text: `${functionOf('tooLong', sizeLimits.functionLinesMax + 1)}\n${functionOf('justRight', sizeLimits.functionLinesMax)}\n`,
  },
  'file-length src/spu/big.ts': {
    path: 'src/spu/big.ts',
    text: `${lines(sizeLimits.fileLinesMax + 1, (index) => `export const v${index} = ${index};`)}\n`,
  },
  'unfinished tests/marker.test.ts': { path: 'tests/marker.test.ts', text: `// ${marker}: later\n` },
  'only tests/focused.test.ts': {
    path: 'tests/focused.test.ts',
    text: "import { test } from 'node:test';\ntest.only('x', () => {});\n",
  },
  'only tests/focused-option.test.ts': {
    path: 'tests/focused-option.test.ts',
    text: "import { test } from 'node:test';\ntest('x', { only: true }, () => {});\n",
  },
  'timers src/spu/timer.ts': { path: 'src/spu/timer.ts', text: 'setTimeout(() => {}, 5);\n' },
  'timers src/spu/sleep.ts': {
    path: 'src/spu/sleep.ts',
    text: "import { setTimeout as sleep } from 'node:timers/promises';\nawait sleep(1);\n",
  },
  'time src/spu/now.ts': { path: 'src/spu/now.ts', text: 'export const t = performance.now();\n' },
  'random src/spu/dice.ts': { path: 'src/spu/dice.ts', text: 'export const r = Math.random();\n' },
};

/** Files that keep every rule, some of them close to a line. */
const tidyFiles: Array<{ path: string; text: string }> = [
  { path: 'src/spu/leaf.ts', text: 'export const x = 1;\n' },
  { path: 'src/sc/leaf.ts', text: 'export const y = 1;\n' },
  { path: 'src/testing/kit.ts', text: "export { x as kit } from '../spu/leaf.ts';\n" },
  { path: 'src/spu/ok.test.ts', text: "import { kit } from '../testing/kit.ts';\nexport const k = kit;\n" },
  {
    path: 'src/spu/ok.ts',
    text: "import { x } from '../base/clock.ts';\nexport const o = x + [1, 2].slice(1).length;\n",
  },
  { path: 'src/base/clock.ts', text: 'export const x = Date.now();\nsetTimeout(() => {}, 1);\n' },
  { path: 'src/testing/random.ts', text: 'export const r = Math.random();\n' },
  { path: 'src/cli/print.ts', text: "console.log('for people');\n" },
  { path: 'src/protocol/messages/generated.ts', text: `${functionOf('generated', 200)}\n` },
  { path: 'tests/slow.test.ts', text: 'setTimeout(() => {}, 5);\nexport const t = Date.now();\n' },
];

describe('tidy check on a planted tree', () => {
  let root = '';
  let violations: Violation[] = [];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tide-tidy-'));
    writeFileSync(
      join(root, 'tsconfig.json'),
      JSON.stringify({
        extends: join(repoRoot, 'tsconfig.json'),
        include: ['src', 'tests', 'bench', 'tools'],
      }),
    );
    for (const { path, text } of [...Object.values(planted), ...tidyFiles]) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    violations = checkTree(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const key of Object.keys(planted)) {
    test(`reports ${key}`, () => {
      assert.ok(
        violations.some((violation) => violation.key === key),
        `missing; found ${JSON.stringify(violations.map((v) => v.key))}`,
      );
    });
  }

  test('reports nothing else', () => {
    const extra = violations.filter((violation) => !(violation.key in planted));
    assert.deepEqual(extra, []);
  });

  test('each violation names its file and line', () => {
    const timer = violations.find((violation) => violation.key === 'timers src/spu/timer.ts');
    assert.match(timer?.detail ?? '', /^src\/spu\/timer\.ts:1: setTimeout outside the Clock/);
  });
});

describe('naughty list', () => {
  const found: Violation[] = [
    { key: 'timers src/a.ts', detail: 'src/a.ts:3: setTimeout outside the Clock [timers]' },
    { key: 'any src/b.ts', detail: 'src/b.ts:1: `any` [any]' },
  ];

  test('a listed violation passes, an unlisted one fails', () => {
    const { unexpected, clean } = compareWithNaughtyList(found, ['timers src/a.ts']);
    assert.deepEqual(unexpected, ['src/b.ts:1: `any` [any]']);
    assert.deepEqual(clean, []);
  });

  test('an entry that is clean now fails, so the list only shrinks', () => {
    const { clean } = compareWithNaughtyList(found, ['timers src/a.ts', 'any src/b.ts', 'console src/c.ts']);
    assert.equal(clean.length, 1);
    assert.match(clean[0] ?? '', /^console src\/c\.ts is clean now/);
  });
});
