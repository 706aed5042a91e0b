import { batchHeader } from '../protocol/batch-header.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import { decodeRecordBatch, type RecordBatch } from '../protocol/record-batch.ts';
import { CorruptLogError } from './errors.ts';
import { type LogContext, scanChunkBytes } from './log-context.ts';
import type { Segment } from './segment.ts';
import { scanFrom } from './segment-io.ts';

/**
 * ListOffsets by timestamp within one segment: start at the time index's hint, walk batch headers to
 * the first batch whose largest timestamp reaches the target, then decode that one batch (a cold,
 * rare path) to find the first record at or after the target.
 */
export async function findTimestamp(
  context: LogContext,
  segment: Segment,
  timestamp: bigint,
  logStartOffset: bigint,
): Promise<{ offset: bigint; timestamp: bigint } | undefined> {
  const startOffset = segment.timeIndex.lookup(timestamp);
  let candidate: Buffer | undefined;
  const scan = { end: segment.size, verifyCrc: true, chunkBytes: scanChunkBytes };
  await scanFrom(context, segment, startOffset, scan, (batch) => {
    const lastOffset = batch.readBigInt64BE(0) + BigInt(batch.readInt32BE(batchHeader.lastOffsetDelta));
    if (lastOffset < logStartOffset || batch.readBigInt64BE(batchHeader.maxTimestamp) < timestamp)
      return true;
    candidate = batch;
    return false;
  });
  if (candidate === undefined) return undefined;
  let decoded: RecordBatch;
  try {
    decoded = decodeRecordBatch(candidate, { verifyCrc: false });
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    const base = candidate.readBigInt64BE(0);
    throw new CorruptLogError(`stored batch cannot be decoded (${error.message})`, {
      segmentBaseOffset: segment.baseOffset,
      position: -1,
      fromOffset: base,
      toOffset: base + BigInt(candidate.readInt32BE(batchHeader.lastOffsetDelta)),
    });
  }
  for (const record of decoded.records) {
    if (record.offset >= logStartOffset && record.timestamp >= timestamp)
      return { offset: record.offset, timestamp: record.timestamp };
  }
  return undefined;
}
