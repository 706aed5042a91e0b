/**
 * Topic auto-creation in the local cluster: `tide cluster start` turns Kafka's
 * auto.create.topics.enable on by default (with --num-partitions and --default-replication-factor
 * passed to every SPU), Metadata's allow_auto_topic_creation is honoured, `__` internal names are
 * never created as plain topics, and --no-auto-create-topics turns it off. Real processes, kcat and
 * raw Metadata requests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isPortFree } from '../src/cli/local-cluster.ts';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../src/protocol/messages/metadata.ts';
import { stablePortRange } from '../src/testing/ports.ts';
import { makeTempDir } from '../src/testing/processes.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const tideBin = resolve(import.meta.dirname, '..', 'bin', 'tide.js');
const spuCount = 2;

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<Outcome> {
  return new Promise((done) => {
    const child = execFile(command, args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** A base port whose whole layout (SC at P-89/P-88, SPUs at P+n, P+100+n, P+200+n) is free. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const span = stablePortRange.max - stablePortRange.min - 300;
    const base = stablePortRange.min + 100 + Math.floor(Math.random() * span);
    const ports = [
      base - 89,
      base - 88,
      ...Array.from({ length: spuCount }, (_, n) => [base + n, base + 100 + n, base + 200 + n]).flat(),
    ];
    const free = await Promise.all(ports.map((port) => isPortFree(port)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}

describe('tide cluster start: topic auto-creation', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let dataDir: string;
  let basePort: number;
  const pids = new Set<number>();
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    TIDE_CONFIG: join(temp.path, 'config.toml'),
    NO_COLOR: '1',
    // The CLI and the processes it starts run this checkout's sources: a bundle resolves bin/tide.js
    // from wherever node_modules really lives, which may be another checkout's.
    TIDE_LOADER: 'tsx',
  });

  function rememberPids(): Record<string, unknown> {
    const record = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as {
      sc: { pid: number | null };
      spus: { pid: number | null }[];
      topicCreation?: Record<string, unknown>;
    };
    for (const pid of [record.sc.pid, ...record.spus.map((spu) => spu.pid)]) if (pid !== null) pids.add(pid);
    return record.topicCreation ?? {};
  }

  async function tide(...args: string[]): Promise<void> {
    const outcome = await run(process.execPath, [tideBin, ...args], env());
    if (existsSync(join(dataDir, 'cluster.json'))) rememberPids();
    assert.equal(outcome.code, 0, `tide ${args.join(' ')} failed: ${outcome.stderr}`);
  }

  /** Metadata v9 for one topic at SPU 1. */
  async function metadata(topic: string, allowAutoTopicCreation: boolean) {
    const client = await WireClient.connect({ host: '127.0.0.1', port: basePort });
    try {
      const answer = await client.request(
        apiKeys.Metadata,
        9,
        createMetadataRequest({
          topics: [createMetadataRequestTopic({ name: topic })],
          allowAutoTopicCreation,
        }),
      );
      return answer.topics[0]!;
    } finally {
      await client.close();
    }
  }

  async function topicNames(): Promise<string[]> {
    const client = await WireClient.connect({ host: '127.0.0.1', port: basePort });
    try {
      const answer = await client.request(apiKeys.Metadata, 9, createMetadataRequest({ topics: null }));
      return answer.topics.map(({ name }) => name ?? '');
    } finally {
      await client.close();
    }
  }

  before(async () => {
    temp = await makeTempDir('tide-auto-create-');
    dataDir = join(temp.path, 'local');
    basePort = await freeBasePort();
  });

  after(async () => {
    if (existsSync(join(dataDir, 'cluster.json'))) rememberPids();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await temp.remove();
  });

  it('creates a topic a producer writes to, with the partitions and replicas given', async () => {
    await tide(
      'cluster',
      'start',
      '--spus',
      String(spuCount),
      '--data-dir',
      dataDir,
      '--base-port',
      String(basePort),
      '--num-partitions',
      '3',
      '--default-replication-factor',
      '2',
    );
    assert.deepEqual(rememberPids(), { autoCreate: true, partitions: 3, replicationFactor: 2 });
    const bootstrap = `127.0.0.1:${basePort}`;
    const produced = await run('kcat', ['-P', '-b', bootstrap, '-t', 'made-by-kcat'], env(), 'hello\n');
    assert.equal(produced.code, 0, produced.stderr);
    const topic = await metadata('made-by-kcat', false);
    assert.equal(topic.errorCode, errorCodes.NONE);
    assert.equal(topic.partitions.length, 3);
    assert.deepEqual(
      topic.partitions.map(({ replicaNodes }) => replicaNodes.length),
      [2, 2, 2],
    );
    const consumed = await run('kcat', ['-C', '-b', bootstrap, '-t', 'made-by-kcat', '-e', '-q'], env());
    assert.equal(consumed.stdout.trim(), 'hello');
  });

  it('creates nothing when the request does not allow it', async () => {
    const answer = await metadata('not-allowed', false);
    assert.equal(answer.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await topicNames()).includes('not-allowed'), false);
  });

  it('never creates __consumer_offsets or another __ name as a plain topic', async () => {
    for (const name of ['__consumer_offsets', '__made_up']) {
      const answer = await metadata(name, true);
      assert.equal(answer.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION, name);
    }
    const names = await topicNames();
    assert.equal(names.includes('__made_up'), false);
    assert.equal(names.includes('__consumer_offsets'), false, 'no group asked for it, so nobody made it');
  });

  it('--no-auto-create-topics answers unknown topics as unknown, and is remembered', async () => {
    await tide('cluster', 'shutdown', '--data-dir', dataDir);
    await tide('cluster', 'start', '--data-dir', dataDir, '--no-auto-create-topics');
    assert.deepEqual(rememberPids(), { autoCreate: false, partitions: 3, replicationFactor: 2 });
    const answer = await metadata('after-off', true);
    assert.equal(answer.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await topicNames()).includes('after-off'), false);
    await tide('cluster', 'shutdown', '--data-dir', dataDir);
  });
});
