import { apiKeys } from '../../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../../src/protocol/messages/find-coordinator.ts';
import { createJoinGroupRequest } from '../../src/protocol/messages/join-group.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../../src/protocol/messages/metadata.ts';
import type { WireClient } from '../../src/testing/wire-client.ts';

/** Raw-frame group helpers for tests against one SPU that coordinates every group. */

export const coordinatorWaitMs = 30_000; // ms for the offsets topic to be created and loaded

/** FindCoordinator (v3) until the SPU answers NONE: the first call creates the offsets topic. */
export async function waitForCoordinator(client: WireClient, groupId: string): Promise<void> {
  const deadline = Date.now() + coordinatorWaitMs;
  for (;;) {
    const request = createFindCoordinatorRequest({ key: groupId, keyType: 0 });
    const answer = await client.request(apiKeys.FindCoordinator, 3, request);
    if (answer.errorCode === errorCodes.NONE) return;
    if (Date.now() > deadline) throw new Error(`no coordinator for ${groupId}: ${answer.errorCode}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function joinGroupRequest(options: {
  groupId: string;
  memberId?: string;
  groupInstanceId?: string | null;
  sessionTimeoutMs?: number;
  metadata?: Buffer;
}) {
  return createJoinGroupRequest({
    groupId: options.groupId,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: options.memberId ?? '',
    groupInstanceId: options.groupInstanceId ?? null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: options.metadata ?? Buffer.from('subscription') }],
  });
}

/**
 * Creates a topic through `clients[0]` and waits until every client's SPU lists all its partitions
 * with a leader, so that commits for it are accepted wherever the group's coordinator is.
 */
export async function createTopicEverywhere(
  clients: readonly WireClient[],
  topic: { name: string; partitions: number },
): Promise<void> {
  const created = await clients[0]!.request(apiKeys.CreateTopics, 7, {
    topics: [
      {
        name: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      },
    ],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  const errorCode = created.topics[0]?.errorCode;
  if (errorCode !== errorCodes.NONE) throw new Error(`${topic.name} not created: ${errorCode}`);
  const deadline = Date.now() + coordinatorWaitMs;
  for (const client of clients) {
    for (;;) {
      const metadata = await client.request(
        apiKeys.Metadata,
        9,
        createMetadataRequest({
          topics: [createMetadataRequestTopic({ name: topic.name })],
          allowAutoTopicCreation: false,
        }),
      );
      const partitions = metadata.topics[0]?.partitions ?? [];
      if (partitions.length === topic.partitions && partitions.every(({ leaderId }) => leaderId >= 0)) break;
      if (Date.now() > deadline) throw new Error(`${topic.name} never appeared everywhere`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
