import { setTimeout as delay } from 'node:timers/promises';
import { TideClientError } from '../../src/client/errors.ts';
import { Offset } from '../../src/client/offset.ts';
import type { Producer, ProducerOptions } from '../../src/client/producer.ts';
import type { Tide } from '../../src/client/tide.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import type { AckedWrite, ConsumerHistory, ReadRecord } from './checker.ts';

/**
 * The chaos run's clients: writers that send unique values with acks=all and record every outcome,
 * and consumers that tail every partition and record every record in the order they saw it.
 *
 * Each writer has its own producer and sends one record at a time per partition, with no retries
 * inside the producer: a batch then holds one value, and NOT_ENOUGH_REPLICAS (answered before the
 * leader appends) proves that value was never written. Every other failure is indeterminate. With
 * `idempotent`, producers retry instead (and every failure is indeterminate).
 */

export const workloadDefaults = Object.freeze({
  writersPerPartition: 2,
  consumers: 2,
  failureBackoffMs: 100, // ms a writer waits after a failed send
  requestTimeoutMs: 5_000, // ms an acks=all produce may wait at the leader
  consumerRestartMs: 200, // ms before a failed consumer loop resumes from its position
});

export interface TimedAck extends AckedWrite {
  readonly atMs: number;
}

export interface WorkloadOptions {
  readonly topic: string;
  readonly partitions: number;
  readonly runId: string;
  readonly idempotent: boolean;
}

export class Workload {
  readonly attempted = new Map<string, number>();
  readonly acked: TimedAck[] = [];
  readonly failed = new Set<string>();
  readonly consumerHistories: { consumer: string; reads: ReadRecord[] }[] = [];
  indeterminate = 0;
  consumerErrors = 0;
  /** 'on', 'off', or 'unsupported' when the producer refused `idempotent: true`. */
  idempotence: 'on' | 'off' | 'unsupported' = 'off';
  readonly errorSamples: string[] = [];
  readonly #options: WorkloadOptions;
  readonly #stopWriters = new AbortController();
  readonly #stopConsumers = new AbortController();
  readonly #writers: Promise<void>[] = [];
  readonly #consumers: Promise<void>[] = [];
  readonly #producers: Producer[] = [];

  constructor(options: WorkloadOptions) {
    this.#options = options;
  }

  start(producerClient: Tide, consumerClient: Tide): void {
    for (let writer = 0; writer < workloadDefaults.writersPerPartition; writer++) {
      const producer = this.#producer(producerClient);
      this.#producers.push(producer);
      for (let partition = 0; partition < this.#options.partitions; partition++)
        this.#writers.push(this.#write(producer, writer, partition));
    }
    for (let consumer = 0; consumer < workloadDefaults.consumers; consumer++) {
      const history = { consumer: `consumer-${consumer}`, reads: [] as ReadRecord[] };
      this.consumerHistories.push(history);
      for (let partition = 0; partition < this.#options.partitions; partition++)
        this.#consumers.push(this.#consume(consumerClient, history, partition));
    }
  }

  async stopWriters(): Promise<void> {
    this.#stopWriters.abort();
    await Promise.all(this.#writers);
    await Promise.all(this.#producers.map((producer) => producer.close()));
  }

  async stopConsumers(): Promise<void> {
    this.#stopConsumers.abort();
    await Promise.all(this.#consumers);
  }

  /** Where each consumer got to in `partition` (the next offset it would read). */
  positions(partition: number): bigint[] {
    return this.consumerHistories.map((history) => {
      for (let index = history.reads.length - 1; index >= 0; index--) {
        const read = history.reads[index]!;
        if (read.partition === partition) return read.offset + 1n;
      }
      return 0n;
    });
  }

  histories(): ConsumerHistory[] {
    return this.consumerHistories;
  }

  #producer(client: Tide): Producer {
    const options: ProducerOptions = {
      acks: -1,
      retries: 0,
      lingerMs: 0,
      maxInFlight: 1,
      requestTimeoutMs: workloadDefaults.requestTimeoutMs,
      deliveryTimeoutMs: 3 * workloadDefaults.requestTimeoutMs,
      sendTimeoutMs: 3 * workloadDefaults.requestTimeoutMs,
    };
    if (!this.#options.idempotent) return client.producer(this.#options.topic, options);
    try {
      // Idempotence is about retries: this producer retries (within the delivery timeout), and the
      // SPU must store each retried batch once; no failure is then definitive.
      const { retries: _none, ...retrying } = options;
      const producer = client.producer(this.#options.topic, {
        ...retrying,
        deliveryTimeoutMs: 6 * workloadDefaults.requestTimeoutMs,
        idempotent: true,
      });
      this.idempotence = 'on';
      return producer;
    } catch {
      // The idempotent producer is not built yet: run plain and say so in the summary.
      this.idempotence = 'unsupported';
      return client.producer(this.#options.topic, options);
    }
  }

  async #write(producer: Producer, writer: number, partition: number): Promise<void> {
    const signal = this.#stopWriters.signal;
    for (let sequence = 0; !signal.aborted; sequence++) {
      const value = `${this.#options.runId}-w${writer}-p${partition}-${sequence}`;
      this.attempted.set(value, partition);
      try {
        const { offset } = await producer.send({ partition, value });
        this.acked.push({ partition, offset, value, atMs: Date.now() });
      } catch (error) {
        const definitive = this.idempotence !== 'on' && error instanceof TideClientError;
        if (definitive && error.errorCode === errorCodes.NOT_ENOUGH_REPLICAS) this.failed.add(value);
        else this.indeterminate++;
        if (this.errorSamples.length < 10) this.errorSamples.push(String(error));
        await delay(workloadDefaults.failureBackoffMs);
      }
    }
  }

  /** Tails one partition; after an error it resumes after the last offset it read. */
  async #consume(
    client: Tide,
    history: { consumer: string; reads: ReadRecord[] },
    partition: number,
  ): Promise<void> {
    const signal = this.#stopConsumers.signal;
    while (!signal.aborted) {
      const next = this.positions(partition)[this.consumerHistories.indexOf(history)] ?? 0n;
      try {
        const consumer = client.consumer(this.#options.topic, {
          partitions: [partition],
          offset: Offset.absolute(next),
          resetPolicy: 'error',
          signal,
        });
        for await (const record of consumer) {
          history.reads.push({ partition, offset: record.offset, value: record.value?.toString() ?? '' });
        }
      } catch (error) {
        this.consumerErrors++;
        if (this.errorSamples.length < 10) this.errorSamples.push(`consumer: ${String(error)}`);
        await delay(workloadDefaults.consumerRestartMs);
      }
    }
  }
}
