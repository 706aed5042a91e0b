import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { MetricsRegistry } from '../base/metrics.ts';
import { effectiveTopicConfig } from '../metadata/topic-config.ts';
import type { CleanupPolicy, LogConfig, TimestampType } from '../storage/config.ts';
import { LogManager } from '../storage/log-manager.ts';
import type { AppendResult, PartitionLog } from '../storage/partition-log.ts';
import { type ReplicaAssignment, ReplicaSet } from './replication/replica-set.ts';
import { StorageHealth } from './storage-health.ts';

/**
 * The partitions this SPU holds: each wraps its storage log with what the broker adds on top, the
 * leader epoch it writes under and the wake-ups that parked fetches wait on.
 */
export class Partition {
  readonly topic: string;
  readonly index: number;
  readonly log: PartitionLog;
  leaderEpoch: number;
  /**
   * Whether this SPU leads the partition and so serves clients' produce and fetch. A standalone SPU
   * leads everything; in a cluster the SC decides (LeaderAndIsr) and the other replicas follow.
   */
  leading = true;
  /**
   * The replicas and ISR the SC pushed, and (when leading) the followers' progress. A standalone
   * partition has no other replica: its replica set is empty and never holds the high watermark back.
   */
  readonly replicaSet: ReplicaSet;
  readonly #listeners = new Set<() => void>();

  constructor(topic: string, index: number, log: PartitionLog, leaderEpoch: number, selfId = -1) {
    this.topic = topic;
    this.index = index;
    this.log = log;
    this.leaderEpoch = leaderEpoch;
    this.replicaSet = new ReplicaSet(selfId);
  }

  /**
   * Appends producer batches as leader. Without other replicas the batches become visible to
   * consumers (high watermark) at once; with them, once every ISR member has fetched them.
   */
  async appendAsLeader(batches: readonly Buffer[]): Promise<AppendResult> {
    const result = await this.log.append(batches, { leaderEpoch: this.leaderEpoch });
    if (this.replicaSet.replicated) this.advanceHighWatermark();
    else this.log.setHighWatermark(result.logEndOffset);
    this.notifyData();
    return result;
  }

  /**
   * As leader, moves the high watermark up to the smallest log end over the ISR (never down), and
   * wakes parked fetches and acks=all produces when it moved.
   */
  advanceHighWatermark(): void {
    if (!this.leading) return;
    const log = this.log;
    const candidate = this.replicaSet.highWatermarkCandidate(log.logEndOffset);
    if (candidate <= log.highWatermark || candidate > log.logEndOffset) return;
    log.setHighWatermark(candidate);
    this.notifyData();
  }

  /** Takes the replicas and ISR of a LeaderAndIsr push; `nowMs` starts the followers' lag clocks. */
  assignReplicas(assignment: ReplicaAssignment, newLeadership: boolean, nowMs: number): void {
    this.replicaSet.assign(assignment, newLeadership, nowMs);
    if (!this.replicaSet.replicated) this.log.setHighWatermark(this.log.logEndOffset);
    this.advanceHighWatermark();
  }

  /**
   * Makes this SPU the partition's leader or a follower at `leaderEpoch`. Parked fetches wake up, so
   * that they answer under the new role instead of waiting out their time.
   */
  setRole(role: { leading: boolean; leaderEpoch: number }): void {
    this.leading = role.leading;
    this.leaderEpoch = role.leaderEpoch;
    this.notifyData();
  }

  /** Calls `listener` once, at the next append or high-watermark move; returns a cancel function. */
  onData(listener: () => void): () => void {
    const once = (): void => {
      this.#listeners.delete(once);
      listener();
    };
    this.#listeners.add(once);
    return () => this.#listeners.delete(once);
  }

  /** Resolves at the next change to this partition's data, or after `timeoutMs`, whichever is first. */
  nextData(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        cancel();
        resolve();
      }, timeoutMs);
      const cancel = this.onData(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  notifyData(): void {
    if (this.#listeners.size === 0) return;
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Kafka topic configs (strings) → the storage engine's settings. */
export function logConfigFromTopic(overrides: Readonly<Record<string, string>>): Partial<LogConfig> {
  const config = effectiveTopicConfig(overrides);
  const number = (name: string): number => {
    const value = Number(config[name]);
    return Number.isSafeInteger(value) ? value : Number.MAX_SAFE_INTEGER;
  };
  return {
    retentionMs: number('retention.ms'),
    retentionBytes: number('retention.bytes'),
    segmentBytes: number('segment.bytes'),
    segmentMs: number('segment.ms'),
    cleanupPolicy: config['cleanup.policy']!.replace(/\s/g, '').split(',').sort().join(',') as CleanupPolicy,
    deleteRetentionMs: number('delete.retention.ms'),
    flushMessages: number('flush.messages'),
    flushMs: number('flush.ms'),
    batchBytesMax: Math.max(61, number('max.message.bytes')),
    timestampType: config['message.timestamp.type'] as TimestampType,
  };
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class PartitionManager {
  readonly logs: LogManager;
  readonly #partitions = new Map<string, Partition>();
  readonly #logger: Logger;

  private constructor(logs: LogManager, logger: Logger) {
    this.logs = logs;
    this.#logger = logger;
  }

  static async open(options: {
    dataDir: string;
    clock: Clock;
    logger: Logger;
    metrics?: MetricsRegistry;
  }): Promise<PartitionManager> {
    const logger = options.logger.child({ component: 'storage' });
    const health = new StorageHealth({ logger, ...(options.metrics ? { metrics: options.metrics } : {}) });
    const logs = await LogManager.open({
      dataDir: options.dataDir,
      clock: options.clock,
      onEvent: (log, event) => health.onEvent(log, event),
    });
    logs.start();
    const manager = new PartitionManager(logs, logger);
    options.metrics?.gauge(
      'tide_damaged_partitions',
      'partitions whose reads met damaged stored data since the SPU started',
      {},
      () => manager.damagedPartitions().length,
    );
    return manager;
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.#partitions.get(key(topic, partition));
  }

  list(): Partition[] {
    return [...this.#partitions.values()];
  }

  /** `<topic>-<partition>` of every partition whose reads met damaged data (for /health). */
  damagedPartitions(): string[] {
    return this.list()
      .filter((partition) => partition.log.damage.length > 0)
      .map((partition) => `${partition.topic}-${partition.index}`);
  }

  /** Opens (creating if needed) a partition's log with the topic's configs. */
  async open(
    topic: string,
    partition: number,
    options: { configs: Readonly<Record<string, string>>; leaderEpoch: number; selfId?: number },
  ): Promise<Partition> {
    const existing = this.get(topic, partition);
    if (existing !== undefined) return existing;
    const log = await this.logs.openLog(topic, partition, { config: logConfigFromTopic(options.configs) });
    // The checkpointed high watermark may lag the log after a crash (it is written only now and then).
    // As in appendAsLeader, a standalone partition is its only replica, so all it holds is committed.
    // In a cluster that holds only without other replicas, which assignReplicas learns.
    if (options.selfId === undefined) log.setHighWatermark(log.logEndOffset);
    const opened = new Partition(topic, partition, log, options.leaderEpoch, options.selfId);
    this.#partitions.set(key(topic, partition), opened);
    return opened;
  }

  /** Applies changed topic configs to every open partition of the topic. */
  applyConfigs(topic: string, configs: Readonly<Record<string, string>>): void {
    const logConfig = logConfigFromTopic(configs);
    for (const partition of this.#partitions.values()) {
      if (partition.topic === topic) partition.log.updateConfig(logConfig);
    }
  }

  /** Deletes a partition's log and data. */
  async remove(topic: string, partition: number): Promise<void> {
    const opened = this.get(topic, partition);
    this.#partitions.delete(key(topic, partition));
    opened?.notifyData();
    await this.logs.deleteLog(topic, partition);
    this.#logger.info('partition removed', { topic, partition });
  }

  async close(): Promise<void> {
    for (const partition of this.#partitions.values()) partition.notifyData();
    await this.logs.close();
  }
}
