import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { keyPartition } from '../src/client/partitioner.ts';
import { codecFromAttributes } from '../src/protocol/compression/compression.ts';
import { makeTempDir, stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { createTopic, kcat, runTide, storedBatches } from './helpers/client-kit.ts';

/** `tide produce` as a spawned process against a real SPU, checked with kcat. */

const tideBin = resolve(import.meta.dirname, '..', 'bin', 'tide.js');

describe('tide produce', () => {
  let spu: TestSpu;
  let temp: { path: string; remove: () => Promise<void> };

  const read = async (topic: string, format = '%k=%s\n'): Promise<string[]> =>
    (await kcat(spu, ['-C', '-t', topic, '-e', '-q', '-f', format])).split('\n').filter((l) => l !== '');

  before(async () => {
    spu = await startSpu();
    temp = await makeTempDir('tide-cli-produce-');
  });
  after(async () => {
    await spu?.destroy();
    await temp?.remove();
    await stopAll();
  });

  test('stdin lines become records, silently; -v prints partition and offset', async () => {
    await createTopic(spu, 'lines', 1);
    const quiet = await runTide(['produce', 'lines', '--bootstrap', spu.bootstrap], 'one\ntwo\r\n\nthree\n');
    assert.deepEqual(quiet, { code: 0, stdout: '', stderr: '' });
    const verbose = await runTide(['produce', 'lines', '--bootstrap', spu.bootstrap, '-v'], 'four\nfive\n');
    assert.equal(verbose.stdout, 'partition 0 offset 3\npartition 0 offset 4\n');
    assert.deepEqual(await read('lines', '%s\n'), ['one', 'two', 'three', 'four', 'five']);
  });

  test('-v prints each offset as it is acknowledged; Ctrl-C tells how many were', async () => {
    await createTopic(spu, 'typed', 1);
    const child = spawn(process.execPath, [tideBin, 'produce', 'typed', '-v', '--bootstrap', spu.bootstrap], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    try {
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      // Each line typed is acknowledged and printed while the input is still open.
      child.stdin!.write('first\n');
      assert.equal((await lines.next()).value, 'partition 0 offset 0');
      child.stdin!.write('second\n');
      assert.equal((await lines.next()).value, 'partition 0 offset 1');
      child.kill('SIGINT');
      assert.equal(await exited, 1);
      assert.match(stderr, /interrupted: 2 records acknowledged/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('keys from --key-separator land by murmur2; --key, --header and --partition apply to all', async () => {
    await createTopic(spu, 'keys', 4);
    const input = Array.from({ length: 20 }, (_, i) => `k${i}:v${i}`).join('\n');
    const keyed = await runTide(
      ['produce', 'keys', '--bootstrap', spu.bootstrap, '--key-separator', ':'],
      input,
    );
    assert.equal(keyed.code, 0, keyed.stderr);
    const lines = await read('keys', '%p %k %s\n');
    assert.deepEqual(
      lines.sort(),
      Array.from({ length: 20 }, (_, i) => `${keyPartition(Buffer.from(`k${i}`), 4)} k${i} v${i}`).sort(),
    );
    const fixed = await runTide(
      [
        'produce',
        'keys',
        '--bootstrap',
        spu.bootstrap,
        '--key',
        'K',
        '-p',
        '3',
        '--header',
        'a=1',
        '--header',
        'b=x=y',
      ],
      'fixed\n',
    );
    assert.equal(fixed.code, 0, fixed.stderr);
    const last = (
      await kcat(spu, ['-C', '-t', 'keys', '-p', '3', '-o', '-1', '-e', '-q', '-f', '%k|%s|%h\n'])
    ).trim();
    assert.equal(last, 'K|fixed|a=1,b=x=y');
  });

  test('-f FILE with compression, linger and batch size; --raw sends the whole input as one record', async () => {
    await createTopic(spu, 'file', 1);
    const file = join(temp.path, 'records.txt');
    await writeFile(
      file,
      `${Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(100)}`).join('\n')}\n`,
    );
    const result = await runTide([
      'produce',
      'file',
      '--bootstrap',
      spu.bootstrap,
      '-f',
      file,
      '--compression',
      'zstd',
      '--linger',
      '20ms',
      '--batch-size',
      '16KiB',
      '--acks',
      '1',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const values = await read('file', '%s\n');
    assert.equal(values.length, 1000);
    assert.equal(values[999], `line 999 ${'x'.repeat(100)}`);
    const batches = await storedBatches(spu, 'file', 0);
    assert.ok(batches.length > 1 && batches.every((b) => codecFromAttributes(b.attributes) === 'zstd'));
    const raw = await runTide(['produce', 'file', '--bootstrap', spu.bootstrap, '--raw', '-v'], 'a\nb\nc\n');
    assert.equal(raw.stdout, 'partition 0 offset 1000\n');
    const last = await kcat(spu, ['-C', '-t', 'file', '-o', '1000', '-e', '-q', '-f', '%s']);
    assert.equal(last, 'a\nb\nc\n');
  });

  test('bad options exit with 2; a missing topic exits with 1', async () => {
    const bad = [
      ['produce', 'file', '--bootstrap', spu.bootstrap, '--compression', 'brotli'],
      ['produce', 'file', '--bootstrap', spu.bootstrap, '--acks', '2'],
      ['produce', 'file', '--bootstrap', spu.bootstrap, '--linger', 'soon'],
      ['produce', 'file', '--bootstrap', spu.bootstrap, '--header', 'novalue'],
      ['produce', 'file', '--bootstrap', spu.bootstrap, '--key', 'a', '--key-separator', ':'],
      ['produce', 'file', '--bootstrap', spu.bootstrap, '-p', 'x'],
      ['produce', '--bootstrap', spu.bootstrap],
    ];
    for (const args of bad) {
      const result = await runTide(args, 'x\n');
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
    const missing = await runTide(['produce', 'no-such-topic', '--bootstrap', spu.bootstrap], 'x\n');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not exist/);
  });
});
