import { type Clock, systemClock, type Timer } from '../base/clock.ts';
import { TideError } from '../base/errors.ts';
import type { KafkaConnection } from '../net/kafka-connection.ts';
import { batchHeader } from '../protocol/batch-header.ts';
import type { Codec } from '../protocol/compression/compression.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  type ProduceRequest,
  type ProduceResponse,
} from '../protocol/messages/produce.ts';
import type { RecordInput } from '../protocol/record-batch.ts';
import type { ClusterClient, TopicMetadata } from './cluster-client.ts';
import { clientErrorCodes, isRetriable, kafkaError, TideClientError } from './errors.ts';
import { DefaultPartitioner, type Partitioner } from './partitioner.ts';
import { ProducerIdentity } from './producer-identity.ts';
import {
  addSequence,
  estimateRecordBytes,
  type PartitionQueue,
  type ProducerBatch,
  RecordAccumulator,
  stampProducer,
} from './record-accumulator.ts';
import { type BytesInput, type HeadersInput, toBytes, toHeaders } from './records.ts';

/**
 * The producer: `send` appends a record to its partition's open batch (see record-accumulator.ts) and
 * resolves once the leader acknowledged the batch. A sender groups ready batches by leading SPU into
 * one Produce request per SPU (at most one batch per partition per request, up to maxRequestBytes),
 * with up to `maxInFlight` requests outstanding per SPU.
 *
 * Ordering within a partition: batches of a partition are sent in order on the one connection to its
 * leader, which answers in order. When a batch fails with a retriable error (a leader change, a closed
 * connection, a timeout) the partition switches to recovery: no further batch of it is sent until
 * everything in flight has been answered, then the failed batches are resent one at a time, oldest
 * first, and pipelining resumes once they are through. Errors of that kind hit every batch queued
 * behind on the same connection too (the SPU answers in order), so later batches do not overtake a
 * failed one.
 *
 * Idempotence (the default with acks=all): the producer asks an SPU for a producer id and epoch
 * (InitProducerId) before its first send, and gives each batch, at its first send, the next sequence
 * number of its partition; a resend carries the same bytes, so a leader that already appended it
 * answers with the original offset instead of appending it twice (a retry after a lost answer stores
 * the records once). At most 5 requests are in flight per partition, the window the SPU remembers.
 * A batch refused for its sequence or epoch (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID,
 * INVALID_PRODUCER_EPOCH) fails when it was the first unacknowledged batch of its partition (records
 * before it were lost or the producer was fenced); later batches refused because of it were not
 * stored and are retried. The producer then bumps its epoch, once nothing is in flight and every batch
 * whose outcome is unknown has been resolved by a resend, and every partition starts again at 0.
 * Without idempotence a retry can duplicate a batch whose answer was lost.
 */

export const producerDefaults = Object.freeze({
  acks: -1 as Acks, // wait for every in-sync replica
  lingerMs: 5, // ms a batch waits for more records before it is sent
  // Tide's SPU moves whole batches cheaply, so batches may be large; lingerMs bounds the latency. It
  // stays below the topic default max.message.bytes (1 MiB + 12).
  batchBytes: 1024 * 1024, // bytes of one batch (estimated before compression)
  maxRequestBytes: 8 * 1024 * 1024, // bytes of one Produce request
  compression: 'none' as Codec,
  retries: 1_000, // retriable failures per batch, bounded in time by deliveryTimeoutMs
  retryBackoffMs: 100, // ms before the first retry of a batch; doubles up to retryBackoffMaxMs
  retryBackoffMaxMs: 1_000, // ms
  deliveryTimeoutMs: 120_000, // ms from send to acknowledgement or failure
  requestTimeoutMs: 30_000, // ms the SPU may wait for replicas (the request's timeout)
  maxInFlight: 5, // Produce requests outstanding per SPU (at most 5 when idempotent)
  bufferBytes: 32 * 1024 * 1024, // bytes of records accepted and not yet acknowledged
  sendTimeoutMs: 60_000, // ms `send` waits for buffer space (or metadata) before rejecting
  unknownTopicWaitMs: 1_000, // ms `send` keeps looking for a topic that metadata says does not exist
});

export type Acks = 0 | 1 | -1;

export interface ProducerOptions {
  /** 0: do not wait; 1: the leader stored it; -1 or 'all': every in-sync replica has it. */
  readonly acks?: Acks | 'all';
  readonly lingerMs?: number;
  readonly batchBytes?: number;
  readonly maxRequestBytes?: number;
  readonly compression?: Codec;
  readonly partitioner?: Partitioner;
  readonly retries?: number;
  readonly deliveryTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxInFlight?: number;
  /**
   * Exactly-once appends per partition across retries (producer id and sequence numbers). Default:
   * true with acks=all and maxInFlight ≤ 5; requires both.
   */
  readonly idempotent?: boolean;
  readonly bufferBytes?: number;
  readonly sendTimeoutMs?: number;
  readonly clock?: Clock;
}

/** One record to send. Keys and values are bytes or strings (UTF-8). */
export interface ProducerRecord {
  readonly key?: BytesInput;
  readonly value: BytesInput;
  readonly headers?: HeadersInput;
  /** Chosen by the partitioner when absent. */
  readonly partition?: number;
  /** Milliseconds since the epoch; now when absent. */
  readonly timestamp?: number | bigint | Date;
  /** Overrides the producer's topic. */
  readonly topic?: string;
}

/** Where an acknowledged record was stored; offset is -1 with acks=0. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

type Settings = Required<Omit<ProducerOptions, 'acks' | 'partitioner' | 'idempotent'>> & {
  acks: Acks;
  idempotent: boolean;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
};

/** Kafka errors after which the partition's leader must be looked up again. */
const staleMetadataCodes: ReadonlySet<number> = new Set([
  errorCodes.NOT_LEADER_OR_FOLLOWER,
  errorCodes.LEADER_NOT_AVAILABLE,
  errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
  errorCodes.FENCED_LEADER_EPOCH,
  errorCodes.UNKNOWN_LEADER_EPOCH,
]);

/** Requests in flight per partition an idempotent producer may have: what the SPU remembers. */
const idempotentInflightMax = 5;

/** Produce errors about the producer's sequence or epoch (idempotence). */
const sequenceErrorCodes: ReadonlySet<number> = new Set([
  errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER,
  errorCodes.UNKNOWN_PRODUCER_ID,
  errorCodes.INVALID_PRODUCER_EPOCH,
]);

function settle(options: ProducerOptions): Settings {
  const { acks, partitioner: _partitioner, idempotent, ...rest } = options;
  const resolvedAcks = acks === 'all' ? -1 : (acks ?? producerDefaults.acks);
  const maxInFlight = rest.maxInFlight ?? producerDefaults.maxInFlight;
  const settings: Settings = {
    ...producerDefaults,
    clock: systemClock,
    ...rest,
    acks: resolvedAcks,
    idempotent: idempotent ?? (resolvedAcks === -1 && maxInFlight <= idempotentInflightMax),
  };
  if (settings.idempotent && settings.acks !== -1) {
    throw new TideError(clientErrorCodes.invalidArgument, 'an idempotent producer needs acks=all (-1)');
  }
  if (settings.idempotent && settings.maxInFlight > idempotentInflightMax) {
    throw new TideError(
      clientErrorCodes.invalidArgument,
      `an idempotent producer allows at most ${idempotentInflightMax} requests in flight (maxInFlight)`,
    );
  }
  const positive = ['batchBytes', 'maxRequestBytes', 'maxInFlight', 'bufferBytes'] as const;
  for (const name of positive) {
    if (!Number.isInteger(settings[name]) || settings[name] < 1) {
      throw new TideError(clientErrorCodes.invalidArgument, `${name} must be a positive integer`);
    }
  }
  if (![0, 1, -1].includes(settings.acks)) {
    throw new TideError(clientErrorCodes.invalidArgument, `acks must be 0, 1, -1 or 'all'`);
  }
  return settings;
}

export class Producer {
  readonly #cluster: ClusterClient;
  readonly #topic: string | undefined;
  readonly #settings: Settings;
  readonly #partitioner: Partitioner;
  readonly #accumulator: RecordAccumulator;
  /** Topic metadata the sender routes by; dropped when a leader turns out stale. */
  readonly #metadata = new Map<string, TopicMetadata>();
  readonly #metadataLoads = new Map<string, Promise<TopicMetadata>>();
  readonly #connections = new Map<number, KafkaConnection>();
  readonly #connecting = new Set<number>();
  readonly #brokerInflight = new Map<number, number>();
  readonly #idleWaiters: (() => void)[] = [];
  #pendingRecords = 0;
  #flushing = 0;
  #drainScheduled = false;
  #retryTimer: Timer | undefined;
  #retryAtMs = 0;
  #closed = false;
  readonly #identity: ProducerIdentity;

  constructor(cluster: ClusterClient, topic: string | undefined, options: ProducerOptions = {}) {
    this.#cluster = cluster;
    this.#identity = new ProducerIdentity(cluster);
    this.#topic = topic;
    this.#settings = settle(options);
    this.#partitioner = options.partitioner ?? new DefaultPartitioner();
    this.#accumulator = new RecordAccumulator({
      batchBytes: this.#settings.batchBytes,
      lingerMs: this.#settings.lingerMs,
      bufferBytes: this.#settings.bufferBytes,
      sendTimeoutMs: this.#settings.sendTimeoutMs,
      codec: this.#settings.compression,
      monotonicMs: () => this.#settings.clock.monotonicMs(),
      clock: this.#settings.clock,
      onReady: (queue) => {
        this.#partitioner.onBatchSealed?.(queue.topic, queue.partition);
        this.#scheduleDrain();
      },
    });
  }

  /** Records accepted and not yet acknowledged or failed. */
  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  /** The producer id and epoch of an idempotent producer (-1 before the first send). */
  get producerIdentity(): { readonly producerId: bigint; readonly epoch: number } {
    return { producerId: this.#identity.producerId, epoch: this.#identity.epoch };
  }

  /** Sends one record; resolves once it is acknowledged (per `acks`), rejects when delivery fails. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.#closed) {
      return Promise.reject(new TideError(clientErrorCodes.closed, 'the producer is closed'));
    }
    const topic = record.topic ?? this.#topic;
    if (topic === undefined) {
      return Promise.reject(
        new TideError(clientErrorCodes.invalidArgument, 'no topic: give one to producer() or to send()'),
      );
    }
    let input: RecordInput;
    try {
      input = {
        key: toBytes(record.key),
        value: toBytes(record.value),
        headers: toHeaders(record.headers),
        timestamp: toTimestamp(record.timestamp, this.#settings.clock),
      };
    } catch (error) {
      return Promise.reject(error);
    }
    const bytes = estimateRecordBytes(input);
    if (bytes + batchHeader.bytes > this.#settings.maxRequestBytes) {
      return Promise.reject(
        kafkaError(errorCodes.MESSAGE_TOO_LARGE, `a record of ${bytes} bytes exceeds maxRequestBytes`),
      );
    }
    this.#pendingRecords++;
    const metadata = this.#metadata.get(topic);
    const result =
      metadata !== undefined && this.#accumulator.tryReserve(bytes)
        ? this.#append(metadata, record.partition, input, bytes)
        : this.#sendSlowly(topic, record.partition, input, bytes);
    return result.finally(() => this.#recordDone());
  }

  /** Sends several records; resolves with their metadata in order, rejects with the first failure. */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return Promise.all(records.map((record) => this.send(record)));
  }

  /** Sends every batch now and resolves once every record accepted so far is acknowledged or failed. */
  async flush(): Promise<void> {
    this.#accumulator.sealAll();
    if (this.#pendingRecords === 0) return;
    // Records still waiting for metadata or buffer space join batches later: seal those as they come.
    this.#flushing++;
    try {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    } finally {
      this.#flushing--;
    }
  }

  /** Flushes, then refuses further sends. The cluster client stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    this.#accumulator.rejectWaiters(new TideError(clientErrorCodes.closed, 'the producer is closed'));
    this.#retryTimer?.cancel();
  }

  #recordDone(): void {
    this.#pendingRecords--;
    if (this.#pendingRecords === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** The path when metadata is not cached yet or the buffer is full: wait for both, then append. */
  async #sendSlowly(
    topic: string,
    partition: number | undefined,
    input: RecordInput,
    bytes: number,
  ): Promise<RecordMetadata> {
    const metadata = await this.#topicMetadata(topic);
    await this.#accumulator.reserve(bytes);
    return this.#append(metadata, partition, input, bytes);
  }

  #append(
    metadata: TopicMetadata,
    requested: number | undefined,
    input: RecordInput,
    bytes: number,
  ): Promise<RecordMetadata> {
    const topic = metadata.name;
    const partitionCount = metadata.partitions.length;
    const partition = requested ?? this.#partitioner.partition({ topic, key: input.key, partitionCount });
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      this.#accumulator.release(bytes);
      return Promise.reject(
        kafkaError(
          errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
          `topic "${topic}" has no partition ${partition} (it has ${partitionCount})`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const queue = this.#accumulator.queueFor(topic, partition);
      this.#accumulator.append(queue, input, bytes, {
        resolve: (offset) => resolve({ topic, partition, offset }),
        reject,
      });
      if (this.#flushing > 0) queueMicrotask(() => this.#accumulator.seal(queue));
    });
  }

  /** Cached topic metadata, loaded (and retried while retriable, up to sendTimeoutMs) when missing. */
  #topicMetadata(topic: string): Promise<TopicMetadata> {
    const cached = this.#metadata.get(topic);
    if (cached !== undefined) return Promise.resolve(cached);
    let load = this.#metadataLoads.get(topic);
    if (load === undefined) {
      load = this.#loadMetadata(topic).finally(() => this.#metadataLoads.delete(topic));
      this.#metadataLoads.set(topic, load);
    }
    return load;
  }

  async #loadMetadata(topic: string): Promise<TopicMetadata> {
    const clock = this.#settings.clock;
    const startMs = clock.monotonicMs();
    const deadlineMs = startMs + this.#settings.sendTimeoutMs;
    let backoffMs = this.#settings.retryBackoffMs;
    for (;;) {
      try {
        const metadata = await this.#cluster.topicMetadata(topic, { refresh: true });
        this.#metadata.set(topic, metadata);
        return metadata;
      } catch (error) {
        // A missing topic gets a short grace (it may have just been created elsewhere), not the whole wait.
        const missing =
          error instanceof TideClientError && error.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
        const endMs = missing
          ? Math.min(deadlineMs, startMs + producerDefaults.unknownTopicWaitMs)
          : deadlineMs;
        if (!isRetriable(error) || clock.monotonicMs() + backoffMs > endMs || this.#cluster.isClosed) {
          throw error;
        }
        await clock.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.#settings.retryBackoffMaxMs);
      }
    }
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  /** Sends what can be sent now: per SPU, one request of ready batches while below maxInFlight. */
  #drain(): void {
    const nowMs = this.#settings.clock.monotonicMs();
    const byBroker = new Map<number, ProducerBatch[]>();
    const requestBytes = new Map<number, number>();
    let nextRetryMs = Number.POSITIVE_INFINITY;
    const sequencesReady = this.#sequencesReady();
    for (const queue of this.#accumulator.queues()) {
      this.#expire(queue, nowMs);
      const batch = queue.ready[0];
      if (batch === undefined || !this.#maySend(queue)) continue;
      if (batch.notBeforeMs > nowMs) {
        nextRetryMs = Math.min(nextRetryMs, batch.notBeforeMs);
        continue;
      }
      const needsSequence = this.#settings.idempotent && batch.baseSequence < 0;
      if (needsSequence && !sequencesReady) continue;
      const brokerId = this.#leaderOf(queue);
      if (brokerId === undefined || !this.#brokerReady(brokerId)) continue;
      if (needsSequence) this.#assignSequence(queue, batch);
      const bytes = (requestBytes.get(brokerId) ?? 0) + batch.encoded!.length;
      const group = byBroker.get(brokerId) ?? [];
      if (group.length > 0 && bytes > this.#settings.maxRequestBytes) continue;
      requestBytes.set(brokerId, bytes);
      group.push(batch);
      byBroker.set(brokerId, group);
      queue.ready.shift();
      queue.inflight++;
    }
    for (const [brokerId, batches] of byBroker) this.#sendRequest(brokerId, batches);
    // Batches left waiting (no leader, SPU unreachable) must still fail once delivery times out.
    for (const queue of this.#accumulator.queues()) {
      const waiting = queue.ready[0];
      if (waiting !== undefined) {
        nextRetryMs = Math.min(nextRetryMs, waiting.createdAtMs + this.#settings.deliveryTimeoutMs + 1);
      }
    }
    if (nextRetryMs !== Number.POSITIVE_INFINITY) this.#drainAt(nextRetryMs - nowMs);
    // A request just sent may leave more ready batches (one batch per partition per request).
    if (byBroker.size > 0 && this.#anyReady()) this.#scheduleDrain();
  }

  /**
   * Idempotence: whether batches may take new sequence numbers now. Starts InitProducerId when the
   * producer has no id yet, or when a bump is wanted and it is safe: nothing in flight and no batch
   * whose outcome is unknown (sent, unanswered, waiting for its resend under the current epoch).
   */
  #sequencesReady(): boolean {
    if (!this.#settings.idempotent) return true;
    const identity = this.#identity;
    if (identity.ready) return true;
    if (identity.loading) return false;
    if (identity.bumpWanted && this.#anyUnresolved()) return false;
    identity.load().then(
      () => {
        for (const queue of this.#accumulator.queues()) {
          queue.producerSequence = 0;
          queue.ackedSequence = 0;
        }
        this.#scheduleDrain();
      },
      (error: unknown) => {
        if (isRetriable(error) && !this.#cluster.isClosed) {
          this.#drainAt(this.#settings.retryBackoffMs);
          return;
        }
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const queue of this.#accumulator.queues())
          for (const batch of queue.ready.splice(0)) this.#finish(batch, failure);
      },
    );
    return false;
  }

  /** A batch was sent and not answered yet, or is waiting to be resent with its sequence. */
  #anyUnresolved(): boolean {
    for (const queue of this.#accumulator.queues()) {
      if (queue.inflight > 0 || queue.ready.some((batch) => batch.baseSequence >= 0)) return true;
    }
    return false;
  }

  /** First send of a batch: the partition's next sequence number, stamped into its bytes. */
  #assignSequence(queue: PartitionQueue, batch: ProducerBatch): void {
    batch.baseSequence = queue.producerSequence;
    queue.producerSequence = addSequence(queue.producerSequence, batch.records.length);
    stampProducer(batch.encoded!, this.#identity.producerId, this.#identity.epoch, batch.baseSequence);
  }

  #anyReady(): boolean {
    for (const queue of this.#accumulator.queues()) {
      const brokerId = queue.ready.length > 0 && this.#maySend(queue) ? this.#leaderOf(queue) : undefined;
      if (brokerId !== undefined && this.#brokerHasRoom(brokerId)) return true;
    }
    return false;
  }

  #maySend(queue: PartitionQueue): boolean {
    return queue.recovering ? queue.inflight === 0 : queue.inflight < this.#settings.maxInFlight;
  }

  /** Drains again after `delayMs`, unless an earlier wake-up is already set. */
  #drainAt(delayMs: number): void {
    const atMs = this.#settings.clock.monotonicMs() + delayMs;
    if (this.#retryTimer !== undefined && this.#retryAtMs <= atMs) return;
    this.#retryTimer?.cancel();
    this.#retryAtMs = atMs;
    this.#retryTimer = this.#settings.clock.timeout(Math.max(1, delayMs), () => {
      this.#retryTimer = undefined;
      this.#drain();
    });
  }

  /** Fails batches that waited longer than deliveryTimeoutMs (e.g. while no leader was reachable). */
  #expire(queue: PartitionQueue, nowMs: number): void {
    const deadlineMs = nowMs - this.#settings.deliveryTimeoutMs;
    while (queue.ready.length > 0 && queue.ready[0]!.createdAtMs < deadlineMs) {
      const batch = queue.ready.shift()!;
      this.#finish(
        batch,
        kafkaError(errorCodes.REQUEST_TIMED_OUT, 'delivery timed out before the batch was sent'),
      );
    }
  }

  /** The leader of the queue's partition, or undefined while metadata is being (re)loaded. */
  #leaderOf(queue: PartitionQueue): number | undefined {
    const metadata = this.#metadata.get(queue.topic);
    if (metadata === undefined) {
      this.#reloadMetadata(queue.topic);
      return undefined;
    }
    const leaderId = metadata.partitions[queue.partition]?.leaderId ?? -1;
    if (leaderId < 0) {
      this.#metadata.delete(queue.topic);
      this.#reloadMetadata(queue.topic);
      return undefined;
    }
    return leaderId;
  }

  #reloadMetadata(topic: string): void {
    if (this.#metadataLoads.has(topic)) return;
    this.#topicMetadata(topic).then(
      () => this.#scheduleDrain(),
      () => this.#drainAt(this.#settings.retryBackoffMs),
    );
  }

  #brokerHasRoom(brokerId: number): boolean {
    return (this.#brokerInflight.get(brokerId) ?? 0) < this.#settings.maxInFlight;
  }

  /** Whether a request may go to `brokerId` now; opens the connection in the background if needed. */
  #brokerReady(brokerId: number): boolean {
    const connection = this.#connections.get(brokerId);
    if (connection !== undefined && !connection.isClosed) return this.#brokerHasRoom(brokerId);
    this.#connections.delete(brokerId);
    if (!this.#connecting.has(brokerId)) {
      this.#connecting.add(brokerId);
      this.#cluster.connectionTo(brokerId, { once: true }).then(
        (opened) => {
          this.#connecting.delete(brokerId);
          this.#connections.set(brokerId, opened);
          this.#scheduleDrain();
        },
        () => {
          this.#connecting.delete(brokerId);
          this.#cluster.invalidate();
          this.#metadata.clear();
          this.#drainAt(this.#settings.retryBackoffMs);
        },
      );
    }
    return false;
  }

  #buildRequest(batches: readonly ProducerBatch[]): ProduceRequest {
    const byTopic = new Map<string, ProducerBatch[]>();
    for (const batch of batches) {
      const list = byTopic.get(batch.topic) ?? [];
      list.push(batch);
      byTopic.set(batch.topic, list);
    }
    return createProduceRequest({
      acks: this.#settings.acks,
      timeoutMs: this.#settings.requestTimeoutMs,
      topicData: [...byTopic].map(([name, list]) =>
        createProduceRequestTopicProduceData({
          name,
          partitionData: list.map((batch) =>
            createProduceRequestPartitionProduceData({ index: batch.partition, records: batch.encoded! }),
          ),
        }),
      ),
    });
  }

  #sendRequest(brokerId: number, batches: readonly ProducerBatch[]): void {
    const connection = this.#connections.get(brokerId)!;
    const request = this.#buildRequest(batches);
    if (this.#settings.acks === 0) {
      try {
        connection.sendOneWay(apiKeys.Produce, connection.versionFor(apiKeys.Produce), request);
        for (const batch of batches) this.#succeed(batch, -1n);
      } catch (error) {
        this.#failAll(batches, error);
      }
      return;
    }
    this.#brokerInflight.set(brokerId, (this.#brokerInflight.get(brokerId) ?? 0) + 1);
    let answer: Promise<ProduceResponse>;
    try {
      answer = connection.call(apiKeys.Produce, request);
    } catch (error) {
      answer = Promise.reject(error); // no Produce version in common with the SPU
    }
    answer.then(
      (response) => {
        this.#brokerInflight.set(brokerId, this.#brokerInflight.get(brokerId)! - 1);
        this.#handleResponse(batches, response);
        this.#scheduleDrain();
      },
      (error: unknown) => {
        this.#brokerInflight.set(brokerId, this.#brokerInflight.get(brokerId)! - 1);
        this.#failAll(batches, error);
        this.#scheduleDrain();
      },
    );
  }

  #handleResponse(batches: readonly ProducerBatch[], response: ProduceResponse): void {
    for (const batch of batches) {
      const answer = response.responses
        .find((topic) => topic.name === batch.topic)
        ?.partitionResponses.find((partition) => partition.index === batch.partition);
      if (answer === undefined) {
        this.#failed(
          batch,
          kafkaError(errorCodes.NETWORK_EXCEPTION, 'the SPU did not answer for the partition', {
            retriable: true,
          }),
        );
      } else if (answer.errorCode === errorCodes.NONE) {
        this.#succeed(batch, answer.baseOffset);
      } else if (this.#settings.idempotent && sequenceErrorCodes.has(answer.errorCode)) {
        this.#sequenceRefused(batch, kafkaError(answer.errorCode, answer.errorMessage ?? undefined));
      } else {
        this.#failed(batch, kafkaError(answer.errorCode, answer.errorMessage ?? undefined));
      }
    }
  }

  #failAll(batches: readonly ProducerBatch[], error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    for (const batch of batches) this.#failed(batch, failure);
  }

  #succeed(batch: ProducerBatch, baseOffset: bigint): void {
    const queue = this.#accumulator.queueFor(batch.topic, batch.partition);
    queue.inflight--;
    if (batch.baseSequence >= 0) queue.ackedSequence = addSequence(batch.baseSequence, batch.records.length);
    batch.succeed(baseOffset);
    this.#accumulator.release(batch.estimatedBytes - 61);
    this.#endRecovery(queue);
  }

  /** Pipelining resumes once nothing is in flight and no retried batch is left. */
  #endRecovery(queue: PartitionQueue): void {
    if (queue.recovering && queue.inflight === 0 && !queue.ready.some((other) => other.attempts > 0)) {
      queue.recovering = false;
    }
  }

  /** A failed send: retried in order when retriable and within budget, otherwise reported. */
  #failed(batch: ProducerBatch, error: Error): void {
    const queue = this.#accumulator.queueFor(batch.topic, batch.partition);
    queue.inflight--;
    const nowMs = this.#settings.clock.monotonicMs();
    const inTime = nowMs - batch.createdAtMs < this.#settings.deliveryTimeoutMs;
    if (
      !isRetriable(error) ||
      batch.attempts >= this.#settings.retries ||
      !inTime ||
      this.#cluster.isClosed
    ) {
      this.#finish(batch, error);
      this.#endRecovery(queue);
      return;
    }
    if (!(error instanceof TideClientError) || staleMetadataCodes.has(error.errorCode)) {
      // Connection failures and leader errors alike: look the leader up again before the retry.
      this.#cluster.invalidate(batch.topic);
      this.#metadata.delete(batch.topic);
    }
    const backoffMs = Math.min(
      this.#settings.retryBackoffMs * 2 ** batch.attempts,
      this.#settings.retryBackoffMaxMs,
    );
    batch.attempts++;
    batch.notBeforeMs = nowMs + backoffMs;
    queue.recovering = true;
    this.#accumulator.requeue(queue, batch);
  }

  /**
   * A batch refused for its sequence or epoch. The first unacknowledged batch of its partition fails
   * (records the SPU acknowledged before it are gone, or another producer took over the id); a later
   * one was refused because of an earlier failure, was not stored, and waits for a new sequence. The
   * epoch is bumped before anything takes a new sequence.
   */
  #sequenceRefused(batch: ProducerBatch, error: Error): void {
    const queue = this.#accumulator.queueFor(batch.topic, batch.partition);
    queue.inflight--;
    this.#identity.requestBump();
    const inTime = this.#settings.clock.monotonicMs() - batch.createdAtMs < this.#settings.deliveryTimeoutMs;
    if (batch.baseSequence === queue.ackedSequence || !inTime || this.#cluster.isClosed) {
      this.#finish(batch, error);
      this.#endRecovery(queue);
      return;
    }
    batch.baseSequence = -1;
    batch.attempts++;
    queue.recovering = true;
    this.#accumulator.requeue(queue, batch);
  }

  #finish(batch: ProducerBatch, error: Error): void {
    batch.fail(error);
    this.#accumulator.release(batch.estimatedBytes - 61);
  }
}

function toTimestamp(timestamp: number | bigint | Date | undefined, clock: Clock): bigint {
  if (timestamp === undefined) return BigInt(clock.nowMs());
  if (timestamp instanceof Date) return BigInt(timestamp.getTime());
  if (typeof timestamp === 'bigint') return timestamp;
  if (!Number.isSafeInteger(timestamp)) {
    throw new TideError(clientErrorCodes.invalidArgument, `timestamp ${timestamp} is not a whole number`);
  }
  return BigInt(timestamp);
}
