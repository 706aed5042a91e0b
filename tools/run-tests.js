#!/usr/bin/env node
// The project's test command (`npm test`): format and lint (Biome), type check (tsc), then every
// *.test.ts under src/ and tests/ with Node's test runner. Exits non-zero if any step fails.
import { spawn, spawnSync } from 'node:child_process';
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
  announce(name, command, args);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) fail(name, result.status ?? result.signal);
}

function announce(name, command, args) {
  process.stdout.write(
    `\n== ${name}: ${command} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''}\n`,
  );
}

function fail(name, how) {
  process.stdout.write(`\n== ${name} failed (${how})\n`);
  process.exit(typeof how === 'number' && how > 0 ? how : 1);
}

/** Like `step`, but the command and everything it starts are killed after `limitMs`. */
function limitedStep(name, command, args, limitMs) {
  announce(name, command, args);
  // Its own process group, so a kill reaches the test files' processes and what they started.
  const child = spawn(command, args, { stdio: 'inherit', detached: true });
  const timer = setTimeout(() => {
    process.stdout.write(`\n== ${name} did not finish within ${limitMs / 60_000} min; stopping it\n`);
    process.kill(-child.pid, 'SIGKILL');
  }, limitMs);
  const forward = (signal) => process.kill(-child.pid, signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    clearTimeout(timer);
    try {
      process.kill(-child.pid, 'SIGKILL'); // whatever a test left running
    } catch {
      // Nothing was left.
    }
    if (code !== 0) fail(name, code ?? signal);
  });
}

const onlyUnit = process.argv.includes('--only-unit');
const bin = (name) => join('node_modules', '.bin', name);
if (!onlyUnit) {
  step('lint', bin('biome'), ['check', '.']);
  step('types', bin('tsc'), ['--noEmit', '-p', '.']);
}
// Unit tests live beside the code (src/, tools/) and start no processes; tests/ holds the ones that
// start real SPUs, SCs and external clients.
const files = [...findTests('src'), ...findTests('tools'), ...(onlyUnit ? [] : findTests('tests'))].sort();
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = filter.length === 0 ? files : files.filter((f) => filter.some((p) => f.includes(p)));
if (selected.length === 0) {
  process.stdout.write('no test files found\n');
  process.exit(1);
}
// Two bounds keep a hung test from hanging the run: a test without its own timeout fails after
// `defaultTestTimeoutMs`, and the whole test step is stopped after `testRunLimitMs` (a test file
// whose tests are done but whose process stays alive, say on a forgotten socket, would otherwise
// keep the runner waiting for ever). The runner's own --test-force-exit is not used: on Node 20 it
// can end a file before its last suites have run.
const defaultTestTimeoutMs = 180_000;
const testRunLimitMs = 30 * 60_000;
limitedStep(
  'tests',
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.TIDE_TEST_CONCURRENCY ?? '2'}`,
    `--test-timeout=${defaultTestTimeoutMs}`,
    ...selected,
  ],
  testRunLimitMs,
);
