import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Kafka,
  type Consumer as KafkaConsumer,
  logLevel,
  type PartitionAssigner,
  PartitionAssigners,
} from 'kafkajs';
import type { GroupConsumer } from '../../src/client/group-consumer.ts';
import { Tide } from '../../src/client/tide.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { until } from '../helpers/cluster-kit.ts';

/**
 * Tide group consumers and kafkajs 2.2.4 consumers (and librdkafka 2.0.2 ones, through
 * confluent-kafka-python and tests/compat/python/group_consumer.py) as members of one group on a real
 * SPU: whichever client leads (runs the assignor), they read every record exactly once together. kafkajs calls its
 * round-robin assignor "RoundRobinAssigner"; Java and librdkafka call it "roundrobin", which is the
 * name Tide uses, so the kafkajs members get the same assignor under the common name (the group
 * protocol picks an assignor every member names).
 */

const waitMs = 45_000;
const python = '/usr/bin/python3';
const groupScript = fileURLToPath(new URL('./python/group_consumer.py', import.meta.url));
const partitions = 8;

const commonRoundRobin: PartitionAssigner = (config) => ({
  ...PartitionAssigners.roundRobin(config),
  name: 'roundrobin',
});

describe('consumer groups: Tide and kafkajs members together', () => {
  let spu: TestSpu;
  let tide: Tide;
  let kafka: Kafka;

  before(async () => {
    spu = await startSpu();
    tide = await Tide.connect({ bootstrap: spu.bootstrap });
    kafka = new Kafka({ clientId: 'interop', brokers: [spu.bootstrap], logLevel: logLevel.NOTHING });
  });
  after(async () => {
    await tide?.close();
    await spu?.destroy();
    await stopAll();
  });

  async function scenario(topic: string, group: string, tideFirst: boolean): Promise<void> {
    await tide.admin().createTopic(topic, { partitions });
    const received = new Map<string, string[]>();
    const note = (member: string, value: string): void => {
      received.set(value, [...(received.get(value) ?? []), member]);
    };
    const kafkajsAssigned = new Map<string, number>();
    const tideMembers: { consumer: GroupConsumer; done: Promise<void> }[] = [];
    const kafkajsMembers: KafkaConsumer[] = [];

    const startTide = (name: string): void => {
      const consumer = tide.consumer(topic, {
        group,
        assignor: 'roundrobin',
        fromBeginning: true,
        heartbeatIntervalMs: 300,
        sessionTimeoutMs: 10_000,
        autoCommitIntervalMs: 500,
        maxWaitMs: 200,
      });
      const done = (async () => {
        for await (const record of consumer) note(name, record.value!.toString());
      })();
      tideMembers.push({ consumer, done });
    };
    const startKafkajs = async (name: string): Promise<void> => {
      const consumer = kafka.consumer({
        groupId: group,
        partitionAssigners: [commonRoundRobin],
        heartbeatInterval: 300,
        sessionTimeout: 10_000,
        maxWaitTimeInMs: 200,
      });
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assignment = event.payload.memberAssignment[topic] ?? [];
        kafkajsAssigned.set(name, assignment.length);
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => note(name, message.value!.toString()) });
      kafkajsMembers.push(consumer);
    };

    try {
      if (tideFirst) {
        startTide('tide-1');
        await until(
          async () => tideMembers[0]!.consumer.assignment().length,
          (n) => n === partitions,
          waitMs,
        );
        startTide('tide-2');
        await startKafkajs('kafkajs-1');
        await startKafkajs('kafkajs-2');
      } else {
        await startKafkajs('kafkajs-1');
        await startKafkajs('kafkajs-2');
        startTide('tide-1');
        startTide('tide-2');
      }
      // Stable with four members: each Tide member holds two partitions, and so does each kafkajs one.
      const stable = await until(
        async () => [
          ...tideMembers.map((m) => m.consumer.assignment().length),
          ...['kafkajs-1', 'kafkajs-2'].map((name) => kafkajsAssigned.get(name) ?? 0),
        ],
        (counts) => counts.length === 4 && counts.every((count) => count === 2),
        waitMs,
      );
      assert.deepEqual(stable, [2, 2, 2, 2], 'two partitions per member');
      assert.equal(
        tideMembers.some((m) => m.consumer.isLeader),
        tideFirst,
        tideFirst ? 'the first Tide member leads' : 'a kafkajs member leads',
      );

      const producer = tide.producer(topic, { lingerMs: 5 });
      const values = Array.from({ length: 160 }, (_, i) => `${topic}-${i}`);
      await Promise.all(values.map((value, i) => producer.send({ key: `key-${i}`, value })));
      await producer.close();
      const count = await until(
        async () => values.filter((value) => received.has(value)).length,
        (n) => n === values.length,
        waitMs,
      );
      assert.equal(count, values.length, 'every record arrives');
      const readers = new Set<string>();
      for (const value of values) {
        assert.equal(received.get(value)?.length, 1, `${value} read exactly once`);
        readers.add(received.get(value)![0]!);
      }
      assert.deepEqual([...readers].sort(), ['kafkajs-1', 'kafkajs-2', 'tide-1', 'tide-2']);
    } finally {
      await Promise.all(tideMembers.map((m) => m.consumer.close()));
      await Promise.all(tideMembers.map((m) => m.done.catch(() => undefined)));
      await Promise.all(kafkajsMembers.map((consumer) => consumer.disconnect()));
    }
  }

  test('a kafkajs member leads, Tide members follow', async () => {
    await scenario('interop-kafkajs-leads', 'interop-a', false);
  });

  test('a Tide member leads, kafkajs members follow', async () => {
    await scenario('interop-tide-leads', 'interop-b', true);
  });

  async function withLibrdkafka(tideFirst: boolean): Promise<void> {
    const topic = tideFirst ? 'interop-rd-tide-leads' : 'interop-rd-rdkafka-leads';
    const group = `${topic}-group`;
    await tide.admin().createTopic(topic, { partitions });
    const received = new Map<string, string[]>();
    const note = (member: string, value: string): void => {
      received.set(value, [...(received.get(value) ?? []), member]);
    };
    let rdkafkaAssigned = 0;
    const startRdkafka = () => {
      const child = spawn(python, [groupScript, spu.bootstrap, topic, group, 'rdkafka', 'range'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const event = JSON.parse(line) as { event: string; partitions?: number[]; value?: string };
        if (event.event === 'assigned') rdkafkaAssigned = event.partitions?.length ?? 0;
        if (event.event === 'revoked') rdkafkaAssigned = 0;
        if (event.event === 'record') note('rdkafka', event.value!);
      });
      return child;
    };
    const consumer = tide.consumer(topic, {
      group,
      assignor: 'range',
      fromBeginning: true,
      heartbeatIntervalMs: 300,
      sessionTimeoutMs: 10_000,
      autoCommitIntervalMs: 500,
      maxWaitMs: 200,
    });
    let child: ReturnType<typeof startRdkafka> | undefined;
    if (!tideFirst) {
      // The first member to join leads: let librdkafka settle alone before Tide joins.
      child = startRdkafka();
      await until(
        async () => rdkafkaAssigned,
        (count) => count === partitions,
        waitMs,
      );
    }
    const done = (async () => {
      if (tideFirst) consumer.once('assigned', () => (child = startRdkafka()));
      for await (const record of consumer) note('tide', record.value!.toString());
    })();
    try {
      const stable = await until(
        async () => [consumer.assignment().length, rdkafkaAssigned],
        (counts) => counts[0] === partitions / 2 && counts[1] === partitions / 2,
        waitMs,
      );
      assert.deepEqual(stable, [partitions / 2, partitions / 2], 'range gives each member half');
      assert.equal(consumer.isLeader, tideFirst, tideFirst ? 'Tide leads' : 'librdkafka leads');
      const producer = tide.producer(topic, { lingerMs: 5 });
      const values = Array.from({ length: 80 }, (_, i) => `${topic}-${i}`);
      await Promise.all(values.map((value, i) => producer.send({ key: `key-${i}`, value })));
      await producer.close();
      const count = await until(
        async () => values.filter((value) => received.has(value)).length,
        (n) => n === values.length,
        waitMs,
      );
      assert.equal(count, values.length, 'every record arrives');
      for (const value of values) assert.equal(received.get(value)?.length, 1, `${value} read exactly once`);
      assert.deepEqual(new Set(values.map((value) => received.get(value)![0])), new Set(['rdkafka', 'tide']));
    } finally {
      await consumer.close();
      await done.catch(() => undefined);
      if (child !== undefined && child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
  }

  test('librdkafka leads with range, a Tide member follows', async () => {
    await withLibrdkafka(false);
  });

  test('a Tide member leads with range, librdkafka follows', async () => {
    await withLibrdkafka(true);
  });
});
