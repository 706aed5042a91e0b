import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import { makeTempDir } from '../testing/processes.ts';
import { PartitionManager } from './partitions.ts';
import { StandaloneCluster } from './standalone.ts';
import { TopicStore } from './topic-store.ts';

const temps: Array<() => Promise<void>> = [];
after(async () => {
  for (const remove of temps) await remove();
});

async function openCluster(
  dataDir: string,
): Promise<{ cluster: StandaloneCluster; partitions: PartitionManager }> {
  const clock = new ManualClock();
  const partitions = await PartitionManager.open({ dataDir, clock, logger: silentLogger });
  const cluster = new StandaloneCluster({
    clusterId: 'test',
    self: { id: 1, host: '127.0.0.1', port: 9092, rack: null },
    store: await TopicStore.open(dataDir),
    partitions,
    clock,
    logger: silentLogger,
    defaults: { partitions: 1, replicationFactor: 1, partitionsPerTopicMax: 100 },
  });
  await cluster.openAll();
  return { cluster, partitions };
}

test('topics survive a restart and logs of deleted topics are removed at start', async () => {
  const temp = await makeTempDir();
  temps.push(temp.remove);
  const first = await openCluster(temp.path);
  const created = await first.cluster.createTopic(
    {
      name: 'orders',
      partitions: 2,
      replicationFactor: 1,
      assignments: new Map(),
      configs: { 'retention.ms': '1000' },
    },
    { validateOnly: false },
  );
  assert.equal(created.errorCode, 0);
  // A log no topic owns, as a crash between forgetting a topic and deleting its logs leaves behind.
  await first.partitions.open('ghost', 0, { configs: {}, leaderEpoch: 0 });
  await first.partitions.close();
  assert.ok((await readdir(temp.path)).includes('ghost-0'));

  const second = await openCluster(temp.path);
  try {
    const folders = await readdir(temp.path);
    assert.ok(!folders.includes('ghost-0'), `ghost-0 still present in ${folders.join(', ')}`);
    assert.ok(folders.includes('orders-0') && folders.includes('orders-1'));
    const topic = second.cluster.topic('orders');
    assert.equal(topic?.partitions.length, 2);
    assert.deepEqual(topic?.configs, { 'retention.ms': '1000' });
    assert.equal(second.partitions.get('orders', 1)?.log.config.retentionMs, 1000);
  } finally {
    await second.partitions.close();
  }
});
