import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { MetricsRegistry } from '../base/metrics.ts';
import type { RequestContext, RouteHandler } from '../net/router.ts';
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

export type { RequestContext };

/** Answers one decoded request with the SPU's services (see net/router.ts for the rules). */
export type ApiHandler<Request, Response> = RouteHandler<Request, Response, SpuServices>;
