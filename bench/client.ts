/**
 * Client benchmark: the Tide client library against kcat (librdkafka) on the same real `tide spu`
 * process, in the same run, 1 KiB records on a 1-partition topic.
 *
 * - produce: Tide's Producer (acks=1, lingerMs 5, batchBytes 1 MiB) sending `records` values as fast
 *   as its buffer allows; kcat -P with the same settings fed a file of 1 KiB lines.
 * - consume: Tide's Consumer reading the topic from the beginning to the end with `batches()`; kcat -C
 *   -e reading it into /dev/null.
 *
 * - CLI produce: `tide produce -f FILE` beside `kcat -P -l FILE` on a file of 1,000,000 short lines
 *   (`event-N`; 100,000 with --quick), both with their default settings (acks=all), each timed from
 *   process start to exit, as a person at the terminal sees it (goal: Tide within 2× of kcat).
 *
 * Both are timed end to end: Tide from connecting to the last acknowledgement (or record), kcat from
 * process start to exit (so librdkafka's start-up and metadata are included, as Tide's connect is).
 * MB/s counts record values (10^6 bytes per second). Ratio = Tide / kcat (goal ≥ 0.8).
 */
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClusterClient } from '../src/client/cluster-client.ts';
import { Consumer } from '../src/client/consumer.ts';
import { Offset } from '../src/client/offset.ts';
import { Producer } from '../src/client/producer.ts';
import { makeTempDir, stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';
import { appendResults, describeMachine, formatMachine, markdownTable, textTable } from './machine.ts';
import type { BenchOptions } from './main.ts';

const recordBytes = 1024; // bytes of each record value
const benchRecords = 300_000; // records per case (30,000 with --quick)
const cliLines = 1_000_000; // lines of the CLI produce file (100,000 with --quick)
const tideBin = join(import.meta.dirname, '..', 'bin', 'tide.js');
const execFileAsync = promisify(execFile);

interface Row {
  readonly name: string;
  readonly seconds: number;
  readonly records: number;
}

async function createTopic(spu: TestSpu, name: string): Promise<void> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  const response = await client.createTopics([{ name, partitions: 1 }]);
  await client.close();
  const errorCode = response.topics[0]?.errorCode;
  if (errorCode !== 0) throw new Error(`creating ${name} failed with error code ${errorCode}`);
}

function elapsedS(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function tideProduce(spu: TestSpu, topic: string, count: number): Promise<Row> {
  const value = Buffer.alloc(recordBytes, 0x61);
  const started = process.hrtime.bigint();
  const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
  const producer = new Producer(cluster, topic, { acks: 1, lingerMs: 5, batchBytes: 1024 * 1024 });
  let failed: unknown;
  const onError = (error: unknown): void => {
    failed ??= error;
  };
  for (let i = 0; i < count; i++) {
    const send = producer.send({ value });
    send.catch(onError);
    // Yield to the event loop now and then so batches go out while records are being added.
    if (i % 1024 === 1023) await new Promise((resolve) => setImmediate(resolve));
  }
  await producer.close();
  const seconds = elapsedS(started);
  await cluster.close();
  if (failed !== undefined) throw failed;
  return { name: 'Tide Producer (acks=1, linger 5 ms, batch 1 MiB)', seconds, records: count };
}

async function kcatProduce(spu: TestSpu, topic: string, file: string, count: number): Promise<Row> {
  const started = process.hrtime.bigint();
  await execFileAsync(
    '/usr/bin/kcat',
    [
      '-P',
      '-b',
      spu.bootstrap,
      '-t',
      topic,
      '-X',
      'acks=1',
      '-X',
      'linger.ms=5',
      '-X',
      'batch.size=1048576',
      '-l',
      file,
    ],
    { timeout: 300_000 },
  );
  return { name: 'kcat -P (acks=1, linger 5 ms, batch 1 MiB)', seconds: elapsedS(started), records: count };
}

/** `tide produce -f` or `kcat -P -l` of `file`, from process start to exit. */
async function cliProduce(
  spu: TestSpu,
  tool: 'tide' | 'kcat',
  topic: string,
  file: string,
  count: number,
): Promise<Row> {
  const [command, args, name] =
    tool === 'tide'
      ? [
          process.execPath,
          [tideBin, 'produce', topic, '-f', file, '--bootstrap', spu.bootstrap],
          'tide produce -f',
        ]
      : ['/usr/bin/kcat', ['-P', '-b', spu.bootstrap, '-t', topic, '-l', file], 'kcat -P -l'];
  const started = process.hrtime.bigint();
  await execFileAsync(command, args, { timeout: 300_000, env: { ...process.env, NO_COLOR: '1' } });
  return {
    name: `${name} (${count.toLocaleString('en-US')} lines, defaults)`,
    seconds: elapsedS(started),
    records: count,
  };
}

async function tideConsume(spu: TestSpu, topic: string): Promise<Row> {
  const started = process.hrtime.bigint();
  const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
  let records = 0;
  const consumer = new Consumer(cluster, topic, { offset: Offset.beginning(), until: Offset.end() });
  for await (const batch of consumer.batches()) records += batch.records.length;
  const seconds = elapsedS(started);
  await cluster.close();
  return { name: 'Tide Consumer (batches(), beginning → end)', seconds, records };
}

async function kcatConsume(spu: TestSpu, topic: string): Promise<Row> {
  const started = process.hrtime.bigint();
  let lines = 0;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      '/usr/bin/kcat',
      ['-C', '-b', spu.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o\n'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) lines++;
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited with ${code}`))));
  });
  return { name: 'kcat -C -e (offsets to a pipe)', seconds: elapsedS(started), records: lines };
}

function cells(row: Row, against: Row | undefined, bytesPerRecord = recordBytes): string[] {
  const mbps = (row.records * bytesPerRecord) / row.seconds / 1e6;
  const ratio = against === undefined ? '—' : (against.seconds / row.seconds).toFixed(2);
  return [
    row.name,
    mbps.toFixed(1),
    Math.round(row.records / row.seconds).toLocaleString('en-US'),
    `${row.records} in ${row.seconds.toFixed(2)} s`,
    ratio,
  ];
}

/** The CLI case: kcat first, then tide, on the same file of short lines. */
async function cliCases(spu: TestSpu, dir: string, count: number): Promise<string[][]> {
  const file = join(dir, 'events.txt');
  const lines = Array.from({ length: count }, (_, index) => `event-${index}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  const averageBytes = lines.join('').length / count;
  await createTopic(spu, 'bench-cli-kcat');
  await createTopic(spu, 'bench-cli-tide');
  const kcat = await cliProduce(spu, 'kcat', 'bench-cli-kcat', file, count);
  const tide = await cliProduce(spu, 'tide', 'bench-cli-tide', file, count);
  return [cells(kcat, undefined, averageBytes), cells(tide, kcat, averageBytes)];
}

export async function run(options: BenchOptions): Promise<void> {
  const machine = describeMachine();
  const count = options.quick ? benchRecords / 10 : benchRecords;
  const dir = await makeTempDir('tide-bench-client-');
  const spu = await startSpu({ dataDir: join(dir.path, 'data') });
  const rows: string[][] = [];
  try {
    const file = join(dir.path, 'lines.txt');
    await writeFile(file, `${Array.from({ length: count }, () => 'a'.repeat(recordBytes)).join('\n')}\n`);
    await createTopic(spu, 'bench-tide');
    await createTopic(spu, 'bench-kcat');
    const kcatProduced = await kcatProduce(spu, 'bench-kcat', file, count);
    const tideProduced = await tideProduce(spu, 'bench-tide', count);
    const kcatConsumed = await kcatConsume(spu, 'bench-kcat');
    const tideConsumed = await tideConsume(spu, 'bench-tide');
    for (const row of [kcatConsumed, tideConsumed]) {
      if (row.records !== count)
        throw new Error(`${row.name} read ${row.records} records, expected ${count}`);
    }
    rows.push(cells(kcatProduced, undefined), cells(tideProduced, kcatProduced));
    rows.push(cells(kcatConsumed, undefined), cells(tideConsumed, kcatConsumed));
    rows.push(...(await cliCases(spu, dir.path, options.quick ? cliLines / 10 : cliLines)));
  } finally {
    await spu.stop('SIGTERM');
    await stopAll();
    await dir.remove();
  }
  const headers = ['case', 'MB/s', 'records/s', 'work', 'Tide ÷ kcat'];
  process.stdout.write(`${formatMachine(machine)}\n\n${textTable(headers, rows)}\n`);
  const path = await appendResults({
    suite: 'client',
    title: `client produce and consume vs kcat (1 KiB records, 1 partition${options.quick ? ', quick' : ''})`,
    machine,
    body: markdownTable(headers, rows),
  });
  process.stdout.write(`\nappended to ${path}\n`);
}
