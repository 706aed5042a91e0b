import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { batchHeader, checkBatch } from '../src/protocol/batch-header.ts';
import { decodeRecordBatch } from '../src/protocol/record-batch.ts';
import { PartitionLog } from '../src/storage/partition-log.ts';
import { withTempDir } from '../src/testing/storage-kit.ts';
import { valueFor } from './helpers/storage-writer.ts';

/**
 * Crash test: a child process appends with flush.messages=1 and reports each durable offset; it is
 * killed with SIGKILL at seeded random points, several rounds on the same log. After each kill the
 * log must reopen as a prefix of what was appended (every record's value matches its offset), with
 * valid CRCs, dense offsets, every reported-durable offset present, and index files that agree with
 * a full scan of their segments.
 */
const writer = fileURLToPath(new URL('./helpers/storage-writer.ts', import.meta.url));
const rounds = 8;

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** Runs the writer until it reported `durableLines` durable appends, then kills it. */
async function runAndKill(dir: string, durableLines: number): Promise<bigint> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', writer, dir, '65536'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let durable = 0n;
  let seen = 0;
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const [word, value] = line.split(' ');
          if (word !== 'durable') continue;
          const offset = BigInt(value!);
          if (offset > durable) durable = offset;
          seen += 1;
          if (seen === durableLines) {
            child.kill('SIGKILL');
            resolve();
          }
        }
      });
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`writer exited early (${code}): ${stderr}`));
      });
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (child.exitCode === null && child.signalCode === null)
    await new Promise((resolve) => child.once('exit', resolve));
  return durable;
}

/** Reads the whole log cold and checks every batch and record; returns the log end. */
async function verifyLog(log: PartitionLog, durable: bigint): Promise<void> {
  assert.ok(log.logEndOffset >= durable, `log end ${log.logEndOffset} lost durable offset ${durable}`);
  let expected = 0n;
  while (expected < log.logEndOffset) {
    const read = await log.read(expected, { maxBytes: 1 << 20 });
    assert.ok(read.batches.length > 0);
    for (const batch of read.batches) {
      checkBatch(batch);
      assert.equal(batch.readBigInt64BE(batchHeader.baseOffset), expected, 'offsets dense');
      for (const record of decodeRecordBatch(batch).records) {
        assert.equal(record.offset, expected);
        assert.ok(
          record.value?.equals(valueFor(record.offset)),
          `record ${record.offset} is what was appended`,
        );
        expected += 1n;
      }
    }
  }
}

/** Index files on disk must point at batch starts with the offsets they name. */
async function verifyIndexFiles(dir: string): Promise<number> {
  let checked = 0;
  for (const name of (await readdir(dir)).filter((entry) => entry.endsWith('.index'))) {
    const base = BigInt(name.slice(0, 20));
    const log = await readFile(`${dir}/${name.replace('.index', '.log')}`);
    const index = await readFile(`${dir}/${name}`);
    const starts = new Map<number, bigint>();
    for (let at = 0; at < log.length; at += log.readInt32BE(at + 8) + 12)
      starts.set(at, log.readBigInt64BE(at));
    for (let entry = 0; entry < index.length; entry += 8) {
      const position = index.readUInt32BE(entry + 4);
      assert.equal(
        starts.get(position),
        base + BigInt(index.readUInt32BE(entry)),
        `${name} entry ${entry / 8}`,
      );
      checked += 1;
    }
  }
  return checked;
}

test('SIGKILLed writers leave a valid prefix holding every durable append', {
  timeout: 120_000,
}, async () => {
  await withTempDir(async (dir) => {
    const random = seeded(Number(process.env.TIDE_CRASH_SEED ?? 7));
    let durable = 0n;
    let indexEntries = 0;
    for (let round = 0; round < rounds; round++) {
      const reported = await runAndKill(dir, 20 + Math.floor(random() * 400));
      if (reported > durable) durable = reported;
      const log = await PartitionLog.open({ dir, config: { segmentBytes: 65536, indexIntervalBytes: 512 } });
      await verifyLog(log, durable);
      durable = log.logEndOffset;
      if (random() < 0.5) {
        await log.close();
        indexEntries += await verifyIndexFiles(dir);
      } else {
        await log.abandon(); // the next writer recovers from this state too
      }
    }
    assert.ok(durable > 0n);
    assert.ok(indexEntries > 0, 'index files were checked');
  });
});
