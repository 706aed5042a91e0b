/**
 * Tide: a standalone `tide spu` (RF 1) or a 3-SPU cluster with an SC (RF 3, acks=all, min ISR 2),
 * each on loopback with temporary data folders, driven by the Tide client library. `tide-fsync`
 * sets the topic config flush.messages=1 so every batch is fsynced before it is acknowledged.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Offset } from '../../src/client/offset.ts';
import { Tide } from '../../src/client/tide.ts';
import { startCluster } from '../../src/testing/cluster.ts';
import { startSpu } from '../../src/testing/spu.ts';
import type { BenchConsumer, BenchProducer, Driver, DriverHints, MessageHandler } from './driver.ts';

const repoRoot = new URL('../../', import.meta.url);

function tideVersion(): string {
  const { version } = JSON.parse(readFileSync(new URL('package.json', repoRoot), 'utf8')) as {
    version: string;
  };
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    return `${version} (${head})`;
  } catch {
    return version;
  }
}

interface Servers {
  readonly bootstrap: string;
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/**
 * With TIDE_BENCH_PROFILE_DIR set, the SPUs preload a CPU profiler and write a .cpuprofile there on
 * a clean exit (Node 20 does not accept --cpu-prof in NODE_OPTIONS). Read it with bench/profile-top.ts.
 */
function spuEnvironment(): void {
  if ((process.env.TIDE_BENCH_PROFILE_DIR ?? '') === '') return;
  const preload = new URL('../omb/cpu-profile-preload.mjs', import.meta.url).href;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim();
}

async function startServers(replicated: boolean): Promise<Servers> {
  const saved = process.env.NODE_OPTIONS;
  spuEnvironment();
  try {
    if (!replicated) {
      const spu = await startSpu();
      return {
        bootstrap: spu.bootstrap,
        pids: [spu.process.pid],
        stop: () => spu.stop('SIGTERM').then(() => spu.destroy()),
      };
    }
    const cluster = await startCluster({ spus: 3 });
    return {
      bootstrap: cluster.bootstrap,
      pids: cluster.spus.map((spu) => spu.process.pid),
      stop: () => cluster.stop().then(() => cluster.destroy()),
    };
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
}

export async function openTide(
  system: 'tide' | 'tide-fsync' | 'tide-rf3',
  hints: DriverHints,
): Promise<Driver> {
  const replicated = system === 'tide-rf3';
  const servers = await startServers(replicated);
  const clients: Tide[] = [];
  const connect = async (): Promise<Tide> => {
    const tide = await Tide.connect({ bootstrap: servers.bootstrap });
    clients.push(tide);
    return tide;
  };
  const admin = (await connect()).admin();
  const lingerMs = hints.latency ? 1 : 5;
  const configs: Record<string, string> = {};
  if (system === 'tide-fsync') configs['flush.messages'] = '1';
  if (replicated) configs['min.insync.replicas'] = '2';
  const durability =
    system === 'tide-fsync'
      ? 'flush.messages=1: every batch fsynced before the ack (acks=all, RF 1)'
      : replicated
        ? 'RF 3, acks=all, min.insync.replicas=2: acked once every in-sync replica has it in its OS page cache; each replica fsyncs at least every 1 s (flush.ms=1000)'
        : 'acks=all on RF 1: acked once written to the OS page cache; fsync at least every 1 s (topic default flush.ms=1000)';
  return {
    system,
    version: tideVersion(),
    durability,
    settings: { replicationFactor: replicated ? 3 : 1, acks: 'all', lingerMs, ...configs },
    notes: replicated ? ['RSS and CPU are summed over the 3 SPUs (the SC is not sampled)'] : [],
    pids: servers.pids,
    createTopic: async (name, partitions) => {
      await admin.createTopic(name, { partitions, replicationFactor: replicated ? 3 : 1, configs });
    },
    createProducer: async (topic): Promise<BenchProducer> => {
      const producer = (await connect()).producer(topic, { acks: 'all', lingerMs });
      return {
        send: async (partition, payload) => {
          await producer.send({ value: payload, partition });
        },
        close: () => producer.close(),
      };
    },
    createConsumer: async (topic, _partitions, onMessage: MessageHandler): Promise<BenchConsumer> => {
      const tide = await connect();
      const stopper = new AbortController();
      const consumer = tide.consumer(topic, {
        offset: Offset.beginning(),
        signal: stopper.signal,
        maxWaitMs: 100,
      });
      const loop = (async () => {
        for await (const batch of consumer.batches())
          for (const record of batch.records) if (record.value !== null) onMessage(record.value);
      })();
      return {
        close: async () => {
          stopper.abort();
          await loop.catch(() => undefined);
        },
      };
    },
    close: async () => {
      await Promise.allSettled(clients.map((client) => client.close()));
      await servers.stop();
    },
  };
}
