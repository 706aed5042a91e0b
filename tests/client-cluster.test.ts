/**
 * The client's cluster view against real SPU processes: bootstrap, metadata cache and refresh, one
 * shared connection per SPU, reconnect after the SPU restarts on the same port, and clean failures
 * (unknown topic, unreachable bootstrap, closed client).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TideError } from '../src/base/errors.ts';
import { ClusterClient, parseAddress } from '../src/client/cluster-client.ts';
import { TideClientError } from '../src/client/errors.ts';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import {
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../src/protocol/messages/create-topics.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { stablePort } from '../src/testing/ports.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';

after(stopAll);

async function createTopic(client: ClusterClient, name: string, partitions: number): Promise<void> {
  const response = await client.callAny(
    apiKeys.CreateTopics,
    createCreateTopicsRequest({
      topics: [
        createCreateTopicsRequestCreatableTopic({ name, numPartitions: partitions, replicationFactor: 1 }),
      ],
      timeoutMs: 10_000,
    }),
  );
  assert.equal(response.topics[0]?.errorCode, errorCodes.NONE);
}

describe('ClusterClient', () => {
  let spu: TestSpu;
  let client: ClusterClient;

  before(async () => {
    spu = await startSpu({ args: ['--listen', `127.0.0.1:${await stablePort()}`] }); // restarted on its port below
    client = await ClusterClient.connect({ bootstrap: [spu.bootstrap], reconnectBackoffMaxMs: 200 });
  });

  after(async () => {
    await client?.close();
    await spu?.destroy();
  });

  it('bootstraps and lists the SPU', () => {
    const brokers = client.brokers();
    assert.equal(brokers.length, 1);
    assert.equal(brokers[0]?.port, spu.port);
    assert.equal(client.clusterId, 'tide-local');
  });

  it('throws UNKNOWN_TOPIC_OR_PARTITION for a missing topic', async () => {
    await assert.rejects(client.topicMetadata('no-such-topic'), (error: unknown) => {
      assert.ok(error instanceof TideClientError);
      assert.equal(error.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
      assert.equal(error.errorCode, 3);
      assert.equal(error.retriable, true);
      assert.match(error.message, /no-such-topic/);
      return true;
    });
  });

  it('caches topic metadata and refreshes it on request', async () => {
    await createTopic(client, 'cached', 3);
    const first = await client.topicMetadata('cached');
    assert.deepEqual(
      first.partitions.map((p) => [p.partition, p.leaderId, p.replicas, p.isr]),
      [0, 1, 2].map((p) => [p, brokerId(), [brokerId()], [brokerId()]]),
    );
    assert.equal(await client.topicMetadata('cached'), first);
    const refreshed = await client.topicMetadata('cached', { refresh: true });
    assert.notEqual(refreshed, first);
    assert.deepEqual(refreshed, first);
    client.invalidate('cached');
    assert.equal(
      client.cachedTopics().some((t) => t.name === 'cached'),
      false,
    );
    await client.refreshMetadata(null);
    assert.ok(client.cachedTopics().some((t) => t.name === 'cached'));
  });

  it('shares one connection per SPU', async () => {
    const [a, b] = await Promise.all([client.connectionTo(brokerId()), client.connectionTo(brokerId())]);
    assert.equal(a, b);
    const { connection, leaderEpoch } = await client.leaderConnection('cached', 1);
    assert.equal(connection, a);
    assert.ok(leaderEpoch >= 0);
    assert.equal(await client.anyConnection(), a);
  });

  it('rejects a partition the topic does not have', async () => {
    await assert.rejects(client.leaderConnection('cached', 7), /has no partition 7/);
  });

  it('fails at once, retriably, for an SPU the metadata does not list', async () => {
    // A consumer or producer holding a leader id from before a failover must re-route, not give up.
    await assert.rejects(client.connectionTo(999), (error: unknown) => {
      assert.ok(error instanceof TideError);
      assert.equal(error.code, 'UNKNOWN_BROKER');
      assert.equal(error.retriable, true);
      return true;
    });
  });

  it('reconnects after the SPU restarts on the same port', async () => {
    const before = await client.connectionTo(brokerId());
    await spu.stop('SIGTERM');
    await before.closed;
    const reconnecting = client.connectionTo(brokerId());
    const again = await startSpu({ dataDir: spu.dataDir, args: ['--listen', `127.0.0.1:${spu.port}`] });
    try {
      const after = await reconnecting;
      assert.notEqual(after, before);
      assert.equal(after.isClosed, false);
      const metadata = await client.topicMetadata('cached', { refresh: true });
      assert.equal(metadata.partitions.length, 3);
    } finally {
      await again.stop('SIGKILL');
    }
  });

  function brokerId(): number {
    return client.brokers()[0]!.id;
  }
});

describe('ClusterClient failures', () => {
  it('tries the next bootstrap address when one is unreachable', async () => {
    const spu = await startSpu();
    const unreachable = await startSpu();
    await unreachable.destroy();
    try {
      const client = await ClusterClient.connect({ bootstrap: [unreachable.bootstrap, spu.bootstrap] });
      assert.equal(client.brokers()[0]?.port, spu.port);
      await client.close();
      await assert.rejects(client.topicMetadata('x'), { code: 'CLIENT_CLOSED' });
      await assert.rejects(client.anyConnection(), { code: 'CLIENT_CLOSED' });
    } finally {
      await spu.destroy();
    }
  });

  it('gives up on unreachable bootstrap addresses after reconnectTimeoutMs', async () => {
    const gone = await startSpu();
    await gone.destroy();
    await assert.rejects(
      ClusterClient.connect({ bootstrap: [gone.bootstrap], reconnectTimeoutMs: 300 }),
      (error: unknown) => {
        assert.ok(error instanceof TideError);
        assert.equal(error.code, 'NO_BROKER_AVAILABLE');
        assert.match(error.message, new RegExp(`cannot connect to ${gone.bootstrap}`));
        return true;
      },
    );
  });

  it('stops retrying when the signal aborts', async () => {
    const gone = await startSpu();
    await gone.destroy();
    const controller = new AbortController();
    const connecting = ClusterClient.connect({ bootstrap: [gone.bootstrap], signal: controller.signal });
    controller.abort();
    await assert.rejects(connecting, { code: 'CLIENT_CLOSED' });
  });

  it('rejects malformed addresses', () => {
    assert.deepEqual(parseAddress('[::1]:9092'), { host: '::1', port: 9092 });
    assert.deepEqual(parseAddress('localhost:1'), { host: 'localhost', port: 1 });
    for (const bad of ['localhost', ':9092', 'host:0', 'host:70000', 'a b:1']) {
      assert.throws(() => parseAddress(bad), { code: 'INVALID_ARGUMENT' }, bad);
    }
  });
});
