import type { Partition } from './partitions.ts';

/**
 * Produce requests to one partition are appended in the order they arrived, as Kafka does for a
 * connection's pipelined requests, although checking a compressed batch waits for a codec slot and
 * its decompression: each request takes a turn on arrival and submits its append only after every
 * earlier request to that partition has submitted (or given up on) its own. Without this a small
 * uncompressed request overtakes a compressed one sent before it, and a non-idempotent producer's
 * records are stored out of order.
 */
const tails = new WeakMap<Partition, Promise<void>>();

export interface AppendTurn {
  /** Resolves once every earlier produce to the partition has submitted its append. */
  readonly ready: Promise<void>;
  /** Passes the turn on; call once the append is submitted or refused, on every path. */
  release(): void;
}

export function takeAppendTurn(partition: Partition): AppendTurn {
  const ready = tails.get(partition) ?? Promise.resolve();
  let pass = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    pass = resolve;
  });
  tails.set(partition, done);
  // A request refused before its turn came must not let the next one overtake the one before it.
  return { ready, release: () => void ready.then(pass) };
}
