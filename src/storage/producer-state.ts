import { TideError } from '../base/errors.ts';
import { batchHeader, batchLastOffset } from '../protocol/batch-header.ts';

/**
 * Idempotent-producer state of one partition: for each producer id, its current epoch, the last
 * `producerBatchesRetained` batches it appended (sequence range and offsets) and when it last
 * appended. The leader checks every batch that carries a producer id against it before assigning
 * offsets, so that a retried batch is answered with its original offsets instead of being appended
 * twice, and a gap or a stale epoch is refused. Followers and recovery feed the same state from the
 * batches they append or scan, so a new leader already knows every producer.
 *
 * Rules (the broker side of Kafka's idempotent producer), per producer id:
 * - epoch below the current one: INVALID_PRODUCER_EPOCH;
 * - epoch above the current one: a new session, whose first batch must have sequence 0;
 * - same epoch: a batch equal (first and last sequence) to one of the retained ones is a duplicate;
 *   otherwise its first sequence must follow the last one appended (wrapping after 2^31 - 1);
 * - an unknown producer (never seen, expired or evicted) is accepted at any sequence, as Kafka
 *   brokers since KIP-360 do: its state may have been removed with old segments or by expiry.
 *
 * Checks cost a few header reads per batch, never per record. Batches without a producer id
 * (producerId -1) are not looked at beyond that id.
 *
 * Changes are journaled until the log commits them (its write succeeded) or rolls them back (the
 * write failed, or the append was refused half way), so that the state never runs ahead of the log.
 */

export const producerStateDefaults = Object.freeze({
  /** ms without an append after which a producer's state is dropped (Kafka's producer.id.expiration.ms). */
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  /** producers remembered per partition; beyond it the least recently appending one is dropped. */
  producerIdsPerPartitionMax: 10_000,
});

export type ProducerStateConfig = { readonly [K in keyof typeof producerStateDefaults]: number };

/** Kafka clients keep at most 5 requests in flight per partition; that many batches are remembered. */
export const producerBatchesRetained = 5;

const sequenceMax = 0x7fffffff;
const noBatches: readonly ProducerBatch[] = [];

/** One appended batch of a producer. */
export interface ProducerBatch {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

/** What the partition remembers of one producer; replaced (never mutated) on every change. */
export interface ProducerEntry {
  readonly epoch: number;
  /** Oldest first, at most producerBatchesRetained. */
  readonly batches: readonly ProducerBatch[];
  /** Wall-clock ms of the last append, for expiry. */
  readonly lastAppendMs: number;
}

export const producerStateErrorCodes = Object.freeze({
  /** A gap in sequence numbers, or a new epoch not starting at 0 (OUT_OF_ORDER_SEQUENCE_NUMBER). */
  outOfOrderSequence: 'OUT_OF_ORDER_SEQUENCE',
  /** An epoch older than the producer's current one (INVALID_PRODUCER_EPOCH). */
  invalidProducerEpoch: 'INVALID_PRODUCER_EPOCH',
});

export type ProducerStateErrorCode = (typeof producerStateErrorCodes)[keyof typeof producerStateErrorCodes];

/** A batch refused by the producer-state check; nothing of its append is written. */
export class ProducerStateError extends TideError {
  override name = 'ProducerStateError';
  declare readonly code: ProducerStateErrorCode;
}

/** A retried append: every batch was appended before, at these offsets. */
export interface DuplicateAppend {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

/** True when the batch carries a producer id (an idempotent producer wrote it). */
export function hasProducerId(batch: Buffer): boolean {
  // Two int32 reads instead of a bigint: the common non-idempotent case allocates nothing.
  return (
    batch.readInt32BE(batchHeader.producerId) !== -1 || batch.readInt32BE(batchHeader.producerId + 4) !== -1
  );
}

function batchLastSequence(firstSequence: number, batch: Buffer): number {
  const last = firstSequence + batch.readInt32BE(batchHeader.lastOffsetDelta);
  return last > sequenceMax ? last - sequenceMax - 1 : last;
}

function nextSequence(sequence: number): number {
  return sequence === sequenceMax ? 0 : sequence + 1;
}

export class ProducerStateManager {
  readonly #config: ProducerStateConfig;
  readonly #producers = new Map<bigint, ProducerEntry>();
  /** Entries replaced since the last commit: [producerId, previous entry or undefined]. */
  readonly #journal: Array<readonly [bigint, ProducerEntry | undefined]> = [];

  constructor(config: Partial<ProducerStateConfig> = {}) {
    this.#config = { ...producerStateDefaults, ...config };
  }

  get size(): number {
    return this.#producers.size;
  }

  get config(): ProducerStateConfig {
    return this.#config;
  }

  /** The live entry of a producer, or undefined when unknown or expired at `nowMs`. */
  entry(producerId: bigint, nowMs: number): ProducerEntry | undefined {
    const entry = this.#producers.get(producerId);
    if (entry === undefined || nowMs - entry.lastAppendMs > this.#config.producerIdExpirationMs)
      return undefined;
    return entry;
  }

  entries(): IterableIterator<[bigint, ProducerEntry]> {
    return this.#producers.entries();
  }

  /**
   * Checks a leader append (offsets not assigned yet). Returns undefined when it may be appended,
   * the original offsets when every batch of it is a duplicate, and throws ProducerStateError when
   * it must be refused (including a mix of duplicates and new batches).
   */
  checkAppend(batches: readonly Buffer[], nowMs: number): DuplicateAppend | undefined {
    let duplicate: DuplicateAppend | undefined;
    let fresh = false;
    // Several batches of one producer in one append: later ones follow the earlier ones.
    let pending: Map<bigint, { epoch: number; lastSequence: number; duplicate: boolean }> | undefined;
    for (const batch of batches) {
      if (!hasProducerId(batch)) {
        fresh = true;
        continue;
      }
      const producerId = batch.readBigInt64BE(batchHeader.producerId);
      const epoch = batch.readInt16BE(batchHeader.producerEpoch);
      const firstSequence = batch.readInt32BE(batchHeader.baseSequence);
      const earlier = pending?.get(producerId);
      if (earlier !== undefined) checkFollows(producerId, earlier, epoch, firstSequence);
      const found =
        earlier === undefined || earlier.duplicate ? this.#checkBatch(producerId, batch, nowMs) : undefined;
      if (found !== undefined) {
        duplicate = {
          baseOffset: duplicate?.baseOffset ?? found.baseOffset,
          lastOffset: found.lastOffset,
        };
      } else fresh = true;
      if (batches.length > 1) {
        pending ??= new Map();
        const lastSequence = batchLastSequence(firstSequence, batch);
        pending.set(producerId, { epoch, lastSequence, duplicate: found !== undefined });
      }
    }
    if (duplicate !== undefined && fresh)
      throw new ProducerStateError(
        producerStateErrorCodes.outOfOrderSequence,
        'an append mixes batches appended before with new ones',
      );
    return duplicate;
  }

  /** The original batch when this one is a duplicate; throws when it is out of order or fenced. */
  #checkBatch(producerId: bigint, batch: Buffer, nowMs: number): ProducerBatch | undefined {
    const epoch = batch.readInt16BE(batchHeader.producerEpoch);
    const firstSequence = batch.readInt32BE(batchHeader.baseSequence);
    const entry = this.entry(producerId, nowMs);
    if (entry === undefined) return undefined;
    if (epoch < entry.epoch)
      throw new ProducerStateError(
        producerStateErrorCodes.invalidProducerEpoch,
        `producer ${producerId} epoch ${epoch} is older than its current epoch ${entry.epoch}`,
      );
    if (epoch > entry.epoch) {
      if (firstSequence !== 0)
        throw new ProducerStateError(
          producerStateErrorCodes.outOfOrderSequence,
          `producer ${producerId} starts epoch ${epoch} at sequence ${firstSequence}, expected 0`,
        );
      return undefined;
    }
    const lastSequence = batchLastSequence(firstSequence, batch);
    for (const retained of entry.batches)
      if (retained.firstSequence === firstSequence && retained.lastSequence === lastSequence) return retained;
    const last = entry.batches.at(-1);
    if (last !== undefined && firstSequence !== nextSequence(last.lastSequence))
      throw new ProducerStateError(
        producerStateErrorCodes.outOfOrderSequence,
        `producer ${producerId} sent sequence ${firstSequence} at epoch ${epoch}, expected ${nextSequence(last.lastSequence)}`,
      );
    return undefined;
  }

  /**
   * Records an appended batch (offsets set): as leader after the check, as follower, or when
   * rebuilding from the log. No check: the leader already made it, replicated data is authoritative.
   */
  update(batch: Buffer, nowMs: number): void {
    if (!hasProducerId(batch)) return;
    const producerId = batch.readBigInt64BE(batchHeader.producerId);
    const epoch = batch.readInt16BE(batchHeader.producerEpoch);
    const firstSequence = batch.readInt32BE(batchHeader.baseSequence);
    const previous = this.#producers.get(producerId);
    const appended: ProducerBatch = {
      firstSequence,
      lastSequence: batchLastSequence(firstSequence, batch),
      baseOffset: batch.readBigInt64BE(batchHeader.baseOffset),
      lastOffset: batchLastOffset(batch),
    };
    const kept = previous === undefined || previous.epoch !== epoch ? noBatches : previous.batches;
    const batches: ProducerBatch[] = [];
    for (let index = kept.length < producerBatchesRetained ? 0 : 1; index < kept.length; index++)
      batches.push(kept[index]!);
    batches.push(appended);
    this.#replace(producerId, { epoch, batches, lastAppendMs: nowMs });
    if (previous === undefined) this.#enforceBound(nowMs);
  }

  /** Sets a producer's entry (snapshot loading), journaled like any change. */
  restore(producerId: bigint, entry: ProducerEntry): void {
    this.#replace(producerId, entry);
  }

  #replace(producerId: bigint, entry: ProducerEntry | undefined): void {
    this.#journal.push([producerId, this.#producers.get(producerId)]);
    if (entry === undefined) this.#producers.delete(producerId);
    else this.#producers.set(producerId, entry);
  }

  /**
   * Drops expired producers, then the least recently appending one while beyond the bound. The scan
   * runs only when a new producer arrives at a full partition, so appends never reorder the map.
   */
  #enforceBound(nowMs: number): void {
    if (this.#producers.size <= this.#config.producerIdsPerPartitionMax) return;
    this.removeExpired(nowMs);
    while (this.#producers.size > this.#config.producerIdsPerPartitionMax) {
      let oldest: bigint | undefined;
      let oldestMs = Number.POSITIVE_INFINITY;
      for (const [producerId, entry] of this.#producers)
        if (entry.lastAppendMs < oldestMs) {
          oldest = producerId;
          oldestMs = entry.lastAppendMs;
        }
      this.#replace(oldest!, undefined);
    }
  }

  /** Forgets producers idle for longer than producerIdExpirationMs; returns how many. */
  removeExpired(nowMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.#producers)
      if (nowMs - entry.lastAppendMs > this.#config.producerIdExpirationMs) {
        this.#replace(producerId, undefined);
        removed += 1;
      }
    return removed;
  }

  /** A position in the journal to roll back to. */
  mark(): number {
    return this.#journal.length;
  }

  /** Undoes every change made since `mark`. */
  rollbackTo(mark: number): void {
    while (this.#journal.length > mark) {
      const [producerId, previous] = this.#journal.pop()!;
      this.#producers.delete(producerId);
      if (previous !== undefined) this.#producers.set(producerId, previous);
    }
  }

  /** Undoes every change since the last commit (the write that carried them failed). */
  rollback(): void {
    this.rollbackTo(0);
  }

  /** The changes so far are in the log: forget how to undo them. */
  commit(): void {
    this.#journal.length = 0;
  }

  /** Forgets everything (the log was emptied or is about to be rebuilt). */
  clear(): void {
    this.#producers.clear();
    this.#journal.length = 0;
  }
}

function checkFollows(
  producerId: bigint,
  earlier: { epoch: number; lastSequence: number },
  epoch: number,
  firstSequence: number,
): void {
  if (epoch === earlier.epoch && firstSequence === nextSequence(earlier.lastSequence)) return;
  throw new ProducerStateError(
    producerStateErrorCodes.outOfOrderSequence,
    `producer ${producerId} batches in one append are not consecutive`,
  );
}
