import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tide } from '../../src/client/tide.ts';
import type { MetadataResponse } from '../../src/protocol/messages/metadata.ts';
import { startCluster, type TestCluster } from '../../src/testing/cluster.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { kcat, metadata, until } from '../helpers/cluster-kit.ts';

/**
 * External Kafka clients across a kill -9 of a partition leader: one SC (2 s SPU session timeout),
 * three SPUs, topics with three partitions, three replicas each and min.insync.replicas=2.
 *
 * - a kcat consumer (all partitions, from the beginning) runs while the Tide producer writes with
 *   acks=all, the leader of partition 0 dies and later returns (and leads again): it must end up
 *   with every acknowledged record;
 * - a kcat producer (acks=all, retries) is fed lines across the kill: every line is stored;
 * - a confluent-kafka-python producer (acks=all, retries) and an assign()-based Consumer run across
 *   the kill: every acknowledged message is read, by the running consumer and by a fresh one.
 *
 * Each case restarts the killed SPU and waits until every ISR is whole again, so the next case
 * starts from a healthy cluster. Consumers stop when they have read an end marker on every partition,
 * written with acks=all after everything else.
 */

const kcatPath = '/usr/bin/kcat';
const python = '/usr/bin/python3';
const scripts = fileURLToPath(new URL('./python/', import.meta.url));
const partitionCount = 3;
const sessionTimeoutMs = 2000;
const failoverTimeoutMs = 20_000; // ms for a new leader to be elected and serve
const settleTimeoutMs = 30_000; // ms for a returning SPU to rejoin every ISR
const readTimeoutMs = 30_000; // ms for a consumer to read everything after the last write
const endMarker = 'END';

type Partitions = MetadataResponse['topics'][number]['partitions'];

function partitionsOf(answer: MetadataResponse | undefined): Partitions {
  return [...(answer?.topics[0]?.partitions ?? [])].sort((a, b) => a.partitionIndex - b.partitionIndex);
}

/** A child process whose stdout lines are collected as they come. */
interface LineProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  readonly exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

const children = new Set<ChildProcess>();

function spawnLines(command: string, args: readonly string[]): LineProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  return {
    child,
    lines,
    stderr,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** The process's exit code, or 'still running' after `timeoutMs` (the timer never outlives the wait). */
async function exitWithin(process: LineProcess, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('still running'), timeoutMs);
  });
  try {
    return await Promise.race([process.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `partition offset value` lines → value → where it was read (each value once). */
function readPositions(lines: readonly string[]): Map<string, string> {
  const read = new Map<string, string>();
  for (const line of lines) {
    const [partition, offset, value] = line.split(' ');
    if (value === undefined) continue;
    read.set(value, `${partition} ${offset}`);
  }
  return read;
}

function endsRead(lines: readonly string[]): number {
  return lines.filter((line) => line.endsWith(` ${endMarker}`)).length;
}

interface Ack {
  readonly partition: number;
  readonly offset: bigint;
  readonly value: string;
}

describe('external clients across a leader kill', () => {
  let cluster: TestCluster;
  let tide: Tide;
  /** The SPU killed by the current case, restarted before the next case (even after a failure). */
  let killedId: number | undefined;

  before(async () => {
    cluster = await startCluster({
      spus: 3,
      scArgs: ['--spu-session-timeout-ms', String(sessionTimeoutMs)],
      spuArgs: ['--replica-lag-time-max-ms', '3000'],
    });
    tide = await Tide.connect({ bootstrap: cluster.bootstrap });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await tide?.close();
    await cluster?.destroy();
    await stopAll();
  });

  /** A Tide client bootstrapped from the SPUs alive now (their ports change at each restart). */
  function liveClient(): Promise<Tide> {
    const live = cluster.spus.filter((spu) => spu.id !== killedId).map((spu) => spu.bootstrap);
    return Tide.connect({ bootstrap: live.join(',') });
  }

  /** Creates `topic` (3 partitions, RF 3, min.insync.replicas 2) and waits until it is healthy. */
  async function createTopic(topic: string): Promise<Partitions> {
    if (killedId !== undefined) {
      await cluster.restartSpu(killedId);
      killedId = undefined;
    }
    const client = await liveClient();
    try {
      await client.admin().createTopic(topic, {
        partitions: partitionCount,
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' },
      });
    } finally {
      await client.close();
    }
    return healthyTopic(topic);
  }

  /** Waits until every SPU lists every partition of `topic` with all three replicas in sync. */
  async function healthyTopic(topic: string): Promise<Partitions> {
    // Every SPU must know the topic: the SC's pushes reach them one after another, and an SPU that
    // has not heard of the topic yet answers a client's Metadata with "no such topic".
    let partitions: Partitions = [];
    for (const spu of cluster.spus) {
      const healthy = await until(
        () => metadata(spu.bootstrap, [topic]),
        (answer) =>
          partitionsOf(answer).length === partitionCount &&
          partitionsOf(answer).every((p) => p.isrNodes.length === 3 && p.leaderId >= 0),
        settleTimeoutMs,
      );
      partitions = partitionsOf(healthy);
      assert.ok(
        partitions.length === partitionCount && partitions.every((p) => p.isrNodes.length === 3),
        `every replica of ${topic} in sync, as SPU ${spu.id} sees it`,
      );
    }
    return partitions;
  }

  /** Kills the leader of partition 0 with -9 and waits until another SPU leads it. */
  async function killLeader(topic: string, partitions: Partitions): Promise<void> {
    const victimId = partitions[0]!.leaderId;
    const victim = cluster.spus.find((spu) => spu.id === victimId)!;
    const survivor = cluster.spus.find((spu) => spu.id !== victimId)!;
    await victim.stop('SIGKILL');
    killedId = victimId;
    const moved = await until(
      () => metadata(survivor.bootstrap, [topic]),
      (answer) => {
        const leader = partitionsOf(answer)[0]?.leaderId;
        return leader !== undefined && leader !== victimId && leader >= 0;
      },
      failoverTimeoutMs,
    );
    assert.notEqual(partitionsOf(moved)[0]?.leaderId ?? victimId, victimId, 'partition 0 has a new leader');
  }

  /** Brings the killed SPU back and waits for whole ISRs (the next case needs a healthy cluster). */
  async function restore(topic: string): Promise<void> {
    if (killedId !== undefined) await cluster.restartSpu(killedId);
    killedId = undefined;
    await healthyTopic(topic);
  }

  /** One acks=all end marker per partition, through the Tide producer. */
  async function writeEndMarkers(topic: string): Promise<void> {
    const client = await liveClient();
    const producer = client.producer(topic, { acks: -1, lingerMs: 0, deliveryTimeoutMs: 30_000 });
    try {
      await Promise.all(
        Array.from({ length: partitionCount }, (_, partition) =>
          producer.send({ partition, value: endMarker }),
        ),
      );
    } finally {
      await producer.close();
      await client.close();
    }
  }

  /** Reads every partition from the beginning with a fresh kcat: value → `partition offset`. */
  async function readAll(topic: string): Promise<Map<string, string>> {
    const lines: string[] = [];
    for (let partition = 0; partition < partitionCount; partition++) {
      const text = await kcat(cluster.bootstrap, [
        '-C',
        '-t',
        topic,
        '-p',
        String(partition),
        '-o',
        'beginning',
        '-e',
        '-f',
        '%p %o %s\\n',
      ]);
      lines.push(...text.split('\n'));
    }
    return readPositions(lines);
  }

  it('a running kcat consumer reads every acknowledged record of every partition', {
    timeout: 90_000,
  }, async () => {
    const topic = 'kcat-consume';
    const partitions = await createTopic(topic);
    const consumer = spawnLines(kcatPath, [
      '-C',
      '-b',
      cluster.bootstrap,
      '-t',
      topic,
      '-o',
      'beginning',
      '-u',
      '-f',
      '%p %o %s\\n',
    ]);
    const acks: Ack[] = [];
    const producing = produceContinuously(tide, topic, acks);
    await until(
      async () => acks,
      (all) => all.length >= 60,
    );
    await killLeader(topic, partitions);
    const countAtKill = acks.length;
    await until(
      async () => acks,
      (all) => all.length >= countAtKill + 60,
      failoverTimeoutMs,
    );
    // The killed SPU returns, rejoins every ISR and (as preferred leader) leads again: a second
    // leadership change under the running consumer.
    await restore(topic);
    const countAtReturn = acks.length;
    await until(
      async () => acks,
      (all) => all.length >= countAtReturn + 60,
      failoverTimeoutMs,
    );
    await producing.stop();
    await writeEndMarkers(topic);
    await until(
      async () => consumer.lines,
      (lines) => endsRead(lines) === partitionCount,
      readTimeoutMs,
    );
    await consumer.stop();
    const read = readPositions(consumer.lines);
    const missing = acks.filter((ack) => read.get(ack.value) !== `${ack.partition} ${ack.offset}`);
    assert.deepEqual(
      missing.map((ack) => `${ack.partition} ${ack.offset} ${ack.value}`).slice(0, 20),
      [],
      `records the running kcat consumer missed (${missing.length} of ${acks.length}; kcat said: ${consumer.stderr.slice(-10).join(' | ')})`,
    );
    assert.ok(acks.length > countAtReturn, 'writes were acknowledged after the kill and the return');
  });

  it('a kcat producer with acks=all and retries stores every line across the kill', {
    timeout: 90_000,
  }, async () => {
    const topic = 'kcat-produce';
    const partitions = await createTopic(topic);
    const producer = spawnLines(kcatPath, [
      '-P',
      '-b',
      cluster.bootstrap,
      '-t',
      topic,
      '-K',
      ':',
      '-X',
      'acks=all',
      '-X',
      'message.send.max.retries=1000000',
      '-X',
      'retry.backoff.ms=100',
      '-X',
      'message.timeout.ms=60000',
      '-X',
      'linger.ms=5',
    ]);
    const lineCount = 600;
    const values = Array.from({ length: lineCount }, (_, index) => `kp-${index}`);
    const feed = async (from: number, to: number): Promise<void> => {
      for (let index = from; index < to; index += 20) {
        const chunk = values.slice(index, Math.min(to, index + 20));
        producer.child.stdin!.write(chunk.map((value) => `${value}:${value}\n`).join(''));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await feed(0, lineCount / 2);
    await killLeader(topic, partitions);
    await feed(lineCount / 2, lineCount);
    producer.child.stdin!.end();
    const code = await exitWithin(producer, readTimeoutMs);
    await producer.stop();
    assert.equal(code, 0, `kcat -P exit (${producer.stderr.slice(-5).join(' | ')})`);
    const failed = producer.stderr.filter((line) => /deliver/i.test(line));
    assert.deepEqual(failed, [], 'kcat reported no failed delivery');
    const read = await readAll(topic);
    const missing = values.filter((value) => !read.has(value));
    assert.deepEqual(missing, [], 'lines kcat produced that are not stored');
    await restore(topic);
  });

  it('confluent-kafka-python producer and assign() consumer keep every acknowledged message', {
    timeout: 90_000,
  }, async () => {
    const topic = 'python-clients';
    const partitions = await createTopic(topic);
    const consumer = spawnLines(python, [
      join(scripts, 'failover_clients.py'),
      'consume',
      cluster.bootstrap,
      topic,
      String(partitionCount),
      endMarker,
      String((failoverTimeoutMs + readTimeoutMs * 2) / 1000),
    ]);
    const producer = spawnLines(python, [
      join(scripts, 'failover_clients.py'),
      'produce',
      cluster.bootstrap,
      topic,
      String(partitionCount),
      '450',
      'py',
      '10',
    ]);
    const reports = (): PythonReport[] =>
      producer.lines.map((line) => JSON.parse(line) as PythonReport).filter((line) => line.done !== true);
    await until(
      async () => reports(),
      (all) => all.length >= 90,
      readTimeoutMs,
    );
    await killLeader(topic, partitions);
    const produced = await exitWithin(producer, readTimeoutMs * 2);
    assert.equal(produced, 0, `python producer exit (${producer.stderr.slice(-5).join(' | ')})`);
    const last = JSON.parse(producer.lines.at(-1) ?? '{}') as PythonReport;
    assert.equal(last.unflushed, 0, 'every message delivered or failed before the producer ended');
    const acked = reports().filter((report) => report.error === null);
    const failedReports = reports().filter((report) => report.error !== null);
    assert.ok(acked.length > 0);
    await writeEndMarkers(topic);
    await exitWithin(consumer, readTimeoutMs);
    await consumer.stop();
    const consumed = consumer.lines.map((line) => JSON.parse(line) as PythonRecord);
    const running = new Map(
      consumed
        .filter((line) => line.done !== true)
        .map((line) => [line.value, `${line.partition} ${line.offset}`]),
    );
    const fresh = await readAll(topic);
    const at = (report: PythonReport): string => `${report.partition} ${report.offset}`;
    assert.deepEqual(
      acked
        .filter((report) => running.get(report.value) !== at(report))
        .map((report) => `${at(report)} ${report.value}`),
      [],
      `acknowledged messages the running consumer missed (consumer errors: ${JSON.stringify(consumed.at(-1))})`,
    );
    assert.deepEqual(
      acked
        .filter((report) => fresh.get(report.value) !== at(report))
        .map((report) => `${at(report)} ${report.value}`),
      [],
      'acknowledged messages missing from a fresh read',
    );
    console.log(`python: ${acked.length} acknowledged, ${failedReports.length} failed deliveries`);
    await restore(topic);
  });
});

interface PythonReport {
  readonly done?: boolean;
  readonly unflushed?: number;
  readonly value: string;
  readonly partition: number;
  readonly offset: number;
  readonly error: string | null;
}

interface PythonRecord {
  readonly done?: boolean;
  readonly errors?: string[];
  readonly value: string;
  readonly partition: number;
  readonly offset: number;
}

/** One sequential acks=all producer per partition until `stop`; every acknowledgement is kept. */
function produceContinuously(tide: Tide, topic: string, acks: Ack[]): { stop: () => Promise<void> } {
  const producer = tide.producer(topic, {
    acks: -1,
    maxInFlight: 1,
    lingerMs: 0,
    requestTimeoutMs: 5_000,
    deliveryTimeoutMs: 30_000,
  });
  let stopped = false;
  const loop = async (partition: number): Promise<void> => {
    for (let sequence = 0; !stopped; sequence++) {
      const value = `p${partition}-v${sequence}`;
      try {
        const stored = await producer.send({ partition, value });
        acks.push({ partition, offset: stored.offset, value });
      } catch {
        // Not acknowledged: it may or may not be stored, and is not checked. Pause, do not spin.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const loops = Array.from({ length: partitionCount }, (_, partition) => loop(partition));
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      await producer.close();
    },
  };
}
