import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createDescribeSpusRequest } from '../../src/protocol/messages/describe-spus.ts';
import { createDescribeTopicStatusRequest } from '../../src/protocol/messages/describe-topic-status.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { WireClient } from '../../src/testing/wire-client.ts';

/** Shared pieces of the cluster tests: kcat, wire clients, bounded polling, SC extension calls. */

const run = promisify(execFile);
const kcatPath = '/usr/bin/kcat';

export const clusterKitDefaults = Object.freeze({
  pollTimeoutMs: 10_000, // ms a bounded poll waits for its condition
  pollIntervalMs: 50, // ms between polls
});

export async function kcat(bootstrap: string, args: readonly string[], input?: string): Promise<string> {
  const child = run(kcatPath, ['-b', bootstrap, ...args], { timeout: 30_000, maxBuffer: 16 << 20 });
  child.child.stdin?.end(input ?? '');
  return (await child).stdout;
}

export function wireClient(bootstrap: string): Promise<WireClient> {
  const port = Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1));
  return WireClient.connect({ host: '127.0.0.1', port });
}

/**
 * Repeats `ask` until `done` holds for its answer, and resolves with the last answer (the caller's
 * assertion then reports what it saw). Errors thrown by `ask` count as "not yet".
 */
export async function until<T>(
  ask: () => Promise<T>,
  done: (answer: T) => boolean,
  timeoutMs: number = clusterKitDefaults.pollTimeoutMs,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await ask();
      if (done(last)) return last;
    } catch {
      // Not reachable yet (for example a restarting process): poll again.
    }
    if (Date.now() > deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, clusterKitDefaults.pollIntervalMs));
  }
}

/** One request on a fresh connection to `bootstrap`. */
async function once<T>(bootstrap: string, call: (client: WireClient) => Promise<T>): Promise<T> {
  const client = await wireClient(bootstrap);
  try {
    return await call(client);
  } finally {
    await client.close();
  }
}

/** DescribeSpus through `bootstrap`: the SC's answer (top-level errorCode NOT_CONTROLLER while it is away). */
export function describeSpus(bootstrap: string) {
  return once(bootstrap, (client) => client.request(1001, 0, createDescribeSpusRequest({ spuIds: null })));
}

/** DescribeTopicStatus through `bootstrap` for `topics` (null = all). */
export function describeTopicStatus(bootstrap: string, topics: string[] | null) {
  return once(bootstrap, (client) => client.request(1002, 0, createDescribeTopicStatusRequest({ topics })));
}

/** Metadata through `bootstrap` for `topics` ([] = brokers only, null = every topic). */
export function metadata(bootstrap: string, topics: string[] | null) {
  return once(bootstrap, (client) => client.metadata(topics));
}

/** SPU id → online, as the SC reports it; undefined while the SC does not answer. */
export async function spuOnline(bootstrap: string): Promise<Map<number, boolean> | undefined> {
  const answer = await describeSpus(bootstrap);
  if (answer.errorCode !== errorCodes.NONE) return undefined;
  return new Map(answer.spus.map((spu) => [spu.spuId, spu.online]));
}

/** How many partitions each SPU leads, from partition leader ids. */
export function leaderCounts(leaders: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const leader of leaders) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  return counts;
}
