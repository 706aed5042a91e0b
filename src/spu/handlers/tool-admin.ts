import { apiKeys } from '../../protocol/messages/api-keys.ts';
import type { HandlerTable } from '../request-router.ts';
import { describeLogDirsHandler } from './describe-log-dirs.ts';
import { describeProducersHandler } from './describe-producers.ts';
import { electLeadersStandaloneHandler } from './elect-leaders.ts';

/**
 * Admin APIs that Kafka tools call on every broker: each SPU answers for itself. ElectLeaders is
 * answered here by a standalone SPU; one in a cluster forwards it (forwardedElectLeadersHandlers).
 */
export const toolAdminHandlers: HandlerTable = {
  [apiKeys.DescribeLogDirs]: describeLogDirsHandler,
  [apiKeys.DescribeProducers]: describeProducersHandler,
  [apiKeys.ElectLeaders]: electLeadersStandaloneHandler,
};
