import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

function tide(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(root, 'bin', 'tide.js'), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('tide runs from a bundle of the sources, built on demand', () => {
  const run = tide(['--version']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), version);
  assert.equal(run.stderr, '', 'the bundle was built and used without a fallback');
  const builds = readdirSync(join(root, 'node_modules')).filter(
    (name) => name.startsWith('.tide-') && !name.includes('.partial-'),
  );
  assert.ok(
    builds.some((name) => existsSync(join(root, 'node_modules', name, 'main.js'))),
    `a bundle in node_modules: ${builds.join(', ')}`,
  );
});

test('TIDE_LOADER=tsx runs the same CLI straight from the sources', () => {
  const run = tide(['--version'], { TIDE_LOADER: 'tsx' });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), version);
});

test('both ways report a bad command the same way', () => {
  const bundled = tide(['no-such-command']);
  const direct = tide(['no-such-command'], { TIDE_LOADER: 'tsx' });
  assert.notEqual(bundled.code, 0);
  assert.equal(bundled.code, direct.code);
  assert.equal(bundled.stderr, direct.stderr);
});
