import { apiKeys } from '../../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../../src/protocol/messages/find-coordinator.ts';
import { createJoinGroupRequest } from '../../src/protocol/messages/join-group.ts';
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
