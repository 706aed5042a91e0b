import {
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  createCreatePartitionsResponse,
  createCreatePartitionsResponseTopicResult,
} from '../../protocol/messages/create-partitions.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ApiHandler } from '../handler.ts';

/**
 * CreatePartitions: grows each topic to its new count, placing the new partitions where the request
 * says when it gives assignments. A topic named twice is refused (INVALID_REQUEST), as in Kafka.
 */
export const createPartitionsHandler: ApiHandler<CreatePartitionsRequest, CreatePartitionsResponse> = async (
  request,
  _context,
  spu,
) => {
  const counts = new Map<string, number>();
  for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const results = [];
  for (const [name, count] of counts) {
    if (count <= 1) continue;
    results.push(
      createCreatePartitionsResponseTopicResult({
        name,
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: `topic ${name} appears ${count} times in one request`,
      }),
    );
  }
  for (const topic of request.topics) {
    if (counts.get(topic.name) !== 1) continue;
    const outcome = await spu.admin.createPartitions(topic.name, topic.count, {
      validateOnly: request.validateOnly,
      ...(topic.assignments === null
        ? {}
        : { assignments: topic.assignments.map((assignment) => assignment.brokerIds) }),
    });
    results.push(
      createCreatePartitionsResponseTopicResult({
        name: topic.name,
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
      }),
    );
  }
  return createCreatePartitionsResponse({ results });
};
