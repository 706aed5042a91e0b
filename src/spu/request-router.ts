import { createRouter, type RouteTable } from '../net/router.ts';
import type { RequestHandler } from '../net/server.ts';
import type { SpuServices } from './handler.ts';

export { type AdvertisedApi, advertisedApis } from '../net/router.ts';

/** The APIs this SPU answers, by key; ApiVersions advertises exactly these. */
export type HandlerTable = RouteTable<SpuServices>;

/** The SPU's listeners route with the shared router (net/router.ts), counting every request. */
export function createRequestRouter(spu: SpuServices, handlers: HandlerTable): RequestHandler {
  const requests = spu.metrics.counter('tide_requests_total', 'requests received');
  return createRouter({ handlers, services: spu, onRequest: () => requests.add() });
}
