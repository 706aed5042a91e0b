/**
 * The admin client against a real standalone SPU: every method, and typed errors (Kafka error name,
 * retriable flag) for bad input.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import type { Admin } from '../src/client/admin.ts';
import { TideClientError } from '../src/client/errors.ts';
import { Tide } from '../src/client/tide.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';

after(stopAll);

function kafkaErrorNamed(name: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TideClientError, `expected TideClientError, got ${String(error)}`);
    assert.equal(error.errorName, name);
    assert.equal(error.code, name);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

describe('Admin', () => {
  let spu: TestSpu;
  let tide: Tide;
  let admin: Admin;

  before(async () => {
    spu = await startSpu();
    tide = await Tide.connect({ bootstrap: spu.bootstrap });
    admin = tide.admin();
  });

  after(async () => {
    await tide?.close();
    await spu?.destroy();
  });

  it('creates, lists and describes topics', async () => {
    const created = await admin.createTopic('orders', {
      partitions: 3,
      configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' },
    });
    assert.deepEqual(
      { ...created, topicId: '' },
      {
        name: 'orders',
        topicId: '',
        partitions: 3,
        replicationFactor: 1,
      },
    );
    assert.notEqual(created.topicId, '');
    const listed = await admin.listTopics();
    assert.deepEqual(
      listed.filter((t) => t.name === 'orders').map((t) => [t.partitions, t.replicationFactor, t.internal]),
      [[3, 1, false]],
    );
    const described = await admin.describeTopic('orders');
    assert.equal(described.topicId, created.topicId);
    assert.deepEqual(
      described.partitionDetails.map((p) => [p.partition, p.leaderId, p.replicas, p.isr, p.error]),
      [0, 1, 2].map((p) => [p, 1, [1], [1], null]),
    );
    const retention = described.configs.find((c) => c.name === 'retention.ms');
    assert.deepEqual(retention && [retention.value, retention.source, retention.isDefault], [
      '3600000',
      'topic',
      false,
    ]);
    assert.equal(described.configs.find((c) => c.name === 'segment.bytes')?.isDefault, true);
    assert.equal(described.status, null);
  });

  it('creates a topic from explicit assignments and validates without creating', async () => {
    const created = await admin.createTopic('placed', { assignments: [[1], [1]] });
    assert.equal(created.partitions, 2);
    const dryRun = await admin.createTopic('dry', { partitions: 4, validateOnly: true });
    assert.equal(dryRun.partitions, 4);
    assert.equal(
      (await admin.listTopics()).some((t) => t.name === 'dry'),
      false,
    );
  });

  it('refuses bad topics with typed errors', async () => {
    await assert.rejects(admin.createTopic('orders'), kafkaErrorNamed('TOPIC_ALREADY_EXISTS'));
    await assert.rejects(admin.createTopic('bad name!'), kafkaErrorNamed('INVALID_TOPIC_EXCEPTION'));
    await assert.rejects(admin.createTopic('zero', { partitions: 0 }), kafkaErrorNamed('INVALID_PARTITIONS'));
    await assert.rejects(
      admin.createTopic('badconfig', { configs: { 'retention.ms': 'soon' } }),
      kafkaErrorNamed('INVALID_CONFIG', /retention\.ms/),
    );
    await assert.rejects(
      admin.describeTopic('missing'),
      kafkaErrorNamed('UNKNOWN_TOPIC_OR_PARTITION', /"missing" does not exist/),
    );
    await assert.rejects(admin.describeConfigs('missing'), kafkaErrorNamed('UNKNOWN_TOPIC_OR_PARTITION'));
  });

  it('alters configs incrementally', async () => {
    await admin.alterConfigs('orders', { 'retention.ms': '7200000', 'max.message.bytes': '2000000' });
    let configs = await admin.describeConfigs('orders', { keys: ['retention.ms', 'max.message.bytes'] });
    assert.deepEqual(
      configs.map((c) => [c.name, c.value]),
      [
        ['max.message.bytes', '2000000'],
        ['retention.ms', '7200000'],
      ],
    );
    await admin.alterConfigs('orders', { 'retention.ms': null });
    configs = await admin.describeConfigs('orders', { keys: ['retention.ms', 'cleanup.policy'] });
    assert.deepEqual(
      configs.map((c) => [c.name, c.value, c.isDefault]),
      [
        ['cleanup.policy', 'compact', false],
        ['retention.ms', '604800000', true],
      ],
    );
    await assert.rejects(
      admin.alterConfigs('orders', { 'no.such.key': '1' }),
      kafkaErrorNamed('INVALID_CONFIG'),
    );
    await assert.rejects(
      admin.alterConfigs('missing', { 'retention.ms': '1' }),
      kafkaErrorNamed('UNKNOWN_TOPIC_OR_PARTITION'),
    );
  });

  it('adds partitions', async () => {
    await admin.addPartitions('orders', 5);
    assert.equal((await admin.describeTopic('orders')).partitions, 5);
    await assert.rejects(admin.addPartitions('orders', 2), kafkaErrorNamed('INVALID_PARTITIONS'));
    await assert.rejects(admin.addPartitions('missing', 2), kafkaErrorNamed('UNKNOWN_TOPIC_OR_PARTITION'));
  });

  it('reports partition offsets', async () => {
    await admin.createTopic('offsets', { partitions: 2 });
    const input = 'a\nb\nc\n';
    const child = execFile('/usr/bin/kcat', ['-b', spu.bootstrap, '-P', '-t', 'offsets', '-p', '1']);
    child.stdin?.end(input);
    await new Promise((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`kcat ${code}`)))),
    );
    const partitions = await admin.partitions('offsets');
    assert.deepEqual(
      partitions.map((p) => [
        p.topic,
        p.partition,
        p.leaderId,
        p.logStartOffset,
        p.highWatermark,
        p.logEndOffset,
        p.status,
      ]),
      [
        ['offsets', 0, 1, 0n, 0n, 0n, 'online'],
        ['offsets', 1, 1, 0n, 3n, 3n, 'online'],
      ],
    );
    const all = await admin.partitions();
    assert.deepEqual([...new Set(all.map((p) => p.topic))], ['offsets', 'orders', 'placed']);
    await assert.rejects(admin.partitions('missing'), kafkaErrorNamed('UNKNOWN_TOPIC_OR_PARTITION'));
  });

  it('lists SPUs and describes the cluster', async () => {
    const spus = await admin.spus();
    assert.equal(spus.length, 1);
    assert.deepEqual([spus[0]?.id, spus[0]?.port, spus[0]?.status], [1, spu.port, 'online']);
    assert.ok((spus[0]?.partitionsLed ?? 0) >= 5);
    const cluster = await admin.cluster();
    assert.equal(cluster.clusterId, 'tide-local');
    assert.deepEqual(
      cluster.spus.map((s) => [s.id, s.port]),
      [[1, spu.port]],
    );
    const spuConfigs = await admin.describeSpuConfigs(1);
    assert.ok(spuConfigs.length > 0);
  });

  it('deletes topics, reporting each outcome', async () => {
    const results = await admin.deleteTopics(['placed', 'missing']);
    assert.equal(results[0]?.error, null);
    const missing = results[1]?.error;
    assert.ok(missing instanceof TideClientError);
    assert.equal(missing.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
    await admin.deleteTopic('offsets');
    assert.deepEqual(
      (await admin.listTopics()).map((t) => t.name),
      ['orders'],
    );
    await assert.rejects(admin.deleteTopic('offsets'), kafkaErrorNamed('UNKNOWN_TOPIC_OR_PARTITION'));
  });
});

describe('Tide.connect', () => {
  it('refuses TLS and SASL clearly', async () => {
    await assert.rejects(Tide.connect({ bootstrap: '127.0.0.1:1', tls: true }), {
      code: 'NOT_SUPPORTED',
      message: /TLS is not supported yet/,
    });
    await assert.rejects(
      Tide.connect({ bootstrap: '127.0.0.1:1', sasl: { mechanism: 'PLAIN', username: 'a', password: 'b' } }),
      { code: 'NOT_SUPPORTED', message: /SASL/ },
    );
  });

  it('needs a profile when no bootstrap is given', async () => {
    await assert.rejects(Tide.connect({ profilesPath: '/nonexistent/tide/config.toml' }), {
      code: 'PROFILE',
      message: /no current profile/,
    });
  });
});
