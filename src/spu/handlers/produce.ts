import { limits } from '../../base/limits.ts';
import type { Logger } from '../../base/logger.ts';
import type { Counter } from '../../base/metrics.ts';
import { effectiveTopicConfig } from '../../metadata/topic-config.ts';
import { batchAttributes, batchHeader, splitBatches } from '../../protocol/batch-header.ts';
import { type Codec, codecIds, UnsupportedCodecError } from '../../protocol/compression/compression.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createProduceResponse,
  createProduceResponsePartitionProduceResponse,
  createProduceResponseTopicProduceResponse,
  type ProduceRequest,
  type ProduceRequestPartitionProduceData,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
} from '../../protocol/messages/produce.ts';
import { ProtocolError } from '../../protocol/protocol-error.ts';
import { InvalidRecordError } from '../../protocol/record-framing.ts';
import type { AppendResult } from '../../storage/partition-log.ts';
import { ProducerStateError, producerStateErrorCodes } from '../../storage/producer-state.ts';
import { takeAppendTurn } from '../append-order.ts';
import { CodecSlots } from '../codec-slots.ts';
import type { ApiHandler, RequestContext, SpuServices } from '../handler.ts';
import type { Partition } from '../partitions.ts';
import { validateProducedBatch } from '../produce-validation.ts';
import { topicCodec } from '../recompress.ts';
import { partitionFailure } from '../storage-errors.ts';
import { leaderPartition } from './leadership.ts';

/**
 * Produce: validates each partition's batches (size, no transactions, then framing, CRC, codec and
 * every record's framing in produce-validation.ts), applies the topic's compression.type, appends and
 * answers with the base offset. Batches stay Buffers (views into the request frame, whose offsets and
 * epoch the log rewrites in place); records are walked as bytes, never decoded. Partitions of one request are appended concurrently; a partition either gets
 * all of its batches or none of them.
 *
 * acks=0 appends and sends no response; acks=1 answers after the local append. acks=-1 (all) first
 * checks that the ISR has at least the topic's min.insync.replicas members (NOT_ENOUGH_REPLICAS,
 * nothing appended, otherwise), appends, then waits until the high watermark passes the batches:
 * every ISR member has them. Without that within the request's timeout (capped by
 * limits.produceTimeoutMsMax) the answer is REQUEST_TIMED_OUT, though the batches stay appended.
 *
 * Batches of idempotent producers (producerId ≥ 0) are checked by the log in append order against
 * the partition's producer state (storage/producer-state.ts): a retry of one of the producer's last
 * five batches is answered with its original base offset and error NONE, nothing appended; a gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER and an old epoch INVALID_PRODUCER_EPOCH, for the whole partition.
 */

/** Produce v0-2 carry message sets of magic 0/1, which Tide never stores. */
const recordBatchVersionMin = 3;
/** Kafka accepts zstd batches from Produce v7 (KIP-110); older clients cannot read them back. */
const zstdVersionMin = 7;
/** INVALID_RECORD exists from Produce v8; earlier clients know only CORRUPT_MESSAGE. */
const invalidRecordVersionMin = 8;

interface ProduceMetrics {
  readonly bytes: Counter;
  readonly batches: Counter;
}

const metricsBySpu = new WeakMap<SpuServices, ProduceMetrics>();
const codecSlotsBySpu = new WeakMap<SpuServices, CodecSlots>();

function codecSlotsOf(spu: SpuServices): CodecSlots {
  let slots = codecSlotsBySpu.get(spu);
  if (slots === undefined) {
    slots = new CodecSlots(limits.codecSlotsMax);
    codecSlotsBySpu.set(spu, slots);
  }
  return slots;
}

function produceMetrics(spu: SpuServices): ProduceMetrics {
  let metrics = metricsBySpu.get(spu);
  if (metrics === undefined) {
    metrics = {
      bytes: spu.metrics.counter(
        'tide_produced_bytes_total',
        'bytes of record batches appended by producers',
      ),
      batches: spu.metrics.counter('tide_produced_batches_total', 'record batches appended by producers'),
    };
    metricsBySpu.set(spu, metrics);
  }
  return metrics;
}

/** What one partition's append needs besides its data. */
interface PartitionJob {
  readonly topic: string;
  readonly acks: number;
  readonly timeoutMs: number;
  readonly codec: Codec | undefined;
  readonly version: number;
  /** INVALID_RECORD where the client's Produce version knows it, else CORRUPT_MESSAGE. */
  readonly invalidRecord: number;
  readonly codecSlots: CodecSlots;
  readonly spu: SpuServices;
  readonly logger: Logger;
}

type PartitionAnswer = ProduceResponsePartitionProduceResponse;

function refused(index: number, errorCode: number, errorMessage: string): PartitionAnswer {
  return createProduceResponsePartitionProduceResponse({ index, errorCode, errorMessage });
}

export const produceHandler: ApiHandler<ProduceRequest, ProduceResponse> = async (
  request: ProduceRequest,
  context: RequestContext,
  spu: SpuServices,
) => {
  const logger = spu.logger.child({ component: 'produce', connection: context.connection.id });
  const refusal = requestRefusal(request, context.apiVersion);
  const responses = await Promise.all(
    request.topicData.map(async (topic) => {
      const codec = topicCodec(spu.cluster.topic(topic.name)?.configs['compression.type']);
      const job: PartitionJob = {
        topic: topic.name,
        acks: request.acks,
        timeoutMs: Math.max(0, Math.min(request.timeoutMs, spu.config.limits.produceTimeoutMsMax)),
        codec,
        version: context.apiVersion,
        invalidRecord:
          context.apiVersion >= invalidRecordVersionMin
            ? errorCodes.INVALID_RECORD
            : errorCodes.CORRUPT_MESSAGE,
        codecSlots: codecSlotsOf(spu),
        spu,
        logger,
      };
      const topicRefusal = refusal ?? internalTopicRefusal(spu, topic.name);
      const partitionResponses = await Promise.all(
        topic.partitionData.map((data) =>
          topicRefusal === undefined
            ? producePartition(data, job)
            : refused(data.index, topicRefusal.errorCode, topicRefusal.errorMessage),
        ),
      );
      return createProduceResponseTopicProduceResponse({ name: topic.name, partitionResponses });
    }),
  );
  if (request.acks === 0) return undefined;
  return createProduceResponse({ responses });
};

/** A reason to refuse every partition of the request, or undefined. */
function requestRefusal(
  request: ProduceRequest,
  version: number,
): { errorCode: number; errorMessage: string } | undefined {
  if (version < recordBatchVersionMin)
    return {
      errorCode: errorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      errorMessage: `Produce v${version} carries message format v0/v1, which Tide does not store; use v3+`,
    };
  if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1)
    return { errorCode: errorCodes.INVALID_REQUIRED_ACKS, errorMessage: `acks must be -1, 0 or 1` };
  if (request.transactionalId !== null)
    return {
      errorCode: errorCodes.INVALID_TXN_STATE,
      errorMessage: 'Tide does not support transactions yet',
    };
  return undefined;
}

/**
 * Internal topics (`__consumer_offsets`) are written only by the SPU itself (the group coordinator
 * appends to the partition directly): a client's record there could rewrite a group's committed
 * offsets. Kafka's ReplicaManager refuses such appends with InvalidTopicException, answered
 * INVALID_TOPIC_EXCEPTION, and so does Tide.
 */
function internalTopicRefusal(
  spu: SpuServices,
  topic: string,
): { errorCode: number; errorMessage: string } | undefined {
  if (spu.cluster.topic(topic)?.isInternal !== true) return undefined;
  return {
    errorCode: errorCodes.INVALID_TOPIC_EXCEPTION,
    errorMessage: `Cannot append to internal topic ${topic}`,
  };
}

async function producePartition(
  data: ProduceRequestPartitionProduceData,
  job: PartitionJob,
): Promise<PartitionAnswer> {
  const partition = leaderPartition(job.spu, job.topic, data.index);
  if (typeof partition === 'number')
    return refused(
      data.index,
      partition,
      partition === errorCodes.NOT_LEADER_OR_FOLLOWER
        ? `this SPU does not lead partition ${data.index} of topic ${job.topic}`
        : `topic ${job.topic} has no partition ${data.index}`,
    );
  const turn = takeAppendTurn(partition);
  let submitted: Submitted | PartitionAnswer;
  try {
    submitted = await submitInTurn(data, partition, job, turn.ready);
  } finally {
    turn.release();
  }
  if ('errorCode' in submitted) return submitted;
  try {
    const result = await submitted.append;
    const metrics = produceMetrics(job.spu);
    metrics.bytes.add(submitted.bytes);
    metrics.batches.add(submitted.batches.length);
    if (job.acks === -1) {
      const problem = await awaitReplication(partition, result.lastOffset + 1n, job);
      if (problem !== undefined) return refused(data.index, problem.errorCode, problem.errorMessage);
    }
    return createProduceResponsePartitionProduceResponse({
      index: data.index,
      baseOffset: result.baseOffset,
      logAppendTimeMs: result.logAppendTimeMs === undefined ? -1n : BigInt(result.logAppendTimeMs),
      logStartOffset: partition.log.logStartOffset,
    });
  } catch (error) {
    if (error instanceof ProducerStateError)
      return refused(data.index, producerErrorCode(error), error.message);
    const failure = partitionFailure(error, job.logger, { topic: job.topic, partition: data.index });
    return refused(data.index, failure.errorCode, failure.errorMessage);
  }
}

interface Submitted {
  readonly append: Promise<AppendResult>;
  readonly batches: readonly Buffer[];
  readonly bytes: number;
}

/** Checks the batches (concurrently with other requests), then submits the append in arrival order. */
async function submitInTurn(
  data: ProduceRequestPartitionProduceData,
  partition: Partition,
  job: PartitionJob,
  turn: Promise<void>,
): Promise<Submitted | PartitionAnswer> {
  const prepared = await prepareBatches(data, partition, job);
  await turn;
  if ('errorCode' in prepared) return prepared;
  // Checking took turns of the event loop, in which leadership may have moved.
  if (!partition.leading || job.spu.partitions.get(job.topic, data.index) !== partition)
    return refused(
      data.index,
      errorCodes.NOT_LEADER_OR_FOLLOWER,
      `leadership of partition ${data.index} of ${job.topic} moved while its batches were checked`,
    );
  const shortIsr = job.acks === -1 ? isrShortfall(partition, job) : undefined;
  if (shortIsr !== undefined) return refused(data.index, errorCodes.NOT_ENOUGH_REPLICAS, shortIsr);
  return { append: partition.appendAsLeader(prepared.batches), ...prepared };
}

/**
 * Kafka answers a stale epoch with INVALID_PRODUCER_EPOCH (47) on every Produce version (clients
 * before KIP-588 called the same code ProducerFenced); PRODUCER_FENCED (90) is for transactions.
 */
function producerErrorCode(error: ProducerStateError): number {
  return error.code === producerStateErrorCodes.invalidProducerEpoch
    ? errorCodes.INVALID_PRODUCER_EPOCH
    : errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER;
}

/** Why an acks=all produce must be refused before appending (ISR below min.insync.replicas). */
function isrShortfall(partition: Partition, job: PartitionJob): string | undefined {
  const configs = effectiveTopicConfig(job.spu.cluster.topic(job.topic)?.configs ?? {});
  const minInSync = Number(configs['min.insync.replicas']);
  const isrSize = partition.replicaSet.replicated ? partition.replicaSet.isr.length : 1;
  if (!(isrSize < minInSync)) return undefined;
  return `the ISR of partition ${partition.index} of ${job.topic} has ${isrSize} replicas, min.insync.replicas is ${minInSync}`;
}

/**
 * Waits until the high watermark reaches `endOffset` (every ISR member holds the batches), the
 * partition stops being led here, or the timeout; answers the problem, or undefined when replicated.
 */
async function awaitReplication(
  partition: Partition,
  endOffset: bigint,
  job: PartitionJob,
): Promise<{ errorCode: number; errorMessage: string } | undefined> {
  const deadlineMs = job.spu.clock.monotonicMs() + job.timeoutMs;
  for (;;) {
    if (partition.log.highWatermark >= endOffset) return undefined;
    if (!partition.leading || job.spu.partitions.get(job.topic, partition.index) !== partition)
      return {
        errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER,
        errorMessage: `leadership of partition ${partition.index} of ${job.topic} moved before replication`,
      };
    const remainingMs = deadlineMs - job.spu.clock.monotonicMs();
    if (remainingMs <= 0)
      return {
        errorCode: errorCodes.REQUEST_TIMED_OUT,
        errorMessage: `the ISR did not replicate offset ${endOffset - 1n} within ${job.timeoutMs} ms`,
      };
    await partition.nextData(remainingMs);
  }
}

/**
 * Splits and checks one partition's batches one at a time (validateProducedBatch), recompressing when
 * the topic demands it. Any problem refuses the whole partition: nothing of it is appended.
 */
async function prepareBatches(
  data: ProduceRequestPartitionProduceData,
  partition: Partition,
  job: PartitionJob,
): Promise<{ batches: Buffer[]; bytes: number } | PartitionAnswer> {
  const records = data.records;
  if (records === null || records.length === 0)
    return refused(data.index, job.invalidRecord, 'a produce request must carry at least one record batch');
  const { batches, partialBytes } = splitBatches(records);
  if (partialBytes > 0)
    return refused(
      data.index,
      errorCodes.CORRUPT_MESSAGE,
      `${partialBytes} bytes after the last whole batch`,
    );
  const batchBytesMax = partition.log.config.batchBytesMax;
  let bytes = 0;
  for (let at = 0; at < batches.length; at++) {
    const sent = batches[at]!;
    const problem = sizeProblem(sent, batchBytesMax, data.index) ?? kindProblem(sent, job, data.index);
    if (problem !== undefined) return problem;
    let stored: Buffer;
    try {
      stored = await validateProducedBatch(sent, { topicCodec: job.codec, codecSlots: job.codecSlots });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return refused(data.index, validationErrorCode(error, job), error.message);
    }
    const storedProblem = stored === sent ? undefined : sizeProblem(stored, batchBytesMax, data.index);
    if (storedProblem !== undefined) return storedProblem;
    batches[at] = stored;
    bytes += stored.length;
  }
  return { batches, bytes };
}

function validationErrorCode(error: ProtocolError, job: PartitionJob): number {
  if (error instanceof UnsupportedCodecError) return errorCodes.UNSUPPORTED_COMPRESSION_TYPE;
  if (error instanceof InvalidRecordError) return job.invalidRecord;
  return errorCodes.CORRUPT_MESSAGE;
}

function sizeProblem(batch: Buffer, batchBytesMax: number, index: number): PartitionAnswer | undefined {
  if (batch.length <= batchBytesMax) return undefined;
  return refused(
    index,
    errorCodes.MESSAGE_TOO_LARGE,
    `batch of ${batch.length} bytes exceeds max.message.bytes ${batchBytesMax}`,
  );
}

/** Transactional or control batches, zstd to old clients (refused), read from a header whose framing is checked later. */
function kindProblem(batch: Buffer, job: PartitionJob, index: number): PartitionAnswer | undefined {
  if (batch.length < batchHeader.bytes) return undefined;
  const attributes = batch.readInt16BE(batchHeader.attributes);
  if ((attributes & batchAttributes.transactional) !== 0)
    return refused(index, errorCodes.INVALID_TXN_STATE, 'Tide does not support transactional batches yet');
  if ((attributes & batchAttributes.control) !== 0)
    return refused(index, job.invalidRecord, 'producers may not write control batches');
  if ((attributes & batchAttributes.codecMask) === codecIds.zstd && job.version < zstdVersionMin)
    return refused(
      index,
      errorCodes.UNSUPPORTED_COMPRESSION_TYPE,
      `zstd batches need Produce v${zstdVersionMin}+`,
    );
  return undefined;
}
