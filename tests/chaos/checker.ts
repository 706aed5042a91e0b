/**
 * The chaos run's checker: a pure function from what the workload observed to the anomalies it
 * proves. Nothing here does I/O, so it is tested on hand-made histories (checker.test.ts).
 *
 * What counts as truth: the final read (every partition from offset 0 to its high watermark after
 * the cluster healed). Every acknowledged write and every record a consumer saw must be in it, at
 * the offset the acknowledgement or the consumer reported.
 */

/** A write the producer saw acknowledged (acks=all) at this partition and offset. */
export interface AckedWrite {
  readonly partition: number;
  readonly offset: bigint;
  readonly value: string;
}

/** A record read from the log: by a live consumer (`consumer` names it) or by the final read. */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly value: string;
}

/** One continuous consumer's reads, in the order it received them. */
export interface ConsumerHistory {
  readonly consumer: string;
  readonly reads: readonly ReadRecord[];
}

/** Replicas whose bytes differ below the high watermark (found by comparing segment files). */
export interface ReplicaDivergence {
  readonly partition: number;
  readonly detail: string;
}

export interface History {
  /** Every value a producer tried to write, with its partition. */
  readonly attempted: ReadonlyMap<string, number>;
  readonly acked: readonly AckedWrite[];
  /** Values whose write the SPU refused before appending (NOT_ENOUGH_REPLICAS): never in the log. */
  readonly failed: ReadonlySet<string>;
  readonly consumers: readonly ConsumerHistory[];
  readonly finalRead: readonly ReadRecord[];
  readonly replicaDivergences: readonly ReplicaDivergence[];
  /** With an idempotent producer a value stored twice is an anomaly; otherwise only information. */
  readonly idempotent: boolean;
}

export const anomalyKinds = Object.freeze({
  lostWrite: 'lost-write', // acknowledged (or read by a consumer) but not in the final read
  inconsistentOffset: 'inconsistent-offset', // one offset with two values
  phantomValue: 'phantom-value', // read a value no producer ever attempted
  failedValueRead: 'failed-value-read', // read a value whose write was definitively refused
  nonMonotonicRead: 'non-monotonic-read', // a consumer's offsets went back or repeated
  duplicate: 'duplicate', // one value at two offsets
  replicaDivergence: 'replica-divergence', // replicas' logs differ below the high watermark
  wrongPartition: 'wrong-partition', // a value found in a partition it was not written to
});

export type AnomalyKind = (typeof anomalyKinds)[keyof typeof anomalyKinds];

export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly partition: number;
  readonly offset?: bigint;
  readonly value?: string;
  readonly detail: string;
  /** False for information only (duplicates from a non-idempotent producer's retries). */
  readonly fatal: boolean;
}

export interface CheckResult {
  readonly anomalies: readonly Anomaly[];
  /** Whether any anomaly is fatal: the run failed. */
  readonly failed: boolean;
  readonly counts: Readonly<Record<AnomalyKind, number>>;
}

function slot(partition: number, offset: bigint): string {
  return `${partition}/${offset}`;
}

/** Checks a whole history; each anomaly is reported once per (kind, partition, offset or value). */
export function checkHistory(history: History): CheckResult {
  const anomalies: Anomaly[] = [];
  const report = (anomaly: Anomaly): void => {
    anomalies.push(anomaly);
  };
  const truth = indexFinalRead(history.finalRead, history.idempotent, report);
  checkAcks(history.acked, truth, report);
  for (const consumer of history.consumers) checkConsumer(consumer, truth, report);
  checkOrigins(history, report);
  for (const divergence of history.replicaDivergences) {
    report({
      kind: anomalyKinds.replicaDivergence,
      partition: divergence.partition,
      detail: divergence.detail,
      fatal: true,
    });
  }
  const counts = Object.fromEntries(Object.values(anomalyKinds).map((kind) => [kind, 0])) as Record<
    AnomalyKind,
    number
  >;
  for (const anomaly of anomalies) counts[anomaly.kind]++;
  return { anomalies, failed: anomalies.some((anomaly) => anomaly.fatal), counts };
}

/** The final read as offset → value; two values at one offset or one value twice are reported. */
function indexFinalRead(
  finalRead: readonly ReadRecord[],
  idempotent: boolean,
  report: (anomaly: Anomaly) => void,
): Map<string, string> {
  const bySlot = new Map<string, string>();
  const byValue = new Map<string, ReadRecord>();
  for (const record of finalRead) {
    const key = slot(record.partition, record.offset);
    const known = bySlot.get(key);
    if (known !== undefined && known !== record.value) {
      report({
        kind: anomalyKinds.inconsistentOffset,
        partition: record.partition,
        offset: record.offset,
        value: record.value,
        detail: `final read has both "${known}" and "${record.value}" at offset ${record.offset}`,
        fatal: true,
      });
      continue;
    }
    bySlot.set(key, record.value);
    const first = byValue.get(record.value);
    if (first !== undefined && (first.offset !== record.offset || first.partition !== record.partition)) {
      report({
        kind: anomalyKinds.duplicate,
        partition: record.partition,
        offset: record.offset,
        value: record.value,
        detail: `"${record.value}" stored at ${first.partition}/${first.offset} and ${record.partition}/${record.offset}`,
        fatal: idempotent,
      });
    } else byValue.set(record.value, record);
  }
  return bySlot;
}

/** Every acknowledgement must be in the final read at its own offset. */
function checkAcks(
  acked: readonly AckedWrite[],
  truth: ReadonlyMap<string, string>,
  report: (anomaly: Anomaly) => void,
): void {
  const ackedAt = new Map<string, string>();
  for (const ack of acked) {
    const key = slot(ack.partition, ack.offset);
    const other = ackedAt.get(key);
    if (other !== undefined && other !== ack.value) {
      report({
        kind: anomalyKinds.inconsistentOffset,
        partition: ack.partition,
        offset: ack.offset,
        value: ack.value,
        detail: `offset ${ack.offset} acknowledged for both "${other}" and "${ack.value}"`,
        fatal: true,
      });
    }
    ackedAt.set(key, ack.value);
    const stored = truth.get(key);
    if (stored === ack.value) continue;
    report({
      kind: stored === undefined ? anomalyKinds.lostWrite : anomalyKinds.inconsistentOffset,
      partition: ack.partition,
      offset: ack.offset,
      value: ack.value,
      detail:
        stored === undefined
          ? `"${ack.value}" acknowledged at offset ${ack.offset}, absent from the final read`
          : `"${ack.value}" acknowledged at offset ${ack.offset}, which holds "${stored}"`,
      fatal: true,
    });
  }
}

/** A consumer's offsets rise strictly per partition, and what it read is what the log holds. */
function checkConsumer(
  consumer: ConsumerHistory,
  truth: ReadonlyMap<string, string>,
  report: (anomaly: Anomaly) => void,
): void {
  const lastOffset = new Map<number, bigint>();
  for (const read of consumer.reads) {
    const previous = lastOffset.get(read.partition);
    if (previous !== undefined && read.offset <= previous) {
      report({
        kind: anomalyKinds.nonMonotonicRead,
        partition: read.partition,
        offset: read.offset,
        value: read.value,
        detail: `${consumer.consumer} read offset ${read.offset} after ${previous}`,
        fatal: true,
      });
    }
    lastOffset.set(read.partition, read.offset);
    const stored = truth.get(slot(read.partition, read.offset));
    if (stored === read.value) continue;
    report({
      kind: stored === undefined ? anomalyKinds.lostWrite : anomalyKinds.inconsistentOffset,
      partition: read.partition,
      offset: read.offset,
      value: read.value,
      detail:
        stored === undefined
          ? `${consumer.consumer} read "${read.value}" at offset ${read.offset}, absent from the final read`
          : `${consumer.consumer} read "${read.value}" at offset ${read.offset}, which now holds "${stored}"`,
      fatal: true,
    });
  }
}

/** Every value read was attempted, on that partition, and not refused before it was appended. */
function checkOrigins(history: History, report: (anomaly: Anomaly) => void): void {
  const seen = new Set<string>();
  const everyRead = [history.finalRead, ...history.consumers.map((consumer) => consumer.reads)];
  for (const reads of everyRead) {
    for (const read of reads) {
      const key = `${read.partition}/${read.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const partition = history.attempted.get(read.value);
      const where = { partition: read.partition, offset: read.offset, value: read.value, fatal: true };
      if (partition === undefined) {
        report({ ...where, kind: anomalyKinds.phantomValue, detail: `"${read.value}" was never written` });
      } else if (partition !== read.partition) {
        report({
          ...where,
          kind: anomalyKinds.wrongPartition,
          detail: `"${read.value}" was written to partition ${partition}`,
        });
      }
      if (history.failed.has(read.value)) {
        report({
          ...where,
          kind: anomalyKinds.failedValueRead,
          detail: `"${read.value}" was refused (NOT_ENOUGH_REPLICAS) yet is in the log`,
        });
      }
    }
  }
}

/** A short text per anomaly kind with its count, for summaries. */
export function describeResult(result: CheckResult): string {
  const lines = Object.entries(result.counts)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind}: ${count}`);
  return lines.length === 0 ? 'no anomalies' : lines.join(', ');
}
