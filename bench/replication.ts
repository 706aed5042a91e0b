/**
 * `npm run bench -- replication [--duration S] [--quick]`: what replication costs and how fast it
 * recovers, on one 3-SPU cluster (one SC, SPU session timeout 2 s) on this machine.
 *
 * - Throughput: the Tide client producer sends 1 KiB records with acks=all to a topic with RF 3
 *   (min.insync.replicas=2) and to one with RF 1, three partitions each (so leaders spread over the
 *   three SPUs), with a window of sends outstanding, for --duration seconds a round; rounds
 *   alternate RF 1 and RF 3 (3 each, 2 with --quick). Figures are medians over the rounds; the ratio
 *   is RF 3 / RF 1.
 * - Failover: kill -9 of the SPU leading a partition of an RF 3 topic, then the time until every
 *   partition it led has accepted an acks=all produce at its new leader (polled every 20 ms through
 *   metadata and a direct produce with a short timeout), over 5 kills (3 with --quick). The killed SPU
 *   is restarted and every ISR made whole before the next kill.
 *
 * Clients, SC and SPUs all share this machine's cores.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Tide } from '../src/client/tide.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import type { MetadataResponse } from '../src/protocol/messages/metadata.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { parseBootstrap, WireClient } from '../src/testing/wire-client.ts';
import { appendResults, describeMachine, formatMachine, markdownTable, textTable } from './machine.ts';
import type { BenchOptions } from './main.ts';

const settings = Object.freeze({
  sessionTimeoutMs: 2000, // ms of SPU silence before the SC fences it
  replicaLagTimeMaxMs: 3000, // ms a follower may lag before leaving the ISR
  partitions: 3, // partitions of each topic
  recordBytes: 1024, // bytes of each record value
  sendsOutstanding: 2000, // sends awaiting acknowledgement at once
  rounds: 3, // throughput rounds per replication factor (2 with --quick)
  kills: 5, // leader kills (3 with --quick)
  pollIntervalMs: 20, // ms between failover probes
  probeTimeoutMs: 1000, // ms an acks=all probe may wait for replicas
  failoverTimeoutMs: 30_000, // ms a failover may take before the run gives up
  healTimeoutMs: 60_000, // ms for a restarted SPU to rejoin every ISR
});

type Partitions = MetadataResponse['topics'][number]['partitions'];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function metadataOf(bootstrap: string, topic: string): Promise<Partitions> {
  const client = await WireClient.connect(parseBootstrap(bootstrap));
  try {
    const answer = await client.metadata([topic]);
    return [...(answer.topics[0]?.partitions ?? [])].sort((a, b) => a.partitionIndex - b.partitionIndex);
  } finally {
    await client.close();
  }
}

/** Polls until every live SPU lists `topic` with all partitions led and all replicas in sync. */
async function waitHealthy(
  cluster: TestCluster,
  topic: string,
  replicas: number,
  deadlineMs: number,
): Promise<Partitions> {
  for (;;) {
    let partitions: Partitions = [];
    let healthy = true;
    for (const spu of cluster.spus) {
      try {
        partitions = await metadataOf(spu.bootstrap, topic);
        healthy &&=
          partitions.length === settings.partitions &&
          partitions.every((p) => p.leaderId >= 0 && p.isrNodes.length === replicas);
      } catch {
        healthy = false;
      }
    }
    if (healthy) return partitions;
    if (Date.now() > deadlineMs) throw new Error(`topic ${topic} did not become healthy`);
    await delay(50);
  }
}

async function createTopic(cluster: TestCluster, topic: string, replicationFactor: number): Promise<void> {
  const tide = await Tide.connect({ bootstrap: cluster.bootstrap });
  try {
    await tide.admin().createTopic(topic, {
      partitions: settings.partitions,
      replicationFactor,
      configs: { 'min.insync.replicas': String(Math.min(2, replicationFactor)) },
    });
  } finally {
    await tide.close();
  }
  await waitHealthy(cluster, topic, replicationFactor, Date.now() + settings.healTimeoutMs);
}

/** Records per second acknowledged with acks=all over `durationS`, `sendsOutstanding` at a time. */
async function produceRate(cluster: TestCluster, topic: string, durationS: number): Promise<number> {
  const tide = await Tide.connect({ bootstrap: cluster.bootstrap });
  const producer = tide.producer(topic, { acks: -1 });
  const value = Buffer.alloc(settings.recordBytes, 0x61);
  let acknowledged = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        await producer.send({ value });
        acknowledged++;
      } catch {
        failed++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: settings.sendsOutstanding }, lane));
  } finally {
    await producer.close();
    await tide.close();
  }
  if (failed > 0) throw new Error(`${failed} sends to ${topic} failed`);
  return acknowledged / ((performance.now() - started) / 1000);
}

/** One acks=all probe batch at partition `index`'s current leader; true when it was stored. */
async function probe(cluster: TestCluster, topic: string, index: number, victimId: number): Promise<boolean> {
  const survivor = cluster.spus.find((spu) => spu.id !== victimId)!;
  const leaderId = (await metadataOf(survivor.bootstrap, topic))[index]?.leaderId ?? -1;
  const leader = cluster.spus.find((spu) => spu.id === leaderId);
  if (leader === undefined || leaderId === victimId) return false;
  const client = await WireClient.connect({ host: '127.0.0.1', port: leader.port });
  try {
    const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('probe') }] });
    const answer = await client.produce(topic, index, batch, {
      acks: -1,
      timeoutMs: settings.probeTimeoutMs,
    });
    return answer.responses[0]?.partitionResponses[0]?.errorCode === errorCodes.NONE;
  } finally {
    await client.close();
  }
}

/** Kills the leader of partition `index % partitions`; ms until all its partitions took acks=all. */
async function killAndMeasure(cluster: TestCluster, topic: string, kill: number): Promise<number> {
  const before = await waitHealthy(cluster, topic, 3, Date.now() + settings.healTimeoutMs);
  const victimId = before[kill % settings.partitions]!.leaderId;
  const led = before.filter((p) => p.leaderId === victimId).map((p) => p.partitionIndex);
  const victim = cluster.spus.find((spu) => spu.id === victimId)!;
  const killedAt = performance.now();
  await victim.stop('SIGKILL');
  const pending = new Set(led);
  while (pending.size > 0) {
    if (performance.now() - killedAt > settings.failoverTimeoutMs)
      throw new Error(`partitions ${[...pending].join(', ')} took no acks=all produce after the kill`);
    for (const index of [...pending]) {
      const stored = await probe(cluster, topic, index, victimId).catch(() => false);
      if (stored) pending.delete(index);
    }
    if (pending.size > 0) await delay(settings.pollIntervalMs);
  }
  const elapsedMs = performance.now() - killedAt;
  await cluster.restartSpu(victimId);
  return elapsedMs;
}

interface Figures {
  readonly rf1: number[];
  readonly rf3: number[];
  readonly failoverMs: number[];
}

async function measure(options: BenchOptions): Promise<Figures> {
  const cluster = await startCluster({
    spus: 3,
    scArgs: ['--spu-session-timeout-ms', String(settings.sessionTimeoutMs)],
    spuArgs: ['--replica-lag-time-max-ms', String(settings.replicaLagTimeMaxMs)],
  });
  const figures: Figures = { rf1: [], rf3: [], failoverMs: [] };
  try {
    await createTopic(cluster, 'bench-rf1', 1);
    await createTopic(cluster, 'bench-rf3', 3);
    const rounds = options.quick ? 2 : settings.rounds;
    for (let round = 0; round < rounds; round++) {
      figures.rf1.push(await produceRate(cluster, 'bench-rf1', options.durationS));
      figures.rf3.push(await produceRate(cluster, 'bench-rf3', options.durationS));
    }
    await createTopic(cluster, 'bench-failover', 3);
    const kills = options.quick ? 3 : settings.kills;
    for (let kill = 0; kill < kills; kill++)
      figures.failoverMs.push(await killAndMeasure(cluster, 'bench-failover', kill));
  } finally {
    await cluster.destroy();
    await stopAll();
  }
  return figures;
}

export async function run(options: BenchOptions): Promise<void> {
  const machine = describeMachine();
  const figures = await measure(options);
  const rate = (values: number[]): string => Math.round(median(values)).toLocaleString('en-US');
  const mbps = (values: number[]): string => ((median(values) * settings.recordBytes) / 1e6).toFixed(1);
  const rounds = (values: number[]): string => values.map((value) => Math.round(value)).join(', ');
  const throughputHeaders = ['acks=all, 1 KiB records', 'records/s (median)', 'MB/s', 'rounds'];
  const throughputRows = [
    ['RF 1', rate(figures.rf1), mbps(figures.rf1), rounds(figures.rf1)],
    ['RF 3, min ISR 2', rate(figures.rf3), mbps(figures.rf3), rounds(figures.rf3)],
    ['RF 3 / RF 1', (median(figures.rf3) / median(figures.rf1)).toFixed(2), '', ''],
  ];
  const failoverHeaders = ['kill -9 of a leader → first acks=all produce on its partitions', 'ms'];
  const failoverRows = [
    ['median', median(figures.failoverMs).toFixed(0)],
    ['max', Math.max(...figures.failoverMs).toFixed(0)],
    ['each kill', figures.failoverMs.map((ms) => ms.toFixed(0)).join(', ')],
  ];
  process.stdout.write(
    `${formatMachine(machine)}\n\n${textTable(throughputHeaders, throughputRows)}\n\n${textTable(failoverHeaders, failoverRows)}\n`,
  );
  const path = await appendResults({
    suite: 'replication',
    title: `replication (3 SPUs, ${options.durationS} s rounds, session timeout ${settings.sessionTimeoutMs} ms${options.quick ? ', quick' : ''})`,
    machine,
    body: [
      markdownTable(throughputHeaders, throughputRows),
      '',
      markdownTable(failoverHeaders, failoverRows),
      '',
      `Tide client producer, ${settings.sendsOutstanding} sends outstanding, default batching; ${settings.partitions} partitions per topic. Failover probes: metadata from a surviving SPU every ${settings.pollIntervalMs} ms, then one acks=all batch to the partition's leader.`,
    ].join('\n'),
  });
  process.stdout.write(`\nappended to ${path}\n`);
}
