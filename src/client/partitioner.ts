/**
 * Choosing a partition for a record. Keyed records go where the Java client puts them: murmur2 of the
 * key bytes (seed 0x9747b28c), made positive by clearing the sign bit, modulo the partition count, so
 * a Tide producer and a Java (or librdkafka `murmur2_random`) producer agree on where each key lives.
 * Keyless records stick to one partition until a batch for it is sealed, then move to another, so they
 * form full batches instead of one tiny batch per partition.
 */

/** What a partitioner sees of one record. */
export interface PartitionRequest {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly partitionCount: number;
}

export interface Partitioner {
  /** A partition in `[0, partitionCount)`. */
  partition(request: PartitionRequest): number;
  /** Called when the producer seals a batch for `partition`, so sticky choices can move on. */
  onBatchSealed?(topic: string, partition: number): void;
}

const murmurSeed = 0x9747b28c;
const murmurMultiplier = 0x5bd1e995;

/** Murmur2 (32-bit) exactly as Kafka's Java client computes it; returns a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let hash = (murmurSeed ^ length) | 0;
  const wholeWords = length >>> 2;
  for (let word = 0; word < wholeWords; word++) {
    const at = word << 2;
    let k = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
    k = Math.imul(k, murmurMultiplier);
    k ^= k >>> 24;
    k = Math.imul(k, murmurMultiplier);
    hash = Math.imul(hash, murmurMultiplier) ^ k;
  }
  // The last one to three bytes mix in from the highest down, then one more multiply.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) hash ^= data[tail + 2]! << 16;
  if (rest >= 2) hash ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    hash ^= data[tail]!;
    hash = Math.imul(hash, murmurMultiplier);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, murmurMultiplier);
  hash ^= hash >>> 15;
  return hash | 0;
}

/** The Java client's `toPositive`: clears the sign bit (not `Math.abs`, which differs for -2^31). */
export function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/** The partition the Java client's default partitioner gives `key`. */
export function keyPartition(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/**
 * The default partitioner: murmur2 for keys, sticky-per-batch for keyless records. `random` is a seam
 * for tests (defaults to Math.random).
 */
export class DefaultPartitioner implements Partitioner {
  readonly #sticky = new Map<string, number>();
  readonly #random: () => number;

  constructor(options: { random?: () => number } = {}) {
    this.#random = options.random ?? Math.random;
  }

  partition(request: PartitionRequest): number {
    if (request.key !== null) return keyPartition(request.key, request.partitionCount);
    const current = this.#sticky.get(request.topic);
    if (current !== undefined && current < request.partitionCount) return current;
    const chosen = Math.floor(this.#random() * request.partitionCount) % request.partitionCount;
    this.#sticky.set(request.topic, chosen);
    return chosen;
  }

  onBatchSealed(topic: string, partition: number): void {
    // Only the sticky partition's own batch moves the choice on; keyed batches leave it alone.
    if (this.#sticky.get(topic) === partition) this.#sticky.delete(topic);
  }
}

/** Round-robin over partitions for every record, keyed or not (for spreading load evenly). */
export class RoundRobinPartitioner implements Partitioner {
  readonly #next = new Map<string, number>();

  partition(request: PartitionRequest): number {
    const next = this.#next.get(request.topic) ?? 0;
    this.#next.set(request.topic, (next + 1) % request.partitionCount);
    return next % request.partitionCount;
  }
}
