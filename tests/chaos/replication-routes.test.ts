import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Tide } from '../../src/client/tide.ts';
import { parseReplicationRoutes } from '../../src/spu/main.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { until } from '../helpers/cluster-kit.ts';
import { ChaosCluster } from './chaos-cluster.ts';
import { clusterView } from './runner.ts';

/**
 * `tide spu --replication-routes`: followers fetch from each leader at the routed address. The
 * chaos cluster routes every SPU pair through a proxy; black-holing one SPU's routes must take it
 * out of the ISR (while clients still reach it), and healing them must bring it back.
 */

describe('replication routes', () => {
  it('parses ID=HOST:PORT lists and refuses anything else', () => {
    assert.deepEqual(
      [...parseReplicationRoutes('1=127.0.0.1:7001, 3=localhost:7003')],
      [
        [1, { host: '127.0.0.1', port: 7001 }],
        [3, { host: 'localhost', port: 7003 }],
      ],
    );
    assert.equal(parseReplicationRoutes('').size, 0);
    for (const bad of ['1', '1=', 'x=127.0.0.1:1', '1=127.0.0.1', '1=a:1=b', '-1=127.0.0.1:1', '1=h:0'])
      assert.throws(() => parseReplicationRoutes(bad), /--replication-routes/, bad);
  });
});

describe('replication through routed proxies', () => {
  const topic = 'chaos';
  let cluster: ChaosCluster;
  let tide: Tide;

  before(async () => {
    cluster = await ChaosCluster.start({
      spus: 3,
      scArgs: ['--spu-session-timeout-ms', '2000'],
      spuArgs: ['--replica-lag-time-max-ms', '1500'],
    });
    tide = await Tide.connect({ bootstrap: cluster.bootstrap });
    // The admin client waits out NOT_CONTROLLER while the SPUs are still registering with the SC.
    await tide.admin().createTopic(topic, {
      partitions: 1,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '2' },
    });
  });
  after(async () => {
    await tide?.close();
    await cluster?.destroy();
    await stopAll();
  });

  it('a cut follower leaves the ISR while writes go on, and rejoins once healed', {
    timeout: 60_000,
  }, async () => {
    const inSync = await until(
      () => clusterView(cluster),
      (view) => view?.[0]?.isr.length === 3,
      20_000,
    );
    const partition = inSync?.[0];
    assert.equal(partition?.isr.length, 3, 'every replica in sync at first');
    const follower = partition.replicas.find((id) => id !== partition.leaderId)!;
    const producer = tide.producer(topic, { acks: -1, lingerMs: 0 });
    try {
      await producer.send({ partition: 0, value: 'before' });
      cluster.setCut(follower, true);
      // The follower stops fetching; its leader drops it after replica.lag.time.max.ms.
      const shrunk = await until(
        async () => {
          await producer.send({ partition: 0, value: 'during' });
          return clusterView(cluster);
        },
        (view) => view?.[0]?.isr.includes(follower) === false,
        20_000,
      );
      assert.deepEqual(
        shrunk?.[0]?.isr.includes(follower),
        false,
        `SPU ${follower} left the ISR while its replication routes were cut`,
      );
      cluster.setCut(follower, false);
      const healed = await until(
        () => clusterView(cluster),
        (view) => view?.[0]?.isr.length === 3,
        20_000,
      );
      assert.equal(healed?.[0]?.isr.length, 3, `SPU ${follower} rejoined the ISR once healed`);
    } finally {
      await producer.close();
    }
  });
});
