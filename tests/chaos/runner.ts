import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isRetriable, TideClientError } from '../../src/client/errors.ts';
import { Offset } from '../../src/client/offset.ts';
import { Tide } from '../../src/client/tide.ts';
import { SeededRandom } from '../../src/testing/random.ts';
import { metadata } from '../helpers/cluster-kit.ts';
import { ChaosCluster } from './chaos-cluster.ts';
import { type CheckResult, checkHistory, describeResult, type ReadRecord } from './checker.ts';
import { type FaultKind, faultKinds, injectFault, type PartitionView } from './faults.ts';
import { compareReplicas } from './replica-compare.ts';
import { type TimedAck, Workload } from './workload.ts';

/**
 * One chaos run: a real cluster (SC + 3 SPUs, replication through proxies), a topic with RF 3 and
 * min.insync.replicas 2, writers and consumers running throughout, and `faults` faults injected one
 * after another (each held for a while, then healed). Then the cluster heals completely, the final
 * read takes every partition from offset 0 to its high watermark, the cluster stops cleanly, the
 * replicas' segment files are compared below the high watermark, and the checker judges it all.
 */

export const chaosDefaults = Object.freeze({
  partitions: 4,
  spus: 3,
  holdMsMin: 500, // ms a fault lasts at least
  holdMsMax: 4_000, // ms a fault lasts at most
  settleTimeoutMs: 8_000, // ms to wait for full ISRs between faults (the next fault comes anyway)
  healTimeoutMs: 90_000, // ms the healed cluster may take to bring every replica back in sync
  catchUpTimeoutMs: 30_000, // ms consumers may take to reach the end after healing
  sessionTimeoutMs: 2_000, // ms the SC waits for a silent SPU (spu.session.timeout)
  replicaLagTimeMaxMs: 3_000, // ms a follower may lag before leaving the ISR
  pollIntervalMs: 200, // ms between cluster status polls
  overlapChance: 0.25, // probability that a fault follows the last one without waiting for full ISRs
});

export interface ChaosOptions {
  readonly faults: number;
  readonly seed: number;
  readonly idempotent?: boolean;
  /** The fault kinds to draw from (default: all of them). */
  readonly kinds?: readonly FaultKind[];
  readonly holdMsMin?: number;
  readonly holdMsMax?: number;
  readonly settleTimeoutMs?: number;
  /** Keep the data folder (and write the logs there) even when the run passed. */
  readonly keepData?: boolean;
  readonly log?: (line: string) => void;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly target: string;
  readonly atMs: number;
  readonly holdMs: number;
}

export interface ChaosSummary {
  readonly seed: number;
  readonly passed: boolean;
  readonly durationMs: number;
  readonly faults: number;
  readonly faultsByKind: Record<string, number>;
  readonly healed: boolean;
  readonly idempotence: string;
  readonly writes: { attempted: number; acked: number; failed: number; indeterminate: number };
  readonly reads: { consumers: number; final: number; consumerErrors: number };
  readonly anomalies: Record<string, number>;
  readonly anomalyDetails: string[];
  readonly firstAckAfterLeaderKillMs: { count: number; medianMs: number | null; maxMs: number | null };
  readonly errorSamples: string[];
  /** Where logs (and data) were kept, when kept. */
  readonly keptAt: string | null;
}

const topic = 'chaos';

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const log = options.log ?? (() => undefined);
  const startedMs = Date.now();
  const random = new SeededRandom(options.seed);
  const cluster = await ChaosCluster.start({
    spus: chaosDefaults.spus,
    scArgs: ['--spu-session-timeout-ms', String(chaosDefaults.sessionTimeoutMs)],
    spuArgs: ['--replica-lag-time-max-ms', String(chaosDefaults.replicaLagTimeMaxMs)],
  });
  const clients: Tide[] = [];
  let kept: string | null = null;
  try {
    const [producers, consumers] = await Promise.all([
      Tide.connect({ bootstrap: cluster.bootstrap, requestTimeoutMs: 10_000 }),
      Tide.connect({ bootstrap: cluster.bootstrap, requestTimeoutMs: 10_000 }),
    ]);
    clients.push(producers, consumers);
    await createTopic(producers);
    await waitForFullIsr(cluster, chaosDefaults.healTimeoutMs);
    const workload = new Workload({
      topic,
      partitions: chaosDefaults.partitions,
      runId: `s${options.seed}`,
      idempotent: options.idempotent ?? false,
    });
    workload.start(producers, consumers);
    const { records, kills } = await injectFaults(cluster, random, options, log);
    const outcome = await finish(cluster, workload, consumers, log);
    const summary = summarize(options, startedMs, records, kills, workload, outcome);
    if (!summary.passed || options.keepData === true) kept = await keepLogs(cluster, options.seed);
    return { ...summary, keptAt: kept };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await cluster.destroy({ keepData: kept !== null });
  }
}

/**
 * Creates the topic. The admin client itself waits out NOT_CONTROLLER while the SPUs register; this
 * also retries other retriable failures (a request timing out on a loaded machine).
 */
async function createTopic(client: Tide): Promise<void> {
  const deadline = Date.now() + chaosDefaults.healTimeoutMs;
  for (;;) {
    try {
      await client.admin().createTopic(topic, {
        partitions: chaosDefaults.partitions,
        replicationFactor: chaosDefaults.spus,
        configs: { 'min.insync.replicas': '2' },
      });
      return;
    } catch (error) {
      // An earlier attempt that timed out may have created it.
      if (error instanceof TideClientError && error.errorName === 'TOPIC_ALREADY_EXISTS') return;
      if (!isRetriable(error) || Date.now() > deadline) throw error;
      await delay(chaosDefaults.pollIntervalMs);
    }
  }
}

interface LeaderKill {
  readonly atMs: number;
  readonly partitions: readonly number[];
}

async function injectFaults(
  cluster: ChaosCluster,
  random: SeededRandom,
  options: ChaosOptions,
  log: (line: string) => void,
): Promise<{ records: FaultRecord[]; kills: LeaderKill[] }> {
  const records: FaultRecord[] = [];
  const kills: LeaderKill[] = [];
  const holdMsMin = options.holdMsMin ?? chaosDefaults.holdMsMin;
  const holdMsMax = options.holdMsMax ?? chaosDefaults.holdMsMax;
  for (let index = 0; index < options.faults; index++) {
    const kind = random.pick(options.kinds ?? faultKinds);
    const holdMs = random.int(holdMsMin, holdMsMax);
    const view = await clusterView(cluster);
    const atMs = Date.now();
    const fault = await injectFault(kind, { cluster, random, topic, view, log });
    if (fault.killedLeader !== undefined) kills.push({ atMs, partitions: fault.killedLeader.partitions });
    log(`fault ${index + 1}/${options.faults}: ${kind} ${fault.target}, for ${holdMs} ms`);
    records.push({ kind, target: fault.target, atMs, holdMs });
    await delay(holdMs);
    await fault.heal();
    // Mostly the next fault waits for a healthy cluster; sometimes it lands on one still recovering
    // (a returning SPU not yet caught up), where elections and truncation are most delicate.
    if (random.next() < chaosDefaults.overlapChance) continue;
    const settled = await waitForFullIsr(cluster, options.settleTimeoutMs ?? chaosDefaults.settleTimeoutMs);
    if (!settled) log('  (not every replica back in sync before the next fault)');
  }
  return { records, kills };
}

interface Outcome {
  readonly healed: boolean;
  readonly finalRead: ReadRecord[];
  readonly result: CheckResult;
}

/** Heals everything, stops writers, reads everything back, compares replicas and checks. */
async function finish(
  cluster: ChaosCluster,
  workload: Workload,
  consumers: Tide,
  log: (line: string) => void,
): Promise<Outcome> {
  if (cluster.scState !== 'running') await cluster.startSc();
  for (const spu of cluster.spus) {
    if (spu.state === 'paused') cluster.resumeSpu(spu.id);
    if (spu.state === 'killed') await cluster.startSpu(spu.id);
    cluster.setCut(spu.id, false);
  }
  log('healing: waiting for every replica to be in sync');
  const healed = await waitForFullIsr(cluster, chaosDefaults.healTimeoutMs);
  await workload.stopWriters();
  const finalRead = await readEverything(consumers);
  const ends = new Map<number, bigint>();
  for (const record of finalRead) ends.set(record.partition, record.offset + 1n);
  await waitForConsumers(workload, ends);
  await workload.stopConsumers();
  log(`final read: ${finalRead.length} records; comparing replicas`);
  await cluster.stop();
  const divergences = [];
  for (let partition = 0; partition < chaosDefaults.partitions; partition++) {
    const replicas = cluster.spus.map((spu) => ({
      spuId: spu.id,
      partitionDir: join(spu.dataDir, `${topic}-${partition}`),
    }));
    divergences.push(...(await compareReplicas(partition, replicas, ends.get(partition) ?? 0n)));
  }
  const result = checkHistory({
    attempted: workload.attempted,
    acked: workload.acked,
    failed: workload.failed,
    consumers: workload.histories(),
    finalRead,
    replicaDivergences: divergences,
    idempotent: workload.idempotence === 'on',
  });
  log(`checked: ${describeResult(result)}`);
  return { healed, finalRead, result };
}

/** Every partition from its first offset to its high watermark, retried whole on an error. */
async function readEverything(client: Tide): Promise<ReadRecord[]> {
  for (let attempt = 1; ; attempt++) {
    const records: ReadRecord[] = [];
    try {
      const consumer = client.consumer(topic, {
        offset: Offset.beginning(),
        until: Offset.end(),
        resetPolicy: 'error',
      });
      for await (const record of consumer)
        records.push({
          partition: record.partition,
          offset: record.offset,
          value: record.value?.toString() ?? '',
        });
      return records;
    } catch (error) {
      if (attempt >= 5) throw error;
      await delay(1_000);
    }
  }
}

/** Lets the live consumers reach the ends the final read found (bounded; a laggard is no anomaly). */
async function waitForConsumers(workload: Workload, ends: ReadonlyMap<number, bigint>): Promise<void> {
  const deadline = Date.now() + chaosDefaults.catchUpTimeoutMs;
  while (Date.now() < deadline) {
    const behind = [...ends].some(([partition, end]) =>
      workload.positions(partition).some((position) => position < end),
    );
    if (!behind) return;
    await delay(chaosDefaults.pollIntervalMs);
  }
}

/** The topic's placement from the first running SPU that answers. */
export async function clusterView(cluster: ChaosCluster): Promise<PartitionView[] | undefined> {
  for (const spu of cluster.spus) {
    if (spu.state !== 'running') continue;
    try {
      const answer = await metadata(`127.0.0.1:${spu.port}`, [topic]);
      const partitions = answer.topics[0]?.partitions ?? [];
      if (partitions.length === 0) continue;
      return partitions.map((partition) => ({
        partition: partition.partitionIndex,
        leaderId: partition.leaderId,
        replicas: partition.replicaNodes,
        isr: partition.isrNodes,
      }));
    } catch {
      // Not answering right now: ask the next one.
    }
  }
  return undefined;
}

/** Waits until every partition has a leader and all its replicas in the ISR; false at the deadline. */
async function waitForFullIsr(cluster: ChaosCluster, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await clusterView(cluster);
    const full =
      view !== undefined &&
      view.length === chaosDefaults.partitions &&
      view.every((p) => p.leaderId > 0 && p.isr.length === p.replicas.length);
    if (full) return true;
    if (Date.now() > deadline) return false;
    await delay(chaosDefaults.pollIntervalMs);
  }
}

function summarize(
  options: ChaosOptions,
  startedMs: number,
  records: readonly FaultRecord[],
  kills: readonly LeaderKill[],
  workload: Workload,
  outcome: Outcome,
): Omit<ChaosSummary, 'keptAt'> {
  const faultsByKind: Record<string, number> = {};
  for (const record of records) faultsByKind[record.kind] = (faultsByKind[record.kind] ?? 0) + 1;
  const latencies = firstAckLatencies(kills, workload.acked);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    seed: options.seed,
    passed: outcome.healed && !outcome.result.failed,
    durationMs: Date.now() - startedMs,
    faults: records.length,
    faultsByKind,
    healed: outcome.healed,
    idempotence: workload.idempotence,
    writes: {
      attempted: workload.attempted.size,
      acked: workload.acked.length,
      failed: workload.failed.size,
      indeterminate: workload.indeterminate,
    },
    reads: {
      consumers: workload.histories().reduce((sum, history) => sum + history.reads.length, 0),
      final: outcome.finalRead.length,
      consumerErrors: workload.consumerErrors,
    },
    anomalies: Object.fromEntries(Object.entries(outcome.result.counts).filter(([, count]) => count > 0)),
    anomalyDetails: outcome.result.anomalies
      .slice(0, 30)
      .map(
        (anomaly) =>
          `${anomaly.fatal ? '' : '(info) '}${anomaly.kind} p${anomaly.partition}: ${anomaly.detail}`,
      ),
    firstAckAfterLeaderKillMs: {
      count: sorted.length,
      medianMs: sorted.length === 0 ? null : sorted[Math.floor(sorted.length / 2)]!,
      maxMs: sorted.at(-1) ?? null,
    },
    errorSamples: workload.errorSamples,
  };
}

/** For each partition led by a killed leader: ms from the kill to its next acknowledgement. */
function firstAckLatencies(kills: readonly LeaderKill[], acked: readonly TimedAck[]): number[] {
  const latencies: number[] = [];
  for (const kill of kills) {
    for (const partition of kill.partitions) {
      const first = acked.find((ack) => ack.partition === partition && ack.atMs > kill.atMs);
      if (first !== undefined) latencies.push(first.atMs - kill.atMs);
    }
  }
  return latencies;
}

/** Writes every process's log lines next to the data; returns the folder. */
async function keepLogs(cluster: ChaosCluster, seed: number): Promise<string> {
  const folder = join(tmpdir(), `tide-chaos-logs-${seed}-${Date.now()}`);
  await mkdir(folder, { recursive: true });
  for (const [name, lines] of cluster.logs()) await writeFile(join(folder, `${name}.log`), lines.join('\n'));
  await writeFile(join(folder, 'DATA'), `${cluster.dataDir}\n`);
  return folder;
}
