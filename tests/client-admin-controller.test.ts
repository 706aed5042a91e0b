import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TideClientError } from '../src/client/errors.ts';
import { Tide } from '../src/client/tide.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { until } from './helpers/cluster-kit.ts';

/**
 * Topic changes go through the SC. While an SPU has no SC to forward them to (the cluster is
 * starting, or the SC restarting) it answers NOT_CONTROLLER; the admin client tries again until its
 * timeout instead of failing the user's command at once.
 */

function isNotController(error: unknown): boolean {
  return error instanceof TideClientError && error.errorName === 'NOT_CONTROLLER';
}

describe('admin changes while the SC is away', () => {
  let cluster: TestCluster;
  let tide: Tide;

  before(async () => {
    cluster = await startCluster({ spus: 1 });
    tide = await Tide.connect({ bootstrap: cluster.bootstrap });
    await tide.admin().createTopic('before', { partitions: 1 });
  });
  after(async () => {
    await tide?.close();
    await cluster?.destroy();
    await stopAll();
  });

  it('a change made while the SC is down fails with NOT_CONTROLLER only after its timeout', async () => {
    await cluster.sc.stop('SIGKILL');
    const startedMs = performance.now();
    await assert.rejects(
      tide.admin().createTopic('too-early', { partitions: 1, timeoutMs: 1_500 }),
      isNotController,
    );
    const elapsedMs = performance.now() - startedMs;
    assert.ok(elapsedMs >= 500, `retried for ${Math.round(elapsedMs)} ms before giving up`);
  });

  it('changes made while the SC is down complete once it is back', { timeout: 60_000 }, async () => {
    const admin = tide.admin();
    const created = admin.createTopic('while-away', { partitions: 2, timeoutMs: 45_000 });
    const altered = admin.alterConfigs('before', { 'retention.ms': '3600000' });
    const grown = admin.addPartitions('before', 3);
    const outcomes = Promise.allSettled([created, altered, grown]);
    // They are still waiting: none has failed with NOT_CONTROLLER.
    const early = await Promise.race([
      outcomes,
      new Promise((resolve) => setTimeout(resolve, 1_000, 'waiting')),
    ]);
    assert.equal(early, 'waiting');
    await cluster.restartSc();
    const settled = await outcomes;
    assert.deepEqual(
      settled.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
      JSON.stringify(
        settled.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'ok')),
      ),
    );
    assert.equal((await created).partitions, 2);
    // The SPU learns the SC's changes from its pushes, a moment after the SC answered.
    const retention = await until(
      () => admin.describeConfigs('before', { keys: ['retention.ms'] }),
      (configs) => configs.find((entry) => entry.name === 'retention.ms')?.value === '3600000',
    );
    assert.equal(retention?.find((entry) => entry.name === 'retention.ms')?.value, '3600000');
    const topic = await until(
      () => admin.describeTopic('before'),
      (description) => description.partitions === 3,
    );
    assert.equal(topic?.partitions, 3);
  });
});
