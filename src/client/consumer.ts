import { setTimeout as delay } from 'node:timers/promises';
import { systemClock } from '../base/clock.ts';
import { batchAttributes, batchHeader, readBatchHeader, splitBatches } from '../protocol/batch-header.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
  type FetchResponse,
  type FetchResponsePartitionData,
} from '../protocol/messages/fetch.ts';
import { decodeRecordBatch } from '../protocol/record-batch.ts';
import type { ClusterClient, TopicMetadata } from './cluster-client.ts';
import { isRetriable, kafkaError, TideClientError } from './errors.ts';
import { Offset } from './offset.ts';
import { type Isolation, isolationLevel, resetOffset, resolveOffsets } from './offset-lookup.ts';
import { ConsumedRecord, type Header } from './records.ts';

/**
 * The consumer: reads one topic's partitions (all, or a chosen few) from a start position, without a
 * consumer group. Partitions are grouped by leading SPU and each SPU gets one Fetch request for all
 * of its partitions, long-polled (`maxWaitMs`); the next request to an SPU goes out as soon as its
 * previous answer arrived, so one answer per SPU is read ahead while the application handles the last.
 *
 * Leader changes and lost connections put the affected partitions back to "needs a leader": metadata
 * is fetched again (with backoff) and fetching resumes from the same positions. OFFSET_OUT_OF_RANGE
 * (e.g. retention removed the records) is handled per `resetPolicy`. Aborting `signal` ends the
 * iteration normally, without an error.
 */

export const consumerDefaults = Object.freeze({
  isolation: 'read_uncommitted' as Isolation,
  maxBytes: 50 * 1024 * 1024, // bytes of one Fetch answer
  partitionMaxBytes: 8 * 1024 * 1024, // bytes of one partition in one Fetch answer
  maxWaitMs: 500, // ms the SPU holds a Fetch while no new records arrive
  resetPolicy: 'earliest' as ResetPolicy, // when a position is out of range: re-read what is left
  retryBackoffMs: 100, // ms before looking for a leader again; doubles up to retryBackoffMaxMs
  retryBackoffMaxMs: 2_000, // ms
  // ms the consumer keeps waiting for a partition's leader (or for the SPUs to answer) before it
  // fails with the last error; unbounded by default, as a tailing reader outlives an SPU restart
  leaderWaitMs: Number.POSITIVE_INFINITY,
});

export type ResetPolicy = 'earliest' | 'latest' | 'error';

export interface ConsumerOptions {
  /** Partitions to read; all of the topic's when absent. */
  readonly partitions?: readonly number[];
  /** Where to start in each partition (default: the end, i.e. only new records). */
  readonly offset?: Offset;
  /** Where to stop in each partition (exclusive); iteration ends once every partition got there. */
  readonly until?: Offset;
  readonly isolation?: Isolation;
  readonly maxBytes?: number;
  readonly partitionMaxBytes?: number;
  readonly maxWaitMs?: number;
  readonly resetPolicy?: ResetPolicy;
  /**
   * Milliseconds to go on waiting while no leader answers (no leader, SPU unreachable) before the
   * iteration fails with the last error (LEADER_NOT_AVAILABLE when there is no leader at all).
   */
  readonly leaderWaitMs?: number;
  /** Called with a sentence each time the consumer starts waiting for something (a leader, an SPU). */
  readonly onWait?: (reason: string) => void;
  /** Aborting ends the iteration (normally, not with an error). */
  readonly signal?: AbortSignal;
}

/** One consumed record (a ConsumedRecord: `JSON.stringify(record)` gives its RecordJson). */
export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly Header[];
  /** Milliseconds since the epoch (create time, or log-append time if the topic uses it). */
  readonly timestamp: number;
}

/** Records of one partition from one Fetch answer, in offset order. */
export interface PartitionRecords {
  readonly topic: string;
  readonly partition: number;
  readonly records: ConsumerRecord[];
  /** The partition's high watermark when the SPU answered (lag = highWatermark - next offset). */
  readonly highWatermark: bigint;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  position: bigint;
  end: bigint | undefined;
  /** The SPU fetching this partition; -1 while a leader has to be found. */
  leaderId: number;
  /** performance.now() when fetching this partition began to fail; undefined while it is read. */
  waitingSinceMs?: number | undefined;
}

export type Settings = Required<Omit<ConsumerOptions, 'partitions' | 'until' | 'signal' | 'onWait'>> & {
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  onWait?: (reason: string) => void;
};

export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly #cluster: ClusterClient;
  readonly #topic: string;
  readonly #options: ConsumerOptions;
  readonly #settings: Settings;

  constructor(cluster: ClusterClient, topic: string, options: ConsumerOptions = {}) {
    this.#cluster = cluster;
    this.#topic = topic;
    this.#options = options;
    const { partitions: _p, until: _u, signal: _s, ...rest } = options;
    this.#settings = { ...consumerDefaults, offset: Offset.end(), ...rest };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    for await (const batch of this.batches()) yield* batch.records;
  }

  /** Records a Fetch answer at a time, per partition: fewer awaits per record than iterating records. */
  async *batches(): AsyncGenerator<PartitionRecords, void, undefined> {
    const run = new FetchRun(this.#cluster, this.#topic, this.#settings, this.#options.signal);
    try {
      await run.start(this.#options.partitions, this.#options.until);
      for (;;) {
        const results = await run.next();
        if (results === undefined) return;
        for (const result of results) if (result.records.length > 0) yield result;
      }
    } finally {
      run.stop();
    }
  }
}

const stateKey = (topic: string, partition: number): string => `${partition}\u0000${topic}`;

/**
 * One iteration of a consumer: positions, leaders and the fetches in flight. The plain consumer reads
 * a fixed set of one topic's partitions (`start`); a group consumer adds and removes partitions of
 * several topics as the group assigns them (`assign`, `unassign`, with `openEnded` so an empty or
 * fully read set waits instead of ending) and `interrupt`s a round to handle a rebalance.
 */
export class FetchRun {
  readonly #cluster: ClusterClient;
  readonly #topic: string;
  readonly #settings: Settings;
  readonly #openEnded: boolean;
  readonly #stopper = new AbortController();
  readonly #states = new Map<string, PartitionState>();
  readonly #fetches = new Map<number, Promise<FetchOutcome>>();
  #interrupter = new AbortController();
  #backoffMs = 0;
  /** performance.now() when looking up the topic or its offsets began to fail; undefined otherwise. */
  #waitingSinceMs: number | undefined;
  #announcedWait: string | undefined;

  constructor(
    cluster: ClusterClient,
    topic: string,
    settings: Settings,
    signal: AbortSignal | undefined,
    options: { openEnded?: boolean } = {},
  ) {
    this.#cluster = cluster;
    this.#topic = topic;
    this.#settings = settings;
    this.#openEnded = options.openEnded ?? false;
    if (signal !== undefined) {
      if (signal.aborted) this.#stopper.abort();
      else signal.addEventListener('abort', () => this.#stopper.abort(), { once: true });
    }
  }

  get #stopped(): boolean {
    return this.#stopper.signal.aborted;
  }

  stop(): void {
    this.#stopper.abort();
  }

  /** Ends the current (or next) `next()` early with no records. */
  interrupt(): void {
    this.#interrupter.abort();
  }

  /** Starts reading `topic`/`partition` at `position` (replacing any earlier position). */
  assign(topic: string, partition: number, position: bigint): void {
    this.#states.set(stateKey(topic, partition), {
      topic,
      partition,
      position,
      end: undefined,
      leaderId: -1,
    });
  }

  /** Stops reading `topic`/`partition`; answers already in flight for it are dropped. */
  unassign(topic: string, partition: number): void {
    this.#states.delete(stateKey(topic, partition));
  }

  async start(partitions: readonly number[] | undefined, until: Offset | undefined): Promise<void> {
    const metadata = await this.#topicWhenPlaced();
    if (metadata === undefined) return; // stopped while waiting
    const chosen = partitions ?? metadata.partitions.map((p) => p.partition);
    for (const partition of chosen) {
      if (!Number.isInteger(partition) || metadata.partitions[partition] === undefined) {
        throw kafkaError(
          errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
          `topic "${this.#topic}" has no partition ${partition} (it has ${metadata.partitions.length})`,
        );
      }
    }
    const { isolation, offset } = this.#settings;
    const starts = await this.#retrying(this.#topic, () =>
      resolveOffsets(this.#cluster, this.#topic, chosen, offset, isolation),
    );
    const ends =
      until === undefined
        ? undefined
        : await this.#retrying(this.#topic, () =>
            resolveOffsets(this.#cluster, this.#topic, chosen, until, isolation),
          );
    for (const partition of chosen) {
      const position = starts?.get(partition) ?? 0n;
      const end = ends?.get(partition);
      this.#states.set(stateKey(this.#topic, partition), {
        topic: this.#topic,
        partition,
        position,
        end,
        leaderId: -1,
      });
    }
  }

  /**
   * The topic's metadata, waiting out LEADER_NOT_AVAILABLE: a topic just created is known to the SC
   * before every SPU has it, and a consumer started at once must not fail for that. Other errors
   * (an unknown topic above all) are thrown.
   */
  async #topicWhenPlaced(): Promise<TopicMetadata | undefined> {
    for (;;) {
      if (this.#stopped) return undefined;
      try {
        const metadata = await this.#cluster.topicMetadata(this.#topic, { refresh: this.#backoffMs > 0 });
        this.#backoffMs = 0;
        this.#doneWaiting();
        return metadata;
      } catch (error) {
        const placing =
          error instanceof TideClientError && error.errorCode === errorCodes.LEADER_NOT_AVAILABLE;
        if (!placing) throw error;
        await this.#backOff(error);
      }
    }
  }

  /** The next answer's records, or undefined when every partition reached its end or the run stopped. */
  async next(): Promise<PartitionRecords[] | undefined> {
    for (;;) {
      if (this.#stopped || (!this.#openEnded && this.#finished())) return undefined;
      if (this.#interrupter.signal.aborted) {
        this.#interrupter = new AbortController();
        return [];
      }
      if ([...this.#states.values()].some((state) => state.leaderId < 0 && !this.#done(state))) {
        if (!(await this.#findLeaders())) continue;
      }
      this.#startFetches();
      if (this.#fetches.size === 0) {
        this.#waitForLeaders();
        await this.#sleep(this.#settings.retryBackoffMs);
        continue;
      }
      const outcome = await this.#raceFetches();
      if (outcome === undefined) continue; // stopped or interrupted: the loop's checks answer
      const results = await this.#handle(outcome);
      if (results.length > 0) return results;
    }
  }

  #done(state: PartitionState): boolean {
    return state.end !== undefined && state.position >= state.end;
  }

  #finished(): boolean {
    for (const state of this.#states.values()) if (!this.#done(state)) return false;
    return true;
  }

  /** Refreshes metadata and assigns leaderless partitions; false (after a backoff) when that failed. */
  async #findLeaders(): Promise<boolean> {
    try {
      const topics = new Set([...this.#states.values()].filter((s) => s.leaderId < 0).map((s) => s.topic));
      for (const topic of topics) {
        const metadata = await this.#cluster.topicMetadata(topic, { refresh: true });
        for (const state of this.#states.values()) {
          if (state.leaderId < 0 && state.topic === topic) {
            state.leaderId = metadata.partitions[state.partition]?.leaderId ?? -1;
          }
        }
      }
      this.#backoffMs = 0;
      return true;
    } catch (error) {
      if (!isRetriable(error)) throw error;
      await this.#backOff(
        error,
        [...this.#states.values()].filter((state) => state.leaderId < 0),
      );
      return false;
    }
  }

  /** Counts partitions still to read that have no leader as waiting (see #noteWait). */
  #waitForLeaders(): void {
    const leaderless = [...this.#states.values()].filter((state) => state.leaderId < 0 && !this.#done(state));
    if (leaderless.length === 0) return;
    const names = leaderless.map((state) => `${state.topic}-${state.partition}`).join(', ');
    this.#noteWait(kafkaError(errorCodes.LEADER_NOT_AVAILABLE, `no leader for ${names}`), leaderless);
  }

  /**
   * Records that `partitions` (else the topic or offset look-up) wait because of `cause`: says so
   * through `onWait` when the reason changed, and throws `cause` once one of them has waited longer
   * than `leaderWaitMs`. Each partition's clock stops when an answer brings its records.
   */
  #noteWait(cause: unknown, partitions?: readonly { topic: string; partition: number }[]): void {
    const now = systemClock.monotonicMs();
    let sinceMs: number;
    if (partitions === undefined) {
      this.#waitingSinceMs ??= now;
      sinceMs = this.#waitingSinceMs;
    } else {
      sinceMs = now;
      for (const { topic, partition } of partitions) {
        const state = this.#states.get(stateKey(topic, partition));
        if (state === undefined) continue;
        state.waitingSinceMs ??= now;
        sinceMs = Math.min(sinceMs, state.waitingSinceMs);
      }
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (reason !== this.#announcedWait) {
      this.#announcedWait = reason;
      this.#settings.onWait?.(reason);
    }
    if (now - sinceMs > this.#settings.leaderWaitMs) throw cause;
  }

  /** Called when the look-up succeeded: the next wait starts its clock afresh. */
  #doneWaiting(): void {
    this.#waitingSinceMs = undefined;
    this.#announcedWait = undefined;
  }

  async #backOff(
    cause: unknown,
    partitions?: readonly { topic: string; partition: number }[],
  ): Promise<void> {
    this.#noteWait(cause, partitions);
    const { retryBackoffMs, retryBackoffMaxMs } = this.#settings;
    this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, retryBackoffMs), retryBackoffMaxMs);
    await this.#sleep(this.#backoffMs);
  }

  async #sleep(ms: number): Promise<void> {
    try {
      const signal = AbortSignal.any([this.#stopper.signal, this.#interrupter.signal]);
      await delay(ms, undefined, { signal });
    } catch {
      // Stopped: the caller's loop sees it.
    }
  }

  /** Runs `lookup` until it succeeds, retrying retriable failures with backoff; undefined when stopped. */
  async #retrying<T>(topic: string, lookup: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      if (this.#stopped) return undefined;
      try {
        const result = await lookup();
        this.#backoffMs = 0;
        this.#doneWaiting();
        return result;
      } catch (error) {
        if (!isRetriable(error)) throw error;
        this.#cluster.invalidate(topic);
        await this.#backOff(error);
      }
    }
  }

  /** Sends one Fetch to every SPU that leads a partition still to read and has none in flight. */
  #startFetches(): void {
    const byLeader = new Map<number, PartitionState[]>();
    for (const state of this.#states.values()) {
      if (state.leaderId < 0 || this.#done(state) || this.#fetches.has(state.leaderId)) continue;
      byLeader.set(state.leaderId, [...(byLeader.get(state.leaderId) ?? []), state]);
    }
    for (const [leaderId, states] of byLeader) {
      const fetch = this.#fetch(leaderId, states);
      // A rejection is handled when the race reaches it; this keeps it from counting as unhandled.
      fetch.catch(() => undefined);
      this.#fetches.set(leaderId, fetch);
    }
  }

  async #fetch(leaderId: number, states: readonly PartitionState[]): Promise<FetchOutcome> {
    const asked = states.map(({ topic, partition, position }) => ({ topic, partition, position }));
    try {
      const connection = await this.#cluster.connectionTo(leaderId, { once: true });
      const response = await connection.call(apiKeys.Fetch, this.#fetchRequest(asked));
      return { leaderId, asked, response };
    } catch (error) {
      return { leaderId, asked, error };
    }
  }

  #fetchRequest(asked: readonly Asked[]) {
    const { maxWaitMs, maxBytes, partitionMaxBytes, isolation } = this.#settings;
    const topics = [...new Set(asked.map((a) => a.topic))];
    return createFetchRequest({
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes,
      isolationLevel: isolationLevel(isolation),
      topics: topics.map((topic) =>
        createFetchRequestTopic({
          topic,
          partitions: asked
            .filter((a) => a.topic === topic)
            .map(({ partition, position }) =>
              createFetchRequestPartition({ partition, fetchOffset: position, partitionMaxBytes }),
            ),
        }),
      ),
    });
  }

  async #raceFetches(): Promise<FetchOutcome | undefined> {
    // One listener per round, removed when the round ends, so a long-running consumer does not pile
    // them up on the stop signal.
    let onStop: (() => void) | undefined;
    const interrupter = this.#interrupter.signal;
    const stopped = new Promise<'stopped'>((resolve) => {
      if (this.#stopped || interrupter.aborted) resolve('stopped');
      onStop = () => resolve('stopped');
      this.#stopper.signal.addEventListener('abort', onStop, { once: true });
      interrupter.addEventListener('abort', onStop, { once: true });
    });
    try {
      const outcome = await Promise.race([...this.#fetches.values(), stopped]);
      if (outcome === 'stopped') return undefined;
      this.#fetches.delete(outcome.leaderId);
      return outcome;
    } finally {
      if (onStop !== undefined) {
        this.#stopper.signal.removeEventListener('abort', onStop);
        interrupter.removeEventListener('abort', onStop);
      }
    }
  }

  async #handle(outcome: FetchOutcome): Promise<PartitionRecords[]> {
    if (outcome.error !== undefined || outcome.response === undefined) {
      if (!isRetriable(outcome.error)) throw outcome.error;
      this.#loseLeader(outcome.asked);
      await this.#backOff(outcome.error, outcome.asked);
      return [];
    }
    if (outcome.response.errorCode !== errorCodes.NONE) {
      throw kafkaError(outcome.response.errorCode, `fetching from ${this.#topic}`);
    }
    this.#backoffMs = 0;
    const results: PartitionRecords[] = [];
    const answers = outcome.response.responses.flatMap((topic) =>
      topic.partitions.map((answer) => ({ topic: topic.topic, answer })),
    );
    for (const { topic, answer } of answers) {
      const state = this.#states.get(stateKey(topic, answer.partitionIndex));
      const asked = outcome.asked.find((a) => a.topic === topic && a.partition === answer.partitionIndex);
      // Positions moved since the request (a reset, a new leader): this answer is stale for them.
      if (state === undefined || asked === undefined || asked.position !== state.position) continue;
      if (answer.errorCode === errorCodes.NONE) {
        state.waitingSinceMs = undefined;
        results.push(this.#take(state, answer));
      } else {
        await this.#partitionError(state, answer.errorCode);
      }
    }
    // Announce the next wait again once nothing waits any more.
    if (![...this.#states.values()].some((state) => state.waitingSinceMs !== undefined)) {
      this.#announcedWait = undefined;
    }
    return results;
  }

  #loseLeader(partitions: readonly { topic: string; partition: number }[]): void {
    for (const { topic, partition } of partitions) {
      this.#cluster.invalidate(topic);
      const state = this.#states.get(stateKey(topic, partition));
      if (state !== undefined) state.leaderId = -1;
    }
  }

  async #partitionError(state: PartitionState, code: number): Promise<void> {
    if (code === errorCodes.OFFSET_OUT_OF_RANGE) {
      const policy = this.#settings.resetPolicy;
      if (policy === 'error') {
        throw kafkaError(
          code,
          `offset ${state.position} is out of range in ${state.topic}-${state.partition}`,
        );
      }
      const reset = await this.#retrying(state.topic, () =>
        resetOffset(this.#cluster, state.topic, state.partition, policy, this.#settings.isolation),
      );
      if (reset !== undefined) state.position = reset;
      return;
    }
    const error = kafkaError(code, `fetching ${state.topic}-${state.partition}`);
    if (!error.retriable) throw error;
    this.#loseLeader([state]);
    await this.#backOff(error, [state]);
  }

  /** Decodes the partition's batches, keeping records in [position, end), and moves the position on. */
  #take(state: PartitionState, answer: FetchResponsePartitionData): PartitionRecords {
    const records: ConsumerRecord[] = [];
    const aborted = this.#abortedProducers(answer);
    for (const batch of splitBatches(answer.records ?? Buffer.alloc(0)).batches) {
      if (this.#done(state)) break;
      const header = readBatchHeader(batch);
      const nextOffset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      if (nextOffset <= state.position) continue;
      const control = (header.attributes & batchAttributes.control) !== 0;
      const skipped = control || aborted.has(header.producerId);
      if (!skipped && batch.length > batchHeader.bytes) this.#collect(state, batch, records);
      if (state.end === undefined || nextOffset < state.end) state.position = nextOffset;
      else state.position = state.end;
    }
    return { topic: state.topic, partition: state.partition, records, highWatermark: answer.highWatermark };
  }

  #collect(state: PartitionState, batch: Buffer, records: ConsumerRecord[]): void {
    for (const record of decodeRecordBatch(batch).records) {
      if (record.offset < state.position) continue;
      if (state.end !== undefined && record.offset >= state.end) break;
      records.push(
        new ConsumedRecord(
          state.topic,
          state.partition,
          record.offset,
          record.key,
          record.value,
          record.headers,
          Number(record.timestamp),
        ),
      );
    }
  }

  /** Producers whose aborted transactions this answer covers (read_committed only). */
  #abortedProducers(answer: FetchResponsePartitionData): Set<bigint> {
    if (this.#settings.isolation !== 'read_committed') return new Set();
    return new Set((answer.abortedTransactions ?? []).map((t) => t.producerId));
  }
}

interface Asked {
  readonly topic: string;
  readonly partition: number;
  readonly position: bigint;
}

interface FetchOutcome {
  readonly leaderId: number;
  readonly asked: readonly Asked[];
  readonly response?: FetchResponse;
  readonly error?: unknown;
}
