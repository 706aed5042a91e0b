import { batchLastOffset } from '../protocol/batch-header.ts';
import { scanBatches } from './batch-scanner.ts';
import { writeFully } from './fs.ts';
import { type LogContext, scanChunkBytes } from './log-context.ts';
import type { ProducerStateManager } from './producer-state.ts';
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  parseProducerSnapshotName,
  producerSnapshotName,
} from './producer-state-snapshot.ts';
import type { Segment } from './segment.ts';

/**
 * How a partition log keeps its producer state in step with its batches: snapshots written at rolls
 * and clean shutdowns, and the rebuild (latest sound snapshot at or below the log end, then a scan of
 * the batches after it) on open and after a truncation.
 */

/** Snapshots kept per log: the newest ones; older ones are deleted when a new one is written. */
export const producerSnapshotsRetained = 2;

/** Snapshot offsets present in the log folder, oldest first. */
async function snapshotOffsets(context: LogContext): Promise<bigint[]> {
  const offsets: bigint[] = [];
  for (const name of await context.fs.readdir(context.dir)) {
    const offset = parseProducerSnapshotName(name);
    if (offset !== undefined) offsets.push(offset);
  }
  return offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Writes the state as of `offset` (the log end) and deletes snapshots beyond the retained ones. */
export async function writeProducerSnapshot(
  context: LogContext,
  state: ProducerStateManager,
  offset: bigint,
): Promise<void> {
  state.removeExpired(context.clock.nowMs());
  const data = encodeProducerSnapshot({ offset, producers: [...state.entries()] });
  const name = producerSnapshotName(offset);
  // Replaced by rename but never fsynced: a snapshot torn by a crash fails its CRC and is skipped
  // (the batches are rescanned), so it need not cost two fsyncs per partition at every close.
  const temporary = `${context.dir}/${name}.tmp`;
  const file = await context.fs.open(temporary, 'create');
  try {
    await writeFully(file, data, 0);
  } finally {
    await file.close();
  }
  await context.fs.rename(temporary, `${context.dir}/${name}`);
  const offsets = await snapshotOffsets(context);
  for (const old of offsets.slice(0, Math.max(0, offsets.length - producerSnapshotsRetained)))
    await context.fs.unlink(`${context.dir}/${producerSnapshotName(old)}`);
}

/**
 * Rebuilds the state of a log ending at `logEndOffset`: deletes snapshots outside it, loads the
 * newest sound one (a damaged one is reported and skipped) and applies the batches after it.
 */
export async function rebuildProducerState(
  context: LogContext,
  state: ProducerStateManager,
  segments: readonly Segment[],
  logEndOffset: bigint,
): Promise<void> {
  state.clear();
  const offsets = await snapshotOffsets(context);
  const logBase = segments[0]!.baseOffset;
  let from = logBase;
  for (let index = offsets.length - 1; index >= 0; index--) {
    const offset = offsets[index]!;
    const path = `${context.dir}/${producerSnapshotName(offset)}`;
    // Beyond the log end (cut off) or below its first segment (a log emptied and restarted): stale.
    if (offset > logEndOffset || offset < logBase) {
      await context.fs.unlink(path);
      continue;
    }
    const content = await context.fs.readFile(path);
    const snapshot = content === undefined ? undefined : decodeProducerSnapshot(content);
    if (snapshot === undefined || snapshot.offset !== offset) {
      context.report({ kind: 'checkpoint-invalid', path });
      continue;
    }
    for (const [producerId, entry] of snapshot.producers) state.restore(producerId, entry);
    if (offset > from) from = offset;
    break;
  }
  await applyBatchesFrom(context, state, segments, from);
  state.commit();
}

/** Feeds the state every stored batch ending at or after `from`. */
async function applyBatchesFrom(
  context: LogContext,
  state: ProducerStateManager,
  segments: readonly Segment[],
  from: bigint,
): Promise<void> {
  // Batches scanned now count as appended now: expiry runs from the rebuild, never early.
  const nowMs = context.clock.nowMs();
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    const next = segments[index + 1];
    if ((next !== undefined && next.baseOffset <= from) || segment.size === 0) continue;
    await context.cache.with(segment.logPath, (file) =>
      scanBatches(
        file,
        {
          from: 0,
          end: segment.size,
          offsetMin: segment.baseOffset,
          verifyCrc: false,
          chunkBytes: scanChunkBytes,
        },
        (batch) => {
          if (batchLastOffset(batch) >= from) state.update(batch, nowMs);
          return true;
        },
      ),
    );
  }
}
