import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../src/client/cluster-client.ts';
import { Producer } from '../src/client/producer.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { createTopic, runTide } from './helpers/client-kit.ts';
import { until } from './helpers/cluster-kit.ts';

/**
 * `tide consume --group` and `tide consumer-group list|describe|delete|reset-offsets` as spawned
 * processes against a real SPU holding two partitions of ten records each.
 */

const timestampMs = 1_700_000_000_000; // record i of each partition: timestampMs + i * 1000
const waitMs = 45_000;

interface PartitionRow {
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: number | null;
  readonly logEndOffset: number;
  readonly lag: number | null;
}

interface DescribedGroup {
  readonly state: string;
  readonly members: readonly { memberId: string; clientId: string; assignment: unknown[] }[];
  readonly partitions: readonly PartitionRow[];
}

describe('tide consumer-group', () => {
  let spu: TestSpu;
  const tide = async (...args: string[]) => runTide([...args, '--bootstrap', spu.bootstrap]);
  const ok = async (...args: string[]): Promise<string> => {
    const result = await tide(...args);
    assert.equal(result.code, 0, `tide ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const describeGroup = async (group: string): Promise<DescribedGroup> =>
    JSON.parse(await ok('consumer-group', 'describe', group, '-O', 'json')) as DescribedGroup;
  const committed = (group: DescribedGroup): (number | null)[] =>
    group.partitions.map((p) => p.committedOffset);

  before(async () => {
    spu = await startSpu();
    await createTopic(spu, 'orders', 2);
    const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
    const producer = new Producer(cluster, 'orders');
    await producer.sendBatch(
      [0, 1].flatMap((partition) =>
        Array.from({ length: 10 }, (_, i) => ({
          partition,
          value: `p${partition}-${i}`,
          timestamp: timestampMs + i * 1000,
        })),
      ),
    );
    await producer.close();
    await cluster.close();
  });
  after(async () => {
    await spu?.destroy();
    await stopAll();
  });

  test('consume --group reads part of the topic; describe shows committed offsets and lag; list shows it', async () => {
    const printed = (await ok('consume', 'orders', '--group', 'billing', '-B', '--max-records', '15'))
      .split('\n')
      .filter((line) => line !== '');
    assert.equal(printed.length, 15);
    const group = await describeGroup('billing');
    assert.equal(group.state, 'Empty');
    assert.equal(group.members.length, 0);
    assert.equal(group.partitions.length, 2);
    const sum = (values: readonly (number | null)[]): number =>
      values.reduce<number>((a, b) => a + (b ?? 0), 0);
    // Fifteen records of two partitions of ten: both partitions were read, at least five each.
    assert.equal(sum(committed(group)), 15, 'fifteen records committed in all');
    assert.equal(sum(group.partitions.map((p) => p.lag)), 5, 'five left to read');
    for (const p of group.partitions) assert.equal(p.lag, p.logEndOffset - (p.committedOffset ?? 0));
    // What was printed is exactly what the commits cover: the next reader continues after it.
    const rest = (await ok('consume', 'orders', '--group', 'billing', '--max-records', '5'))
      .split('\n')
      .filter((line) => line !== '');
    assert.deepEqual(
      [...printed, ...rest].sort(),
      [0, 1].flatMap((p) => Array.from({ length: 10 }, (_, i) => `p${p}-${i}`)).sort(),
    );
    assert.deepEqual(committed(await describeGroup('billing')), [10, 10]);

    const table = await ok('consumer-group', 'describe', 'billing');
    assert.match(table, /state:\s+Empty/);
    assert.match(table, /total lag:\s+0/);
    assert.match(table, /^TOPIC\s+PARTITION\s+COMMITTED\s+LOG END\s+LAG\s+MEMBER$/m);
    assert.match(table, /^orders\s+1\s+10\s+10\s+0\s+-$/m);
    const list = await ok('consumer-group', 'list');
    assert.match(list, /^billing\s+Empty\s+consumer$/m);
  });

  test('reset-offsets: dry run, to an offset, to a time, to the earliest and latest', async () => {
    const dry = await ok(
      'consumer-group',
      'reset-offsets',
      'billing',
      '--topic',
      'orders',
      '--to-earliest',
      '--dry-run',
    );
    assert.match(dry, /^orders\s+0\s+10\s+0$/m);
    assert.match(dry, /dry run: nothing committed/);
    assert.deepEqual(committed(await describeGroup('billing')), [10, 10]);

    await ok('consumer-group', 'reset-offsets', 'billing', '--topic', 'orders', '--to-offset', '4');
    assert.deepEqual(committed(await describeGroup('billing')), [4, 4]);
    await ok(
      'consumer-group',
      'reset-offsets',
      'billing',
      '--topic',
      'orders',
      '--to-offset',
      '99',
      '-p',
      '1',
    );
    assert.deepEqual(committed(await describeGroup('billing')), [4, 10], 'beyond the end moves to the end');
    const at = new Date(timestampMs + 7_000).toISOString();
    await ok('consumer-group', 'reset-offsets', 'billing', '--topic', 'orders', '--to-datetime', at);
    assert.deepEqual(committed(await describeGroup('billing')), [7, 7]);
    await ok('consumer-group', 'reset-offsets', 'billing', '--topic', 'orders', '--to-earliest');
    const group = await describeGroup('billing');
    assert.deepEqual(committed(group), [0, 0]);
    assert.deepEqual(
      group.partitions.map((p) => p.lag),
      [10, 10],
    );
    await ok('consumer-group', 'reset-offsets', 'billing', '--topic', 'orders', '--to-latest', '-O', 'json');
    assert.deepEqual(committed(await describeGroup('billing')), [10, 10]);
  });

  test('a group with a running member cannot be reset or deleted; once it stops, delete works', async () => {
    const member = startMember('live');
    try {
      const described = await until(
        () => describeGroup('live'),
        (group) => group.members.length === 1 && group.members[0]!.assignment.length === 2,
        waitMs,
      );
      assert.equal(described?.members.length, 1, 'the member joined');
      assert.equal(described?.members[0]?.clientId, 'tide-cli');
      assert.equal(described?.state, 'Stable');
      const reset = await tide(
        'consumer-group',
        'reset-offsets',
        'live',
        '--topic',
        'orders',
        '--to-earliest',
      );
      assert.equal(reset.code, 1);
      assert.match(reset.stderr, /NON_EMPTY_GROUP/);
      const deleted = await tide('consumer-group', 'delete', 'live');
      assert.equal(deleted.code, 1);
      assert.match(deleted.stderr, /NON_EMPTY_GROUP/);
    } finally {
      member.kill('SIGINT');
      if (member.exitCode === null) await once(member, 'exit');
    }
    assert.equal(member.exitCode, 0, 'an interrupted group consumer exits cleanly');
    const empty = await until(
      () => describeGroup('live'),
      (group) => group.members.length === 0,
      waitMs,
    );
    assert.equal(empty?.members.length, 0);
    assert.match(await ok('consumer-group', 'delete', 'live', 'billing'), /consumer group "billing" deleted/);
    assert.doesNotMatch(await ok('consumer-group', 'list'), /billing|live/);
  });

  test('bad input: exit code 2 for usage errors, 1 with the Kafka error for unknown groups', async () => {
    const usage = [
      ['consumer-group', 'reset-offsets', 'g', '--topic', 'orders'],
      ['consumer-group', 'reset-offsets', 'g', '--topic', 'orders', '--to-earliest', '--to-latest'],
      ['consumer-group', 'reset-offsets', 'g', '--topic', 'orders', '--to-offset', 'abc'],
      ['consumer-group', 'reset-offsets', 'g', '--topic', 'orders', '--to-datetime', 'yesterday'],
      ['consumer-group', 'reset-offsets', 'g', '--to-earliest'],
      ['consume', 'orders', '--group', 'g', '-p', '0'],
      ['consume', 'orders', '--group', 'g', '-d'],
    ];
    const results = await Promise.all(usage.map((args) => tide(...args)));
    results.forEach((result, index) => {
      assert.equal(result.code, 2, `${usage[index]!.join(' ')}: ${result.stderr}`);
    });
    const completions = await runTide(['completions', 'bash']);
    assert.match(completions.stdout, /'consumer-group reset-offsets'\) candidates='[^']*--to-earliest/);
    assert.match(completions.stdout, /'consume'\) candidates='[^']*--group/);
    const unknown = await tide('consumer-group', 'describe', 'no-such-group');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /GROUP_ID_NOT_FOUND/);
    const missingTopic = await tide(
      'consumer-group',
      'reset-offsets',
      'g',
      '--topic',
      'nope',
      '--to-earliest',
    );
    assert.equal(missingTopic.code, 1);
    assert.match(missingTopic.stderr, /UNKNOWN_TOPIC_OR_PARTITION/);
  });

  function startMember(group: string): ChildProcess {
    return spawn(
      process.execPath,
      [
        'bin/tide.js',
        'consume',
        'orders',
        '--group',
        group,
        '--bootstrap',
        spu.bootstrap,
        '--max-wait',
        '100',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, TIDE_CONFIG: '/nonexistent/tide-test.toml' },
      },
    );
  }
});
