// A real Tide cluster in a vitest suite: `npx vitest run` in a project that depends on
// @tidestream/tide. Any Kafka client can use `cluster.bootstrap`; Tide's own is `cluster.tide`.
import { Offset } from '@tidestream/tide';
import { startCluster, type TideTestCluster } from '@tidestream/tide/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';

let cluster: TideTestCluster;
beforeAll(async () => {
  cluster = await startCluster({ spus: 1 });
});
afterAll(() => cluster?.stop());

test('a record comes back as it was sent', async () => {
  await cluster.admin.createTopic('orders', { partitions: 1 });
  const producer = cluster.tide.producer('orders');
  await producer.send({ key: 'ada', value: 'hello' });
  await producer.close();
  const values: (string | undefined)[] = [];
  const consumer = cluster.tide.consumer('orders', { offset: Offset.beginning(), until: Offset.end() });
  for await (const record of consumer) values.push(record.value?.toString());
  expect(values).toEqual(['hello']);
});
