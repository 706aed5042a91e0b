import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { MetricsRegistry } from '../base/metrics.ts';
import type { ConnectionContext } from '../net/server.ts';
import type { ClusterView, TopicAdmin } from './cluster.ts';
import type { SpuConfig } from './config.ts';
import type { PartitionManager } from './partitions.ts';

/** Everything a request handler may use: the SPU's services, never the socket. */
export interface SpuServices {
  readonly config: SpuConfig;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  readonly partitions: PartitionManager;
  readonly cluster: ClusterView;
  readonly admin: TopicAdmin;
}

/** One request's header facts and its connection. */
export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionContext;
}

/**
 * Answers one decoded request. Resolving with undefined sends no response (acks=0 produce). Errors
 * the client should see are Kafka error codes inside the response; a thrown error closes the
 * connection and is logged, so handlers throw only for requests that make no sense at all.
 */
export type ApiHandler<Request, Response> = (
  request: Request,
  context: RequestContext,
  spu: SpuServices,
) => Promise<Response | undefined>;
