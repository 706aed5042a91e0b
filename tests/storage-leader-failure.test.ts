/**
 * A leader whose storage fails gives up its leadership: one SC and three SPUs as real processes, a
 * topic with three replicas and min.insync.replicas=2. The leader's active segment is made immutable
 * (chattr +i: every write and truncate of it fails with EPERM, as a dying disk would), a produce to
 * it fails with KAFKA_STORAGE_ERROR and takes the log offline; the SPU reports the replica offline
 * and the SC elects an in-sync follower, which then takes acks=all writes and serves every record.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { Tide } from '../src/client/tide.ts';
import { splitBatches } from '../src/protocol/batch-header.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import type { MetadataResponse } from '../src/protocol/messages/metadata.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { metadata, until, wireClient } from './helpers/cluster-kit.ts';

const run = promisify(execFile);
const topic = 'fragile';
const electionTimeoutMs = 30_000; // ms for the report (every 5 s) and the SC's next pass

after(stopAll);

function partition0(
  answer: MetadataResponse | undefined,
): MetadataResponse['topics'][number]['partitions'][0] | undefined {
  return answer?.topics[0]?.partitions.find((partition) => partition.partitionIndex === 0);
}

async function produce(bootstrap: string, value: string): Promise<number> {
  const client = await wireClient(bootstrap);
  try {
    const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from(value), timestamp: 1n }] });
    const answer = await client.produce(topic, 0, batch, { acks: -1, timeoutMs: 5000 });
    return answer.responses[0]!.partitionResponses[0]!.errorCode;
  } finally {
    await client.close();
  }
}

async function values(bootstrap: string): Promise<string[]> {
  const client = await wireClient(bootstrap);
  try {
    const answer = (await client.fetch(topic, 0, 0n)).responses[0]!.partitions[0]!;
    assert.equal(answer.errorCode, errorCodes.NONE);
    const { batches } = splitBatches(answer.records ?? Buffer.alloc(0));
    return batches.flatMap((batch) => decodeRecordBatch(batch).records.map((record) => String(record.value)));
  } finally {
    await client.close();
  }
}

async function setImmutable(dir: string, on: boolean): Promise<void> {
  const logs = (await readdir(dir)).filter((name) => name.endsWith('.log')).map((name) => join(dir, name));
  await run('/usr/bin/chattr', [on ? '+i' : '-i', ...logs]);
}

it('a leader that cannot write a partition hands it to an in-sync follower', {
  timeout: 120_000,
}, async () => {
  let cluster: TestCluster | undefined;
  let tide: Tide | undefined;
  let frozen: string | undefined;
  try {
    cluster = await startCluster({ spus: 3 });
    tide = await Tide.connect({ bootstrap: cluster.bootstrap });
    await tide.admin().createTopic(topic, {
      partitions: 1,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '2' },
    });
    const placed = partition0(
      await until(
        () => metadata(cluster!.bootstrap, [topic]),
        (answer) => partition0(answer)?.isrNodes.length === 3,
      ),
    )!;
    const victim = cluster.spus.find((spu) => spu.id === placed.leaderId)!;
    for (const value of ['a', 'b', 'c'])
      assert.equal(await produce(victim.bootstrap, value), errorCodes.NONE);

    frozen = join(victim.dataDir, `${topic}-0`);
    await setImmutable(frozen, true);
    assert.equal(await produce(victim.bootstrap, 'lost'), errorCodes.KAFKA_STORAGE_ERROR);

    const survivor = cluster.spus.find((spu) => spu.id !== victim.id)!;
    const moved = partition0(
      await until(
        () => metadata(survivor.bootstrap, [topic]),
        (answer) => {
          const state = partition0(answer);
          return state !== undefined && state.leaderId !== victim.id && state.leaderId !== -1;
        },
        electionTimeoutMs,
      ),
    )!;
    assert.notEqual(moved.leaderId, victim.id, 'leadership left the failed SPU');
    assert.ok(moved.leaderEpoch > placed.leaderEpoch, 'under a new leader epoch');
    assert.ok(!moved.isrNodes.includes(victim.id), 'the failed replica left the ISR');
    const leader = cluster.spus.find((spu) => spu.id === moved.leaderId)!;
    assert.equal(await produce(leader.bootstrap, 'd'), errorCodes.NONE, 'acks=all writes work again');
    assert.deepEqual(await values(leader.bootstrap), ['a', 'b', 'c', 'd']);
  } finally {
    if (frozen !== undefined) await setImmutable(frozen, false);
    await tide?.close();
    await cluster?.destroy();
  }
});
