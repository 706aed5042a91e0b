/**
 * Micro benchmarks of the protocol layer: CRC32C, record batch encode/decode per codec, and the
 * stream frame decoder. Each case runs for a fixed time split into several samples; the table shows
 * the median throughput and the spread of the samples. `--quick` shortens every case.
 *
 * Throughput is MB/s (10^6 bytes per second) of: the input buffer (CRC), the records' key and value
 * bytes (batches, so codecs compare on the same work), the framed stream (frame decoder).
 */

import { batchHeader, checkBatch } from '../src/protocol/batch-header.ts';
import type { Codec } from '../src/protocol/compression/compression.ts';
import { crc32c, crc32cIsNative, crc32cPortable } from '../src/protocol/crc32c.ts';
import { FrameDecoder } from '../src/protocol/frame-decoder.ts';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../src/protocol/record-batch.ts';
import { checkRecordFraming } from '../src/protocol/record-framing.ts';
import { appendResults, describeMachine, formatMachine, markdownTable, textTable } from './machine.ts';
import type { BenchOptions } from './main.ts';

const codecs: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const recordBytes = 1024; // bytes of each record value
const chunkBytes = 64 * 1024; // socket-sized chunks fed to the frame decoder

interface BenchCase {
  readonly group: string;
  readonly name: string;
  /** Bytes one call of `operation` processes, for MB/s. */
  readonly bytes: number;
  /** Returns a number derived from its work, so the work cannot be optimised away. */
  readonly operation: () => number;
  readonly note?: string;
}

interface Measurement {
  readonly medianMBps: number;
  readonly minMBps: number;
  readonly maxMBps: number;
  readonly operations: number;
}

let sink = 0;

/** Deterministic generator (mulberry32), so every run benchmarks the same bytes. */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

const events = ['page_view', 'add_to_cart', 'checkout', 'search', 'login', 'logout'];
const agents = [
  'Mozilla/5.0 (X11; Linux x86_64)',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)',
  'curl/8.5.0',
];

/** A JSON-like event of exactly `bytes` bytes: repetitive field names, varied values, some random ids. */
function jsonRecord(random: (n: number) => number, index: number, bytes: number): Buffer {
  const fields: string[] = [];
  let length = 2;
  for (let i = 0; length < bytes; i++) {
    const field =
      `"event${i}":{"id":${index * 100 + i},"type":"${events[random(events.length)]}",` +
      `"user":"user-${random(50_000)}","session":"${random(2 ** 30).toString(16)}${random(2 ** 30).toString(16)}",` +
      `"path":"/products/${random(5000)}","amount":${(random(100_000) / 100).toFixed(2)},` +
      `"agent":"${agents[random(agents.length)]}"}`;
    fields.push(field);
    length += field.length + 1;
  }
  return Buffer.from(`{${fields.join(',')}}`).subarray(0, bytes);
}

function sampleRecords(count: number): RecordInput[] {
  const random = generator(count);
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`user-${random(50_000)}`),
    value: jsonRecord(random, i, recordBytes),
    timestamp: 1_700_000_000_000n + BigInt(i),
  }));
}

function payloadBytes(records: readonly RecordInput[]): number {
  return records.reduce((sum, r) => sum + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
}

function crcCases(): BenchCase[] {
  const random = generator(1);
  const data = Buffer.from(Array.from({ length: 1024 * 1024 }, () => random(256)));
  return [
    {
      group: 'crc32c',
      name: crc32cIsNative ? 'native (@node-rs/crc32)' : 'native unavailable: portable',
      bytes: data.length,
      operation: () => crc32c(data),
    },
    {
      group: 'crc32c',
      name: 'portable (slice-by-8)',
      bytes: data.length,
      operation: () => crc32cPortable(data),
    },
  ];
}

function batchCases(count: number, label: string): BenchCase[] {
  const records = sampleRecords(count);
  const bytes = payloadBytes(records);
  const plainBytes = encodeRecordBatch({ records }).length;
  return codecs.flatMap((codec): BenchCase[] => {
    const input = { codec, records };
    const batch = encodeRecordBatch(input);
    const note = `ratio ${(plainBytes / batch.length).toFixed(2)}, batch ${batch.length} B`;
    return [
      {
        group: `batch ${label} encode`,
        name: codec,
        bytes,
        operation: () => encodeRecordBatch(input).length,
        note,
      },
      {
        group: `batch ${label} decode`,
        name: codec,
        bytes,
        operation: () => decodeRecordBatch(batch).records.length,
        note,
      },
    ];
  });
}

/**
 * What the produce path checks per uncompressed batch: the CRC alone (all it checked before records
 * were validated) against the CRC plus the walk over every record's framing.
 */
function produceCheckCases(count: number, label: string): BenchCase[] {
  const records = sampleRecords(count);
  const bytes = payloadBytes(records);
  const batch = encodeRecordBatch({ records });
  const section = batch.subarray(batchHeader.bytes);
  return [
    {
      group: `produce check ${label}`,
      name: 'CRC only',
      bytes,
      operation: () => {
        checkBatch(batch);
        return batch.length;
      },
    },
    {
      group: `produce check ${label}`,
      name: 'CRC + record framing',
      bytes,
      operation: () => {
        checkBatch(batch);
        checkRecordFraming(section, { recordCount: count });
        return batch.length;
      },
    },
  ];
}

function frameCase(frameBytes: number, streamBytes: number): BenchCase {
  const frameCount = Math.max(1, Math.floor(streamBytes / (frameBytes + 4)));
  const stream = Buffer.alloc(frameCount * (frameBytes + 4), 0x61);
  for (let i = 0; i < frameCount; i++) stream.writeInt32BE(frameBytes, i * (frameBytes + 4));
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += chunkBytes) chunks.push(stream.subarray(at, at + chunkBytes));
  return {
    group: 'frame decoder (64 KiB chunks)',
    name: `${frameBytes / 1024} KiB frames`,
    bytes: stream.length,
    operation: () => {
      const decoder = new FrameDecoder();
      let frames = 0;
      for (const chunk of chunks) frames += decoder.push(chunk).length;
      if (frames !== frameCount) throw new Error(`decoded ${frames} of ${frameCount} frames`);
      return frames;
    },
    note: `${frameCount} frames per run`,
  };
}

function measure(benchCase: BenchCase, samples: number, sampleSeconds: number): Measurement {
  // Warm up (JIT, lazy native loads) and estimate one call's cost.
  const warmupStart = performance.now();
  let warmups = 0;
  while (performance.now() - warmupStart < Math.min(200, sampleSeconds * 500)) {
    sink ^= benchCase.operation();
    warmups++;
  }
  const estimateMs = (performance.now() - warmupStart) / warmups;
  const perSample = Math.max(1, Math.round((sampleSeconds * 1000) / estimateMs));
  const rates: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const start = performance.now();
    for (let i = 0; i < perSample; i++) sink ^= benchCase.operation();
    const seconds = (performance.now() - start) / 1000;
    rates.push((benchCase.bytes * perSample) / seconds / 1e6);
  }
  rates.sort((a, b) => a - b);
  return {
    medianMBps: rates[Math.floor(rates.length / 2)]!,
    minMBps: rates[0]!,
    maxMBps: rates[rates.length - 1]!,
    operations: perSample * samples,
  };
}

function formatRate(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export async function run(options: BenchOptions): Promise<void> {
  const samples = options.quick ? 3 : 7;
  const caseSeconds = options.quick ? Math.min(options.durationS, 0.3) : options.durationS;
  const machine = describeMachine();
  process.stdout.write(`micro benchmarks on ${formatMachine(machine)}\n`);
  process.stdout.write(`${samples} samples per case, ${caseSeconds} s per case\n\n`);
  const cases = [
    ...crcCases(),
    ...batchCases(16, '16 × 1 KiB'),
    ...batchCases(1024, '1024 × 1 KiB (1 MiB)'),
    ...produceCheckCases(16, '16 × 1 KiB'),
    ...produceCheckCases(1024, '1024 × 1 KiB (1 MiB)'),
    frameCase(1024, 8 * 1024 * 1024),
    frameCase(64 * 1024, 8 * 1024 * 1024),
  ];
  const headers = ['group', 'case', 'MB/s (median)', 'min–max', 'notes'];
  const rows: string[][] = [];
  for (const benchCase of cases) {
    const result = measure(benchCase, samples, caseSeconds / samples);
    const row = [
      benchCase.group,
      benchCase.name,
      formatRate(result.medianMBps),
      `${formatRate(result.minMBps)}–${formatRate(result.maxMBps)}`,
      benchCase.note ?? '',
    ];
    rows.push(row);
    process.stdout.write(`${row.slice(0, 4).join('  ')}\n`);
  }
  process.stdout.write(`\n${textTable(headers, rows)}\n`);
  const body = [
    `${samples} samples per case, ${caseSeconds} s per case${options.quick ? ' (quick)' : ''}. MB/s = 10^6 bytes/s ` +
      'of: the 1 MiB input (crc32c); record key+value bytes (batches: 1 KiB JSON-like values, CRC checked ' +
      'on decode, ratio = uncompressed batch / compressed batch); the framed stream (frame decoder).',
    '',
    markdownTable(headers, rows),
  ].join('\n');
  const path = await appendResults({
    suite: 'micro',
    title: options.quick ? 'micro (quick)' : 'micro',
    body,
    machine,
  });
  process.stdout.write(`\nappended to ${path} (checksum ${sink})\n`);
}
