import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../base/atomic-file.ts';
import { TideError } from '../base/errors.ts';
import { crc32c } from '../protocol/crc32c.ts';
import { createAllocateProducerIdsRequest } from '../protocol/messages/allocate-producer-ids.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorName } from '../protocol/messages/error-codes.ts';
import type { ControllerLink } from './controller-link.ts';

/**
 * Where an SPU gets producer ids for InitProducerId. Ids come in blocks: in a cluster from the SC
 * (AllocateProducerIds over the controller link, so ids are unique across SPUs), on a standalone SPU
 * from a counter persisted in its data dir. Either way the block's end is durable before the first id
 * of it is handed out, so a restart never gives an id twice (the rest of an unfinished block is
 * skipped instead).
 */

export interface ProducerIdBlock {
  readonly start: bigint;
  readonly length: number;
}

export interface ProducerIdSource {
  /** A producer id never handed out before; rejects (retriable) when no block can be had now. */
  next(): Promise<bigint>;
}

export const producerIdErrorCodes = Object.freeze({
  /** No block could be obtained (SC unreachable or refusing); clients retry InitProducerId. */
  unavailable: 'PRODUCER_IDS_UNAVAILABLE',
  /** The standalone counter file is damaged; ids are refused rather than risk giving one twice. */
  corrupt: 'PRODUCER_IDS_CORRUPT',
});

export const localProducerIdDefaults = Object.freeze({
  blockIds: 1000, // ids reserved per write of the counter file
});

/** Hands out the ids of one block after another; concurrent callers share one block request. */
export class BlockProducerIds implements ProducerIdSource {
  readonly #fetchBlock: () => Promise<ProducerIdBlock>;
  #next = 0n;
  #end = 0n;
  #fetching: Promise<void> | undefined;

  constructor(fetchBlock: () => Promise<ProducerIdBlock>) {
    this.#fetchBlock = fetchBlock;
  }

  async next(): Promise<bigint> {
    while (this.#next >= this.#end) {
      this.#fetching ??= this.#refill().finally(() => {
        this.#fetching = undefined;
      });
      await this.#fetching;
    }
    const id = this.#next;
    this.#next += 1n;
    return id;
  }

  async #refill(): Promise<void> {
    const block = await this.#fetchBlock();
    if (block.length <= 0 || block.start < 0n)
      throw new TideError(producerIdErrorCodes.unavailable, `empty producer id block at ${block.start}`, {
        retriable: true,
      });
    this.#next = block.start;
    this.#end = block.start + BigInt(block.length);
  }
}

/** Blocks from the SC (AllocateProducerIds v0), for an SPU in a cluster. */
export function controllerProducerIds(link: ControllerLink, brokerId: number): ProducerIdSource {
  return new BlockProducerIds(async () => {
    let response: Awaited<ReturnType<typeof requestBlock>>;
    try {
      response = await requestBlock(link, brokerId);
    } catch (error) {
      throw new TideError(producerIdErrorCodes.unavailable, 'the SC did not answer AllocateProducerIds', {
        retriable: true,
        cause: error,
      });
    }
    if (response.errorCode !== 0)
      throw new TideError(
        producerIdErrorCodes.unavailable,
        `the SC refused a producer id block: ${errorName(response.errorCode)}`,
        { retriable: true },
      );
    return { start: response.producerIdStart, length: response.producerIdLen };
  });
}

function requestBlock(link: ControllerLink, brokerId: number) {
  return link.request(
    apiKeys.AllocateProducerIds,
    0,
    createAllocateProducerIdsRequest({ brokerId, brokerEpoch: link.brokerEpoch }),
  );
}

/**
 * `<data dir>/producer-ids` of a standalone SPU: the first id of the next block. Byte layout:
 *
 *   offset  size  field
 *        0     8  nextProducerId   int64, big-endian
 *        8     4  crc              CRC32C of bytes [0, 8)
 */
export const producerIdsFileName = 'producer-ids';

/** Blocks from a counter in the SPU's data dir, for a standalone SPU. */
export function localProducerIds(dataDir: string, options: { blockIds?: number } = {}): ProducerIdSource {
  const path = join(dataDir, producerIdsFileName);
  const blockIds = options.blockIds ?? localProducerIdDefaults.blockIds;
  return new BlockProducerIds(async () => {
    const start = await readCounter(path);
    const content = Buffer.alloc(12);
    content.writeBigInt64BE(start + BigInt(blockIds), 0);
    content.writeUInt32BE(crc32c(content.subarray(0, 8)), 8);
    await writeFileAtomic(path, content);
    return { start, length: blockIds };
  });
}

async function readCounter(path: string): Promise<bigint> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return 0n;
  }
  if (content.length !== 12 || content.readUInt32BE(8) !== crc32c(content.subarray(0, 8)))
    throw new TideError(
      producerIdErrorCodes.corrupt,
      `${path} is damaged; remove it only if no producer id was ever given out`,
    );
  return content.readBigInt64BE(0);
}
