import { advertisedApis, apiVersionsHandler } from '../../net/router.ts';
import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { adminHandlers } from './admin.ts';
import { brokerHeartbeatHandler } from './broker-heartbeat.ts';
import { brokerRegistrationHandler } from './broker-registration.ts';
import { describeSpusHandler } from './describe-spus.ts';
import { describeTopicStatusHandler } from './describe-topic-status.ts';
import type { ScHandlerTable } from './services.ts';
import { spuStatusHandler } from './spu-status.ts';

/** What SPUs ask the SC: liveness, ISR changes, producer ids and status reports. */
const spuFacingHandlers: ScHandlerTable = {
  [apiKeys.AlterPartition]: (request, context, { leadership }) =>
    leadership.alterPartition(request, context.apiVersion),
  [apiKeys.BrokerRegistration]: brokerRegistrationHandler,
  [apiKeys.BrokerHeartbeat]: brokerHeartbeatHandler,
  [apiKeys.AllocateProducerIds]: (request, _context, { allocateProducerIds }) => allocateProducerIds(request),
  [apiKeys.SpuStatus]: spuStatusHandler,
};

/** Operator requests an SPU forwards, decided by the SC. */
const operatorHandlers: ScHandlerTable = {
  [apiKeys.ElectLeaders]: (request, context, { electLeaders }) => electLeaders(request, context.apiVersion),
};

/** The Tide extension APIs that describe SPUs and topics (tide's CLI and admin client use them). */
const describeHandlers: ScHandlerTable = {
  [apiKeys.DescribeSpus]: describeSpusHandler,
  [apiKeys.DescribeTopicStatus]: describeTopicStatusHandler,
};

/** Every API the SC answers. ApiVersions advertises exactly this table. */
export function scHandlers(): ScHandlerTable {
  const table: { -readonly [K in keyof ScHandlerTable]: ScHandlerTable[K] } = {
    ...adminHandlers,
    ...spuFacingHandlers,
    ...describeHandlers,
    ...operatorHandlers,
  };
  table[apiKeys.ApiVersions] = apiVersionsHandler(() => advertisedApis(table));
  return table;
}
