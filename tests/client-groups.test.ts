import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConsumerRecord } from '../src/client/consumer.ts';
import type { GroupConsumer, TopicPartition } from '../src/client/group-consumer.ts';
import { Tide } from '../src/client/tide.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { until } from './helpers/cluster-kit.ts';

/**
 * Tide group consumers on a real three-SPU cluster sharing a six-partition topic: every record is
 * read exactly once across the members; when one member closes, its partitions move to the others,
 * which continue from the committed offsets; a restarted group resumes where it committed.
 */

const topic = 'billing-events';
const group = 'billing';
const waitMs = 45_000; // generous: six engineers share this machine

interface Member {
  readonly name: string;
  readonly consumer: GroupConsumer;
  readonly done: Promise<void>;
}

describe('consumer groups on a cluster', () => {
  let cluster: TestCluster;
  let tide: Tide;
  const received = new Map<string, string[]>(); // value → members that got it
  let produced = 0; // records sent, all topics
  const producedTo = new Map<string, number>();

  function join(
    name: string,
    client: Tide,
    options: {
      fromBeginning?: boolean;
      topic?: string;
      group?: string;
      cooperative?: boolean;
      groupInstanceId?: string;
    } = {},
  ): Member {
    const consumer = client.consumer(options.topic ?? topic, {
      group: options.group ?? group,
      assignor: options.cooperative === true ? 'cooperative-sticky' : 'range',
      heartbeatIntervalMs: 300,
      sessionTimeoutMs: 10_000,
      autoCommitIntervalMs: 500,
      fromBeginning: options.fromBeginning ?? true,
      maxWaitMs: 200,
      ...(options.groupInstanceId === undefined ? {} : { groupInstanceId: options.groupInstanceId }),
    });
    const done = (async () => {
      for await (const record of consumer) note(name, record);
    })();
    return { name, consumer, done };
  }

  function note(name: string, record: ConsumerRecord): void {
    const value = record.value!.toString();
    received.set(value, [...(received.get(value) ?? []), name]);
  }

  async function produce(count: number, to = topic): Promise<string[]> {
    const producer = tide.producer(to, { lingerMs: 5 });
    const values = Array.from({ length: count }, (_, i) => `record-${produced + i}`);
    await Promise.all(values.map((value, i) => producer.send({ key: `key-${produced + i}`, value })));
    await producer.close();
    produced += count;
    producedTo.set(to, (producedTo.get(to) ?? 0) + count);
    return values;
  }

  async function allReceived(values: readonly string[]): Promise<void> {
    const seen = await until(
      async () => values.filter((value) => received.has(value)).length,
      (count) => count === values.length,
      waitMs,
    );
    assert.equal(seen, values.length, 'every record arrives');
  }

  function covers(members: readonly Member[], partitions: number): Promise<TopicPartition[] | undefined> {
    return until(
      async () => members.flatMap((member) => member.consumer.assignment()),
      (assigned) =>
        assigned.length === partitions &&
        new Set(assigned.map((p) => p.partition)).size === partitions &&
        members.every((member) => member.consumer.assignment().length > 0),
      waitMs,
    );
  }

  before(async () => {
    cluster = await startCluster({ spus: 3 });
    tide = await Tide.connect({ bootstrap: cluster.bootstrap });
    await tide.admin().createTopic(topic, { partitions: 6, replicationFactor: 2 });
  });
  after(async () => {
    await tide?.close();
    await cluster?.destroy();
    await stopAll();
  });

  test('three members share six partitions; each record is read exactly once; partitions move on close', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => Tide.connect({ bootstrap: cluster.bootstrap })));
    const members = clients.map((client, i) => join(`member-${i + 1}`, client));
    try {
      const assigned = await covers(members, 6);
      assert.equal(assigned?.length, 6, 'the three members cover the six partitions');
      for (const member of members) assert.equal(member.consumer.assignment().length, 2, member.name);

      const first = await produce(120);
      await allReceived(first);
      const byMember = new Map<string, number>();
      for (const value of first) {
        assert.equal(received.get(value)?.length, 1, `${value} read once`);
        const name = received.get(value)![0]!;
        byMember.set(name, (byMember.get(name) ?? 0) + 1);
      }
      assert.equal(byMember.size, 3, 'every member read some records');

      // One member closes: it commits and leaves; the other two take over its partitions.
      await members[2]!.consumer.close();
      await members[2]!.done;
      const remaining = members.slice(0, 2);
      const moved = await covers(remaining, 6);
      assert.equal(moved?.length, 6, 'the two remaining members cover all six partitions');

      const second = await produce(60);
      await allReceived(second);
      for (const value of [...first, ...second]) {
        assert.equal(received.get(value)?.length, 1, `${value} read exactly once across the rebalance`);
      }
      assert.ok(second.every((value) => received.get(value)![0] !== 'member-3'));
    } finally {
      await Promise.all(members.map((member) => member.consumer.close()));
      await Promise.all(members.map((member) => member.done.catch(() => undefined)));
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  test('a restarted member resumes at the committed offsets, not at the beginning', async () => {
    const before = await tide.admin().groups().describeGroup(group);
    assert.equal(before.state, 'Empty');
    assert.equal(before.partitions.length, 6);
    for (const partition of before.partitions)
      assert.equal(partition.lag, 0n, `partition ${partition.partition} lag`);

    const client = await Tide.connect({ bootstrap: cluster.bootstrap });
    received.clear();
    const member = join('restarted', client, { fromBeginning: true });
    try {
      await covers([member], 6);
      const third = await produce(30);
      await allReceived(third);
      // Records before the committed offsets would have come first on each partition.
      assert.deepEqual([...received.keys()].sort(), [...third].sort(), 'only the new records were read');
    } finally {
      await member.consumer.close();
      await member.done;
      await client.close();
    }
    const after = await tide.admin().groups().describeGroup(group);
    const committed = after.partitions.reduce((sum, p) => sum + (p.committedOffset ?? 0n), 0n);
    assert.equal(committed, BigInt(producedTo.get(topic) ?? 0), 'the group committed every record it read');
  });

  test('cooperative-sticky: a joining member takes half without the first one giving up the rest', async () => {
    const coopTopic = 'coop-events';
    await tide.admin().createTopic(coopTopic, { partitions: 6, replicationFactor: 1 });
    received.clear();
    const options = { topic: coopTopic, group: 'coop', cooperative: true };
    const clients = await Promise.all([1, 2].map(() => Tide.connect({ bootstrap: cluster.bootstrap })));
    const events: string[] = [];
    const first = join('first', clients[0]!, options);
    first.consumer.on('revoked', (list) =>
      events.push(`first revoked ${list.map((p) => p.partition).join(',')}`),
    );
    try {
      await covers([first], 6);
      const before = await produce(30, coopTopic);
      await allReceived(before);
      const second = join('second', clients[1]!, options);
      second.consumer.on('assigned', (list) => {
        // Never handed a partition the first member still reads.
        const held = new Set(first.consumer.assignment().map((p) => p.partition));
        events.push(`second assigned ${list.map((p) => p.partition).join(',')}`);
        assert.ok(
          list.every((p) => !held.has(p.partition)),
          'no partition has two readers',
        );
      });
      try {
        const split = await until(
          async () => [first.consumer.assignment().length, second.consumer.assignment().length],
          (counts) => counts[0] === 3 && counts[1] === 3,
          waitMs,
        );
        assert.deepEqual(split, [3, 3]);
        const revoked = events.filter((event) => event.startsWith('first revoked'));
        assert.equal(revoked.length, 1, `one revocation of the moved partitions only: ${events.join('; ')}`);
        assert.equal(revoked[0]!.split(' ')[2]!.split(',').length, 3);
        const after = await produce(30, coopTopic);
        await allReceived(after);
        for (const value of [...before, ...after]) assert.equal(received.get(value)?.length, 1, value);
      } finally {
        await second.consumer.close();
        await second.done;
      }
    } finally {
      await first.consumer.close();
      await first.done;
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  test('one member subscribed to two topics reads both from the beginning', async () => {
    const client = await Tide.connect({ bootstrap: cluster.bootstrap });
    const consumer = client.consumer([topic, 'coop-events'], {
      group: 'both-topics',
      fromBeginning: true,
      maxWaitMs: 200,
      signal: AbortSignal.timeout(waitMs), // ends the loop should records go missing
    });
    const expected = [producedTo.get(topic), producedTo.get('coop-events')];
    const counts = new Map<string, number>();
    try {
      for await (const record of consumer) {
        counts.set(record.topic, (counts.get(record.topic) ?? 0) + 1);
        if ((counts.get(topic) ?? 0) + (counts.get('coop-events') ?? 0) === produced) break;
      }
      assert.deepEqual(
        [counts.get(topic), counts.get('coop-events')],
        expected,
        'every record of both topics, once',
      );
      assert.equal(consumer.assignment().length, 0, 'ending the loop closed the member');
      const group = await tide.admin().groups().describeGroup('both-topics');
      assert.deepEqual([...new Set(group.partitions.map((p) => p.topic))].sort(), [
        'billing-events',
        'coop-events',
      ]);
      assert.ok(
        group.partitions.every((p) => p.lag === 0n),
        'everything read was committed on close',
      );
    } finally {
      await consumer.close();
      await client.close();
    }
  });

  test('partitions added to a subscribed topic are assigned after a metadata check', async () => {
    const growing = 'growing-events';
    await tide.admin().createTopic(growing, { partitions: 2, replicationFactor: 1 });
    const client = await Tide.connect({ bootstrap: cluster.bootstrap });
    const consumer = client.consumer(growing, {
      group: 'growing',
      metadataCheckIntervalMs: 300,
      maxWaitMs: 200,
    });
    const done = (async () => {
      for await (const _record of consumer);
    })();
    try {
      const first = await until(
        async () => consumer.assignment().length,
        (n) => n === 2,
        waitMs,
      );
      assert.equal(first, 2);
      await tide.admin().addPartitions(growing, 4);
      const grown = await until(
        async () => consumer.assignment().length,
        (n) => n === 4,
        waitMs,
      );
      assert.equal(grown, 4, 'the member rejoined and got the new partitions');
    } finally {
      await consumer.close();
      await done;
      await client.close();
    }
  });

  test('static members: a restart within the session keeps the assignment without a rebalance', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => Tide.connect({ bootstrap: cluster.bootstrap })));
    const events: string[] = [];
    const members = ['a', 'b'].map((name, i) => {
      const member = join(`static-${name}`, clients[i]!, {
        group: 'static',
        groupInstanceId: `instance-${name}`,
      });
      member.consumer.on('revoked', () => events.push(`${name} revoked`));
      return member;
    });
    let restarted: Member | undefined;
    try {
      await covers(members, 6);
      events.length = 0; // revocations while the group formed do not count
      // The follower restarts (a leader's return may rebalance, depending on the broker's version).
      const index = members.findIndex((member) => !member.consumer.isLeader);
      assert.ok(index >= 0, 'one member follows');
      const follower = members[index]!;
      const held = follower.consumer.assignment();
      await follower.consumer.close(); // a static member does not leave: its partitions wait for it
      await follower.done;
      events.length = 0;
      const instance = index === 0 ? 'a' : 'b';
      restarted = join('static-again', clients[2]!, {
        group: 'static',
        groupInstanceId: `instance-${instance}`,
      });
      const back = await until(
        async () => restarted!.consumer.assignment(),
        (assigned) => assigned.length === held.length,
        waitMs,
      );
      assert.deepEqual(back, held, 'the same partitions come back');
      assert.deepEqual(events, [], 'the other member kept reading without a rebalance');
    } finally {
      await Promise.all([...members, restarted].map((member) => member?.consumer.close()));
      await Promise.all([...members, restarted].map((member) => member?.done.catch(() => undefined)));
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  test('the coordinator SPU dies: members find the new coordinator and keep reading', async () => {
    received.clear();
    const options = { group: 'failover', fromBeginning: false };
    const clients = await Promise.all([1, 2].map(() => Tide.connect({ bootstrap: cluster.bootstrap })));
    const members = clients.map((client, i) => join(`survivor-${i + 1}`, client, options));
    try {
      await covers(members, 6);
      const before = await produce(30);
      await allReceived(before);
      const coordinatorId = (await tide.admin().groups().describeGroup('failover')).coordinatorId;
      await cluster.spus[coordinatorId - 1]!.stop('SIGKILL');
      const after = await produce(30);
      await allReceived(after); // at least once: positions may go back to the last commit
      const moved = await until(
        () => tide.admin().groups().describeGroup('failover'),
        (group) => group.coordinatorId !== coordinatorId && group.members.length === 2,
        waitMs,
      );
      assert.notEqual(moved?.coordinatorId, coordinatorId, 'another SPU coordinates the group');
      assert.equal(moved?.members.length, 2, 'both members are still in the group');
    } finally {
      await Promise.all(members.map((member) => member.consumer.close()));
      await Promise.all(members.map((member) => member.done.catch(() => undefined)));
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});
