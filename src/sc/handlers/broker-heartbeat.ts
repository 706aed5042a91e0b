import {
  type BrokerHeartbeatRequest,
  type BrokerHeartbeatResponse,
  createBrokerHeartbeatResponse,
} from '../../protocol/messages/broker-heartbeat.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ScHandler } from './services.ts';

/** BrokerHeartbeat: keeps an SPU's session; one that wants to shut down is answered once leadership moved. */
export const brokerHeartbeatHandler: ScHandler<BrokerHeartbeatRequest, BrokerHeartbeatResponse> = async (
  request,
  _context,
  { spus, shutDown },
) => {
  const errorCode = spus.heartbeat(request.brokerId, Number(request.brokerEpoch), request.wantShutDown);
  if (request.wantShutDown && errorCode === errorCodes.NONE) await shutDown(request.brokerId);
  return createBrokerHeartbeatResponse({
    errorCode,
    isCaughtUp: errorCode === errorCodes.NONE,
    isFenced: errorCode !== errorCodes.NONE,
    shouldShutDown: request.wantShutDown && errorCode === errorCodes.NONE,
  });
};
