import { TideError } from '../base/errors.ts';
import type { Logger } from '../base/logger.ts';
import {
  type AllocateProducerIdsRequest,
  type AllocateProducerIdsResponse,
  createAllocateProducerIdsResponse,
} from '../protocol/messages/allocate-producer-ids.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import type { MetadataStore } from './metadata-store.ts';

/**
 * Producer ids for idempotent producers, unique across the cluster: the SC hands them to SPUs in
 * blocks (AllocateProducerIds, key 67), and each SPU gives them to its clients one InitProducerId at
 * a time. The start of the next block is persisted in the metadata store (kind `cluster`, key
 * `producer-ids`, value { nextProducerId: decimal string }) before a block is answered, so no id is
 * handed out twice, across SC restarts too; ids of a block an SPU did not use up are never reused.
 */

export const producerIdDefaults = Object.freeze({
  blockIds: 1000, // ids per block given to an SPU
});

export const producerIdsKey = 'producer-ids';

/** Producer ids are int64 in the protocol; a block must end below this. */
const producerIdLimit = 2n ** 63n - 1n;

interface ProducerIdsRecord {
  /** Decimal: JSON numbers cannot carry every int64. */
  readonly nextProducerId: string;
}

export interface ProducerIdBlock {
  readonly start: bigint;
  readonly length: number;
}

export class ProducerIdAllocator {
  readonly #store: MetadataStore;
  readonly #blockIds: number;
  /** Allocations run one at a time: each reads and raises the persisted counter. */
  #allocating: Promise<unknown> = Promise.resolve();

  constructor(store: MetadataStore, options: { blockIds?: number } = {}) {
    this.#store = store;
    this.#blockIds = options.blockIds ?? producerIdDefaults.blockIds;
  }

  /** The next block; rejects when the store cannot persist it (nothing is handed out then). */
  allocate(): Promise<ProducerIdBlock> {
    const next = this.#allocating.catch(() => undefined).then(() => this.#allocate());
    this.#allocating = next;
    return next;
  }

  async #allocate(): Promise<ProducerIdBlock> {
    const stored = this.#store.get<ProducerIdsRecord>('cluster', producerIdsKey);
    const start = stored === undefined ? 0n : BigInt(stored.value.nextProducerId);
    const end = start + BigInt(this.#blockIds);
    if (end > producerIdLimit) throw new TideError('PRODUCER_IDS_EXHAUSTED', 'producer ids are exhausted');
    const value: ProducerIdsRecord = { nextProducerId: end.toString() };
    await this.#store.put('cluster', producerIdsKey, value, stored?.revision ?? 0);
    return { start, length: this.#blockIds };
  }
}

/** The SC's AllocateProducerIds handler: a block for a registered SPU with its current epoch. */
export function allocateProducerIdsHandler(options: {
  allocator: ProducerIdAllocator;
  isCurrent: (spuId: number, brokerEpoch: number) => boolean;
  logger?: Logger;
}): (request: AllocateProducerIdsRequest) => Promise<AllocateProducerIdsResponse> {
  return async (request) => {
    if (!options.isCurrent(request.brokerId, Number(request.brokerEpoch)))
      return createAllocateProducerIdsResponse({
        errorCode: errorCodes.STALE_BROKER_EPOCH,
        producerIdStart: -1n,
        producerIdLen: 0,
      });
    try {
      const block = await options.allocator.allocate();
      return createAllocateProducerIdsResponse({ producerIdStart: block.start, producerIdLen: block.length });
    } catch (error) {
      options.logger?.error('producer id block not allocated', { spu: request.brokerId, error });
      return createAllocateProducerIdsResponse({
        errorCode: errorCodes.UNKNOWN_SERVER_ERROR,
        producerIdStart: -1n,
        producerIdLen: 0,
      });
    }
  };
}
