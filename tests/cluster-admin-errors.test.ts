import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CreateTopicOptions } from '../src/client/admin.ts';
import { TideClientError } from '../src/client/errors.ts';
import { Tide } from '../src/client/tide.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { describeTopicStatus, until } from './helpers/cluster-kit.ts';

/**
 * Admin requests through an SPU in cluster mode, as real processes: bad ones are refused by the SC
 * with Kafka's error (seen through the SPU) and leave nothing behind, neither in the topic list nor
 * in the SC's store; a topic asking for more replicas than there are SPUs waits, unplaced, until
 * enough SPUs join.
 */

const badRequests: readonly { name: string; options: CreateTopicOptions; error: string }[] = [
  { name: 'bad/name', options: {}, error: 'INVALID_TOPIC_EXCEPTION' },
  { name: '..', options: {}, error: 'INVALID_TOPIC_EXCEPTION' },
  { name: 'n'.repeat(250), options: {}, error: 'INVALID_TOPIC_EXCEPTION' },
  { name: 'rf-zero', options: { replicationFactor: 0 }, error: 'INVALID_REPLICATION_FACTOR' },
  { name: 'negative-partitions', options: { partitions: -3 }, error: 'INVALID_PARTITIONS' },
  { name: 'zero-partitions', options: { partitions: 0 }, error: 'INVALID_PARTITIONS' },
  { name: 'unknown-config', options: { configs: { 'no.such.config': '1' } }, error: 'INVALID_CONFIG' },
  { name: 'bad-config-value', options: { configs: { 'retention.ms': 'soon' } }, error: 'INVALID_CONFIG' },
  { name: 'unknown-spu', options: { assignments: [[1], [9]] }, error: 'INVALID_REPLICA_ASSIGNMENT' },
];

describe('admin requests through an SPU in a cluster', () => {
  let cluster: TestCluster;
  let tide: Tide;

  before(async () => {
    cluster = await startCluster({
      spus: 1,
      scArgs: ['--spu-session-timeout-ms', '2000', '--accept-unplaced-topics'],
    });
    tide = await Tide.connect({ bootstrap: cluster.spus[0]!.bootstrap });
  });
  after(async () => {
    await tide?.close();
    await cluster?.destroy();
    await stopAll();
  });

  it('refuses bad topics with Kafka errors and persists nothing', async () => {
    const admin = tide.admin();
    await admin.createTopic('kept', { partitions: 2 });
    // The SPU lists topics from the SC's pushes: wait for this one, so the list below is complete.
    await until(
      () => admin.listTopics(),
      (topics) => topics.some((topic) => topic.name === 'kept'),
    );
    for (const { name, options, error } of badRequests) {
      await assert.rejects(admin.createTopic(name, options), (thrown: unknown) => {
        assert.ok(thrown instanceof TideClientError, `${name}: ${String(thrown)}`);
        assert.equal(thrown.errorName, error, `${name}: ${thrown.message}`);
        return true;
      });
    }
    await assert.rejects(admin.alterConfigs('kept', { 'no.such.config': '1' }), (thrown: unknown) => {
      assert.ok(thrown instanceof TideClientError);
      assert.equal(thrown.errorName, 'INVALID_CONFIG');
      return true;
    });
    assert.deepEqual(
      (await admin.listTopics()).map((topic) => topic.name),
      ['kept'],
    );
    const status = await describeTopicStatus(cluster.spus[0]!.bootstrap, null);
    assert.deepEqual(
      status.topics.map((topic) => [topic.name, topic.configs]),
      [['kept', []]],
    );
    const stored = await readFile(join(cluster.dataDir, 'sc', 'metadata.json'), 'utf8');
    assert.match(stored, /"kept"/);
    for (const { name } of badRequests) assert.ok(!stored.includes(JSON.stringify(name)), `${name} stored`);
    assert.ok(!stored.includes('no.such.config'));
  });

  it('keeps a topic with more replicas than SPUs unplaced until enough SPUs join', async () => {
    const admin = tide.admin();
    await admin.createTopic('two-copies', { partitions: 2, replicationFactor: 2 });
    const waiting = await describeTopicStatus(cluster.spus[0]!.bootstrap, ['two-copies']);
    assert.equal(waiting.topics[0]?.errorCode, errorCodes.NONE);
    assert.equal(waiting.topics[0]?.status, 'insufficient-resources');
    assert.deepEqual(waiting.topics[0]?.partitions, []);

    await cluster.addSpu();
    const placed = await until(
      () => describeTopicStatus(cluster.spus[1]!.bootstrap, ['two-copies']),
      (answer) => answer.topics[0]?.status === 'provisioned',
    );
    assert.equal(placed?.topics[0]?.status, 'provisioned');
    const partitions = placed!.topics[0]!.partitions;
    assert.deepEqual(
      partitions.map((p) => [p.partition, [...p.replicas].sort()]),
      [
        [0, [1, 2]],
        [1, [1, 2]],
      ],
    );
    // Leaders balanced: one partition each.
    assert.deepEqual(partitions.map((p) => p.leader).sort(), [1, 2]);
  });
});
