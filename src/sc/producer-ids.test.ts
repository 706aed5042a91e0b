import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAllocateProducerIdsRequest } from '../protocol/messages/allocate-producer-ids.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { makeTempDir } from '../testing/processes.ts';
import { LocalMetadataStore } from './metadata-store.ts';
import { allocateProducerIdsHandler, ProducerIdAllocator } from './producer-ids.ts';

test('producer id blocks never overlap, also across SC restarts', async () => {
  const dir = await makeTempDir('tide-sc-producer-ids-');
  try {
    let allocator = new ProducerIdAllocator(await LocalMetadataStore.open(dir.path), { blockIds: 10 });
    const blocks = await Promise.all([allocator.allocate(), allocator.allocate()]);
    allocator = new ProducerIdAllocator(await LocalMetadataStore.open(dir.path), { blockIds: 10 });
    blocks.push(await allocator.allocate());
    assert.deepEqual(
      blocks.map((block) => [block.start, block.length]),
      [
        [0n, 10],
        [10n, 10],
        [20n, 10],
      ],
    );
  } finally {
    await dir.remove();
  }
});

test('only a registered SPU with its current epoch gets a block', async () => {
  const dir = await makeTempDir('tide-sc-producer-ids-');
  try {
    const handler = allocateProducerIdsHandler({
      allocator: new ProducerIdAllocator(await LocalMetadataStore.open(dir.path)),
      isCurrent: (spuId, brokerEpoch) => spuId === 1 && brokerEpoch === 7,
    });
    const stale = await handler(createAllocateProducerIdsRequest({ brokerId: 1, brokerEpoch: 6n }));
    assert.equal(stale.errorCode, errorCodes.STALE_BROKER_EPOCH);
    const granted = await handler(createAllocateProducerIdsRequest({ brokerId: 1, brokerEpoch: 7n }));
    assert.deepEqual([granted.errorCode, granted.producerIdStart, granted.producerIdLen], [0, 0n, 1000]);
  } finally {
    await dir.remove();
  }
});
