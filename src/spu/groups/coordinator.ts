import type { Clock } from '../../base/clock.ts';
import type { Logger } from '../../base/logger.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ClusterView, TopicAdmin } from '../cluster.ts';
import type { Partition, PartitionManager } from '../partitions.ts';
import { Group } from './group.ts';
import { type GroupSettings, groupSettingsDefaults, groupStates } from './group-types.ts';
import { appendOffsetsRecords, type OffsetsRecord, readOffsetsPartition } from './offsets-log.ts';
import { encodeGroupValue, encodeKey } from './records.ts';

/**
 * The group coordinator of one SPU. Groups are spread over the partitions of `__consumer_offsets`
 * (partition = Java String.hashCode(groupId) & 0x7fffffff mod partition count, as Kafka does, so any
 * client or tool computes the same); the leader of a group's partition coordinates it. When this SPU
 * becomes a partition's leader it replays the partition to rebuild that partition's groups (a
 * "shard"); while it does, requests get COORDINATOR_LOAD_IN_PROGRESS. When leadership moves away,
 * the shard is dropped and waiting members are told NOT_COORDINATOR, so they find the new one.
 */

export const offsetsTopicName = '__consumer_offsets';

export interface CoordinatorSettings extends GroupSettings {
  readonly offsetsTopicPartitions: number; // partitions of __consumer_offsets when created
  readonly offsetsTopicReplicationFactorMax: number; // replicas (min with the SPU count)
  readonly offsetsRetentionMs: number; // ms (offsets.retention.minutes)
  readonly offsetsRetentionCheckIntervalMs: number; // ms between expiry sweeps
  readonly offsetMetadataBytesMax: number; // bytes (offset.metadata.max.bytes)
  readonly commitTimeoutMs: number; // ms a write may wait for replication (offsets.commit.timeout.ms)
  readonly groupsMax: number; // groups with members (or joining) one SPU coordinates
  readonly emptyGroupsMax: number; // groups without members, holding only offsets, one SPU coordinates
  readonly tickIntervalMs: number; // ms between leadership checks and offsets retention checks
}

export const coordinatorDefaults: CoordinatorSettings = Object.freeze({
  ...groupSettingsDefaults,
  offsetsTopicPartitions: 50, // partitions
  offsetsTopicReplicationFactorMax: 3, // replicas
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000, // ms: 7 days
  offsetsRetentionCheckIntervalMs: 600_000, // ms
  offsetMetadataBytesMax: 4096, // bytes
  commitTimeoutMs: 5_000, // ms
  groupsMax: 10_000, // groups
  // groups: a bound of their own, so that commits for made-up group ids (which need no member and
  // stay for the offsets retention) cannot lock real consumer groups out; one holding a few offsets
  // costs about a kilobyte, so both bounds together stay in tens of MiB.
  emptyGroupsMax: 20_000,
  tickIntervalMs: 1_000, // ms: groups keep their own deadlines; this only follows leadership
});

/** The groups of one offsets partition this SPU leads. */
export interface Shard {
  readonly index: number;
  readonly partition: Partition;
  readonly leaderEpoch: number;
  loaded: boolean;
  readonly groups: Map<string, Group>;
}

/** Java's String.hashCode over UTF-16 code units, made non-negative as Kafka does. */
export function groupPartition(groupId: string, partitionCount: number): number {
  let hash = 0;
  for (let at = 0; at < groupId.length; at++) hash = (Math.imul(hash, 31) + groupId.charCodeAt(at)) | 0;
  return (hash & 0x7fffffff) % partitionCount;
}

export interface CoordinatorLocation {
  readonly errorCode: number;
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export class GroupCoordinator {
  readonly settings: CoordinatorSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly #selfId: number;
  readonly #partitions: PartitionManager;
  readonly #cluster: ClusterView;
  readonly #admin: TopicAdmin;
  readonly #shards = new Map<number, Shard>();
  #creating: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastExpiryMs: number;
  #stopped = false;

  constructor(options: {
    selfId: number;
    partitions: PartitionManager;
    cluster: ClusterView;
    admin: TopicAdmin;
    clock: Clock;
    logger: Logger;
    settings?: Partial<CoordinatorSettings>;
  }) {
    this.settings = { ...coordinatorDefaults, ...options.settings };
    this.clock = options.clock;
    this.logger = options.logger;
    this.#selfId = options.selfId;
    this.#partitions = options.partitions;
    this.#cluster = options.cluster;
    this.#admin = options.admin;
    this.#lastExpiryMs = options.clock.monotonicMs();
  }

  start(): void {
    this.#timer = setInterval(() => this.tick(), this.settings.tickIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const index of [...this.#shards.keys()]) this.#dropShard(index);
  }

  /** The offsets partition that coordinates `groupId`, or undefined while the topic does not exist. */
  partitionOf(groupId: string): number | undefined {
    const topic = this.#cluster.topic(offsetsTopicName);
    if (topic === undefined || topic.partitions.length === 0) return undefined;
    return groupPartition(groupId, topic.partitions.length);
  }

  /** Whether the cluster's metadata has this partition (offsets are committed only for real ones). */
  partitionExists(topic: string, partition: number): boolean {
    return this.#cluster.topic(topic)?.partitions.some((each) => each.partition === partition) ?? false;
  }

  /** FindCoordinator: the SPU leading the group's partition, creating the topic on first need. */
  locate(groupId: string): CoordinatorLocation {
    const unavailable = { errorCode: errorCodes.COORDINATOR_NOT_AVAILABLE, nodeId: -1, host: '', port: -1 };
    const index = this.partitionOf(groupId);
    if (index === undefined) {
      this.ensureOffsetsTopic();
      return unavailable;
    }
    const info = this.#cluster.topic(offsetsTopicName)?.partitions.find((each) => each.partition === index);
    const broker = this.#cluster.brokers().find((each) => each.id === info?.leaderId);
    if (broker === undefined) return unavailable;
    if (broker.id === this.#selfId && !(this.#shards.get(index)?.loaded ?? false)) {
      this.reconcile();
      return unavailable;
    }
    return { errorCode: errorCodes.NONE, nodeId: broker.id, host: broker.host, port: broker.port };
  }

  /** Creates `__consumer_offsets` (compacted) once; concurrent callers share the attempt. */
  ensureOffsetsTopic(): void {
    if (this.#creating !== undefined) return;
    const replicationFactor = Math.max(
      1,
      Math.min(this.settings.offsetsTopicReplicationFactorMax, this.#cluster.brokers().length),
    );
    this.#creating = this.#admin
      .createTopic(
        {
          name: offsetsTopicName,
          partitions: this.settings.offsetsTopicPartitions,
          replicationFactor,
          assignments: new Map(),
          configs: { 'cleanup.policy': 'compact' },
        },
        { validateOnly: false },
      )
      .then((result) => {
        if (result.errorCode !== errorCodes.NONE && result.errorCode !== errorCodes.TOPIC_ALREADY_EXISTS)
          this.logger.warn('offsets topic not created', { ...result });
        else this.logger.info('offsets topic created', { replicationFactor });
      })
      .catch((error: unknown) => this.logger.warn('offsets topic not created', { error }))
      .finally(() => {
        this.#creating = undefined;
        this.reconcile();
      });
  }

  /**
   * The shard coordinating `groupId` here, or the error code that sends the client elsewhere:
   * NOT_COORDINATOR when another SPU (or none yet) leads its partition, COORDINATOR_LOAD_IN_PROGRESS
   * while this SPU is still replaying it.
   */
  shardOf(groupId: string): Shard | number {
    const index = this.partitionOf(groupId);
    if (index === undefined) {
      this.ensureOffsetsTopic();
      return errorCodes.NOT_COORDINATOR;
    }
    const partition = this.#partitions.get(offsetsTopicName, index);
    if (partition === undefined || !partition.leading) return errorCodes.NOT_COORDINATOR;
    const shard = this.#shards.get(index);
    if (shard === undefined || shard.partition !== partition || shard.leaderEpoch !== partition.leaderEpoch) {
      this.reconcile();
      return errorCodes.COORDINATOR_LOAD_IN_PROGRESS;
    }
    return shard.loaded ? shard : errorCodes.COORDINATOR_LOAD_IN_PROGRESS;
  }

  /**
   * The group `groupId` of a shard; `create` makes a missing one, for a member that joins or for a
   * commit without members (generation -1). Each kind has its own bound (groupsMax, emptyGroupsMax;
   * beyond it GROUP_MAX_SIZE_REACHED), so that groups holding only offsets never keep out groups
   * that have members. Missing and not created: undefined.
   */
  groupOf(shard: Shard, groupId: string, create: false | 'join' | 'commit'): Group | number | undefined {
    const existing = shard.groups.get(groupId);
    if (existing !== undefined || create === false) return existing;
    if (this.#atBound(create)) return errorCodes.GROUP_MAX_SIZE_REACHED;
    const group = this.newGroup(shard, groupId);
    shard.groups.set(groupId, group);
    return group;
  }

  /**
   * Whether one more group of this kind would pass its bound. Counting walks every group, so it runs
   * only once the total could reach a bound; it first drops groups left with nothing at all (a join
   * that failed, members that expired before committing), which cost memory and hold no data.
   */
  #atBound(kind: 'join' | 'commit'): boolean {
    const { groupsMax, emptyGroupsMax } = this.settings;
    if (this.groupCount() < Math.min(groupsMax, emptyGroupsMax)) return false;
    let withMembers = 0;
    let withoutMembers = 0;
    for (const shard of this.#shards.values()) {
      for (const group of [...shard.groups.values()]) {
        if (!group.idle) withMembers += 1;
        else if (group.offsets.size > 0) withoutMembers += 1;
        else {
          group.kill(errorCodes.COORDINATOR_NOT_AVAILABLE);
          shard.groups.delete(group.groupId);
        }
      }
    }
    return kind === 'join' ? withMembers >= groupsMax : withoutMembers >= emptyGroupsMax;
  }

  /** Every loaded shard (ListGroups). */
  loadedShards(): Shard[] {
    return [...this.#shards.values()].filter((shard) => shard.loaded);
  }

  groupCount(): number {
    let count = 0;
    for (const shard of this.#shards.values()) count += shard.groups.size;
    return count;
  }

  /** Follows leadership of the offsets partitions: loads newly led ones, drops lost ones. */
  reconcile(): void {
    if (this.#stopped) return;
    for (const [index, shard] of this.#shards) {
      const partition = this.#partitions.get(offsetsTopicName, index);
      if (partition !== shard.partition || !partition.leading || partition.leaderEpoch !== shard.leaderEpoch)
        this.#dropShard(index);
    }
    for (const partition of this.#partitions.list()) {
      if (partition.topic !== offsetsTopicName || !partition.leading) continue;
      if (!this.#shards.has(partition.index)) this.#loadShard(partition);
    }
  }

  #dropShard(index: number): void {
    const shard = this.#shards.get(index);
    if (shard === undefined) return;
    this.#shards.delete(index);
    for (const group of shard.groups.values()) group.kill(errorCodes.NOT_COORDINATOR);
    this.logger.info('coordinator unloaded', { partition: index, groups: shard.groups.size });
  }

  #loadShard(partition: Partition): void {
    const shard: Shard = {
      index: partition.index,
      partition,
      leaderEpoch: partition.leaderEpoch,
      loaded: false,
      groups: new Map(),
    };
    this.#shards.set(partition.index, shard);
    void readOffsetsPartition(partition, this.logger)
      .then((replay) => {
        if (this.#shards.get(partition.index) !== shard) return;
        for (const [groupId, replayed] of replay.live()) {
          const group = this.newGroup(shard, groupId);
          if (replayed.value !== undefined) group.restore(replayed.value);
          for (const [key, committed] of replayed.offsets) group.offsets.set(key, committed);
          shard.groups.set(groupId, group);
        }
        shard.loaded = true;
        this.logger.info('coordinator loaded', { partition: partition.index, groups: shard.groups.size });
      })
      .catch((error: unknown) => {
        this.logger.warn('coordinator load failed', { partition: partition.index, error });
        if (this.#shards.get(partition.index) === shard) this.#shards.delete(partition.index);
      });
  }

  /** A new, empty group whose state changes are written to `shard`'s partition. */
  newGroup(shard: Shard, groupId: string): Group {
    return new Group(groupId, {
      clock: this.clock,
      settings: this.settings,
      store: (group) => {
        const key = encodeKey({ type: 'group', group: groupId });
        const value = encodeGroupValue(group.toValue());
        return this.append(shard, [{ key, value }], errorCodes.GROUP_MAX_SIZE_REACHED);
      },
    });
  }

  /** Writes records to the shard's partition with acks=all; answers a Kafka error code. */
  append(shard: Shard, records: readonly OffsetsRecord[], tooLargeCode: number): Promise<number> {
    if (this.#shards.get(shard.index) !== shard) return Promise.resolve(errorCodes.NOT_COORDINATOR);
    return appendOffsetsRecords(shard.partition, records, {
      clock: this.clock,
      logger: this.logger,
      timeoutMs: this.settings.commitTimeoutMs,
      tooLargeCode,
    });
  }

  /**
   * Timer work: leadership (LeaderAndIsr also triggers it; a standalone SPU has none) and now and
   * then the offsets retention sweep. Member sessions and rebalance timeouts are not swept here:
   * each group sets a timer for its own next deadline.
   */
  tick(): void {
    this.reconcile();
    const now = this.clock.monotonicMs();
    if (now - this.#lastExpiryMs >= this.settings.offsetsRetentionCheckIntervalMs) {
      this.#lastExpiryMs = now;
      void this.expireOffsets();
    }
  }

  /**
   * Removes offsets older than the retention of groups without members (counted from the later of
   * the commit and the moment the group became Empty), writing tombstones; a group left with neither
   * members nor offsets is removed too.
   */
  async expireOffsets(): Promise<void> {
    const nowMs = this.clock.nowMs();
    for (const shard of this.loadedShards()) {
      for (const group of [...shard.groups.values()]) {
        if (group.state !== groupStates.empty) continue;
        const expired = [...group.offsets.entries()].filter(
          ([, committed]) =>
            Math.max(committed.commitTimestampMs, group.stateChangedMs) + this.settings.offsetsRetentionMs <=
            nowMs,
        );
        const removeGroup = expired.length === group.offsets.size;
        if (expired.length === 0 && !removeGroup) continue;
        const records: OffsetsRecord[] = expired.map(([, committed]) => ({
          key: encodeKey({ type: 'offset', group: group.groupId, ...committed }),
          value: null,
        }));
        if (removeGroup)
          records.push({ key: encodeKey({ type: 'group', group: group.groupId }), value: null });
        const errorCode = await this.append(shard, records, errorCodes.UNKNOWN_SERVER_ERROR);
        if (errorCode !== errorCodes.NONE) continue;
        for (const [key] of expired) group.offsets.delete(key);
        if (removeGroup && group.state === groupStates.empty && group.offsets.size === 0) {
          group.kill(errorCodes.COORDINATOR_NOT_AVAILABLE);
          shard.groups.delete(group.groupId);
        }
        this.logger.info('offsets expired', { group: group.groupId, offsets: expired.length });
      }
    }
  }
}
