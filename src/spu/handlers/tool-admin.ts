import { apiKeys } from '../../protocol/messages/api-keys.ts';
import type { HandlerTable } from '../request-router.ts';
import { describeLogDirsHandler } from './describe-log-dirs.ts';
import { describeProducersHandler } from './describe-producers.ts';

/** Broker-local admin APIs that Kafka tools call on every broker: each SPU answers for itself. */
export const toolAdminHandlers: HandlerTable = {
  [apiKeys.DescribeLogDirs]: describeLogDirsHandler,
  [apiKeys.DescribeProducers]: describeProducersHandler,
};
