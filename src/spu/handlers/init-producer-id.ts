import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createInitProducerIdResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '../../protocol/messages/init-producer-id.ts';
import type { ApiHandler } from '../handler.ts';
import type { ProducerIdSource } from '../producer-ids.ts';
import type { HandlerTable } from '../request-router.ts';

/**
 * InitProducerId for idempotent producers (no transactional id). Every SPU answers it, not only a
 * coordinator: ids come from the SPU's ProducerIdSource, unique across the cluster.
 *
 * - producerId -1 (every version, and a first start on v3+): a new id with epoch 0.
 * - v3+ with the producer's current id and epoch (KIP-360: the client lost track of its sequence
 *   numbers and wants a fresh epoch): the same id with epoch + 1, whose first batches start again at
 *   sequence 0 on every partition; once the epoch would pass 32766, a new id with epoch 0 instead.
 *   Without a transaction coordinator nothing records epochs per id, so the epoch given is not
 *   checked against a stored one; the partition logs fence older epochs as soon as the new one writes.
 * - A transactional id: UNSUPPORTED_VERSION (Tide has no transactions). The Java client reports it as
 *   a fatal "Unexpected error in InitProducerIdResponse; The version of API is not supported" and
 *   librdkafka fails init_transactions() with "Broker: Unsupported version"; neither retries forever,
 *   as they would on COORDINATOR_NOT_AVAILABLE, and neither mistakes it for an authorization problem.
 * - No id available now (the SC unreachable): COORDINATOR_NOT_AVAILABLE, which clients retry.
 */

/** Kafka bumps an idempotent producer's epoch up to Short.MAX_VALUE - 1, then takes a new id. */
const producerEpochMax = 32766;

export function initProducerIdHandler(
  ids: ProducerIdSource,
): ApiHandler<InitProducerIdRequest, InitProducerIdResponse> {
  return async (request, _context, spu) => {
    const logger = spu.logger.child({ component: 'init-producer-id' });
    if (request.transactionalId !== null && request.transactionalId !== '') {
      logger.info('transactional producer refused: Tide has no transactions', {
        transactionalId: request.transactionalId,
      });
      return createInitProducerIdResponse({ errorCode: errorCodes.UNSUPPORTED_VERSION, producerEpoch: -1 });
    }
    const { producerId, producerEpoch } = request;
    if ((producerId === -1n) !== (producerEpoch === -1) || producerId < -1n || producerEpoch < -1)
      return createInitProducerIdResponse({ errorCode: errorCodes.INVALID_REQUEST, producerEpoch: -1 });
    if (producerId >= 0n && producerEpoch < producerEpochMax)
      return createInitProducerIdResponse({ producerId, producerEpoch: producerEpoch + 1 });
    try {
      return createInitProducerIdResponse({ producerId: await ids.next(), producerEpoch: 0 });
    } catch (error) {
      logger.warn('no producer id available', { error });
      return createInitProducerIdResponse({
        errorCode: errorCodes.COORDINATOR_NOT_AVAILABLE,
        producerEpoch: -1,
      });
    }
  };
}

/** The handler table entry, to merge into an SPU's handlers (registering it advertises the API). */
export function producerIdHandlers(ids: ProducerIdSource): HandlerTable {
  return { [apiKeys.InitProducerId]: initProducerIdHandler(ids) };
}
