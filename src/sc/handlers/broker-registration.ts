import {
  type BrokerRegistrationRequest,
  type BrokerRegistrationResponse,
  createBrokerRegistrationResponse,
} from '../../protocol/messages/broker-registration.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ScHandler } from './services.ts';

/**
 * BrokerRegistration: an SPU names its client listener and its INTERNAL one (where the SC pushes);
 * without both it cannot serve, so the registration is refused.
 */
export const brokerRegistrationHandler: ScHandler<
  BrokerRegistrationRequest,
  BrokerRegistrationResponse
> = async (request, _context, { spus }) => {
  const plaintext =
    request.listeners.find((listener) => listener.name !== 'INTERNAL') ?? request.listeners[0];
  const internal = request.listeners.find((listener) => listener.name === 'INTERNAL');
  if (plaintext === undefined || internal === undefined)
    return createBrokerRegistrationResponse({ errorCode: errorCodes.INVALID_REQUEST, brokerEpoch: -1n });
  const outcome = await spus.register({
    id: request.brokerId,
    clusterId: request.clusterId,
    incarnationId: request.incarnationId,
    host: plaintext.host,
    port: plaintext.port,
    internalHost: internal.host,
    internalPort: internal.port,
    rack: request.rack,
  });
  return createBrokerRegistrationResponse({
    errorCode: outcome.errorCode,
    brokerEpoch: BigInt(outcome.brokerEpoch),
  });
};
