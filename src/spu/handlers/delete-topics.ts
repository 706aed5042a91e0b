import {
  createDeleteTopicsResponse,
  createDeleteTopicsResponseDeletableTopicResult,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
} from '../../protocol/messages/delete-topics.ts';
import type { ApiHandler } from '../handler.ts';

/**
 * DeleteTopics by name (v0-5; v6 names topics by id and is not advertised). Each topic is deleted on
 * its own; a name that does not exist gets UNKNOWN_TOPIC_OR_PARTITION. A name given twice is deleted
 * once and answered once.
 */
export const deleteTopicsHandler: ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse> = async (
  request,
  context,
  spu,
) => {
  const responses = [];
  for (const name of new Set(request.topicNames)) {
    const outcome = await spu.admin.deleteTopic(name);
    responses.push(
      createDeleteTopicsResponseDeletableTopicResult({
        name,
        errorCode: outcome.errorCode,
        errorMessage: context.apiVersion >= 5 ? outcome.errorMessage : null,
      }),
    );
  }
  return createDeleteTopicsResponse({ responses });
};
