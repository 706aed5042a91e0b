import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';

/**
 * confluent-kafka-python 1.7 (librdkafka 2.0.2) under /usr/bin/python3 against a real standalone SPU:
 * AdminClient topic and config operations, a Producer with delivery reports, and a Consumer reading
 * one partition with assign() from the beginning, the end and an absolute offset. The scripts in
 * ./python print JSON that these tests check.
 */

const python = '/usr/bin/python3';
const scripts = fileURLToPath(new URL('./python/', import.meta.url));
const run = promisify(execFile);

/** ConfigSource codes as confluent_kafka reports them. */
const sourceTopic = 1;
const sourceDefault = 5;

let spu: TestSpu;

before(async () => {
  spu = await startSpu();
});

after(async () => {
  await spu?.destroy();
  await stopAll();
});

async function script<T>(name: string, args: readonly string[]): Promise<T> {
  const { stdout } = await run(python, [join(scripts, name), spu.bootstrap, ...args], {
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  return JSON.parse(stdout) as T;
}

interface Outcome {
  error: string | null;
  message?: string;
}

function admin<T>(operation: string, args: object): Promise<T> {
  return script<T>('admin.py', [operation, JSON.stringify(args)]);
}

async function storedTopics(): Promise<string[]> {
  try {
    const file = JSON.parse(await readFile(join(spu.dataDir, 'topics.json'), 'utf8')) as {
      topics: Array<{ name: string }>;
    };
    return file.topics.map((topic) => topic.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

interface TopicList {
  clusterId: string;
  controllerId: number;
  brokers: Array<{ id: number; host: string; port: number }>;
  topics: Record<
    string,
    { error: string | null; partitions: Record<string, { leader: number; isrs: number[] }> }
  >;
}

interface ConfigList {
  error: string | null;
  configs: Record<string, { value: string; source: number; isDefault: boolean; readOnly: boolean }>;
}

describe('confluent_kafka AdminClient', () => {
  test('create_topics creates valid topics and names the error of each bad one', async () => {
    const outcomes = await admin<Record<string, Outcome>>('create', {
      topics: [
        { name: 'events', partitions: 3, configs: { 'retention.ms': '3600000' } },
        { name: 'bad/name' },
        { name: 'bad-config', configs: { 'segment.bytes': 'big' } },
        { name: 'unknown-config', configs: { 'no.such.config': '1' } },
        { name: 'bad-replication', replicationFactor: 2 },
      ],
    });
    assert.equal(outcomes.events?.error, null);
    // librdkafka names INVALID_TOPIC_EXCEPTION (17) TOPIC_EXCEPTION.
    assert.equal(outcomes['bad/name']?.error, 'TOPIC_EXCEPTION');
    assert.match(outcomes['bad/name']?.message ?? '', /may contain only/);
    assert.equal(outcomes['bad-config']?.error, 'INVALID_CONFIG');
    assert.match(outcomes['bad-config']?.message ?? '', /segment\.bytes/);
    assert.equal(outcomes['unknown-config']?.error, 'INVALID_CONFIG');
    assert.equal(outcomes['bad-replication']?.error, 'INVALID_REPLICATION_FACTOR');
    assert.deepEqual(await storedTopics(), ['events']);
  });

  test('create_topics with validate_only creates nothing, but still reports errors', async () => {
    const outcomes = await admin<Record<string, Outcome>>('create', {
      validateOnly: true,
      topics: [{ name: 'dry-run', partitions: 2 }, { name: 'events' }],
    });
    assert.equal(outcomes['dry-run']?.error, null);
    assert.equal(outcomes.events?.error, 'TOPIC_ALREADY_EXISTS');
    assert.deepEqual(await storedTopics(), ['events']);
  });

  test('list_topics shows the cluster and the topics with their partitions', async () => {
    const list = await admin<TopicList>('list', {});
    assert.equal(list.clusterId, 'tide-local');
    assert.equal(list.controllerId, 1);
    assert.deepEqual(list.brokers, [{ id: 1, host: '127.0.0.1', port: spu.port }]);
    assert.deepEqual(Object.keys(list.topics), ['events']);
    assert.deepEqual(Object.keys(list.topics.events!.partitions).sort(), ['0', '1', '2']);
    assert.equal(list.topics.events!.partitions['2']!.leader, 1);
    assert.deepEqual(list.topics.events!.partitions['2']!.isrs, [1]);
  });

  test('describe_configs and alter_configs', async () => {
    const described = await admin<ConfigList>('describe-configs', { topic: 'events' });
    assert.equal(described.error, null);
    assert.deepEqual(described.configs['retention.ms'], {
      value: '3600000',
      source: sourceTopic,
      isDefault: false,
      readOnly: false,
      sensitive: false,
    });
    assert.equal(described.configs['cleanup.policy']?.value, 'delete');
    assert.equal(described.configs['cleanup.policy']?.source, sourceDefault);

    assert.deepEqual(
      await admin<Outcome>('alter-configs', {
        topic: 'events',
        configs: { 'cleanup.policy': 'compact,delete' },
      }),
      { error: null },
    );
    const bad = await admin<Outcome>('alter-configs', {
      topic: 'events',
      configs: { 'retention.ms': 'later' },
    });
    assert.equal(bad.error, 'INVALID_CONFIG');
    const dry = await admin<Outcome>('alter-configs', {
      topic: 'events',
      validateOnly: true,
      configs: { 'segment.ms': '60000' },
    });
    assert.equal(dry.error, null);

    const altered = await admin<ConfigList>('describe-configs', { topic: 'events' });
    assert.equal(altered.configs['cleanup.policy']?.value, 'compact,delete');
    assert.equal(altered.configs['cleanup.policy']?.source, sourceTopic);
    // AlterConfigs replaces the topic's configs: retention.ms is back to its default.
    assert.equal(altered.configs['retention.ms']?.source, sourceDefault);
    assert.equal(altered.configs['segment.ms']?.value, '604800000');
  });

  test('describe_configs of a missing topic fails with UNKNOWN_TOPIC_OR_PART', async () => {
    const described = await admin<ConfigList>('describe-configs', { topic: 'missing' });
    assert.equal(described.error, 'UNKNOWN_TOPIC_OR_PART');
  });

  test('create_partitions and delete_topics', async () => {
    await admin('create', { topics: [{ name: 'doomed', partitions: 1 }] });
    assert.deepEqual(await admin('create-partitions', { topic: 'doomed', count: 3 }), {
      doomed: { error: null },
    });
    const list = await admin<TopicList>('list', { topic: 'doomed' });
    assert.equal(Object.keys(list.topics.doomed!.partitions).length, 3);
    const deleted = await admin<Record<string, Outcome>>('delete', { topics: ['doomed', 'never-was'] });
    assert.equal(deleted.doomed?.error, null);
    assert.equal(deleted['never-was']?.error, 'UNKNOWN_TOPIC_OR_PART');
    assert.deepEqual(await storedTopics(), ['events']);
  });
});

interface Produced {
  reports: Array<{ value: string; partition: number; offset: number; error: string | null }>;
  unflushed: number;
}

interface Consumed {
  records: Array<{ offset: number; key: string; value: string }>;
  errors: string[];
}

describe('confluent_kafka Producer and Consumer', () => {
  const count = 50;

  before(async () => {
    const outcomes = await admin<Record<string, Outcome>>('create', {
      topics: [{ name: 'stream', partitions: 2 }],
    });
    assert.equal(outcomes.stream?.error, null);
  });

  test('acks=1 producer: every record delivered, offsets dense from 0', async () => {
    const produced = await script<Produced>('produce.py', ['stream', '1', String(count), 'first']);
    assert.equal(produced.unflushed, 0);
    assert.equal(produced.reports.length, count);
    assert.ok(produced.reports.every((report) => report.error === null && report.partition === 1));
    const byOffset = [...produced.reports].sort((a, b) => a.offset - b.offset);
    assert.deepEqual(
      byOffset.map((report) => report.offset),
      Array.from({ length: count }, (_, index) => index),
    );
    // One producer, one partition: records land in the order they were sent.
    assert.deepEqual(
      byOffset.map((report) => report.value),
      Array.from({ length: count }, (_, index) => `first-${index}`),
    );
  });

  test('consumer from OFFSET_BEGINNING reads back exactly what was produced', async () => {
    const consumed = await script<Consumed>('consume.py', ['stream', '1', 'beginning', String(count)]);
    assert.deepEqual(consumed.errors, []);
    assert.deepEqual(
      consumed.records,
      Array.from({ length: count }, (_, index) => ({
        offset: index,
        key: `k${index}`,
        value: `first-${index}`,
      })),
    );
  });

  test('consumer from an absolute offset starts exactly there', async () => {
    const consumed = await script<Consumed>('consume.py', ['stream', '1', '17', String(count - 17)]);
    assert.deepEqual(consumed.errors, []);
    assert.deepEqual(
      consumed.records.map((record) => [record.offset, record.value]),
      Array.from({ length: count - 17 }, (_, index) => [17 + index, `first-${17 + index}`]),
    );
  });

  test('consumer from OFFSET_END sees only records produced after it started', async () => {
    const tail = 5;
    const consumed = await script<Consumed>('consume.py', ['stream', '1', 'end', String(tail)]);
    assert.deepEqual(consumed.errors, []);
    const [first, ...rest] = consumed.records;
    assert.ok(first !== undefined && first.offset >= count, `first record at ${first?.offset}`);
    // Dense from the first record on: probes (at least one), then the tail records in order.
    assert.deepEqual(
      consumed.records.map((record) => record.offset),
      consumed.records.map((_, index) => first.offset + index),
    );
    assert.equal(first.key, 'probe');
    assert.ok(rest.slice(0, -tail).every((record) => record.key === 'probe'));
    assert.deepEqual(
      consumed.records.slice(-tail).map((record) => record.value),
      Array.from({ length: tail }, (_, index) => `stream-tail-${index}`),
    );
  });

  test('the other partition is independent: offsets from 0, gzip batches read back', async () => {
    const list = await admin<TopicList>('list', { topic: 'stream' });
    assert.equal(Object.keys(list.topics.stream!.partitions).length, 2);
    const produced = await script<Produced>('produce.py', ['stream', '0', '3', 'zero', 'gzip']);
    assert.deepEqual(
      produced.reports.map((report) => [report.offset, report.error]),
      [
        [0, null],
        [1, null],
        [2, null],
      ],
    );
    const consumed = await script<Consumed>('consume.py', ['stream', '0', 'beginning', '3']);
    assert.deepEqual(
      consumed.records.map((record) => record.value),
      ['zero-0', 'zero-1', 'zero-2'],
    );
  });
});
