import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { batchLastOffset, batchTotalBytes } from '../../src/protocol/batch-header.ts';
import type { ReplicaDivergence } from './checker.ts';

/**
 * Compares one partition's replicas byte for byte below the high watermark. Each replica's segment
 * files (`<base>.log`, batches exactly as the leader stamped them) are walked batch by batch by
 * their headers (baseOffset at byte 0, batchLength at byte 8), and the batches whose last offset
 * is below the high watermark are concatenated; every replica's bytes must equal the first one's.
 */

export interface ReplicaLog {
  readonly spuId: number;
  /** `<SPU data dir>/<topic>-<partition>`. */
  readonly partitionDir: string;
}

/** The bytes of every batch wholly below `highWatermark`, and the offset they reach. */
export async function committedBytes(
  partitionDir: string,
  highWatermark: bigint,
): Promise<{ bytes: Buffer; endOffset: bigint }> {
  const names = (await readdir(partitionDir)).filter((name) => name.endsWith('.log')).sort();
  const parts: Buffer[] = [];
  let endOffset = -1n;
  for (const name of names) {
    const file = await readFile(join(partitionDir, name));
    for (let at = 0; ; ) {
      const total = batchTotalBytes(file, at);
      if (total < 0 || at + total > file.length) break;
      const batch = file.subarray(at, at + total);
      const lastOffset = batchLastOffset(batch);
      if (lastOffset >= highWatermark) return { bytes: Buffer.concat(parts), endOffset };
      parts.push(batch);
      endOffset = lastOffset + 1n;
      at += total;
    }
  }
  return { bytes: Buffer.concat(parts), endOffset };
}

/** Divergences between `replicas` of `partition` below `highWatermark` (none when they agree). */
export async function compareReplicas(
  partition: number,
  replicas: readonly ReplicaLog[],
  highWatermark: bigint,
): Promise<ReplicaDivergence[]> {
  const logs = await Promise.all(
    replicas.map(async (replica) => ({
      spuId: replica.spuId,
      ...(await committedBytes(replica.partitionDir, highWatermark)),
    })),
  );
  const divergences: ReplicaDivergence[] = [];
  for (const log of logs) {
    if (log.endOffset !== highWatermark && highWatermark > 0n) {
      divergences.push({
        partition,
        detail: `SPU ${log.spuId} holds whole batches up to offset ${log.endOffset}, high watermark is ${highWatermark}`,
      });
    }
  }
  const [first, ...rest] = logs;
  for (const log of rest) {
    if (first === undefined || log.bytes.equals(first.bytes)) continue;
    divergences.push({
      partition,
      detail: `SPU ${log.spuId} differs from SPU ${first.spuId} at byte ${firstDifference(first.bytes, log.bytes)} (${log.bytes.length} vs ${first.bytes.length} bytes below the high watermark)`,
    });
  }
  return divergences;
}

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) if (a[index] !== b[index]) return index;
  return length;
}
