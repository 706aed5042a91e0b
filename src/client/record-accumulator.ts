import { type Clock, systemClock, type Timer } from '../base/clock.ts';
import { TideError } from '../base/errors.ts';
import { batchHeader, computeBatchCrc } from '../protocol/batch-header.ts';
import type { Codec } from '../protocol/compression/compression.ts';
import { encodeRecordBatch, type RecordInput } from '../protocol/record-batch.ts';
import { clientErrorCodes } from './errors.ts';

/**
 * The producer's per-partition batching. Each partition has at most one open batch that records are
 * appended to; it is sealed when the next record would take it past `batchBytes` or when `lingerMs`
 * has passed since its first record, and then waits in the partition's ready queue for the sender.
 * Sealed batches are encoded once and resent unchanged on retries.
 *
 * Memory is bounded by `bufferBytes`: every accepted record holds its estimated encoded size until its
 * batch completes (acknowledged or failed); `reserve` makes callers wait, first come first served, when
 * the budget is spent, and rejects after `sendTimeoutMs`.
 */

export interface Delivery {
  readonly resolve: (offset: bigint) => void;
  readonly reject: (error: Error) => void;
}

export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  /** Position of the batch among its partition's batches: retries go back in this order. */
  readonly sequence: number;
  readonly createdAtMs: number;
  readonly records: RecordInput[] = [];
  readonly deliveries: Delivery[] = [];
  estimatedBytes = batchOverheadBytes;
  /** The wire form, set when the batch is sealed. */
  encoded: Buffer | undefined;
  /** Sends that failed with a retriable error so far. */
  attempts = 0;
  /** Not resent before this monotonic time (retry backoff). */
  notBeforeMs = 0;
  /**
   * Idempotent producers: the batch's first sequence number, given at its first send (so sequences
   * follow send order) and kept for every resend of the same bytes; -1 while it has none.
   */
  baseSequence = -1;

  constructor(topic: string, partition: number, sequence: number, createdAtMs: number) {
    this.topic = topic;
    this.partition = partition;
    this.sequence = sequence;
    this.createdAtMs = createdAtMs;
  }

  /** Resolves every record with its offset, counted from the batch's base offset. */
  succeed(baseOffset: bigint): void {
    for (let index = 0; index < this.deliveries.length; index++) {
      this.deliveries[index]!.resolve(baseOffset < 0n ? -1n : baseOffset + BigInt(index));
    }
  }

  fail(error: Error): void {
    for (const delivery of this.deliveries) delivery.reject(error);
  }
}

/** One partition's batches, open and ready, and what the sender needs to keep them in order. */
export interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  open: ProducerBatch | undefined;
  lingerTimer: Timer | undefined;
  /** Sealed batches, oldest first; retried batches are put back by sequence. */
  readonly ready: ProducerBatch[];
  /** Batches sent and not yet answered. */
  inflight: number;
  /** Set after a retriable failure: one batch at a time until the retried ones are through. */
  recovering: boolean;
  nextSequence: number;
  /** Idempotent producers: the sequence number the next batch sent for the first time gets. */
  producerSequence: number;
  /** Idempotent producers: the sequence after the last acknowledged batch (of the current epoch). */
  ackedSequence: number;
}

/** Sequence numbers are int32 and wrap to 0 after 2^31 - 1, as the brokers expect. */
const sequenceLimit = 2 ** 31;

/** `sequence` advanced by `count`, wrapping like a broker does. */
export function addSequence(sequence: number, count: number): number {
  return (sequence + count) % sequenceLimit;
}

/**
 * Stamps an encoded batch with its producer id, epoch and first sequence. Those fields are covered
 * by the CRC, which is recomputed: one pass over the batch per first send, never per record.
 */
export function stampProducer(batch: Buffer, producerId: bigint, epoch: number, baseSequence: number): void {
  batch.writeBigInt64BE(producerId, batchHeader.producerId);
  batch.writeInt16BE(epoch, batchHeader.producerEpoch);
  batch.writeInt32BE(baseSequence, batchHeader.baseSequence);
  batch.writeUInt32BE(computeBatchCrc(batch), batchHeader.crc);
}

/** The v2 batch header plus the int32 length prefix Kafka counts in message sizes. */
const batchOverheadBytes = 61;

/** An upper bound of one record's encoded size (varints at their widest). */
export function estimateRecordBytes(record: RecordInput): number {
  let bytes = 36 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers ?? []) {
    bytes += 10 + Buffer.byteLength(header.key) + (header.value?.length ?? 0);
  }
  return bytes;
}

export interface AccumulatorOptions {
  readonly batchBytes: number;
  readonly lingerMs: number;
  readonly bufferBytes: number;
  readonly sendTimeoutMs: number;
  readonly codec: Codec;
  readonly monotonicMs: () => number;
  /** Where the linger and buffer-wait timers run (the system clock by default). */
  readonly clock?: Clock;
  /** A batch was sealed and waits for the sender. */
  readonly onReady: (queue: PartitionQueue) => void;
}

interface MemoryWaiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer: Timer | undefined;
}

export class RecordAccumulator {
  readonly #options: AccumulatorOptions;
  readonly #clock: Clock;
  readonly #queues = new Map<string, PartitionQueue>();
  readonly #memoryWaiters: MemoryWaiter[] = [];
  #bufferedBytes = 0;

  constructor(options: AccumulatorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  queues(): IterableIterator<PartitionQueue> {
    return this.#queues.values();
  }

  /** Takes `bytes` of the buffer budget now if it is free and nobody waits; false otherwise. */
  tryReserve(bytes: number): boolean {
    if (this.#memoryWaiters.length > 0 || this.#bufferedBytes + bytes > this.#options.bufferBytes)
      return false;
    this.#bufferedBytes += bytes;
    return true;
  }

  /** Waits (first come, first served) for `bytes` of the budget; rejects after sendTimeoutMs. */
  reserve(bytes: number): Promise<void> {
    if (bytes > this.#options.bufferBytes) {
      return Promise.reject(
        new TideError(
          clientErrorCodes.invalidArgument,
          `a record of ${bytes} bytes can never fit the producer's buffer of ${this.#options.bufferBytes} bytes`,
        ),
      );
    }
    if (this.tryReserve(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: MemoryWaiter = { bytes, resolve, reject, timer: undefined };
      waiter.timer = this.#clock.timeout(this.#options.sendTimeoutMs, () => {
        const index = this.#memoryWaiters.indexOf(waiter);
        if (index >= 0) this.#memoryWaiters.splice(index, 1);
        reject(
          new TideError(
            'BUFFER_FULL',
            `the producer's buffer stayed full for ${this.#options.sendTimeoutMs} ms (bufferBytes ${this.#options.bufferBytes})`,
            { retriable: true },
          ),
        );
        this.#grantWaiters();
      });
      this.#memoryWaiters.push(waiter);
    });
  }

  release(bytes: number): void {
    this.#bufferedBytes -= bytes;
    this.#grantWaiters();
  }

  #grantWaiters(): void {
    for (;;) {
      const head = this.#memoryWaiters[0];
      if (head === undefined || this.#bufferedBytes + head.bytes > this.#options.bufferBytes) return;
      this.#memoryWaiters.shift();
      head.timer?.cancel();
      this.#bufferedBytes += head.bytes;
      head.resolve();
    }
  }

  /** Rejects everyone waiting for buffer space (on close). */
  rejectWaiters(error: Error): void {
    for (const waiter of this.#memoryWaiters.splice(0)) {
      waiter.timer?.cancel();
      waiter.reject(error);
    }
  }

  queueFor(topic: string, partition: number): PartitionQueue {
    const id = `${partition}:${topic}`;
    let queue = this.#queues.get(id);
    if (queue === undefined) {
      queue = {
        topic,
        partition,
        open: undefined,
        lingerTimer: undefined,
        ready: [],
        inflight: 0,
        recovering: false,
        nextSequence: 0,
        producerSequence: 0,
        ackedSequence: 0,
      };
      this.#queues.set(id, queue);
    }
    return queue;
  }

  /** Appends a record whose memory is reserved; seals the open batch first if the record overflows it. */
  append(queue: PartitionQueue, record: RecordInput, bytes: number, delivery: Delivery): void {
    const open = queue.open;
    if (open !== undefined && open.estimatedBytes + bytes > this.#options.batchBytes) this.seal(queue);
    let batch = queue.open;
    if (batch === undefined) {
      batch = new ProducerBatch(
        queue.topic,
        queue.partition,
        queue.nextSequence++,
        this.#options.monotonicMs(),
      );
      queue.open = batch;
      this.#startLinger(queue);
    }
    batch.records.push(record);
    batch.deliveries.push(delivery);
    batch.estimatedBytes += bytes;
    if (batch.estimatedBytes >= this.#options.batchBytes) this.seal(queue);
  }

  #startLinger(queue: PartitionQueue): void {
    const expire = (): void => {
      queue.lingerTimer = undefined;
      this.seal(queue);
    };
    queue.lingerTimer = this.#clock.timeout(Math.max(0, this.#options.lingerMs), expire);
  }

  /** Closes the open batch of `queue` (if any), encodes it and hands it to the sender. */
  seal(queue: PartitionQueue): void {
    const batch = queue.open;
    if (batch === undefined) return;
    queue.open = undefined;
    queue.lingerTimer?.cancel();
    queue.lingerTimer = undefined;
    batch.encoded = encodeRecordBatch({ codec: this.#options.codec, records: batch.records });
    queue.ready.push(batch);
    this.#options.onReady(queue);
  }

  /** Seals every open batch (flush and close). */
  sealAll(): void {
    for (const queue of this.#queues.values()) this.seal(queue);
  }

  /** Puts a batch that will be retried back in its partition's ready queue, in sequence order. */
  requeue(queue: PartitionQueue, batch: ProducerBatch): void {
    let index = queue.ready.findIndex((other) => other.sequence > batch.sequence);
    if (index < 0) index = queue.ready.length;
    queue.ready.splice(index, 0, batch);
  }
}
