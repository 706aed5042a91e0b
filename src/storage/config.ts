import { StorageError, storageErrorCodes } from './errors.ts';

/**
 * Per-log settings (the storage half of Kafka's topic configs) with their defaults. What the flush
 * settings guarantee:
 *
 * - `flushMessages = 1`: `append` resolves only after the appended batches are fsynced; an append
 *   that resolved survives a process kill and a power loss. Concurrent appends share one fsync
 *   (group commit), so the cost is one fsync per burst, not per batch.
 * - `flushMessages = N`: an fsync is started once N records were appended since the last one; the
 *   append that crosses N waits for it. Up to N - 1 acknowledged records may be lost on power loss.
 * - `flushMs = T`: a background tick fsyncs data older than T ms; up to T ms of acknowledged records
 *   (plus the tick interval) may be lost on power loss. Process kills lose nothing written, since
 *   the data is already in the page cache.
 * - Neither: durability comes from replication; the OS writes back when it likes.
 *
 * In all modes a crash never leaves a torn or corrupt batch visible: recovery truncates at the first
 * invalid batch. `waitDurable(offset)` gives an explicit durability point regardless of the policy.
 */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly indexIntervalBytes: number;
  readonly indexEntriesMax: number;
  readonly retentionMs: number;
  readonly retentionBytes: number;
  readonly cleanupPolicy: CleanupPolicy;
  readonly deleteRetentionMs: number;
  readonly flushMessages: number;
  readonly flushMs: number;
  readonly batchBytesMax: number;
  readonly timestampType: TimestampType;
  readonly tailWindowBytes: number;
  readonly verifyColdReads: boolean;
}

export const logConfigDefaults: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024, // bytes: the active segment rolls before growing past this
  segmentMs: 7 * 24 * 60 * 60 * 1000, // ms: the active segment rolls once this old
  indexIntervalBytes: 4096, // bytes of log between two sparse index entries
  indexEntriesMax: 1_310_720, // entries per segment index (10 MiB of 8-byte entries); rolls when full
  retentionMs: 7 * 24 * 60 * 60 * 1000, // ms: closed segments whose newest record is older go; -1 keeps all
  retentionBytes: -1, // bytes: oldest closed segments go while the log is larger; -1 keeps all
  cleanupPolicy: 'delete' as CleanupPolicy, // delete, compact or compact,delete
  deleteRetentionMs: 24 * 60 * 60 * 1000, // ms: a tombstone survives compaction this long after its timestamp
  flushMessages: Number.MAX_SAFE_INTEGER, // records between fsyncs (1 = every append durable)
  flushMs: 1000, // ms between periodic fsyncs of unflushed data
  batchBytesMax: 1_048_588, // bytes: largest batch accepted (max.message.bytes)
  timestampType: 'CreateTime' as TimestampType, // LogAppendTime stamps the broker clock on each batch
  tailWindowBytes: 4 * 1024 * 1024, // bytes of recent batches kept in memory for tail reads
  verifyColdReads: true, // check the CRC of batches read from disk (costs ~1 ms per 8 MB, native CRC32C)
});

/** Segment positions are 32-bit in the index, and a segment must hold at least one batch. */
const segmentBytesMax = 2 ** 31 - 1; // bytes
const segmentBytesMin = 1024; // bytes

function invalid(message: string): StorageError {
  return new StorageError(storageErrorCodes.invalidConfig, message);
}

function requireInteger(
  name: string,
  value: number,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < minimum || value > maximum)
    throw invalid(`${name} must be an integer in [${minimum}, ${maximum}], got ${value}`);
}

/** Merges `partial` over `base` and checks every bound; throws INVALID_CONFIG. */
export function resolveLogConfig(base: LogConfig, partial: Partial<LogConfig> = {}): LogConfig {
  const config: LogConfig = { ...base, ...partial };
  requireInteger('segmentBytes', config.segmentBytes, segmentBytesMin, segmentBytesMax);
  requireInteger('segmentMs', config.segmentMs, 1);
  requireInteger('indexIntervalBytes', config.indexIntervalBytes, 0);
  requireInteger('indexEntriesMax', config.indexEntriesMax, 2);
  requireInteger('retentionMs', config.retentionMs, -1);
  requireInteger('retentionBytes', config.retentionBytes, -1);
  requireInteger('deleteRetentionMs', config.deleteRetentionMs, 0);
  requireInteger('flushMessages', config.flushMessages, 1);
  requireInteger('flushMs', config.flushMs, 0);
  requireInteger('batchBytesMax', config.batchBytesMax, 61, segmentBytesMax);
  requireInteger('tailWindowBytes', config.tailWindowBytes, 0);
  if (!['delete', 'compact', 'compact,delete'].includes(config.cleanupPolicy))
    throw invalid(`cleanupPolicy must be delete, compact or compact,delete, got ${config.cleanupPolicy}`);
  if (config.timestampType !== 'CreateTime' && config.timestampType !== 'LogAppendTime')
    throw invalid(`timestampType must be CreateTime or LogAppendTime, got ${config.timestampType}`);
  return Object.freeze(config);
}
