/**
 * A topic is usable the moment CreateTopics answers, on every SPU: the SC pushes a new topic to the
 * SPUs one after another, so a client that asks a lagging SPU first is told LEADER_NOT_AVAILABLE,
 * and the consumer and producer must wait that out instead of failing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Offset } from '../src/client/offset.ts';
import { Tide } from '../src/client/tide.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';

after(stopAll);

describe('a topic used right after it is created', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({ spus: 3 });
  });

  after(async () => {
    await cluster?.stop();
    await cluster?.destroy();
  });

  for (const round of [1, 2, 3]) {
    it(`a consumer started at once reads every record (round ${round})`, async () => {
      const tide = await Tide.connect({ bootstrap: cluster.bootstrap });
      const topic = `fresh-${round}`;
      const stop = new AbortController();
      try {
        await tide.admin().createTopic(topic, { partitions: 2, replicationFactor: 3 });
        const consumer = tide.consumer(topic, {
          offset: Offset.beginning(),
          signal: stop.signal,
          maxWaitMs: 100,
        });
        let received = 0;
        const reading = (async () => {
          for await (const batch of consumer.batches()) received += batch.records.length;
        })();
        const producer = tide.producer(topic, { acks: 'all', lingerMs: 1 });
        for (let index = 0; index < 100; index++) {
          await producer.send({ value: Buffer.from(`v${index}`), partition: index % 2 });
        }
        await producer.close();
        const deadline = Date.now() + 30_000;
        while (received < 100 && Date.now() < deadline) {
          await Promise.race([reading, delay(50)]);
        }
        stop.abort();
        await reading;
        assert.equal(received, 100);
      } finally {
        stop.abort();
        await tide.close();
      }
    });
  }
});
