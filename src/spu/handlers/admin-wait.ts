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
    await spu.clock.sleep(metadataPollMs, signal).catch(() => undefined);
  }
  return true;
}

const timedOut = 'the change is recorded but not yet known to this SPU; it will be shortly';

interface HeldResult {
  name: string | null;
  errorCode: number;
  errorMessage: string | null;
}

/**
 * Wraps a forwarding handler: for each successful result, waits until `settledFor` holds (no wait
 * when it gives undefined), else answers that result REQUEST_TIMED_OUT.
 */
function holdAnswers<Request extends { timeoutMs: number }, Response, Result extends HeldResult>(
  forward: ApiHandler<Request, Response>,
  options: {
    results: (response: Response) => Result[];
    settledFor: (request: Request, result: Result, spu: SpuServices) => Settled | undefined;
    held: (request: Request) => boolean;
    /** The first version whose answers carry an error message. */
    messageSince: number;
  },
): ApiHandler<Request, Response> {
  return async (request, context, spu) => {
    const response = await forward(request, context, spu);
    if (response === undefined || request.timeoutMs <= 0 || !options.held(request)) return response;
    for (const result of options.results(response)) {
      if (result.errorCode !== errorCodes.NONE) continue;
      const settled = options.settledFor(request, result, spu);
      if (settled === undefined || (await waitUntil(settled, request.timeoutMs, spu, context))) continue;
      result.errorCode = errorCodes.REQUEST_TIMED_OUT;
      result.errorMessage = context.apiVersion >= options.messageSince ? timedOut : null;
    }
    return response;
  };
}

/** CreateTopics, held until each created topic's partitions are led in this SPU's metadata. */
export function awaitCreatedTopics(
  forward: ApiHandler<CreateTopicsRequest, CreateTopicsResponse>,
): ApiHandler<CreateTopicsRequest, CreateTopicsResponse> {
  return holdAnswers(forward, {
    results: (response) => response.topics,
    held: (request) => !request.validateOnly,
    messageSince: 1,
    settledFor: (request, created, spu) => {
      const asked = request.topics.find((topic) => topic.name === created.name);
      // The SC accepts a topic with more replicas than SPUs online only when told to, and places
      // it once enough join (status insufficient-resources): there is nothing to wait for yet.
      const replicationFactor = asked?.assignments[0]?.brokerIds.length ?? asked?.replicationFactor ?? -1;
      const copies = replicationFactor > 0 ? replicationFactor : created.replicationFactor;
      if (copies > spu.cluster.brokers().length) return undefined;
      const requested =
        asked === undefined
          ? -1
          : asked.assignments.length > 0
            ? asked.assignments.length
            : asked.numPartitions;
      // -1 asked for the default count, which v5+ answers report; older answers leave it -1 (any count).
      return topicLed(created.name, requested > 0 ? requested : created.numPartitions);
    },
  });
}

/** CreatePartitions, held until each grown topic shows its new partitions, led. */
export function awaitCreatedPartitions(
  forward: ApiHandler<CreatePartitionsRequest, CreatePartitionsResponse>,
): ApiHandler<CreatePartitionsRequest, CreatePartitionsResponse> {
  return holdAnswers(forward, {
    results: (response) => response.results,
    held: (request) => !request.validateOnly,
    messageSince: 0,
    settledFor: (request, result) => {
      const name = result.name ?? '';
      return topicLed(name, request.topics.find((topic) => topic.name === name)?.count ?? -1);
    },
  });
}

/** DeleteTopics, held until each deleted topic is gone from this SPU's metadata. */
export function awaitDeletedTopics(
  forward: ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse>,
): ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse> {
  return holdAnswers(forward, {
    results: (response) => response.responses,
    held: () => true,
    messageSince: 5,
    // Named by id (v6+) without a name: nothing this SPU can look up by name.
    settledFor: (_request, result) => (result.name === null ? undefined : topicGone(result.name)),
  });
}
