import type { RouteHandler, RouteTable } from '../../net/router.ts';
import type {
  AllocateProducerIdsRequest,
  AllocateProducerIdsResponse,
} from '../../protocol/messages/allocate-producer-ids.ts';
import type { ElectLeadersRequest, ElectLeadersResponse } from '../../protocol/messages/elect-leaders.ts';
import type { Leadership } from '../leadership.ts';
import type { MetadataStore } from '../metadata-store.ts';
import type { SpuRegistry } from '../spu-registry.ts';
import type { StatusReports } from '../status-reports.ts';
import type { TopicFrontend } from '../topic-frontend.ts';

/** Everything an SC request handler may use: the SC's components, never the socket. */
export interface ScServices {
  readonly store: MetadataStore;
  readonly spus: SpuRegistry;
  readonly topics: TopicFrontend;
  readonly reports: StatusReports;
  readonly leadership: Leadership;
  /** Controlled shutdown: moves leadership off the SPU and pushes that, before it is told to stop. */
  readonly shutDown: (spuId: number) => Promise<void>;
  readonly allocateProducerIds: (request: AllocateProducerIdsRequest) => Promise<AllocateProducerIdsResponse>;
  /** ElectLeaders, forwarded by the SPUs (elect-leaders.ts). */
  readonly electLeaders: (request: ElectLeadersRequest, apiVersion: number) => Promise<ElectLeadersResponse>;
}

export type ScHandler<Request, Response> = RouteHandler<Request, Response, ScServices>;

/** The APIs the SC answers, by key; ApiVersions advertises exactly these. */
export type ScHandlerTable = RouteTable<ScServices>;
