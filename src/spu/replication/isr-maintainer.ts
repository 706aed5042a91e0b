import type { Logger } from '../../base/logger.ts';
import { errorCodes, errorName } from '../../protocol/messages/error-codes.ts';
import type { Partition, PartitionManager } from '../partitions.ts';

/**
 * The leader's side of ISR maintenance: every check, each partition this SPU leads with other
 * replicas compares its ISR with what the followers' fetches show (ReplicaSet.proposedIsr). A
 * difference goes to the SC as an ISR change fenced by leader epoch and partition epoch; the leader
 * applies it only when the SC accepts it (or when a LeaderAndIsr push brings it). While a shrink is
 * pending the leader still waits for the leaving follower, so every offset below the high watermark
 * is on every replica the SC might elect. One change per partition is in flight at a time.
 */

export const isrMaintainerDefaults = Object.freeze({
  replicaLagTimeMsMax: 10_000, // ms a follower may go without catching up before leaving the ISR
});

export interface IsrChange {
  readonly topic: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

/** The SC's answer to an ISR change: NONE with the recorded state, or an error code. */
export interface IsrChangeResult {
  readonly errorCode: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly number[];
}

/** Sends one ISR change to the SC (AlterPartition); rejects when the SC cannot be asked now. */
export type IsrChangeSender = (change: IsrChange) => Promise<IsrChangeResult>;

export class IsrMaintainer {
  readonly #partitions: PartitionManager;
  readonly #send: IsrChangeSender;
  readonly #nowMs: () => number;
  readonly #lagMsMax: number;
  readonly #logger: Logger;
  readonly #inFlight = new Set<Partition>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    partitions: PartitionManager;
    send: IsrChangeSender;
    nowMs: () => number;
    replicaLagTimeMsMax?: number;
    logger: Logger;
  }) {
    this.#partitions = options.partitions;
    this.#send = options.send;
    this.#nowMs = options.nowMs;
    this.#lagMsMax = options.replicaLagTimeMsMax ?? isrMaintainerDefaults.replicaLagTimeMsMax;
    this.#logger = options.logger;
  }

  /** Checks every quarter of the lag limit (at least every 2 s, at most every 50 ms). */
  start(): void {
    const intervalMs = Math.min(2000, Math.max(50, Math.floor(this.#lagMsMax / 4)));
    this.#timer ??= setInterval(() => this.check(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Proposes the ISR changes due now; resolves when their answers are applied. */
  check(): Promise<void> {
    const sent: Promise<void>[] = [];
    for (const partition of this.#partitions.list()) {
      if (!partition.leading || !partition.replicaSet.replicated || this.#inFlight.has(partition)) continue;
      const set = partition.replicaSet;
      const newIsr = set.proposedIsr(partition.log.highWatermark, this.#nowMs(), this.#lagMsMax);
      if (newIsr === undefined) continue;
      sent.push(this.#propose(partition, newIsr));
    }
    return Promise.all(sent).then(() => undefined);
  }

  async #propose(partition: Partition, newIsr: readonly number[]): Promise<void> {
    const change: IsrChange = {
      topic: partition.topic,
      partition: partition.index,
      leaderEpoch: partition.leaderEpoch,
      partitionEpoch: partition.replicaSet.partitionEpoch,
      newIsr,
    };
    const fields = { topic: change.topic, partition: change.partition, isr: newIsr };
    this.#inFlight.add(partition);
    partition.replicaSet.pendingIsr = newIsr;
    try {
      const result = await this.#send(change);
      if (result.errorCode !== errorCodes.NONE) {
        this.#logger.info('ISR change refused', { ...fields, error: errorName(result.errorCode) });
        return;
      }
      // The answer may come after a LeaderAndIsr moved the partition on: apply it only if not.
      const set = partition.replicaSet;
      if (!partition.leading || partition.leaderEpoch !== result.leaderEpoch) return;
      if (result.partitionEpoch <= set.partitionEpoch) return;
      set.isr = [...result.isr];
      set.partitionEpoch = result.partitionEpoch;
      this.#logger.info('ISR changed', { ...fields, partitionEpoch: result.partitionEpoch });
      partition.advanceHighWatermark();
    } catch (error) {
      this.#logger.debug('ISR change not sent', { ...fields, error });
    } finally {
      this.#inFlight.delete(partition);
      partition.replicaSet.pendingIsr = undefined;
    }
  }
}
