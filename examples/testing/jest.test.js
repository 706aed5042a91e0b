// A real Tide cluster in a jest suite. Tide is an ES module, which jest loads with Node's VM
// modules: `NODE_OPTIONS=--experimental-vm-modules npx jest` in a project with "type": "module"
// that depends on @tidestream/tide (and jest, @jest/globals).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { Offset } from '@tidestream/tide';
import { startCluster } from '@tidestream/tide/testing';

let cluster;
beforeAll(async () => {
  cluster = await startCluster({ spus: 1 });
});
afterAll(() => cluster?.stop());

test('a record comes back as it was sent', async () => {
  await cluster.admin.createTopic('orders', { partitions: 1 });
  const producer = cluster.tide.producer('orders');
  await producer.send({ key: 'ada', value: 'hello' });
  await producer.close();
  const values = [];
  const consumer = cluster.tide.consumer('orders', { offset: Offset.beginning(), until: Offset.end() });
  for await (const record of consumer) values.push(record.value?.toString());
  expect(values).toEqual(['hello']);
});
