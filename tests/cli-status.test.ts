/**
 * What the CLI says after an SPU dies (kill -9) in a two-SPU cluster whose topic has one partition on
 * each: `consume -d` says what it waits for and then gives up with an error instead of hanging, and
 * `partition list` and `topic describe` show the same state word for every partition.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Tide } from '../src/client/tide.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { tideCli } from './helpers/cli-kit.ts';
import { until } from './helpers/cluster-kit.ts';

const topic = 'live';
// ms for the controller to notice the dead SPU on a loaded machine
const livenessTimeoutMs = 40_000;

after(stopAll);

describe('the CLI after an SPU died', () => {
  let cluster: TestCluster;
  let survivor: string;

  before(async () => {
    cluster = await startCluster({ spus: 2 });
    survivor = cluster.spus[0]!.bootstrap;
    const client = await Tide.connect({ bootstrap: cluster.bootstrap });
    try {
      await client.admin().createTopic(topic, { assignments: [[1], [2]] });
      const producer = client.producer(topic);
      await producer.sendBatch([
        { partition: 0, value: 'p0' },
        { partition: 1, value: 'p1' },
      ]);
      await producer.close();
    } finally {
      await client.close();
    }
    const alive = await tideCli(['consume', topic, '-B', '-d', '--bootstrap', survivor]);
    assert.equal(alive.code, 0, alive.stderr);
    await cluster.spus[1]!.stop('SIGKILL');
  });
  after(async () => {
    await cluster?.destroy();
  });

  it('consume -d says what it waits for, then fails instead of hanging', async () => {
    const outcome = await tideCli(['consume', topic, '-B', '-d', '--bootstrap', survivor]);
    assert.equal(outcome.code, 1, `stdout: ${outcome.stdout}\nstderr: ${outcome.stderr}`);
    assert.match(outcome.stderr, /^waiting: .+/m);
    assert.match(outcome.stderr, /^error: .+/m);
  });

  it('partition list and topic describe agree on every partition state', async () => {
    const listed = await until(
      async () => {
        const outcome = await tideCli([
          'partition',
          'list',
          '-t',
          topic,
          '-O',
          'json',
          '--bootstrap',
          survivor,
        ]);
        return JSON.parse(outcome.stdout) as { partition: number; status: string }[];
      },
      (list) => list.find((p) => p.partition === 1)?.status === 'offline',
      livenessTimeoutMs,
    );
    assert.deepEqual(
      listed?.map((p) => [p.partition, p.status]),
      [
        [0, 'online'],
        [1, 'offline'],
      ],
    );
    const json = await tideCli(['partition', 'list', '-t', topic, '-O', 'json', '--bootstrap', survivor]);
    assert.doesNotMatch(json.stdout, /: -1\b/, 'unknown values are null in JSON, not -1');
    const described = await tideCli(['topic', 'describe', topic, '-O', 'json', '--bootstrap', survivor]);
    assert.equal(described.code, 0, described.stderr);
    const details = (
      JSON.parse(described.stdout) as { partitionDetails: { partition: number; status: string }[] }
    ).partitionDetails;
    assert.deepEqual(
      details.map((p) => [p.partition, p.status]),
      listed?.map((p) => [p.partition, p.status]),
    );
    const table = await tideCli(['topic', 'describe', topic, '--bootstrap', survivor]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^0\s+1\s+\d+\s+1\s+1\s+online$/m);
    assert.match(table.stdout, /^1\s+-\s+\d+\s+2\s+\S*\s*offline$/m);
  });
});
