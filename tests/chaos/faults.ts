import { open, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { SeededRandom } from '../../src/testing/random.ts';
import type { ChaosCluster } from './chaos-cluster.ts';

/**
 * The faults a chaos run injects, one at a time: each `inject` breaks something and returns the
 * `heal` that undoes it (restart, continue, reconnect). Targets are drawn from the seeded PRNG, so
 * a seed replays the same choices (the cluster's timing still varies from run to run).
 */

export const faultKinds = Object.freeze([
  'kill-leader', // kill -9 of the leader of a random partition
  'kill-follower', // kill -9 of a follower of a random partition
  'kill-sc', // kill -9 of the SC
  'pause-spu', // SIGSTOP of an SPU, SIGCONT at heal
  'cut-spu', // black hole on every replication route into and out of an SPU
  'restart-spu', // clean shutdown (SIGTERM) and restart of an SPU
  'torn-segment', // kill -9 of an SPU, then its active segments lose or garble their last bytes
  'torn-while-sc-down', // torn-segment while the SC is down; once both are back, kill -9 of a leader
] as const);

export type FaultKind = (typeof faultKinds)[number];

/** One partition's placement as the cluster reports it. */
export interface PartitionView {
  readonly partition: number;
  readonly leaderId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface InjectedFault {
  readonly kind: FaultKind;
  /** What was hit, for the log (for example `SPU 2 (leader of 1, 3)`). */
  readonly target: string;
  /** The SPU killed as a leader and the partitions it led (for first-ack-after-kill times). */
  readonly killedLeader?: { readonly spuId: number; readonly partitions: readonly number[] };
  heal(): Promise<void>;
}

export interface FaultContext {
  readonly cluster: ChaosCluster;
  readonly random: SeededRandom;
  readonly topic: string;
  /** The current placement (undefined when no SPU answered). */
  readonly view: readonly PartitionView[] | undefined;
  readonly log: (line: string) => void;
}

export async function injectFault(kind: FaultKind, context: FaultContext): Promise<InjectedFault> {
  const { cluster, random } = context;
  const anySpu = (): number => random.pick(cluster.spus.map((spu) => spu.id));
  const restart = (id: number) => () => cluster.startSpu(id);
  switch (kind) {
    case 'kill-leader': {
      const led = (context.view ?? []).filter((partition) => partition.leaderId > 0);
      const id = led.length === 0 ? anySpu() : random.pick(led).leaderId;
      const partitions = led.filter((p) => p.leaderId === id).map((p) => p.partition);
      await cluster.stopSpu(id, 'SIGKILL');
      return {
        kind,
        target: `SPU ${id} (leader of ${partitions.join(', ') || 'nothing known'})`,
        killedLeader: { spuId: id, partitions },
        heal: restart(id),
      };
    }
    case 'kill-follower': {
      const partition = context.view === undefined ? undefined : random.pick(context.view);
      const followers = partition?.replicas.filter((id) => id !== partition.leaderId) ?? [];
      const id = followers.length === 0 ? anySpu() : random.pick(followers);
      await cluster.stopSpu(id, 'SIGKILL');
      return { kind, target: `SPU ${id} (follower of ${partition?.partition ?? '?'})`, heal: restart(id) };
    }
    case 'kill-sc':
      await cluster.stopSc('SIGKILL');
      return { kind, target: 'SC', heal: () => cluster.startSc() };
    case 'pause-spu': {
      const id = anySpu();
      cluster.pauseSpu(id);
      return { kind, target: `SPU ${id}`, heal: async () => cluster.resumeSpu(id) };
    }
    case 'cut-spu': {
      const id = anySpu();
      cluster.setCut(id, true);
      return { kind, target: `SPU ${id}`, heal: async () => cluster.setCut(id, false) };
    }
    case 'restart-spu': {
      const id = anySpu();
      await cluster.stopSpu(id, 'SIGTERM');
      return { kind, target: `SPU ${id}`, heal: restart(id) };
    }
    case 'torn-while-sc-down':
      return tornWhileScDown(context);
    case 'torn-segment': {
      const id = anySpu();
      await cluster.stopSpu(id, 'SIGKILL');
      const torn = await tearIfSafe(id, context);
      return { kind, target: `SPU ${id} (${torn})`, heal: restart(id) };
    }
  }
}

/**
 * The SC cannot see an SPU crash that happens while it is down: the SPU registers afresh with the
 * restarted SC. Its torn log must not make it a leader, so the leader of a partition it follows is
 * killed as soon as both are back (before it could have caught up).
 */
async function tornWhileScDown(context: FaultContext): Promise<InjectedFault> {
  const { cluster, random } = context;
  const partition = context.view === undefined ? undefined : random.pick(context.view);
  const followers = partition?.replicas.filter((id) => id !== partition.leaderId) ?? [];
  const torn = followers.length === 0 ? random.pick(cluster.spus).id : random.pick(followers);
  const leader = partition !== undefined && partition.leaderId > 0 ? partition.leaderId : undefined;
  await cluster.stopSc('SIGKILL');
  await cluster.stopSpu(torn, 'SIGKILL');
  const damage = await tearIfSafe(torn, context);
  await cluster.startSc();
  await cluster.startSpu(torn);
  if (leader !== undefined && leader !== torn) await cluster.stopSpu(leader, 'SIGKILL');
  return {
    kind: 'torn-while-sc-down',
    target: `SPU ${torn} (${damage}), then leader SPU ${leader ?? '?'}`,
    heal: async () => {
      if (leader !== undefined && leader !== torn) await cluster.startSpu(leader);
    },
  };
}

/**
 * Tears SPU `id`'s segments (it is down) unless it may hold the only copy of committed records:
 * replication is what makes unflushed data durable (flush.ms), so losing it on the last in-sync
 * replica loses acknowledged writes by design, not by a bug. Tears only when every partition's ISR
 * (as last seen) names another SPU; says what it did.
 */
async function tearIfSafe(id: number, context: FaultContext): Promise<string> {
  const lastCopy = (context.view ?? []).filter((p) => !p.isr.some((member) => member !== id));
  if (context.view === undefined || lastCopy.length > 0) {
    const where = lastCopy.map((p) => p.partition).join(', ') || 'unknown';
    return `not torn: maybe the last in-sync copy of partitions ${where}`;
  }
  const damage = await tearActiveSegments(context.cluster.spu(id).dataDir, context.topic, context.random);
  return damage.join('; ') || 'no segment';
}

/**
 * Damages the tail of each partition's active segment (the one with the largest base offset) of
 * `topic` in `dataDir`: either cuts the last 1–512 bytes or overwrites them with random bytes, as
 * a crash during a write would. Returns what it did, per partition.
 */
export async function tearActiveSegments(
  dataDir: string,
  topic: string,
  random: SeededRandom,
): Promise<string[]> {
  const done: string[] = [];
  const folders = (await readdir(dataDir)).filter((name) => name.startsWith(`${topic}-`)).sort();
  for (const folder of folders) {
    const segments = (await readdir(join(dataDir, folder))).filter((name) => name.endsWith('.log')).sort();
    const active = segments.at(-1);
    if (active === undefined) continue;
    const path = join(dataDir, folder, active);
    const size = (await stat(path)).size;
    if (size === 0) continue;
    const bytes = random.int(1, Math.min(size, 512));
    if (random.next() < 0.5) {
      await truncate(path, size - bytes);
      done.push(`${folder}: cut ${bytes} bytes`);
    } else {
      const garbage = Buffer.from(Array.from({ length: bytes }, () => random.int(0, 255)));
      const handle = await open(path, 'r+');
      try {
        await handle.write(garbage, 0, bytes, size - bytes);
      } finally {
        await handle.close();
      }
      done.push(`${folder}: garbled ${bytes} bytes`);
    }
  }
  return done;
}
