/**
 * SPU benchmark: a real `tide spu` process on loopback with a 1-partition topic.
 *
 * - wire client: this process produces batches of 16 uncompressed 1 KiB records with acks=1, with a
 *   few requests in flight on one connection, for --duration seconds; MB/s and records/s count record
 *   values (10^6 bytes of values per second); latency is request sent → response received.
 * - kcat: `kcat -P -X acks=1` fed a file of 1 KiB lines, timed end to end (process start to exit,
 *   so it includes librdkafka's start-up, metadata and final flush).
 *
 * Both the client and the SPU run on this machine, so they share its cores.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { promisify } from 'node:util';
import {
  createListOffsetsRequest,
  createListOffsetsRequestPartition,
  createListOffsetsRequestTopic,
} from '../src/protocol/messages/list-offsets.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { makeTempDir, stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';
import { appendResults, describeMachine, formatMachine, markdownTable, textTable } from './machine.ts';
import type { BenchOptions } from './main.ts';

const recordBytes = 1024; // bytes of each record value
const recordsPerBatch = 16; // records in each produced batch
const inflightRequests = 4; // produce requests in flight on the connection
const kcatRecords = 200_000; // 1 KiB lines kcat produces (20,000 with --quick)

const execFileAsync = promisify(execFile);

interface Row {
  readonly name: string;
  readonly mbps: number;
  readonly recordsPerSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly note: string;
}

async function createTopic(client: WireClient, name: string): Promise<void> {
  const response = await client.createTopics([{ name, partitions: 1 }]);
  const errorCode = response.topics[0]?.errorCode;
  if (errorCode !== 0) throw new Error(`creating ${name} failed with error code ${errorCode}`);
}

/** Produces with `inflightRequests` requests in flight until `durationS` has passed. */
async function wireProduce(spu: TestSpu, durationS: number): Promise<Row> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  await createTopic(client, 'bench-wire');
  const value = Buffer.alloc(recordBytes, 0x61);
  // The client never modifies the batch; the SPU rewrites offsets in its own copy.
  const batch = encodeRecordBatch({
    records: Array.from({ length: recordsPerBatch }, () => ({ key: null, value })),
  });
  const latency = createHistogram();
  const deadline = process.hrtime.bigint() + BigInt(Math.round(durationS * 1e9));
  let batches = 0;
  const started = process.hrtime.bigint();
  const lane = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      const sent = process.hrtime.bigint();
      const response = await client.produce('bench-wire', 0, batch, { acks: 1 });
      latency.record(Number(process.hrtime.bigint() - sent) || 1);
      const errorCode = response.responses[0]?.partitionResponses[0]?.errorCode;
      if (errorCode !== 0) throw new Error(`produce failed with error code ${errorCode}`);
      batches++;
    }
  };
  await Promise.all(Array.from({ length: inflightRequests }, lane));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await client.close();
  const records = batches * recordsPerBatch;
  return {
    name: `wire client, ${recordsPerBatch} × 1 KiB batches, ${inflightRequests} in flight`,
    mbps: (records * recordBytes) / seconds / 1e6,
    recordsPerSecond: records / seconds,
    p50Ms: latency.percentile(50) / 1e6,
    p99Ms: latency.percentile(99) / 1e6,
    note: `${batches} requests in ${seconds.toFixed(1)} s`,
  };
}

/** The log end offset of partition 0 (ListOffsets, latest). */
async function endOffset(spu: TestSpu, topic: string): Promise<bigint> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  const partitions = [createListOffsetsRequestPartition({ partitionIndex: 0, timestamp: -1n })];
  const response = await client.request(
    2,
    7,
    createListOffsetsRequest({
      replicaId: -1,
      topics: [createListOffsetsRequestTopic({ name: topic, partitions })],
    }),
  );
  await client.close();
  return response.topics[0]?.partitions[0]?.offset ?? -1n;
}

/** Times kcat producing `count` 1 KiB lines with acks=1. */
async function kcatProduce(spu: TestSpu, dir: string, count: number): Promise<Row> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  await createTopic(client, 'bench-kcat');
  await client.close();
  const line = 'k'.repeat(recordBytes - 1); // plus the newline: 1 KiB per line in the file
  const file = join(dir, 'lines.txt');
  await writeFile(file, `${Array.from({ length: count }, () => line).join('\n')}\n`);
  const started = process.hrtime.bigint();
  await execFileAsync(
    '/usr/bin/kcat',
    ['-P', '-b', spu.bootstrap, '-t', 'bench-kcat', '-X', 'acks=1', '-l', file],
    {
      timeout: 300_000,
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stored = await endOffset(spu, 'bench-kcat');
  if (stored !== BigInt(count)) throw new Error(`kcat produced ${count} records, the log holds ${stored}`);
  return {
    name: 'kcat -P -X acks=1, 1 KiB lines',
    mbps: (count * (recordBytes - 1)) / seconds / 1e6,
    recordsPerSecond: count / seconds,
    note: `${count} records in ${seconds.toFixed(1)} s, end to end`,
  };
}

function cells(row: Row): string[] {
  const ms = (value: number | undefined): string => (value === undefined ? '—' : value.toFixed(2));
  return [
    row.name,
    row.mbps.toFixed(1),
    Math.round(row.recordsPerSecond).toLocaleString('en-US'),
    ms(row.p50Ms),
    ms(row.p99Ms),
    row.note,
  ];
}

export async function run(options: BenchOptions): Promise<void> {
  const machine = describeMachine();
  const dir = await makeTempDir('tide-bench-spu-');
  const spu = await startSpu({ dataDir: join(dir.path, 'data') });
  const rows: Row[] = [];
  try {
    rows.push(await wireProduce(spu, options.durationS));
    rows.push(await kcatProduce(spu, dir.path, options.quick ? kcatRecords / 10 : kcatRecords));
  } finally {
    await spu.stop('SIGTERM');
    await stopAll();
    await dir.remove();
  }
  const headers = ['case', 'MB/s', 'records/s', 'p50 ms', 'p99 ms', 'note'];
  process.stdout.write(`${formatMachine(machine)}\n\n${textTable(headers, rows.map(cells))}\n`);
  const path = await appendResults({
    suite: 'spu',
    title: `spu produce (acks=1, 1 partition, ${options.durationS} s${options.quick ? ', quick' : ''})`,
    machine,
    body: markdownTable(headers, rows.map(cells)),
  });
  process.stdout.write(`\nappended to ${path}\n`);
}
