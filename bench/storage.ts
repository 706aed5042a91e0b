/**
 * Storage engine benchmark: append throughput (16 KiB and 1 MiB batches of 1 KiB records) without
 * per-append fsync, with flush.ms, and with flush.messages=1 (one appender vs concurrent appenders
 * sharing fsyncs: group commit); tail reads (served from memory) and cold reads (after reopening:
 * positioned reads through the index, CRC checked). A `fio` sequential write in the same run gives
 * the device ceiling. Each figure is the median of several samples; MB/s is 10^6 bytes per second
 * of batch bytes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import type { LogConfig } from '../src/storage/config.ts';
import { PartitionLog } from '../src/storage/partition-log.ts';
import { appendResults, describeMachine, formatMachine, markdownTable, textTable } from './machine.ts';
import type { BenchOptions } from './main.ts';

const recordBytes = 1024; // bytes of each record value
const samples = 5; // runs per throughput case; the median is reported
const noFlush: Partial<LogConfig> = { flushMs: 2 ** 31, flushMessages: Number.MAX_SAFE_INTEGER };

interface Row {
  readonly name: string;
  readonly mbps: number;
  readonly perSecond?: number;
  readonly note: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function batchOf(bytes: number): Buffer {
  const value = Buffer.alloc(recordBytes, 0x61);
  const count = Math.max(1, Math.floor(bytes / (recordBytes + 16)));
  return encodeRecordBatch({
    records: Array.from({ length: count }, (_, index) => ({ key: null, value, timestamp: BigInt(index) })),
  });
}

async function withLog<T>(
  config: Partial<LogConfig>,
  use: (log: PartitionLog, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-bench-storage-'));
  const log = await PartitionLog.open({ dir, config: { segmentBytes: 1024 * 1024 * 1024, ...config } });
  try {
    return await use(log, dir);
  } finally {
    await log.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Distinct copies of a batch to cycle through: the log takes ownership of appended buffers (it
 * rewrites offsets in place), so a buffer must not be appended again while still in flight.
 */
function batchPool(batch: Buffer, copies: number): () => Buffer {
  const pool = Array.from({ length: copies }, () => Buffer.from(batch));
  let next = 0;
  return () => pool[next++ % copies]!;
}

/** Appends `totalBytes` of batches from `nextBatch` with `appenders` concurrent appenders; returns seconds. */
async function appendBytes(
  log: PartitionLog,
  nextBatch: () => Buffer,
  totalBytes: number,
  appenders: number,
): Promise<number> {
  const appends = Math.max(appenders, Math.round(totalBytes / nextBatch().length));
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (issued < appends) {
        issued += 1;
        await log.append([nextBatch()], { leaderEpoch: 0 });
      }
    }),
  );
  await log.flush();
  return (performance.now() - started) / 1000;
}

async function appendCase(
  batchBytes: number,
  totalBytes: number,
  config: Partial<LogConfig>,
): Promise<number> {
  const nextBatch = batchPool(batchOf(batchBytes), 16);
  const rates: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    await withLog(config, async (log) => {
      const ticker = setInterval(() => void log.flushIfDue().catch(() => {}), 100);
      try {
        const seconds = await appendBytes(log, nextBatch, totalBytes, 4);
        rates.push(log.sizeBytes / seconds / 1e6);
      } finally {
        clearInterval(ticker);
      }
    });
  }
  return median(rates);
}

/** flush.messages=1: appends per second with `appenders` concurrent appenders, for `seconds`. */
async function durableCase(
  appenders: number,
  seconds: number,
  batchBytes = 16 * 1024,
): Promise<{ perSecond: number; mbps: number }> {
  const nextBatch = batchPool(batchOf(batchBytes), 2 * appenders);
  const bytesPerAppend = nextBatch().length;
  const perSecond: number[] = [];
  for (let sample = 0; sample < 3; sample++) {
    await withLog({ flushMessages: 1 }, async (log) => {
      let appends = 0;
      const deadline = performance.now() + (seconds * 1000) / 3;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: appenders }, async () => {
          while (performance.now() < deadline) {
            await log.append([nextBatch()], { leaderEpoch: 0 });
            appends += 1;
          }
        }),
      );
      perSecond.push(appends / ((performance.now() - started) / 1000));
    });
  }
  const rate = median(perSecond);
  return { perSecond: rate, mbps: (rate * bytesPerAppend) / 1e6 };
}

/** Reads the whole log sequentially, 1 MiB per read; returns MB/s. */
async function readAll(log: PartitionLog): Promise<number> {
  let offset = log.logStartOffset;
  let bytes = 0;
  const started = performance.now();
  while (offset < log.logEndOffset) {
    const read = await log.read(offset, { maxBytes: 1024 * 1024 });
    const last = read.batches.at(-1)!;
    offset = last.readBigInt64BE(0) + BigInt(last.readInt32BE(23)) + 1n;
    bytes += read.bytes;
  }
  return bytes / ((performance.now() - started) / 1000) / 1e6;
}

async function readCases(totalBytes: number): Promise<{ tail: number; cold: number; coldUnchecked: number }> {
  const tail: number[] = [];
  const cold: number[] = [];
  const coldUnchecked: number[] = [];
  const batch = batchOf(16 * 1024);
  await withLog({ ...noFlush, tailWindowBytes: totalBytes + 1024 * 1024 }, async (log, dir) => {
    await appendBytes(log, () => Buffer.from(batch), totalBytes, 4);
    for (let sample = 0; sample < samples; sample++) tail.push(await readAll(log));
    await log.close();
    for (const verifyColdReads of [true, false]) {
      for (let sample = 0; sample < samples; sample++) {
        const reopened = await PartitionLog.open({ dir, config: { tailWindowBytes: 0, verifyColdReads } });
        (verifyColdReads ? cold : coldUnchecked).push(await readAll(reopened));
        await reopened.close();
      }
    }
  });
  return { tail: median(tail), cold: median(cold), coldUnchecked: median(coldUnchecked) };
}

/** One fio sequential write of a new file, 1 MiB blocks, fsync at the end; MB/s. */
async function fioOnce(totalBytes: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-bench-fio-'));
  try {
    const { stdout } = await promisify(execFile)('/usr/bin/fio', [
      '--name=seqwrite',
      '--rw=write',
      '--bs=1M',
      `--size=${Math.round(totalBytes / (1024 * 1024))}M`,
      '--end_fsync=1',
      '--ioengine=psync',
      `--directory=${dir}`,
      '--output-format=json',
    ]);
    const report = JSON.parse(stdout) as { jobs: Array<{ write: { bw_bytes: number } }> };
    return (report.jobs[0]?.write.bw_bytes ?? 0) / 1e6;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The device ceiling for appends: median of several fio runs, each writing a new file (as the log
 * does: a new segment allocates its blocks). Undefined when fio is missing.
 */
async function fioCeiling(totalBytes: number): Promise<number | undefined> {
  const rates: number[] = [];
  try {
    for (let run = 0; run < 3; run++) rates.push(await fioOnce(totalBytes));
  } catch {
    return undefined;
  }
  return median(rates);
}

export async function run(options: BenchOptions): Promise<void> {
  const machine = describeMachine();
  const big = options.quick ? 64 * 1024 * 1024 : 512 * 1024 * 1024;
  const small = options.quick ? 32 * 1024 * 1024 : 256 * 1024 * 1024;
  const durableSeconds = options.quick ? 1.5 : options.durationS * 2;
  process.stdout.write(`storage benchmark on ${formatMachine(machine)}\n`);
  const fioMBps = await fioCeiling(big);
  const rows: Row[] = [];
  const append1m = await appendCase(1024 * 1024, big, noFlush);
  rows.push({
    name: 'append 1 MiB batches, no fsync',
    mbps: append1m,
    note: '4 appenders, one fsync at the end',
  });
  rows.push({
    name: 'append 16 KiB batches, no fsync',
    mbps: await appendCase(16 * 1024, small, noFlush),
    note: '4 appenders',
  });
  rows.push({
    name: 'append 16 KiB batches, flush.ms=1000',
    mbps: await appendCase(16 * 1024, small, { flushMs: 1000 }),
    note: 'periodic fsync from a 100 ms tick',
  });
  const single = await durableCase(1, durableSeconds);
  const group = await durableCase(8, durableSeconds);
  const wide = await durableCase(64, durableSeconds);
  rows.push({ name: 'flush.messages=1, 1 appender', ...single, note: 'one fsync per append' });
  rows.push({ name: 'flush.messages=1, 8 appenders', ...group, note: 'group commit' });
  rows.push({ name: 'flush.messages=1, 64 appenders', ...wide, note: 'group commit' });
  const singleSmall = await durableCase(1, durableSeconds, 1024);
  const wideSmall = await durableCase(64, durableSeconds, 1024);
  rows.push({
    name: 'flush.messages=1, 1 KiB batches, 1 appender',
    ...singleSmall,
    note: 'one fsync per append',
  });
  rows.push({ name: 'flush.messages=1, 1 KiB batches, 64 appenders', ...wideSmall, note: 'group commit' });
  const reads = await readCases(small);
  rows.push({ name: 'tail read (memory window)', mbps: reads.tail, note: '1 MiB per read' });
  rows.push({ name: 'cold read after reopen, CRC checked', mbps: reads.cold, note: 'page cache warm' });
  rows.push({
    name: 'cold read after reopen, no CRC check',
    mbps: reads.coldUnchecked,
    note: 'verifyColdReads=false',
  });
  const headers = ['case', 'MB/s', 'appends/s', 'note'];
  const cells = rows.map((row) => [
    row.name,
    row.mbps.toFixed(0),
    row.perSecond === undefined ? '' : row.perSecond.toFixed(0),
    row.note,
  ]);
  const ratioToFio =
    fioMBps === undefined ? 'fio unavailable' : `${((append1m / fioMBps) * 100).toFixed(0)} %`;
  const summary = [
    `fio sequential write (new file, 1 MiB blocks, ${Math.round(big / 2 ** 20)} MiB, end_fsync=1, median of 3): ` +
      `${fioMBps?.toFixed(0) ?? '?'} MB/s`,
    `append 1 MiB batches vs fio: ${ratioToFio} (goal ≥ 50 %)`,
    `group commit, 8 appenders vs 1: ${(group.perSecond / single.perSecond).toFixed(1)}× ` +
      `(64 appenders: ${(wide.perSecond / single.perSecond).toFixed(1)}×; goal ≥ 20×; with N appenders each ` +
      'waiting for its own fsync the gain is at most N×)',
    `group commit with 1 KiB batches, 64 appenders vs 1: ${(wideSmall.perSecond / singleSmall.perSecond).toFixed(1)}× ` +
      '(16 KiB batches are bounded by write bandwidth, compare with the no-fsync row)',
  ];
  process.stdout.write(`\n${textTable(headers, cells)}\n\n${summary.join('\n')}\n`);
  const path = await appendResults({
    suite: 'storage',
    title: options.quick ? 'storage (quick)' : 'storage',
    machine,
    body: `${markdownTable(headers, cells)}\n\n${summary.map((line) => `- ${line}`).join('\n')}\n`,
  });
  process.stdout.write(`results appended to ${path}\n`);
}
