import { batchAttributes, batchHeader } from '../protocol/batch-header.ts';
import {
  type DecodedRecord,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordBatch,
} from '../protocol/record-batch.ts';
import { scanBatches } from './batch-scanner.ts';
import { CorruptLogError } from './errors.ts';
import { writeFully } from './fs.ts';
import { type LogContext, scanChunkBytes } from './log-context.ts';
import { placementOf, Segment } from './segment.ts';
import { ensureIndexes } from './segment-io.ts';

/**
 * Log compaction (cleanup.policy=compact): across the closed segments, keep only the latest record
 * of each key; records without a key are kept. A tombstone (null value) is kept until
 * delete.retention.ms after its own timestamp, so consumers that were behind still see the delete.
 * Offsets never change: a batch losing records is re-encoded with the survivors at their original
 * offsets (same base offset, codec, producer fields and leader epoch); a batch losing none is copied
 * byte for byte; control batches are always kept.
 *
 * Each rewritten segment is swapped in crash-safely: write `<base>.log.cleaned` and fsync it, remove
 * the old index files, rename the cleaned file over `<base>.log`, fsync the folder, then write fresh
 * indexes. A crash at any step leaves either segment whole; a missing index is rebuilt on use.
 *
 * The pass holds one segment's surviving batches in memory while rewriting it (bounded by
 * segment.bytes; compacted topics should use moderate segments).
 *
 * The key map is bounded (`compactionKeysMax`); when a pass meets more keys, it compacts only the
 * segments that were fully mapped and the next pass continues.
 */
export const compactionDefaults = Object.freeze({
  compactionKeysMax: 1_000_000, // distinct keys tracked per pass
});

const cleanedSuffix = '.cleaned';

function keyOf(key: Buffer): string {
  return key.toString('latin1');
}

function isControl(batch: Buffer): boolean {
  return (batch.readInt16BE(batchHeader.attributes) & batchAttributes.control) !== 0;
}

/** Decodes every data batch of a segment, in order; control batches are passed undecoded. */
async function forEachBatch(
  context: LogContext,
  segment: Segment,
  visit: (batch: Buffer, decoded: RecordBatch | undefined) => void,
): Promise<void> {
  await ensureIndexes(context, segment);
  const end = segment.size;
  const scanned = await context.cache.with(segment.logPath, (file) =>
    scanBatches(
      file,
      { from: 0, end, offsetMin: segment.baseOffset, verifyCrc: true, chunkBytes: scanChunkBytes },
      (batch) => {
        visit(batch, isControl(batch) ? undefined : decodeRecordBatch(batch, { verifyCrc: false }));
        return true;
      },
    ),
  );
  if (scanned.problem !== undefined)
    throw new CorruptLogError(`stored batch invalid (${scanned.problem})`, {
      segmentBaseOffset: segment.baseOffset,
      position: scanned.end,
      fromOffset: scanned.nextOffset,
      toOffset: segment.nextOffset - 1n,
    });
}

/** Runs one compaction pass over `closed` (oldest first). Returns how many segments were rewritten. */
export async function compactLog(
  context: LogContext,
  closed: readonly Segment[],
  nowMs: number,
): Promise<number> {
  const latest = new Map<string, bigint>();
  let mapped = 0;
  for (const segment of closed) {
    // Keys of a partly mapped segment still mark older records as superseded, which is correct.
    let overflow = false;
    await forEachBatch(context, segment, (_batch, decoded) => {
      for (const record of decoded?.records ?? []) {
        if (record.key === null) continue;
        latest.set(keyOf(record.key), record.offset);
        if (latest.size > compactionDefaults.compactionKeysMax) overflow = true;
      }
    });
    if (overflow) break;
    mapped += 1;
  }
  const deleteRetentionMs = BigInt(context.config().deleteRetentionMs);
  const keep = (record: DecodedRecord): boolean => {
    if (record.key === null) return true;
    if (latest.get(keyOf(record.key)) !== record.offset) return false;
    return record.value !== null || record.timestamp + deleteRetentionMs > BigInt(nowMs);
  };
  let rewritten = 0;
  for (const segment of closed.slice(0, mapped)) {
    if (await rewriteSegment(context, segment, keep)) rewritten += 1;
  }
  return rewritten;
}

/** The batch with only the records `keep` accepts, or the original when none is dropped. */
function filterBatch(
  batch: Buffer,
  decoded: RecordBatch,
  keep: (record: DecodedRecord) => boolean,
): Buffer | undefined {
  const survivors = decoded.records.filter(keep);
  if (survivors.length === decoded.records.length) return batch;
  if (survivors.length === 0) return undefined;
  return encodeRecordBatch({
    baseOffset: decoded.baseOffset,
    partitionLeaderEpoch: decoded.partitionLeaderEpoch,
    attributes: decoded.attributes,
    baseTimestamp: decoded.baseTimestamp,
    ...(decoded.timestampType === 'log-append-time' ? { maxTimestamp: decoded.maxTimestamp } : {}),
    producerId: decoded.producerId,
    producerEpoch: decoded.producerEpoch,
    baseSequence: decoded.baseSequence,
    records: survivors.map((record) => ({
      key: record.key,
      value: record.value,
      headers: record.headers,
      timestamp: record.timestamp,
      offsetDelta: record.offsetDelta,
    })),
  });
}

async function rewriteSegment(
  context: LogContext,
  segment: Segment,
  keep: (record: DecodedRecord) => boolean,
): Promise<boolean> {
  const output: Buffer[] = [];
  let changed = false;
  await forEachBatch(context, segment, (batch, decoded) => {
    const kept = decoded === undefined ? batch : filterBatch(batch, decoded, keep);
    if (kept !== batch) changed = true;
    if (kept !== undefined) output.push(kept);
  });
  if (!changed) return false;
  const built = new Segment(segment.dir, segment.baseOffset, 0);
  built.resetIndexes();
  let position = 0;
  for (const batch of output) {
    built.noteBatch(placementOf(batch, position), context.config().indexIntervalBytes);
    position += batch.length;
  }
  const cleanedPath = `${segment.logPath}${cleanedSuffix}`;
  const file = await context.fs.open(cleanedPath, 'create');
  try {
    await writeFully(file, Buffer.concat(output), 0);
    await file.sync();
  } finally {
    await file.close();
  }
  await context.cache.discard(segment.logPath);
  await context.fs.unlink(segment.indexPath);
  await context.fs.unlink(segment.timeIndexPath);
  await context.fs.rename(cleanedPath, segment.logPath);
  // A read between the first discard and the rename may have opened the old file again: close it,
  // or that handle would serve the old batches and keep the replaced file's space.
  await context.cache.discard(segment.logPath);
  await context.fs.syncDir(segment.dir);
  segment.adoptBuilt(built);
  await segment.writeIndexes(context.fs);
  return true;
}
