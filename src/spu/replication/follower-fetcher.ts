import type { HostPort } from '../../base/address.ts';
import type { Logger } from '../../base/logger.ts';
import { KafkaConnection } from '../../net/kafka-connection.ts';
import { batchLastOffset, splitBatches } from '../../protocol/batch-header.ts';
import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { errorCodes, errorName } from '../../protocol/messages/error-codes.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
  type FetchResponsePartitionData,
} from '../../protocol/messages/fetch.ts';
import {
  createListOffsetsRequest,
  createListOffsetsRequestPartition,
  createListOffsetsRequestTopic,
} from '../../protocol/messages/list-offsets.ts';
import {
  createOffsetForLeaderEpochRequest,
  createOffsetForLeaderEpochRequestOffsetForLeaderPartition,
  createOffsetForLeaderEpochRequestOffsetForLeaderTopic,
} from '../../protocol/messages/offset-for-leader-epoch.ts';
import type { BrokerInfo } from '../cluster.ts';
import type { Partition, PartitionManager } from '../partitions.ts';

/**
 * Followers' replication: one fetch loop per leader SPU, over one connection to its internal listener,
 * for every partition this SPU follows under that leader. Each partition starts (after becoming a
 * follower, a new leader epoch or a restart) by asking the leader OffsetForLeaderEpoch for its own
 * latest epoch and truncating a divergent suffix; then it fetches from its log end with its replica
 * id, appends what comes with the leader's offsets and takes the leader's high watermark (bounded
 * by its own log end). A partition whose leader answers FENCED_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER
 * or UNKNOWN_LEADER_EPOCH waits for the next LeaderAndIsr; other errors back off and retry.
 *
 * OFFSET_OUT_OF_RANGE means the follower's log end is outside the leader's log: the follower asks
 * the leader's log start and end (ListOffsets with its replica id). Below the leader's log start
 * (retention or DeleteRecords ran on the leader while the follower was away) nothing of the
 * follower's log can be continued: it empties its log and restarts it at the leader's log start.
 * Beyond the leader's log end it truncates to that end.
 */

export const followerFetcherDefaults = Object.freeze({
  fetchWaitMs: 500, // ms a follower fetch parks at the leader when there is nothing new
  fetchBytesMax: 16 * 1024 * 1024, // bytes in one follower fetch response
  partitionFetchBytesMax: 1024 * 1024, // bytes of one partition in one follower fetch
  retryBackoffMsMin: 100, // ms after the first failure
  retryBackoffMsMax: 2000, // ms between attempts at most (doubling)
  requestTimeoutMs: 10_000, // ms for the leader to answer (above fetchWaitMs)
});

/** A followed partition as the fetcher tracks it. */
interface Followed {
  readonly partition: Partition;
  readonly leaderEpoch: number;
  /** Whether the divergent-suffix check still has to run before fetching. */
  truncationPending: boolean;
  /** Set after a fencing error: nothing more until a LeaderAndIsr brings a new epoch. */
  parked: boolean;
  /** After a refusal the partition pauses until then (ms, performance.now()), doubling each time. */
  retryAtMs: number;
  backoffMs: number;
}

/** ListOffsets timestamps: the log start, and the log end (for a replica). */
const earliestTimestamp = -2n;
const latestTimestamp = -1n;

function key(topic: string, index: number): string {
  return `${topic}\u0000${index}`;
}

/**
 * A leader with a newer epoch fenced this follower: only a LeaderAndIsr can bring it up to date.
 * Other refusals (the leader has not yet taken its own LeaderAndIsr, a storage error) pass with time.
 */
const waitForLeaderAndIsr = new Set<number>([errorCodes.FENCED_LEADER_EPOCH]);

export class FollowerFetchers {
  readonly #selfId: number;
  readonly #partitions: PartitionManager;
  readonly #brokers: () => readonly BrokerInfo[];
  readonly #logger: Logger;
  readonly #fetchers = new Map<number, LeaderFetcher>();

  constructor(options: {
    selfId: number;
    partitions: PartitionManager;
    brokers: () => readonly BrokerInfo[];
    logger: Logger;
    /** Leader SPU id → the address to fetch from instead of its advertised one (SpuConfig.replicationRoutes). */
    routes?: ReadonlyMap<number, HostPort>;
  }) {
    this.#selfId = options.selfId;
    this.#partitions = options.partitions;
    const routes = options.routes ?? new Map<number, HostPort>();
    this.#brokers = () => routeBrokers(options.brokers(), routes);
    this.#logger = options.logger;
  }

  /** Follows the partitions' current roles: starts, changes and stops fetch loops accordingly. */
  update(): void {
    const byLeader = new Map<number, Partition[]>();
    for (const partition of this.#partitions.list()) {
      const leaderId = partition.replicaSet.leaderId;
      if (partition.leading || leaderId < 0 || leaderId === this.#selfId) continue;
      const list = byLeader.get(leaderId) ?? [];
      list.push(partition);
      byLeader.set(leaderId, list);
    }
    for (const [leaderId, fetcher] of this.#fetchers) {
      if (byLeader.has(leaderId)) continue;
      this.#fetchers.delete(leaderId);
      void fetcher.stop();
    }
    for (const [leaderId, partitions] of byLeader) {
      let fetcher = this.#fetchers.get(leaderId);
      if (fetcher === undefined) {
        fetcher = new LeaderFetcher(leaderId, this.#selfId, this.#brokers, this.#logger);
        this.#fetchers.set(leaderId, fetcher);
        fetcher.start();
      }
      fetcher.follow(partitions);
    }
  }

  async stop(): Promise<void> {
    const fetchers = [...this.#fetchers.values()];
    this.#fetchers.clear();
    await Promise.all(fetchers.map((fetcher) => fetcher.stop()));
  }
}

/** The fetch loop towards one leader SPU. */
class LeaderFetcher {
  readonly #leaderId: number;
  readonly #selfId: number;
  readonly #brokers: () => readonly BrokerInfo[];
  readonly #logger: Logger;
  readonly #followed = new Map<string, Followed>();
  #connection: KafkaConnection | undefined;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(leaderId: number, selfId: number, brokers: () => readonly BrokerInfo[], logger: Logger) {
    this.#leaderId = leaderId;
    this.#selfId = selfId;
    this.#brokers = brokers;
    this.#logger = logger.child({ leader: leaderId });
  }

  /** Replaces the followed set; a partition new here or under a new epoch checks for divergence first. */
  follow(partitions: readonly Partition[]): void {
    const next = new Map<string, Followed>();
    for (const partition of partitions) {
      const id = key(partition.topic, partition.index);
      const known = this.#followed.get(id);
      const same = known?.partition === partition && known.leaderEpoch === partition.leaderEpoch;
      next.set(
        id,
        same
          ? known
          : {
              partition,
              leaderEpoch: partition.leaderEpoch,
              truncationPending: true,
              parked: false,
              retryAtMs: 0,
              backoffMs: 0,
            },
      );
    }
    this.#followed.clear();
    for (const [id, followed] of next) this.#followed.set(id, followed);
    this.#wake?.();
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#connection?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let backoffMs: number = followerFetcherDefaults.retryBackoffMsMin;
    while (!this.#stopping) {
      try {
        const followed = [...this.#followed.values()].filter((item) => this.#current(item));
        const nowMs = performance.now();
        const active = followed.filter((item) => item.retryAtMs <= nowMs);
        if (active.length === 0) {
          const nextMs = Math.min(...followed.map((item) => item.retryAtMs - nowMs));
          await this.#sleep(Math.min(followerFetcherDefaults.retryBackoffMsMax, Math.max(1, nextMs)));
          continue;
        }
        const connection = await this.#connect();
        await this.#truncateDiverged(connection, active);
        await this.#fetchOnce(connection, active);
        backoffMs = followerFetcherDefaults.retryBackoffMsMin;
      } catch (error) {
        if (this.#stopping) break;
        this.#logger.debug('follower fetch failed', { error, retryInMs: backoffMs });
        await this.#connection?.close();
        this.#connection = undefined;
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, followerFetcherDefaults.retryBackoffMsMax);
      }
    }
    await this.#connection?.close();
  }

  /** Whether the partition is still followed here, under the epoch the fetcher knows, and fetchable. */
  #current(followed: Followed): boolean {
    const partition = followed.partition;
    return (
      !followed.parked &&
      !partition.leading &&
      partition.leaderEpoch === followed.leaderEpoch &&
      partition.replicaSet.leaderId === this.#leaderId &&
      this.#followed.get(key(partition.topic, partition.index)) === followed
    );
  }

  async #connect(): Promise<KafkaConnection> {
    const existing = this.#connection;
    if (existing !== undefined && !existing.isClosed) return existing;
    const leader = this.#brokers().find((broker) => broker.id === this.#leaderId);
    if (leader === undefined) throw new Error(`no address known for leader SPU ${this.#leaderId}`);
    const connection = await KafkaConnection.connect({
      host: leader.host,
      port: leader.port,
      clientId: `spu-${this.#selfId}-replica`,
      requestTimeoutMs: followerFetcherDefaults.requestTimeoutMs,
    });
    this.#connection = connection;
    await connection.negotiateVersions();
    return connection;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Asks the leader where each pending partition's latest epoch ends; cuts what lies beyond. */
  async #truncateDiverged(connection: KafkaConnection, active: readonly Followed[]): Promise<void> {
    const pending = active.filter((followed) => followed.truncationPending);
    if (pending.length === 0) return;
    const byTopic = groupByTopic(pending);
    const response = await connection.call(
      apiKeys.OffsetForLeaderEpoch,
      createOffsetForLeaderEpochRequest({
        replicaId: this.#selfId,
        topics: [...byTopic].map(([topic, list]) =>
          createOffsetForLeaderEpochRequestOffsetForLeaderTopic({
            topic,
            partitions: list.map((followed) =>
              createOffsetForLeaderEpochRequestOffsetForLeaderPartition({
                partition: followed.partition.index,
                currentLeaderEpoch: followed.leaderEpoch,
                leaderEpoch: followed.partition.log.latestEpoch,
              }),
            ),
          }),
        ),
      }),
    );
    for (const topic of response.topics) {
      for (const answer of topic.partitions) {
        const followed = byTopic.get(topic.topic)?.find((item) => item.partition.index === answer.partition);
        if (followed === undefined || !this.#current(followed)) continue;
        if (answer.errorCode !== errorCodes.NONE) {
          this.#refused(followed, answer.errorCode);
          continue;
        }
        const log = followed.partition.log;
        const cut = truncationOffset(log.latestEpoch, answer.leaderEpoch, answer.endOffset, log);
        if (cut !== undefined) {
          this.#logger.info('truncating divergent suffix', {
            topic: topic.topic,
            partition: answer.partition,
            from: log.logEndOffset,
            to: cut,
          });
          await log.truncateTo(cut);
        }
        followed.truncationPending = false;
        followed.backoffMs = 0;
      }
    }
  }

  /** One fetch from the leader for every active partition past its divergence check. */
  async #fetchOnce(connection: KafkaConnection, active: readonly Followed[]): Promise<void> {
    const ready = active.filter((followed) => !followed.truncationPending && this.#current(followed));
    if (ready.length === 0) return;
    const byTopic = groupByTopic(ready);
    const response = await connection.call(
      apiKeys.Fetch,
      createFetchRequest({
        replicaId: this.#selfId,
        maxWaitMs: followerFetcherDefaults.fetchWaitMs,
        minBytes: 1,
        maxBytes: followerFetcherDefaults.fetchBytesMax,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, list]) =>
          createFetchRequestTopic({
            topic,
            partitions: list.map((followed) =>
              createFetchRequestPartition({
                partition: followed.partition.index,
                currentLeaderEpoch: followed.leaderEpoch,
                fetchOffset: followed.partition.log.logEndOffset,
                lastFetchedEpoch: -1,
                logStartOffset: followed.partition.log.logStartOffset,
                partitionMaxBytes: followerFetcherDefaults.partitionFetchBytesMax,
              }),
            ),
          }),
        ),
      }),
    );
    if (response.errorCode !== errorCodes.NONE)
      throw new Error(`leader answered fetch with ${errorName(response.errorCode)}`);
    const outOfRange: Followed[] = [];
    for (const topic of response.responses) {
      for (const data of topic.partitions) {
        const followed = byTopic
          .get(topic.topic)
          ?.find((item) => item.partition.index === data.partitionIndex);
        if (followed === undefined || !this.#current(followed)) continue;
        if (data.errorCode === errorCodes.OFFSET_OUT_OF_RANGE) outOfRange.push(followed);
        else await this.#applyFetched(followed, data);
      }
    }
    for (const followed of outOfRange) await this.#recoverOutOfRange(connection, followed);
  }

  /**
   * The leader has no batch at this follower's log end: restart the log at the leader's log start
   * when the follower is below it, cut it to the leader's log end when beyond it, else (the leader's
   * log start moved during the fetch) just fetch again.
   */
  async #recoverOutOfRange(connection: KafkaConnection, followed: Followed): Promise<void> {
    const leaderStart = await this.#leaderOffset(connection, followed, earliestTimestamp);
    const leaderEnd = await this.#leaderOffset(connection, followed, latestTimestamp);
    if (leaderStart === undefined || leaderEnd === undefined || !this.#current(followed)) return;
    const log = followed.partition.log;
    const fields = {
      topic: followed.partition.topic,
      partition: followed.partition.index,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
      leaderLogStartOffset: leaderStart,
      leaderLogEndOffset: leaderEnd,
    };
    if (log.logEndOffset > leaderEnd) {
      this.#logger.info('follower log beyond the leader log end; truncating', fields);
      await log.truncateTo(leaderEnd);
    } else if (log.logEndOffset < leaderStart) {
      this.#logger.info('follower log below the leader log start; restarting it there', fields);
      await log.resetTo(leaderStart);
      followed.partition.notifyData();
    } else {
      this.#refused(followed, errorCodes.OFFSET_OUT_OF_RANGE);
    }
  }

  /** The leader's log start (earliest) or log end (latest, as a replica sees it) of a partition. */
  async #leaderOffset(
    connection: KafkaConnection,
    followed: Followed,
    timestamp: bigint,
  ): Promise<bigint | undefined> {
    const response = await connection.call(
      apiKeys.ListOffsets,
      createListOffsetsRequest({
        replicaId: this.#selfId,
        topics: [
          createListOffsetsRequestTopic({
            name: followed.partition.topic,
            partitions: [
              createListOffsetsRequestPartition({
                partitionIndex: followed.partition.index,
                currentLeaderEpoch: followed.leaderEpoch,
                timestamp,
              }),
            ],
          }),
        ],
      }),
    );
    const answer = response.topics[0]?.partitions[0];
    if (answer === undefined || answer.errorCode !== errorCodes.NONE) {
      this.#refused(followed, answer?.errorCode ?? errorCodes.UNKNOWN_SERVER_ERROR);
      return undefined;
    }
    return answer.offset;
  }

  async #applyFetched(followed: Followed, data: FetchResponsePartitionData): Promise<void> {
    if (data.errorCode !== errorCodes.NONE) {
      this.#refused(followed, data.errorCode);
      return;
    }
    followed.backoffMs = 0;
    const log = followed.partition.log;
    const { batches } = splitBatches(data.records ?? Buffer.alloc(0));
    await restartInsideFirstBatch(log, batches[0]);
    // A batch that does not start at the log end was fetched for an offset this log moved from.
    // Each batch is copied: the log keeps its buffers for a while (tail window), and views would
    // keep the whole response frame alive with them.
    if (batches.length > 0 && batches[0]!.readBigInt64BE(0) === log.logEndOffset)
      await log.appendAsFollower(batches.map((batch) => Buffer.from(batch)));
    // The follower's high watermark is the leader's, except where its own log does not reach yet.
    let highWatermark = data.highWatermark;
    if (highWatermark > log.logEndOffset) highWatermark = log.logEndOffset;
    if (highWatermark > log.highWatermark) {
      log.setHighWatermark(highWatermark);
      followed.partition.notifyData();
    }
    // Records the leader deleted (DeleteRecords, retention) go here too, so that they do not come
    // back should this replica lead one day.
    if (data.logStartOffset > log.logStartOffset && data.logStartOffset <= log.logEndOffset)
      await log.deleteRecordsBefore(data.logStartOffset);
  }

  #refused(followed: Followed, errorCode: number): void {
    const fields = {
      topic: followed.partition.topic,
      partition: followed.partition.index,
      error: errorName(errorCode),
    };
    if (waitForLeaderAndIsr.has(errorCode)) {
      followed.parked = true;
      this.#logger.info('leader refused follower; waiting for the next LeaderAndIsr', fields);
      return;
    }
    // Anything else: check divergence again, after a pause of this partition alone.
    const defaults = followerFetcherDefaults;
    followed.backoffMs = Math.min(
      Math.max(defaults.retryBackoffMsMin, followed.backoffMs * 2),
      defaults.retryBackoffMsMax,
    );
    followed.retryAtMs = performance.now() + followed.backoffMs;
    followed.truncationPending = true;
    this.#logger.debug('leader refused follower; retrying', { ...fields, retryInMs: followed.backoffMs });
  }
}

/** The brokers with each routed leader's address replaced (a routed leader not in the list is kept out). */
function routeBrokers(brokers: readonly BrokerInfo[], routes: ReadonlyMap<number, HostPort>): BrokerInfo[] {
  return brokers.map((broker) => {
    const route = routes.get(broker.id);
    return route === undefined ? broker : { ...broker, host: route.host, port: route.port };
  });
}

/**
 * A log emptied at its leader's log start (see #recoverOutOfRange) asks for that offset, and gets
 * the whole batch holding it when the start falls inside a batch (DeleteRecords at any offset): the
 * log then restarts at that batch's base offset, so that the batch is appended as the leader has it.
 */
async function restartInsideFirstBatch(log: Partition['log'], first: Buffer | undefined): Promise<void> {
  if (first === undefined || log.logStartOffset !== log.logEndOffset) return;
  const baseOffset = first.readBigInt64BE(0);
  if (baseOffset < log.logEndOffset && batchLastOffset(first) >= log.logEndOffset)
    await log.resetTo(baseOffset);
}

function groupByTopic(list: readonly Followed[]): Map<string, Followed[]> {
  const byTopic = new Map<string, Followed[]>();
  for (const followed of list) {
    const items = byTopic.get(followed.partition.topic) ?? [];
    items.push(followed);
    byTopic.set(followed.partition.topic, items);
  }
  return byTopic;
}

/**
 * Where a follower must cut its log, given the leader's answer for the follower's latest epoch, or
 * undefined when nothing diverged. The leader's end of that epoch (or of the largest earlier epoch
 * it knows) bounds what the follower may keep; an unknown epoch (-1) keeps only what is committed
 * (the follower's high watermark). A follower with no epoch at all has nothing to compare.
 */
export function truncationOffset(
  followerEpoch: number,
  leaderEpoch: number,
  endOffset: bigint,
  log: { readonly logEndOffset: bigint; readonly highWatermark: bigint },
): bigint | undefined {
  if (followerEpoch < 0) return undefined;
  const keep = leaderEpoch < 0 || endOffset < 0n ? log.highWatermark : endOffset;
  return keep < log.logEndOffset ? keep : undefined;
}
