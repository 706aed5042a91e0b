import type { Counter } from '../../base/metrics.ts';
import type { ResponseReservation } from '../../net/response-budget.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createFetchResponse,
  createFetchResponseFetchableTopicResponse,
  createFetchResponsePartitionData,
  type FetchRequest,
  type FetchRequestPartition,
  type FetchResponse,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from '../../protocol/messages/fetch.ts';
import { FetchWakeup } from '../fetch-wait.ts';
import type { ApiHandler, RequestContext, SpuServices } from '../handler.ts';
import type { Partition } from '../partitions.ts';
import { partitionFailure } from '../storage-errors.ts';
import { leaderEpochProblem } from './leader-epoch.ts';
import { leaderPartition } from './leadership.ts';

/**
 * Fetch: whole batches from each requested partition, as stored (never decoded), within the request's
 * byte limits, long-polling until `minBytes` are available.
 *
 * Limits: each partition gives at most its `partitionMaxBytes`, the response at most `maxBytes`
 * (capped by limits.fetchResponseBytesMax), except that the first partition with data always gives at
 * least one whole batch, however large, so a consumer never stalls on a batch bigger than its limits.
 *
 * Long poll: when fewer than `minBytes` are available (and no partition has an error), the fetch parks
 * until an append or high-watermark move on one of its partitions, `maxWaitMs` (capped by
 * limits.fetchWaitMsMax), or the connection closing; each wake-up reads again.
 *
 * Visibility: consumers (replicaId < 0) read below the high watermark whatever their isolation level:
 * without transactions the last stable offset is the high watermark. Followers (replicaId ≥ 0) read up
 * to the log end, as replication needs. A follower's fetch offset is its log end offset: the leader
 * records it (for the ISR) and moves the high watermark to the smallest log end over the ISR.
 *
 * Channels: a follower's fetch acknowledges writes, so only the replication channel (the SPU's
 * internal listener, `replicaFetchHandler`) takes one, and only from an assigned replica of that
 * partition other than this SPU; anything else there gets NOT_LEADER_OR_FOLLOWER, as Kafka answers a
 * non-replica. The Kafka listener (`fetchHandler`) serves consumers only: a fetch there claiming a
 * replica id gets NOT_LEADER_OR_FOLLOWER for every partition and moves nothing.
 *
 * Memory: before reading the fetch takes room for `maxBytes` of response from its connection's and
 * the SPU's response budgets (net/response-budget.ts), so responses are built only when there is room
 * for them: a client that pipelines many large fetches and reads nothing gets one built at a time.
 * While parked it gives back the SPU's share and keeps its connection's.
 *
 * Fetch sessions (v7+): Tide answers every fetch in full and never creates a session (sessionId 0),
 * which every client accepts by sending full requests again. A request naming a session (non-zero id,
 * other than one closing it with epoch -1) gets FETCH_SESSION_ID_NOT_FOUND, so the client starts over
 * with a full request; forgotten topics are therefore irrelevant and ignored.
 */

/** Fetch epoch that closes a session (the request itself is then a full, sessionless fetch). */
const finalSessionEpoch = -1;

const metricsBySpu = new WeakMap<SpuServices, Counter>();

function fetchedBytes(spu: SpuServices): Counter {
  let counter = metricsBySpu.get(spu);
  if (counter === undefined) {
    counter = spu.metrics.counter('tide_fetched_bytes_total', 'bytes of record batches sent to fetchers');
    metricsBySpu.set(spu, counter);
  }
  return counter;
}

interface FetchPlan {
  readonly maxBytes: number;
  readonly minBytes: number;
  readonly maxWaitMs: number;
  /** Followers read to the log end; consumers to the high watermark. */
  readonly follower: boolean;
  readonly replicaId: number;
}

interface FetchRound {
  readonly responses: FetchResponseFetchableTopicResponse[];
  readonly bytes: number;
  readonly failed: boolean;
}

/** Where a fetch arrived: the Kafka listener (consumers) or the replication channel (followers). */
export type FetchChannel = 'client' | 'replication';

/** Fetch on the Kafka listener: consumers only. */
export const fetchHandler: ApiHandler<FetchRequest, FetchResponse> = (request, context, spu) =>
  servedFetch(request, context, spu, 'client');

/** Fetch on the replication channel: followers only, each an assigned replica of its partitions. */
export const replicaFetchHandler: ApiHandler<FetchRequest, FetchResponse> = (request, context, spu) =>
  servedFetch(request, context, spu, 'replication');

async function servedFetch(
  request: FetchRequest,
  context: RequestContext,
  spu: SpuServices,
  channel: FetchChannel,
): Promise<FetchResponse | undefined> {
  if (request.sessionId !== 0 && request.sessionEpoch !== finalSessionEpoch)
    return createFetchResponse({ errorCode: errorCodes.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0 });
  const follower = request.replicaId >= 0;
  if (follower !== (channel === 'replication')) return refusedFetch(request);
  const limits = spu.config.limits;
  const plan: FetchPlan = {
    maxBytes: Math.max(0, Math.min(request.maxBytes, limits.fetchResponseBytesMax)),
    minBytes: request.minBytes,
    maxWaitMs: Math.max(0, Math.min(request.maxWaitMs, limits.fetchWaitMsMax)),
    follower,
    replicaId: request.replicaId,
  };
  const deadlineMs = spu.clock.monotonicMs() + plan.maxWaitMs;
  const partitions = requestedPartitions(request, spu);
  let lastRound = false;
  // Room for the response is taken before reading and given back once it is built (the connection
  // then counts it). A parked fetch keeps its connection's share, so fetches behind it cannot build
  // responses that would wait behind it, and gives back the SPU's until it wakes.
  const reservation = await reserveResponse(context, plan.maxBytes);
  try {
    for (;;) {
      if (context.connection.closed.aborted) return undefined;
      const wakeup = new FetchWakeup(partitions);
      try {
        const round = await readRound(request, plan, spu);
        const remainingMs = deadlineMs - spu.clock.monotonicMs();
        if (round.bytes >= plan.minBytes || round.failed || remainingMs <= 0 || lastRound) {
          fetchedBytes(spu).add(round.bytes);
          return createFetchResponse({
            errorCode: errorCodes.NONE,
            sessionId: 0,
            responses: round.responses,
          });
        }
        reservation.suspend();
        const reason = await wakeup.wait(remainingMs, context.connection.closed);
        if (reason === 'closed') return undefined;
        // At the deadline the answer is one more read, with whatever has arrived by then.
        if (reason === 'timeout') lastRound = true;
        await reservation.resume();
      } finally {
        wakeup.dispose();
      }
    }
  } finally {
    reservation.release();
  }
}

/** Waits for room for a response of up to `maxBytes` on the connection and in the SPU. */
function reserveResponse(context: RequestContext, maxBytes: number): Promise<ResponseReservation> {
  const connection = context.connection;
  if (connection.reserveResponseBytes === undefined) return Promise.resolve(unbounded);
  return connection.reserveResponseBytes(maxBytes);
}

const unbounded: ResponseReservation = {
  release: () => undefined,
  suspend: () => undefined,
  resume: async () => undefined,
};

/** A fetch on the wrong channel: every partition refused, nothing read or recorded. */
function refusedFetch(request: FetchRequest): FetchResponse {
  const responses = request.topics.map((topic) =>
    createFetchResponseFetchableTopicResponse({
      topic: topic.topic,
      partitions: topic.partitions.map((wanted) =>
        failedPartition(wanted.partition, errorCodes.NOT_LEADER_OR_FOLLOWER),
      ),
    }),
  );
  return createFetchResponse({ errorCode: errorCodes.NONE, sessionId: 0, responses });
}

function requestedPartitions(request: FetchRequest, spu: SpuServices): Partition[] {
  const found: Partition[] = [];
  for (const topic of request.topics) {
    for (const { partition } of topic.partitions) {
      const led = leaderPartition(spu, topic.topic, partition);
      if (typeof led !== 'number') found.push(led);
    }
  }
  return found;
}

/** Reads every requested partition once, in request order, sharing the response byte budget. */
async function readRound(request: FetchRequest, plan: FetchPlan, spu: SpuServices): Promise<FetchRound> {
  let bytes = 0;
  let failed = false;
  const responses: FetchResponseFetchableTopicResponse[] = [];
  for (const topic of request.topics) {
    const partitions: FetchResponsePartitionData[] = [];
    for (const wanted of topic.partitions) {
      const budget = { bytes: plan.maxBytes - bytes, minOneBatch: bytes === 0 };
      const answer = await readPartition(topic.topic, wanted, budget, plan, spu);
      bytes += answer.records?.length ?? 0;
      if (answer.errorCode !== errorCodes.NONE) failed = true;
      partitions.push(answer);
    }
    responses.push(createFetchResponseFetchableTopicResponse({ topic: topic.topic, partitions }));
  }
  return { responses, bytes, failed };
}

const noRecords = Buffer.alloc(0);

function failedPartition(partitionIndex: number, errorCode: number): FetchResponsePartitionData {
  return createFetchResponsePartitionData({
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    records: noRecords,
  });
}

async function readPartition(
  topic: string,
  wanted: FetchRequestPartition,
  budget: { bytes: number; minOneBatch: boolean },
  plan: FetchPlan,
  spu: SpuServices,
): Promise<FetchResponsePartitionData> {
  const index = wanted.partition;
  const partition = leaderPartition(spu, topic, index);
  if (typeof partition === 'number') return failedPartition(index, partition);
  const epochProblem = leaderEpochProblem(wanted.currentLeaderEpoch, partition.leaderEpoch);
  if (epochProblem !== undefined) return failedPartition(index, epochProblem);
  const log = partition.log;
  if (plan.follower && !isFollowerOf(partition, plan.replicaId))
    return failedPartition(index, errorCodes.NOT_LEADER_OR_FOLLOWER);
  if (plan.follower) recordFollower(partition, plan.replicaId, wanted.fetchOffset, spu);
  const maxBytes = Math.min(wanted.partitionMaxBytes, budget.bytes);
  try {
    if (maxBytes <= 0 && !budget.minOneBatch) {
      if (wanted.fetchOffset < log.logStartOffset || wanted.fetchOffset > log.logEndOffset)
        return failedPartition(index, errorCodes.OFFSET_OUT_OF_RANGE);
      return answered(index, [], 0, log.highWatermark, log.logStartOffset);
    }
    const read = await log.read(wanted.fetchOffset, {
      maxBytes: Math.max(0, maxBytes),
      upperBound: plan.follower ? log.logEndOffset : log.highWatermark,
      minOneBatch: budget.minOneBatch,
      // A consumer gets past damage on this replica; a follower must not, its log would have a hole.
      skipDamaged: !plan.follower,
    });
    return answered(index, read.batches, read.bytes, read.highWatermark, read.logStartOffset);
  } catch (error) {
    const failure = partitionFailure(error, spu.logger, { topic, partition: index, api: 'fetch' });
    return failedPartition(index, failure.errorCode);
  }
}

/** Whether `replicaId` is one of the partition's assigned replicas other than this SPU. */
function isFollowerOf(partition: Partition, replicaId: number): boolean {
  const { replicas, selfId } = partition.replicaSet;
  return replicaId !== selfId && replicas.includes(replicaId);
}

/** A follower's fetch tells its log end: it may move the high watermark. */
function recordFollower(
  partition: Partition,
  replicaId: number,
  fetchOffset: bigint,
  spu: SpuServices,
): void {
  const log = partition.log;
  if (fetchOffset > log.logEndOffset) return;
  const nowMs = spu.clock.monotonicMs();
  if (partition.replicaSet.recordFetch(replicaId, fetchOffset, log.logEndOffset, nowMs))
    partition.advanceHighWatermark();
}

function answered(
  partitionIndex: number,
  batches: readonly Buffer[],
  bytes: number,
  highWatermark: bigint,
  logStartOffset: bigint,
): FetchResponsePartitionData {
  // The generated codec takes one Buffer per partition: a single batch goes as is, several are
  // joined once here (the response is written from this buffer without further copies).
  const records =
    batches.length === 0 ? noRecords : batches.length === 1 ? batches[0]! : Buffer.concat(batches, bytes);
  return createFetchResponsePartitionData({
    partitionIndex,
    errorCode: errorCodes.NONE,
    highWatermark,
    // No transactions: everything below the high watermark is stable.
    lastStableOffset: highWatermark,
    logStartOffset,
    abortedTransactions: [],
    preferredReadReplica: -1,
    records,
  });
}
