import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createSpuStatusResponse,
  type SpuStatusRequest,
  type SpuStatusResponse,
} from '../../protocol/messages/spu-status.ts';
import type { ScHandler } from './services.ts';

/** SpuStatus: an SPU's periodic report of its partitions, kept for DescribeTopicStatus. */
export const spuStatusHandler: ScHandler<SpuStatusRequest, SpuStatusResponse> = async (
  request,
  _context,
  { spus, reports },
) => {
  if (!spus.isCurrent(request.brokerId, Number(request.brokerEpoch)))
    return createSpuStatusResponse({ errorCode: errorCodes.STALE_BROKER_EPOCH });
  reports.record(request.brokerId, request.partitions);
  return createSpuStatusResponse({ errorCode: errorCodes.NONE });
};
