import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
} from '../../protocol/messages/create-partitions.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../protocol/messages/create-topics.ts';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../protocol/messages/delete-topics.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ClusterView } from '../cluster.ts';
import type { ApiHandler, RequestContext, SpuServices } from '../handler.ts';

/**
 * In a cluster the SC answers a topic change once it is recorded; the SPUs learn it from the SC's
 * next push, a few milliseconds later. Kafka answers CreateTopics, CreatePartitions and
 * DeleteTopics with timeout_ms > 0 only once the change shows in the answering broker's metadata,
 * and clients rely on it (librdkafka subscribes right after creating). So the SPU holds a
 * successful answer until its own metadata shows the change; a change that does not show within
 * timeout_ms is answered REQUEST_TIMED_OUT, as in Kafka (the change itself still happens).
 */

/** How often a held answer looks at the SPU's metadata again; pushes usually land within a few ms. */
const metadataPollMs = 10; // ms
/** Longest any answer is held, whatever timeout_ms asks: a client must not pin a request forever. */
export const adminWaitMsMax = 60_000; // ms

type Settled = (cluster: ClusterView) => boolean;

/** Whether `name` shows with at least `partitions` partitions (any count when -1), each with a leader. */
function topicLed(name: string, partitions: number): Settled {
  return (cluster) => {
    const topic = cluster.topic(name);
    if (topic === undefined || topic.partitions.length === 0) return false;
    if (partitions !== -1 && topic.partitions.length < partitions) return false;
    return topic.partitions.every((partition) => partition.leaderId >= 0);
  };
}

function topicGone(name: string): Settled {
  return (cluster) => cluster.topic(name) === undefined;
}

/** Resolves with whether `settled` held before the deadline (or the client left). */
async function waitUntil(settled: Settled, timeoutMs: number, spu: SpuServices, context: RequestContext) {
  const deadline = spu.clock.monotonicMs() + Math.min(timeoutMs, adminWaitMsMax);
  const signal = context.connection.closed;
  while (!settled(spu.cluster)) {
    if (signal.aborted || spu.clock.monotonicMs() >= deadline) return false;
    await sleep(metadataPollMs, undefined, { signal }).catch(() => undefined);
  }
  return true;
}

const timedOut = 'the change is recorded but not yet known to this SPU; it will be shortly';

/** CreateTopics, held until each created topic's partitions are led in this SPU's metadata. */
export function awaitCreatedTopics(
  forward: ApiHandler<CreateTopicsRequest, CreateTopicsResponse>,
): ApiHandler<CreateTopicsRequest, CreateTopicsResponse> {
  return async (request, context, spu) => {
    const response = await forward(request, context, spu);
    if (response === undefined || request.validateOnly || request.timeoutMs <= 0) return response;
    for (const result of response.topics) {
      if (result.errorCode !== errorCodes.NONE) continue;
      const asked = request.topics.find((topic) => topic.name === result.name);
      const requested =
        asked === undefined
          ? -1
          : asked.assignments.length > 0
            ? asked.assignments.length
            : asked.numPartitions;
      // -1 asked for the default count, which v5+ answers report; older answers leave it -1 (any count).
      const settled = topicLed(result.name, requested > 0 ? requested : result.numPartitions);
      // The SC accepts a topic with more replicas than SPUs online and places it once enough
      // join (status insufficient-resources): there is nothing to wait for yet.
      const replicationFactor = asked?.assignments[0]?.brokerIds.length ?? asked?.replicationFactor ?? -1;
      const copies = replicationFactor > 0 ? replicationFactor : result.replicationFactor;
      if (copies > spu.cluster.brokers().length) continue;
      if (await waitUntil(settled, request.timeoutMs, spu, context)) continue;
      result.errorCode = errorCodes.REQUEST_TIMED_OUT;
      result.errorMessage = timedOut;
    }
    return response;
  };
}

/** CreatePartitions, held until each grown topic shows its new partitions, led. */
export function awaitCreatedPartitions(
  forward: ApiHandler<CreatePartitionsRequest, CreatePartitionsResponse>,
): ApiHandler<CreatePartitionsRequest, CreatePartitionsResponse> {
  return async (request, context, spu) => {
    const response = await forward(request, context, spu);
    if (response === undefined || request.validateOnly || request.timeoutMs <= 0) return response;
    for (const result of response.results) {
      if (result.errorCode !== errorCodes.NONE) continue;
      const count = request.topics.find((topic) => topic.name === result.name)?.count ?? -1;
      if (await waitUntil(topicLed(result.name, count), request.timeoutMs, spu, context)) continue;
      result.errorCode = errorCodes.REQUEST_TIMED_OUT;
      result.errorMessage = timedOut;
    }
    return response;
  };
}

/** DeleteTopics, held until each deleted topic is gone from this SPU's metadata. */
export function awaitDeletedTopics(
  forward: ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse>,
): ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse> {
  return async (request, context, spu) => {
    const response = await forward(request, context, spu);
    if (response === undefined || request.timeoutMs <= 0) return response;
    for (const result of response.responses) {
      if (result.errorCode !== errorCodes.NONE || result.name === null) continue;
      if (await waitUntil(topicGone(result.name), request.timeoutMs, spu, context)) continue;
      result.errorCode = errorCodes.REQUEST_TIMED_OUT;
      result.errorMessage = context.apiVersion >= 5 ? timedOut : null;
    }
    return response;
  };
}
