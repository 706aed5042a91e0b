/**
 * One topic with one producer and one consumer on a driver, driven in phases: each phase publishes
 * at a fixed rate (RateSchedule) for some seconds, stamping `process.hrtime.bigint()` (8 bytes,
 * big-endian) at the front of every payload; the consumer, in this same process, subtracts it from
 * its own clock on arrival, so end-to-end latency needs no clock sync. Counters are per phase:
 * acknowledgements are tied to the phase that sent them, receipts by the stamp's time.
 *
 * Payload layout (messageBytes ≥ 16): 0..8 send time (hrtime ns, u64 BE), 8..12 phase (u32 BE),
 * 12..16 sequence number (u32 BE), the rest zeros. The sequence number ties each receipt to its send,
 * so a message delivered twice counts once and draining waits for every recorded message itself,
 * not for a count that a duplicate could satisfy.
 */
import type { BenchConsumer, BenchProducer, Driver } from '../drivers/driver.ts';
import { LatencyHistogram } from './histogram.ts';
import { RateSchedule } from './rate-limiter.ts';

export const sessionDefaults = Object.freeze({
  outstandingMessagesMax: 20_000, // unacknowledged publishes before the producer waits (falls behind)
  drainTimeoutMs: 30_000, // ms to wait for acks and receipts after a phase
  sleepThresholdNs: 2_000_000, // ns: wait with a timer when the next message is further away than this
  // A producer that fell behind catches up in bursts of at most this many sends per event-loop turn,
  // so acks and deliveries (same process) are not starved by its own catch-up.
  burstMessagesMax: 256,
});

export interface PhaseResult {
  readonly ratePerSecond: number;
  readonly seconds: number;
  /** Due by the schedule at the end of the phase. */
  readonly scheduled: number;
  readonly sent: number;
  /** Acknowledged / received before the phase ended. */
  readonly acked: number;
  readonly received: number;
  readonly publishBacklog: number;
  readonly receiveBacklog: number;
  readonly errors: number;
}

export class LoadSession {
  readonly publishLatency = new LatencyHistogram();
  readonly endToEndLatency = new LatencyHistogram();
  readonly publishDelay = new LatencyHistogram();
  readonly #driver: Driver;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #messageBytes: number;
  readonly #producer: BenchProducer;
  #consumer: BenchConsumer | undefined;
  #phase = 0;
  #recording = false;
  #phaseEndNs = 0n;
  #acked = 0; // acks of the current phase before its end
  #received = 0; // receipts of the current phase's messages before its end
  #errors = 0;
  #lastError: unknown;
  #totalSent = 0;
  #totalAcked = 0;
  #totalReceived = 0;
  #waiters: (() => void)[] = [];
  #nextSequence = 0;
  /** Sequence numbers of messages sent while recording and not received yet. */
  #awaitingReceipt = new Set<number>();

  private constructor(
    driver: Driver,
    topic: string,
    partitions: number,
    messageBytes: number,
    producer: BenchProducer,
  ) {
    this.#driver = driver;
    this.#topic = topic;
    this.#partitions = partitions;
    this.#messageBytes = messageBytes;
    this.#producer = producer;
  }

  static async open(
    driver: Driver,
    options: { partitions: number; messageBytes: number; consume: boolean },
  ): Promise<LoadSession> {
    const topic = `bench${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    await driver.createTopic(topic, options.partitions);
    const producer = await driver.createProducer(topic, options.partitions);
    const session = new LoadSession(driver, topic, options.partitions, options.messageBytes, producer);
    if (options.consume) await session.startConsumer();
    return session;
  }

  get totals(): { sent: number; acked: number; received: number; errors: number } {
    return {
      sent: this.#totalSent,
      acked: this.#totalAcked,
      received: this.#totalReceived,
      errors: this.#errors,
    };
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  async startConsumer(): Promise<void> {
    this.#consumer = await this.#driver.createConsumer(this.#topic, this.#partitions, (payload) =>
      this.#onMessage(payload),
    );
  }

  #onMessage(payload: Uint8Array): void {
    const nowNs = process.hrtime.bigint();
    this.#totalReceived++;
    const view = new DataView(payload.buffer, payload.byteOffset, 16);
    const sentNs = view.getBigUint64(0);
    if (view.getUint32(8) === this.#phase && nowNs <= this.#phaseEndNs) this.#received++;
    if (this.#awaitingReceipt.delete(view.getUint32(12))) this.endToEndLatency.recordNs(nowNs - sentNs);
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  #send(partition: number, nowNs: bigint): void {
    const payload = Buffer.alloc(this.#messageBytes);
    payload.writeBigUInt64BE(nowNs, 0);
    const phase = this.#phase;
    payload.writeUInt32BE(phase, 8);
    const sequence = this.#nextSequence;
    this.#nextSequence = (this.#nextSequence + 1) >>> 0;
    payload.writeUInt32BE(sequence, 12);
    const recording = this.#recording;
    if (recording && this.#consumer !== undefined) this.#awaitingReceipt.add(sequence);
    this.#totalSent++;
    this.#producer.send(partition, payload).then(
      () => {
        const ackNs = process.hrtime.bigint();
        this.#totalAcked++;
        if (phase === this.#phase && ackNs <= this.#phaseEndNs) this.#acked++;
        if (recording) this.publishLatency.recordNs(ackNs - nowNs);
        this.#wake();
      },
      (error: unknown) => {
        this.#errors++;
        this.#lastError = error;
        this.#awaitingReceipt.delete(sequence); // never stored, so never received
        this.#totalAcked++; // not pending any more
        this.#wake();
      },
    );
  }

  /** Publishes at `ratePerSecond` for `seconds`; with `record`, fills the histograms. */
  async phase(ratePerSecond: number, seconds: number, record: boolean): Promise<PhaseResult> {
    this.#phase++;
    this.#acked = 0;
    this.#received = 0;
    this.#recording = record;
    const startNs = process.hrtime.bigint();
    this.#phaseEndNs = startNs + BigInt(Math.round(seconds * 1e9));
    const schedule = new RateSchedule(ratePerSecond, startNs);
    let partition = 0;
    for (;;) {
      let nowNs = process.hrtime.bigint();
      if (nowNs >= this.#phaseEndNs) break;
      let due = schedule.due(nowNs);
      let burst = 0;
      while (
        due > 0 &&
        burst++ < sessionDefaults.burstMessagesMax &&
        this.#totalSent - this.#totalAcked < sessionDefaults.outstandingMessagesMax
      ) {
        const delayNs = schedule.take(nowNs);
        if (record) this.publishDelay.recordNs(delayNs);
        this.#send(partition, nowNs);
        partition = (partition + 1) % this.#partitions;
        due--;
        nowNs = process.hrtime.bigint();
      }
      const blocked = due > 0 && this.#totalSent - this.#totalAcked >= sessionDefaults.outstandingMessagesMax;
      await this.#pause(schedule.waitNs(nowNs), blocked);
    }
    const scheduled = schedule.due(this.#phaseEndNs) + schedule.taken;
    this.#recording = false;
    const result: PhaseResult = {
      ratePerSecond,
      seconds,
      scheduled,
      sent: schedule.taken,
      acked: this.#acked,
      received: this.#received,
      publishBacklog: Math.max(0, scheduled - this.#acked),
      receiveBacklog: this.#consumer === undefined ? 0 : Math.max(0, this.#acked - this.#received),
      errors: this.#errors,
    };
    // Late receipts of this phase still count towards its end-to-end latency until the next phase.
    this.#recording = record;
    return result;
  }

  /** Waits for an ack or receipt (when blocked on outstanding messages) or until the next slot. */
  #pause(waitNs: number, blocked: boolean): Promise<void> {
    if (blocked) return new Promise((resolve) => this.#waiters.push(resolve));
    if (waitNs > sessionDefaults.sleepThresholdNs)
      return new Promise((resolve) => setTimeout(resolve, Math.floor(waitNs / 1e6) - 1));
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Publishes `count` messages as fast as the outstanding limit lets; resolves when all are acked. */
  async publishAll(count: number): Promise<{ seconds: number }> {
    this.#phase++;
    const startNs = process.hrtime.bigint();
    let partition = 0;
    for (let sent = 0; sent < count; ) {
      let burst = 0;
      const room = (): boolean => this.#totalSent - this.#totalAcked < sessionDefaults.outstandingMessagesMax;
      while (sent < count && burst++ < sessionDefaults.burstMessagesMax && room()) {
        this.#send(partition, process.hrtime.bigint());
        partition = (partition + 1) % this.#partitions;
        sent++;
      }
      await this.#pause(0, !room());
    }
    await this.waitUntil(() => this.#totalAcked >= this.#totalSent, 600_000);
    return { seconds: Number(process.hrtime.bigint() - startNs) / 1e9 };
  }

  /** Waits until `condition` holds (re-checked on every ack or receipt, and every 100 ms). */
  async waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits until everything sent is acknowledged and (with a consumer) received. */
  drain(timeoutMs = sessionDefaults.drainTimeoutMs): Promise<boolean> {
    return this.waitUntil(
      () =>
        this.#totalAcked >= this.#totalSent &&
        (this.#consumer === undefined ||
          (this.#totalReceived >= this.#totalAcked && this.#awaitingReceipt.size === 0)),
      timeoutMs,
    );
  }

  resetHistograms(): void {
    this.publishLatency.reset();
    this.endToEndLatency.reset();
    this.publishDelay.reset();
    this.#awaitingReceipt.clear();
  }

  async close(): Promise<void> {
    this.#recording = false;
    await this.#producer.close().catch(() => undefined);
    await this.#consumer?.close().catch(() => undefined);
  }
}
