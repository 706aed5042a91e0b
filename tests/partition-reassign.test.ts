/**
 * Partition reassignment end to end (one SC, three then four SPUs as real processes): a partition
 * moves onto a newly added SPU through the CLI and ends up byte-identical there, with the old
 * replica's files deleted; a move whose new SPU is down survives an SC crash and completes once the
 * SPU is back; a move can be cancelled; bad requests get Kafka's error codes and CLI exit codes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { PartitionStatus } from '../src/client/admin-types.ts';
import { Tide } from '../src/client/tide.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu } from '../src/testing/spu.ts';
import { kcat, until } from './helpers/cluster-kit.ts';

const tideBin = resolve(import.meta.dirname, '..', 'bin', 'tide.js');
const topic = 'moving';
const recordsPerPartition = 300;
/** Long enough for a loaded machine to copy a partition and move leadership. */
const moveTimeoutMs = 45_000;

after(stopAll);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function tide(...args: string[]): Promise<Outcome> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [tideBin, ...args],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Every segment file of one replica, concatenated in offset order. */
async function replicaBytes(dataDir: string, partition: number): Promise<Buffer> {
  const dir = join(dataDir, `${topic}-${partition}`);
  const names = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
  return Buffer.concat(await Promise.all(names.map((name) => readFile(join(dir, name)))));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function lines(partition: number, from = 0, count = recordsPerPartition): string[] {
  return Array.from({ length: count }, (_, at) => `p${partition}-record-${from + at}`);
}

describe('partition reassignment', () => {
  let cluster: TestCluster;
  let client: Tide;

  const withClient = async <T>(work: (admin: ReturnType<Tide['admin']>) => Promise<T>): Promise<T> => {
    const fresh = await Tide.connect({ bootstrap: cluster.bootstrap });
    try {
      return await work(fresh.admin());
    } finally {
      await fresh.close();
    }
  };
  const partitionOf = async (partition: number): Promise<PartitionStatus | undefined> =>
    (await withClient((admin) => admin.partitions(topic))).find((p) => p.partition === partition);
  const produce = (partition: number, records: readonly string[]) =>
    kcat(
      cluster.bootstrap,
      ['-P', '-t', topic, '-p', String(partition), '-X', 'acks=all', '-X', 'message.timeout.ms=30000'],
      `${records.join('\n')}\n`,
    );
  const consume = async (partition: number): Promise<string[]> =>
    (await kcat(cluster.bootstrap, ['-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e']))
      .trim()
      .split('\n');

  before(async () => {
    cluster = await startCluster({ spus: 3, spuArgs: ['--replica-lag-time-max-ms', '2000'] });
    client = await Tide.connect({ bootstrap: cluster.bootstrap });
    await client.admin().createTopic(topic, {
      assignments: [
        [1, 2],
        [2, 3],
        [3, 1],
      ],
    });
    for (const partition of [0, 1, 2]) {
      const placed = await until(
        () => partitionOf(partition),
        (p) => p?.isr.length === 2,
      );
      assert.equal(placed?.isr.length, 2, `partition ${partition} is in sync before data arrives`);
      await produce(partition, lines(partition));
    }
  });
  after(async () => {
    await client?.close();
    await cluster?.destroy();
  });

  it('moves a partition onto a new SPU: same bytes there, old files gone, consumers read it all', async () => {
    const before = await replicaBytes(cluster.spus[0]!.dataDir, 0);
    assert.ok(before.length > 0);
    const added = await cluster.addSpu();
    assert.equal(added.id, 4);
    const moved = await tide(
      'partition',
      'reassign',
      topic,
      '--partition',
      '0',
      '--replicas',
      '4,2',
      '--wait',
      '--timeout-ms',
      String(moveTimeoutMs),
      '--bootstrap',
      cluster.bootstrap,
    );
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /moving moving partition 0 to SPUs 4,2/);
    assert.match(moved.stdout, /done: replicas 4,2, leader 4/);
    const after = await partitionOf(0);
    assert.deepEqual([after?.replicas, after?.leaderId], [[4, 2], 4]);
    assert.deepEqual(after?.addingReplicas, []);
    const copy = await replicaBytes(added.dataDir, 0);
    assert.ok(copy.equals(before), `SPU 4 holds ${copy.length} bytes, the old leader held ${before.length}`);
    const oldFiles = join(cluster.spus[0]!.dataDir, `${topic}-0`);
    const gone = await until(
      () => exists(oldFiles),
      (present) => !present,
      moveTimeoutMs,
    );
    assert.equal(gone, false, 'SPU 1 deleted its replica of moving-0');
    assert.deepEqual(await consume(0), lines(0));
    await produce(0, lines(0, recordsPerPartition, 10));
    assert.deepEqual(await consume(0), lines(0, 0, recordsPerPartition + 10));
    const copies = await until(
      () => Promise.all([replicaBytes(added.dataDir, 0), replicaBytes(cluster.spus[1]!.dataDir, 0)]),
      ([mine, theirs]) => mine!.equals(theirs!),
    );
    assert.ok(copies?.[0]?.equals(copies[1]!), 'the two replicas agree after new writes');
  });

  it('a move in flight survives an SC crash and completes when its new SPU returns', async () => {
    await cluster.spus[3]!.stop();
    const [result] = await client.admin().reassignPartitions([{ topic, partition: 1, replicas: [3, 4] }]);
    assert.equal(result?.error, null);
    const listed = await client.admin().listPartitionReassignments([topic]);
    assert.deepEqual(
      listed.map((m) => [m.partition, m.replicas, m.addingReplicas, m.removingReplicas]),
      [[1, [2, 3, 4], [4], [2]]],
    );
    const shown = await tide('partition', 'list', '--topic', topic, '--bootstrap', cluster.bootstrap);
    assert.match(shown.stdout, /MOVING/);
    assert.match(shown.stdout, /\+4 -2/);

    await cluster.sc.stop('SIGKILL');
    await cluster.restartSc();
    const afterCrash = await until(
      () => withClient((admin) => admin.listPartitionReassignments([topic])),
      (moves) => moves.length === 1,
    );
    assert.deepEqual(afterCrash?.[0]?.addingReplicas, [4], 'the new SC knows the move in flight');
    await produce(1, lines(1, recordsPerPartition, 10));

    const back = await cluster.restartSpu(4);
    const done = await until(
      () => partitionOf(1),
      (p) => p?.replicas.join(',') === '3,4' && p.isr.length === 2,
      moveTimeoutMs,
    );
    assert.deepEqual(
      [done?.replicas, done?.isr],
      [
        [3, 4],
        [3, 4],
      ],
    );
    assert.deepEqual(await consume(1), lines(1, 0, recordsPerPartition + 10));
    const copies = await until(
      () => Promise.all([replicaBytes(back.dataDir, 1), replicaBytes(cluster.spus[2]!.dataDir, 1)]),
      ([mine, theirs]) => mine!.length > 0 && mine!.equals(theirs!),
    );
    assert.ok(copies?.[0]?.equals(copies[1]!), "SPU 4's copy of moving-1 equals SPU 3's");
    const gone = await until(
      () => exists(join(cluster.spus[1]!.dataDir, `${topic}-1`)),
      (present) => !present,
      moveTimeoutMs,
    );
    assert.equal(gone, false, 'SPU 2 deleted its replica of moving-1');
  });

  it('cancels a move: the original replicas stay and the data is untouched', async () => {
    await cluster.spus[3]!.stop();
    // Kafka's own admin client starts it and sees it listed.
    const kafka = new Kafka({
      clientId: 'reassign-test',
      brokers: [cluster.spus[0]!.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    try {
      await kafkaAdmin.alterPartitionReassignments({
        topics: [{ topic, partitionAssignment: [{ partition: 2, replicas: [4, 3] }] }],
      });
      const listed = await kafkaAdmin.listPartitionReassignments({ topics: [{ topic, partitions: [2] }] });
      assert.deepEqual(listed.topics, [
        {
          name: topic,
          partitions: [{ partition: 2, replicas: [3, 1, 4], addingReplicas: [4], removingReplicas: [1] }],
        },
      ]);
    } finally {
      await kafkaAdmin.disconnect();
    }
    const cancelled = await tide(
      'partition',
      'reassign',
      topic,
      '--partition',
      '2',
      '--cancel',
      '--bootstrap',
      cluster.bootstrap,
    );
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const partition = await partitionOf(2);
    assert.deepEqual([partition?.replicas, partition?.addingReplicas], [[3, 1], []]);
    assert.deepEqual(await client.admin().listPartitionReassignments(), []);
    assert.deepEqual(await consume(2), lines(2));
    await cluster.restartSpu(4);
  });

  it('refuses bad requests with Kafka error codes and CLI exit codes', async () => {
    const bootstrap = ['--bootstrap', cluster.bootstrap];
    const cases: Array<[string[], number, RegExp]> = [
      [['nope', '-p', '0', '-r', '1,2'], 1, /UNKNOWN_TOPIC_OR_PARTITION/],
      [[topic, '-p', '9', '-r', '1,2'], 1, /UNKNOWN_TOPIC_OR_PARTITION/],
      [[topic, '-p', '0', '-r', '1,1'], 1, /INVALID_REPLICA_ASSIGNMENT/],
      [[topic, '-p', '0', '-r', '1,99'], 1, /INVALID_REPLICA_ASSIGNMENT/],
      [[topic, '-p', '0', '--cancel'], 1, /NO_REASSIGNMENT_IN_PROGRESS/],
      [[topic, '-p', '0'], 2, /--replicas <ids> or --cancel/],
      [[topic, '-p', '0', '-r', '1,2', '--cancel'], 2, /--replicas <ids> or --cancel/],
      [[topic, '-p', '0', '-r', 'one,two'], 2, /expected SPU ids/],
      [[topic, '-p', '-1', '-r', '1'], 2, /whole number/],
    ];
    const outcomes = await Promise.all(
      cases.map(([args]) => tide('partition', 'reassign', ...args, ...bootstrap)),
    );
    for (const [index, outcome] of outcomes.entries()) {
      const [args, code, message] = cases[index]!;
      assert.equal(outcome.code, code, `tide partition reassign ${args.join(' ')}: ${outcome.stderr}`);
      assert.match(outcome.stderr, message);
    }
    const results = await client.admin().reassignPartitions([{ topic, partition: 0, replicas: [] }]);
    assert.equal(
      (results[0]?.error as { errorName?: string } | null)?.errorName,
      'INVALID_REPLICA_ASSIGNMENT',
    );
    const partition = await partitionOf(0);
    assert.deepEqual(partition?.replicas, [4, 2], 'refused requests changed nothing');
  });

  it('a standalone SPU says it cannot move replicas', async () => {
    const standalone = await startSpu();
    const outcome = await tide(
      'partition',
      'reassign',
      'any',
      '-p',
      '0',
      '-r',
      '1',
      '--bootstrap',
      standalone.bootstrap,
    );
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /needs a cluster with a controller/);
  });
});
