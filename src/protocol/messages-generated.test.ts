import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

/**
 * The committed src/protocol/messages/ must be exactly what the generator writes today from the
 * schemas and the support table: generated code is never edited by hand, and a change to the
 * generator, the table or tools/kafka-errors.json must come with regenerated files.
 */

const repositoryRoot = join(import.meta.dirname, '../..');
const committedDir = join(import.meta.dirname, 'messages');

test('generated messages match a fresh run of the generator', { timeout: 120_000 }, () => {
  const outDir = mkdtempSync(join(tmpdir(), 'tide-gen-protocol-'));
  try {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/gen-protocol.ts', '--out', outDir],
      {
        cwd: repositoryRoot,
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 0, `generator failed:\n${result.stdout}${result.stderr}`);
    const fresh = readdirSync(outDir).sort();
    assert.deepEqual(readdirSync(committedDir).sort(), fresh, 'generated file names differ');
    const stale = fresh.filter(
      (file) => readFileSync(join(outDir, file), 'utf8') !== readFileSync(join(committedDir, file), 'utf8'),
    );
    assert.deepEqual(stale, [], 'run `npm run gen:protocol` and commit the result');
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
