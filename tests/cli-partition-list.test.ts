/**
 * `tide partition list` in a cluster (one SC, three SPUs as real processes): per partition the
 * leader, replicas, ISR and each follower's lag in records (from the leader's status reports), and
 * under-replicated partitions marked, in the table and in `-O json`, after a follower stops.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Tide } from '../src/client/tide.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { kcat, until } from './helpers/cluster-kit.ts';

const tideBin = resolve(import.meta.dirname, '..', 'bin', 'tide.js');
const topic = 'watched';
/** SPUs report partition status every few seconds; allow several reports on a loaded machine. */
const reportTimeoutMs = 30_000;

after(stopAll);

interface ListedPartition {
  topic: string;
  partition: number;
  leaderId: number;
  replicas: number[];
  isr: number[];
  underReplicated: boolean;
  status: string;
  logEndOffset: number;
  replicaProgress: Array<{
    replicaId: number;
    inSync: boolean;
    logEndOffset: number | null;
    lag: number | null;
  }>;
}

function tide(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [tideBin, ...args],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe('tide partition list in a cluster', () => {
  let cluster: TestCluster;

  const listJson = async (...extra: string[]): Promise<ListedPartition[]> => {
    const outcome = await tide(
      'partition',
      'list',
      '-t',
      topic,
      '-O',
      'json',
      '--bootstrap',
      cluster.bootstrap,
      ...extra,
    );
    assert.equal(outcome.code, 0, outcome.stderr);
    return JSON.parse(outcome.stdout) as ListedPartition[];
  };
  const produce = (count: number, acks: string) =>
    kcat(
      cluster.bootstrap,
      ['-P', '-t', topic, '-p', '0', '-X', `acks=${acks}`, '-X', 'message.timeout.ms=20000'],
      `${Array.from({ length: count }, (_, at) => `record-${at}`).join('\n')}\n`,
    );

  before(async () => {
    cluster = await startCluster({ spus: 3, spuArgs: ['--replica-lag-time-max-ms', '2000'] });
    const client = await Tide.connect({ bootstrap: cluster.bootstrap });
    try {
      await client.admin().createTopic(topic, { assignments: [[1, 2, 3]] });
    } finally {
      await client.close();
    }
  });
  after(async () => {
    await cluster?.destroy();
  });

  it('shows leader, replicas, ISR and zero lag while every follower keeps up', async () => {
    await until(
      () => listJson(),
      (list) => list[0]?.isr.length === 3,
    );
    await produce(50, 'all');
    const settled = await until(
      () => listJson(),
      (list) => list[0]?.logEndOffset === 50 && list[0].replicaProgress.every((replica) => replica.lag === 0),
      reportTimeoutMs,
    );
    const partition = settled?.[0];
    assert.ok(partition !== undefined);
    assert.deepEqual(
      [partition.leaderId, partition.replicas, partition.isr, partition.underReplicated, partition.status],
      [1, [1, 2, 3], [1, 2, 3], false, 'online'],
    );
    assert.deepEqual(
      partition.replicaProgress.map((replica) => [
        replica.replicaId,
        replica.inSync,
        replica.logEndOffset,
        replica.lag,
      ]),
      [
        [1, true, 50, 0],
        [2, true, 50, 0],
        [3, true, 50, 0],
      ],
    );
    const table = await tide('partition', 'list', '-t', topic, '--bootstrap', cluster.bootstrap);
    assert.equal(table.code, 0, table.stderr);
    const [head, row] = table.stdout.trim().split('\n');
    assert.match(head ?? '', /LEADER\s+REPLICAS\s+ISR\s+LAG\s/);
    assert.match(row ?? '', /watched\s+0\s+1\s+1,2,3\s+1,2,3\s+2=0,3=0\s/);
    assert.match(row ?? '', /\sonline\s/);
  });

  it('lists internal topics (__consumer_offsets) only with --internal', async () => {
    // A group commit makes the SPUs create __consumer_offsets.
    const consumed = await tide(
      'consume',
      topic,
      '--group',
      'auditors',
      '-B',
      '--max-records',
      '1',
      '--bootstrap',
      cluster.bootstrap,
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    const topicsListed = async (...extra: string[]): Promise<string[]> => {
      const outcome = await tide(
        'partition',
        'list',
        '-O',
        'json',
        '--bootstrap',
        cluster.bootstrap,
        ...extra,
      );
      assert.equal(outcome.code, 0, outcome.stderr);
      return [...new Set((JSON.parse(outcome.stdout) as ListedPartition[]).map((p) => p.topic))].sort();
    };
    const withInternal = await until(
      () => topicsListed('--internal'),
      (topics) => topics.includes('__consumer_offsets'),
      reportTimeoutMs,
    );
    assert.deepEqual(withInternal, ['__consumer_offsets', topic]);
    assert.deepEqual(await topicsListed(), [topic]);
  });

  it('after a follower stops: lag in records, smaller ISR, under-replicated', async () => {
    await cluster.spus[2]!.stop();
    await produce(20, '1');
    const lagging = await until(
      () => listJson(),
      (list) => {
        const follower = list[0]?.replicaProgress.find((replica) => replica.replicaId === 3);
        return list[0]?.isr.length === 2 && follower?.lag === 20;
      },
      reportTimeoutMs,
    );
    const partition = lagging?.[0];
    assert.ok(partition !== undefined);
    assert.deepEqual(
      [partition.isr, partition.underReplicated, partition.status],
      [[1, 2], true, 'under-replicated'],
    );
    const stopped = partition.replicaProgress.find((replica) => replica.replicaId === 3);
    assert.deepEqual([stopped?.inSync, stopped?.logEndOffset, stopped?.lag], [false, 50, 20]);
    const table = await tide('partition', 'list', '-t', topic, '--bootstrap', cluster.bootstrap);
    const row = table.stdout.trim().split('\n')[1] ?? '';
    assert.match(row, /\s1,2,3\s+1,2\s+2=\d+,3=20\s/);
    assert.match(row, /\sunder-replicated\s/);
    const filtered = await listJson('--under-replicated');
    assert.deepEqual(
      filtered.map((p) => p.partition),
      [0],
    );
  });
});
