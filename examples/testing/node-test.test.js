// A real Tide cluster in a node:test suite: `node --test examples/testing/node-test.test.js`
// (in a project that depends on @tidestream/tide). The `after` hook stops the cluster even when a
// test fails; a cluster left running when the process exits is removed then anyway.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Offset } from '@tidestream/tide';
import { startCluster } from '@tidestream/tide/testing';

let cluster;
before(async () => {
  cluster = await startCluster({ spus: 1 }); // one SC and one SPU on free ports, data in a temp folder
});
after(() => cluster?.stop());

test('a record comes back as it was sent', async () => {
  await cluster.admin.createTopic('orders', { partitions: 1 });
  const producer = cluster.tide.producer('orders');
  await producer.send({ key: 'ada', value: 'hello' });
  await producer.close();
  const values = [];
  const consumer = cluster.tide.consumer('orders', { offset: Offset.beginning(), until: Offset.end() });
  for await (const record of consumer) values.push(record.value?.toString());
  assert.deepEqual(values, ['hello']);
});
