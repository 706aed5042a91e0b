import { EventEmitter } from 'node:events';
import { systemClock, type Timer } from '../base/clock.ts';
import { TideError } from '../base/errors.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { type AssignorName, assignorNamed, type TopicPartitions } from './assignors.ts';
import type { ClusterClient } from './cluster-client.ts';
import {
  type ConsumerRecord,
  consumerDefaults,
  FetchRun,
  type Settings as FetchSettings,
  type PartitionRecords,
} from './consumer.ts';
import { clientErrorCodes, isRetriable, TideClientError } from './errors.ts';
import { CoordinatorLink } from './group-coordinator.ts';
import { GroupMembership, groupErrorAction, groupMembershipDefaults } from './group-membership.ts';
import { Offset } from './offset.ts';
import {
  byTopic,
  commitOffsets,
  fetchOffsets,
  OffsetTracker,
  type PartitionOffset,
  partitionKey,
} from './offset-commits.ts';
import { type Isolation, resolveOffsets } from './offset-lookup.ts';

/**
 * A consumer in a consumer group: the group's members share the partitions of the subscribed topics,
 * each partition read by one member at a time, from the offset the group last committed.
 *
 * Iterating it (records, or `batches()`) joins the group, reads the assigned partitions with the
 * same fetch loop as the plain consumer, and handles rebalances between records, the way Kafka's
 * poll() does: a record handed to the application counts as consumed once the application asks for
 * the next one, so revoking a partition (which commits its position first) never races with the
 * record being processed. Heartbeats run in the background meanwhile; an application that holds a
 * record longer than `rebalanceTimeoutMs` while the group rebalances is dropped from the group.
 *
 * Events (`on`): 'assigned' (partitions now read by this member), 'revoked' (given up in a rebalance
 * or on close, after their positions were committed), 'lost' (taken away without a chance to commit:
 * the session expired or the generation moved on). Listeners run before the next record is handed out.
 */

export const groupConsumerDefaults = Object.freeze({
  autoCommit: true,
  autoCommitIntervalMs: 5_000, // ms between automatic commits of consumed positions
  assignor: 'range' as AssignorName,
  offsetReset: 'latest' as 'earliest' | 'latest', // where a partition without a committed offset starts
  metadataCheckIntervalMs: 30_000, // ms between checks for partitions added to the subscribed topics
  startAttemptsMax: 20, // attempts at fetching committed offsets and resolving starts per assignment
  commitAttemptsMax: 5, // attempts of one commit while the coordinator moves
  retryBackoffMs: 200, // ms before the second attempt; doubles up to retryBackoffMaxMs
  retryBackoffMaxMs: 2_000, // ms (startAttemptsMax attempts span about half a minute: a leader election)
});

export interface GroupConsumerOptions {
  /** The consumer group id. */
  readonly group: string;
  /** Commit consumed positions every `autoCommitIntervalMs`, on revoke and on close (default true). */
  readonly autoCommit?: boolean;
  readonly autoCommitIntervalMs?: number;
  /** Partition assignor, or several in order of preference (default 'range'). */
  readonly assignor?: AssignorName | readonly AssignorName[];
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Static membership: a restart within the session timeout keeps the assignment, no rebalance. */
  readonly groupInstanceId?: string;
  /** Where partitions without a committed offset (or out of range) start (default 'latest'). */
  readonly offsetReset?: 'earliest' | 'latest';
  /** Shorthand for `offsetReset: 'earliest'`. */
  readonly fromBeginning?: boolean;
  readonly isolation?: Isolation;
  readonly maxBytes?: number;
  readonly partitionMaxBytes?: number;
  readonly maxWaitMs?: number;
  /**
   * Milliseconds between checks of the subscribed topics' partition counts: when one changed the
   * member rejoins, so that the new partitions get assigned (default 30 s).
   */
  readonly metadataCheckIntervalMs?: number;
  /** Client id on the coordinator connection (shows in `tide consumer-group describe`). */
  readonly clientId?: string;
  /** Aborting ends the iteration (normally) and closes the consumer. */
  readonly signal?: AbortSignal;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface GroupConsumerEvents {
  assigned: [partitions: TopicPartition[]];
  revoked: [partitions: TopicPartition[]];
  lost: [partitions: TopicPartition[]];
}

export class GroupConsumer
  extends EventEmitter<GroupConsumerEvents>
  implements AsyncIterable<ConsumerRecord>
{
  readonly #cluster: ClusterClient;
  readonly #topics: readonly string[];
  readonly #options: GroupConsumerOptions;
  readonly #link: CoordinatorLink;
  readonly #membership: GroupMembership;
  readonly #tracker = new OffsetTracker();
  readonly #stopper = new AbortController();
  readonly #owned = new Map<string, TopicPartition>();
  #run: FetchRun | undefined;
  #iterating = false;
  #joining = false;
  #leader = false;
  #commitDue = false;
  #metadataDue = false;
  /** Partition counts of the subscribed topics at the last join. */
  #knownCounts = new Map<string, number>();
  #timer: Timer | undefined;
  #metadataTimer: Timer | undefined;
  #shutdown: Promise<void> | undefined;
  #markClosed: () => void = () => undefined;
  readonly #closed = new Promise<void>((resolve) => {
    this.#markClosed = resolve;
  });

  constructor(cluster: ClusterClient, topics: string | readonly string[], options: GroupConsumerOptions) {
    super();
    this.#cluster = cluster;
    this.#topics = typeof topics === 'string' ? [topics] : [...new Set(topics)];
    this.#options = options;
    validate(this.#topics, options);
    const rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? groupMembershipDefaults.rebalanceTimeoutMs;
    this.#link = new CoordinatorLink(cluster, options.group, {
      dedicated: true,
      ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
      requestTimeoutMs: Math.max(30_000, rebalanceTimeoutMs + 5_000),
      signal: this.#stopper.signal,
    });
    const assignorNames = typeof options.assignor === 'string' ? [options.assignor] : options.assignor;
    this.#membership = new GroupMembership(this.#link, {
      groupId: options.group,
      topics: this.#topics,
      assignors: (assignorNames ?? [groupConsumerDefaults.assignor]).map(assignorNamed),
      groupInstanceId: options.groupInstanceId ?? null,
      ...pickDefined(options, ['sessionTimeoutMs', 'rebalanceTimeoutMs', 'heartbeatIntervalMs']),
      partitionCounts: (names) => this.#partitionCounts(names),
      onRejoinNeeded: () => this.#run?.interrupt(),
    });
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.#stopper.abort();
      else signal.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  /** Resolves once the consumer has closed (committed, left the group). */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** This member's id in the group ('' before it joined). */
  get memberId(): string {
    return this.#membership.memberId;
  }

  /** Whether this member ran the assignor at the last rebalance (the group's leader). */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** The partitions this member reads now. */
  assignment(): TopicPartition[] {
    return sortPartitions([...this.#owned.values()]);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    for await (const batch of this.#rounds()) {
      for (const record of batch.records) {
        this.#tracker.consumed(record.topic, record.partition, record.offset + 1n);
        yield record;
      }
    }
  }

  /** Records a fetch answer at a time, per partition. */
  async *batches(): AsyncGenerator<PartitionRecords, void, undefined> {
    for await (const batch of this.#rounds()) {
      const last = batch.records.at(-1);
      if (last !== undefined) this.#tracker.consumed(batch.topic, batch.partition, last.offset + 1n);
      yield batch;
    }
  }

  /**
   * Commits offsets: the consumed positions of the partitions this member reads (default), or the
   * given next-offsets-to-read. Throws REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID
   * when the group moved on (the partitions may belong to another member by now).
   */
  async commit(offsets?: readonly PartitionOffset[]): Promise<void> {
    const chosen = offsets ?? this.#tracker.uncommitted([...this.#owned.values()]);
    await this.#commitWithRetry(chosen);
  }

  /** Commits (with auto-commit), leaves the group and stops the iteration. Safe to call twice. */
  close(): Promise<void> {
    this.#shutdown ??= this.#close();
    return this.#shutdown;
  }

  /** The loop behind both iterators: rebalances, commits when due, fetch rounds. */
  async *#rounds(): AsyncGenerator<PartitionRecords, void, undefined> {
    if (this.#iterating) {
      throw new TideError(clientErrorCodes.invalidArgument, 'a group consumer can be iterated only once');
    }
    this.#iterating = true;
    const run = new FetchRun(this.#cluster, this.#topics[0]!, this.#fetchSettings(), this.#stopper.signal, {
      openEnded: true,
    });
    this.#run = run;
    this.#startAutoCommit();
    try {
      for (;;) {
        if (this.#stopper.signal.aborted) return;
        const failure = this.#membership.failure;
        if (failure !== undefined) throw failure;
        if (this.#membership.rejoinReason !== undefined) {
          await this.#rebalance(run);
          continue;
        }
        if (this.#commitDue) await this.#autoCommit();
        if (this.#metadataDue) await this.#checkPartitionCounts();
        const results = await run.next();
        if (results === undefined) return;
        for (const result of results) {
          if (result.records.length > 0 && this.#owned.has(partitionKey(result.topic, result.partition))) {
            yield result;
          }
        }
      }
    } catch (error) {
      if (!this.#stopper.signal.aborted) throw error;
    } finally {
      await this.close();
    }
  }

  #fetchSettings(): FetchSettings {
    const { isolation, maxBytes, partitionMaxBytes, maxWaitMs } = this.#options;
    return {
      ...consumerDefaults,
      ...pickDefined({ isolation, maxBytes, partitionMaxBytes, maxWaitMs }, [
        'isolation',
        'maxBytes',
        'partitionMaxBytes',
        'maxWaitMs',
      ]),
      offset: Offset.end(),
      resetPolicy: this.#offsetReset(),
    };
  }

  #offsetReset(): 'earliest' | 'latest' {
    if (this.#options.offsetReset !== undefined) return this.#options.offsetReset;
    return this.#options.fromBeginning === true ? 'earliest' : groupConsumerDefaults.offsetReset;
  }

  /** Gives up what the group takes away, joins, and starts reading what it hands out. */
  async #rebalance(run: FetchRun): Promise<void> {
    const reason = this.#membership.rejoinReason;
    if (reason === 'lost') {
      this.#drop(run, this.assignment(), 'lost');
    } else if (this.#membership.protocol === 'eager') {
      await this.#revoke(run, this.assignment());
    }
    this.#membership.setOwned(toTopicPartitions(this.assignment()));
    this.#joining = true;
    let assigned: TopicPartition[];
    let protocol: string;
    try {
      const result = await this.#membership.join(this.#stopper.signal);
      // Unknown for now when metadata cannot be read: the next check then rejoins once more.
      this.#knownCounts = await this.#partitionCounts(this.#topics).catch(() => new Map<string, number>());
      assigned = result.assigned.flatMap(({ topic, partitions }) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      protocol = result.protocol;
      this.#leader = result.leaderId === result.memberId;
    } finally {
      this.#joining = false;
    }
    const assignedKeys = new Set(assigned.map((p) => partitionKey(p.topic, p.partition)));
    const revoked = this.assignment().filter((p) => !assignedKeys.has(partitionKey(p.topic, p.partition)));
    const added = assigned.filter((p) => !this.#owned.has(partitionKey(p.topic, p.partition)));
    if (revoked.length > 0) await this.#revoke(run, revoked);
    if (added.length > 0) await this.#start(run, added);
    this.#membership.setOwned(toTopicPartitions(this.assignment()));
    // Cooperative rebalancing: what we just gave up goes to its new member in a second round.
    if (revoked.length > 0 && protocol === 'cooperative') this.#membership.requestRejoin('rebalance');
  }

  /** Commits (with auto-commit) and stops reading `partitions`, then tells the listeners. */
  async #revoke(run: FetchRun, partitions: readonly TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    if (this.#options.autoCommit ?? groupConsumerDefaults.autoCommit) {
      try {
        await this.#commitWithRetry(this.#tracker.uncommitted(partitions));
      } catch {
        // The group moved on: the new owner restarts from the last commit (records may repeat).
      }
    }
    this.#drop(run, partitions, 'revoked');
  }

  #drop(run: FetchRun, partitions: readonly TopicPartition[], event: 'revoked' | 'lost'): void {
    if (partitions.length === 0) return;
    for (const { topic, partition } of partitions) {
      run.unassign(topic, partition);
      this.#tracker.forget(topic, partition);
      this.#owned.delete(partitionKey(topic, partition));
    }
    this.emit(event, sortPartitions(partitions));
  }

  /** Starts reading newly assigned partitions at their committed offsets (or per offsetReset). */
  async #start(run: FetchRun, partitions: readonly TopicPartition[]): Promise<void> {
    const starts = await this.#retrying(() => this.#startOffsets(partitions));
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      const start = starts.get(key);
      if (start === undefined) continue;
      run.assign(topic, partition, start.offset);
      this.#tracker.started(topic, partition, start.committed ? start.offset : undefined);
      this.#owned.set(key, { topic, partition });
    }
    this.emit('assigned', sortPartitions(partitions));
  }

  async #startOffsets(
    partitions: readonly TopicPartition[],
  ): Promise<Map<string, { offset: bigint; committed: boolean }>> {
    const committed = await fetchOffsets(this.#link, this.#options.group, toTopicPartitions(partitions));
    const starts = new Map<string, { offset: bigint; committed: boolean }>();
    for (const { topic, partition, offset } of committed) {
      if (offset >= 0n) starts.set(partitionKey(topic, partition), { offset, committed: true });
    }
    const missing = partitions.filter((p) => !starts.has(partitionKey(p.topic, p.partition)));
    const where = this.#offsetReset() === 'earliest' ? Offset.beginning() : Offset.end();
    const isolation = this.#options.isolation ?? consumerDefaults.isolation;
    for (const [topic, list] of byTopic(missing)) {
      const indexes = list.map((p) => p.partition);
      const resolved = await resolveOffsets(this.#cluster, topic, indexes, where, isolation);
      for (const [partition, offset] of resolved) {
        starts.set(partitionKey(topic, partition), { offset, committed: false });
      }
    }
    return starts;
  }

  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    let backoffMs: number = groupConsumerDefaults.retryBackoffMs;
    for (let round = 1; ; round++) {
      try {
        return await attempt();
      } catch (error) {
        const coordinatorMoved =
          error instanceof TideClientError && groupErrorAction(error.errorCode) === 'rediscover';
        if (coordinatorMoved) this.#link.reset();
        if (!isRetriable(error) || round >= groupConsumerDefaults.startAttemptsMax) throw error;
        await this.#pause(backoffMs);
        backoffMs = Math.min(backoffMs * 2, groupConsumerDefaults.retryBackoffMaxMs);
      }
    }
  }

  async #commitWithRetry(offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    for (let round = 1; ; round++) {
      try {
        await commitOffsets(this.#link, this.#options.group, this.#membership.identity(), offsets);
        this.#tracker.committed(offsets);
        return;
      } catch (error) {
        const action =
          error instanceof TideClientError
            ? groupErrorAction(error.errorCode)
            : isRetriable(error)
              ? 'rediscover'
              : 'fatal';
        if (
          (action !== 'rediscover' && action !== 'retry') ||
          round >= groupConsumerDefaults.commitAttemptsMax
        ) {
          throw error;
        }
        if (action === 'rediscover') this.#link.reset();
        await this.#pause(groupConsumerDefaults.retryBackoffMs);
      }
    }
  }

  #startAutoCommit(): void {
    const checkMs = this.#options.metadataCheckIntervalMs ?? groupConsumerDefaults.metadataCheckIntervalMs;
    const background = { keepAlive: false };
    this.#metadataTimer = systemClock.interval(
      checkMs,
      () => {
        this.#metadataDue = true;
        this.#run?.interrupt();
      },
      background,
    );
    if (!(this.#options.autoCommit ?? groupConsumerDefaults.autoCommit)) return;
    const intervalMs = this.#options.autoCommitIntervalMs ?? groupConsumerDefaults.autoCommitIntervalMs;
    this.#timer = systemClock.interval(
      intervalMs,
      () => {
        this.#commitDue = true;
        this.#run?.interrupt();
      },
      background,
    );
  }

  /** Rejoins when a subscribed topic gained (or lost) partitions since the last join. */
  async #checkPartitionCounts(): Promise<void> {
    this.#metadataDue = false;
    let counts: Map<string, number>;
    try {
      counts = await this.#partitionCounts(this.#topics);
    } catch (error) {
      if (isRetriable(error)) return; // checked again next time
      throw error;
    }
    const changed = this.#topics.some((topic) => counts.get(topic) !== this.#knownCounts.get(topic));
    if (changed) this.#membership.requestRejoin('rebalance');
  }

  async #autoCommit(): Promise<void> {
    this.#commitDue = false;
    try {
      await this.#commitWithRetry(this.#tracker.uncommitted([...this.#owned.values()]));
    } catch (error) {
      // A rebalance under way: the heartbeat reports it and the revoke commits; other errors surface.
      const action = error instanceof TideClientError ? groupErrorAction(error.errorCode) : 'retry';
      if (action === 'fatal') throw error;
    }
  }

  async #close(): Promise<void> {
    this.#timer?.cancel();
    this.#metadataTimer?.cancel();
    const joining = this.#joining;
    this.#stopper.abort();
    const owned = this.assignment();
    const stable = this.#membership.rejoinReason === undefined && !joining;
    if (stable && owned.length > 0 && (this.#options.autoCommit ?? groupConsumerDefaults.autoCommit)) {
      try {
        await this.#commitWithRetry(this.#tracker.uncommitted(owned));
      } catch {
        // Not committed: the next owner re-reads from the last commit.
      }
    }
    if (owned.length > 0) {
      this.#owned.clear();
      this.emit('revoked', owned);
    }
    // A JoinGroup in flight holds the connection: close it instead of queueing LeaveGroup behind it.
    if (!joining) await this.#membership.leave();
    await this.#link.close();
    this.#run?.stop();
    this.#markClosed();
  }

  async #partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const topic of topics) {
      try {
        counts.set(topic, (await this.#cluster.topicMetadata(topic, { refresh: true })).partitions.length);
      } catch (error) {
        if (
          !(error instanceof TideClientError && error.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION)
        ) {
          throw error;
        }
      }
    }
    return counts;
  }

  async #pause(ms: number): Promise<void> {
    try {
      await systemClock.sleep(ms, this.#stopper.signal);
    } catch {
      // Stopped: callers see it at their next check.
    }
  }
}

function validate(topics: readonly string[], options: GroupConsumerOptions): void {
  const fail = (message: string): never => {
    throw new TideError(clientErrorCodes.invalidArgument, message);
  };
  if (typeof options.group !== 'string' || options.group === '') fail('group must be a non-empty string');
  if (topics.length === 0 || topics.some((topic) => typeof topic !== 'string' || topic === '')) {
    fail('a group consumer needs at least one topic name');
  }
  for (const key of [
    'sessionTimeoutMs',
    'rebalanceTimeoutMs',
    'heartbeatIntervalMs',
    'autoCommitIntervalMs',
    'metadataCheckIntervalMs',
  ] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      fail(`${key} must be a whole number of milliseconds > 0, got ${value}`);
    }
  }
}

function sortPartitions(partitions: readonly TopicPartition[]): TopicPartition[] {
  return [...partitions].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  );
}

function toTopicPartitions(partitions: readonly TopicPartition[]): TopicPartitions[] {
  return [...byTopic(sortPartitions(partitions))].map(([topic, list]) => ({
    topic,
    partitions: list.map((p) => p.partition),
  }));
}

function pickDefined<T extends object, K extends keyof T>(
  source: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
