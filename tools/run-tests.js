#!/usr/bin/env node
// The project's test command (`npm test`): format and lint (Biome), type check (tsc), then every
// *.test.ts under src/ and tests/ with Node's test runner. Exits non-zero if any step fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'fixtures') found.push(...findTests(path));
    } else if (entry.name.endsWith('.test.ts')) {
      found.push(path);
    }
  }
  return found;
}

function step(name, command, args) {
  process.stdout.write(
    `\n== ${name}: ${command} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''}\n`,
  );
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stdout.write(`\n== ${name} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status || 1);
  }
}

const onlyUnit = process.argv.includes('--only-unit');
const bin = (name) => join('node_modules', '.bin', name);
if (!onlyUnit) {
  step('lint', bin('biome'), ['check', '.']);
  step('types', bin('tsc'), ['--noEmit', '-p', '.']);
}
const files = [...findTests('src'), ...findTests('tests'), ...findTests('tools')].sort();
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = filter.length === 0 ? files : files.filter((f) => filter.some((p) => f.includes(p)));
if (selected.length === 0) {
  process.stdout.write('no test files found\n');
  process.exit(1);
}
// Two bounds keep a hung test from hanging the run: a test without its own timeout fails after
// `defaultTestTimeoutMs`, and a test file whose tests have all finished exits even if a socket or a
// timer a failed test left behind would keep it alive.
const defaultTestTimeoutMs = 180_000;
step('tests', process.execPath, [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${process.env.TIDE_TEST_CONCURRENCY ?? '2'}`,
  `--test-timeout=${defaultTestTimeoutMs}`,
  '--test-force-exit',
  ...selected,
]);
