import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placementOrder, placeReplicas } from './placement.ts';

const threeSpus = [1, 2, 3].map((id) => ({ id, rack: null }));

function count(values: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

test('leaders are balanced and replicas of a partition are distinct SPUs', () => {
  const placed = placeReplicas({
    topic: 'orders',
    firstPartition: 0,
    partitions: 12,
    replicationFactor: 3,
    spus: threeSpus,
  });
  assert.ok(placed !== undefined);
  assert.deepEqual([...count(placed.map((replicas) => replicas[0]!)).values()], [4, 4, 4]);
  for (const replicas of placed) assert.equal(new Set(replicas).size, 3);
});

test('placement is deterministic and refuses too few SPUs', () => {
  const request = {
    topic: 'events',
    firstPartition: 0,
    partitions: 5,
    replicationFactor: 2,
    spus: threeSpus,
  };
  assert.deepEqual(placeReplicas(request), placeReplicas({ ...request, spus: [...threeSpus].reverse() }));
  assert.equal(placeReplicas({ ...request, replicationFactor: 4 }), undefined);
  assert.equal(placeReplicas({ ...request, replicationFactor: 0 }), undefined);
  // Added partitions continue where the first ones stopped.
  const all = placeReplicas({ ...request, partitions: 8 })!;
  assert.deepEqual(placeReplicas({ ...request, firstPartition: 5, partitions: 3 }), all.slice(5));
});

test('with racks, each partition spans different racks', () => {
  const spus = [
    { id: 1, rack: 'a' },
    { id: 2, rack: 'a' },
    { id: 3, rack: 'b' },
    { id: 4, rack: 'b' },
  ];
  assert.deepEqual(placementOrder(spus), [1, 3, 2, 4]);
  const rackOf = new Map(spus.map((spu) => [spu.id, spu.rack]));
  const placed = placeReplicas({ topic: 't', firstPartition: 0, partitions: 8, replicationFactor: 2, spus })!;
  for (const replicas of placed) assert.notEqual(rackOf.get(replicas[0]!), rackOf.get(replicas[1]!));
});
