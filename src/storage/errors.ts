import { TideError } from '../base/errors.ts';
import { isErrorCode } from './fs.ts';

/**
 * Errors the storage engine gives the outside world. Codes are stable; the SPU maps them to Kafka
 * error codes (in parentheses).
 */
export const storageErrorCodes = Object.freeze({
  /** Fetch or truncation offset below log start or above log end (OFFSET_OUT_OF_RANGE). */
  offsetOutOfRange: 'OFFSET_OUT_OF_RANGE',
  /** A batch from a producer or leader fails validation (CORRUPT_MESSAGE / INVALID_RECORD). */
  invalidBatch: 'INVALID_BATCH',
  /** A batch larger than max.message.bytes (MESSAGE_TOO_LARGE). */
  batchTooLarge: 'BATCH_TOO_LARGE',
  /** A follower append that does not continue at the log end (OFFSET_OUT_OF_RANGE on the follower). */
  notAtLogEnd: 'NOT_AT_LOG_END',
  /** No space left on the device; retriable once space returns (KAFKA_STORAGE_ERROR). */
  diskFull: 'DISK_FULL',
  /** Any other I/O failure (KAFKA_STORAGE_ERROR). */
  ioError: 'STORAGE_IO_ERROR',
  /** Stored data failed validation on read (KAFKA_STORAGE_ERROR; never served). */
  corruptLog: 'CORRUPT_LOG',
  /** The log was closed or taken offline after a failed fsync. */
  logClosed: 'LOG_CLOSED',
  /** A configuration value out of its bounds. */
  invalidConfig: 'INVALID_CONFIG',
  /** A topic name or partition that cannot name a log folder. */
  invalidLogName: 'INVALID_LOG_NAME',
});

export type StorageErrorCode = (typeof storageErrorCodes)[keyof typeof storageErrorCodes];

export class StorageError extends TideError {
  override name = 'StorageError';
  declare readonly code: StorageErrorCode;
}

/** Where stored data failed validation: which segment, at which byte and which offsets it may hold. */
export interface CorruptRange {
  readonly segmentBaseOffset: bigint;
  readonly position: number;
  /** First offset that may be affected. */
  readonly fromOffset: bigint;
  /** Last offset that may be affected (inclusive; the segment's last when the length is unreadable). */
  readonly toOffset: bigint;
}

export class CorruptLogError extends StorageError {
  override name = 'CorruptLogError';
  readonly range: CorruptRange;

  constructor(message: string, range: CorruptRange) {
    super(
      storageErrorCodes.corruptLog,
      `${message} (segment ${range.segmentBaseOffset}, byte ${range.position}, offsets ${range.fromOffset}..${range.toOffset})`,
    );
    this.range = range;
  }
}

/**
 * Wraps a failure from the file system (an error with an errno code) into a typed error; ENOSPC
 * becomes a retriable DISK_FULL. Anything else (a bug) is returned unchanged, to surface as is.
 */
export function storageIoError(error: unknown, action: string): Error {
  if (error instanceof StorageError) return error;
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  if (typeof code !== 'string') return error instanceof Error ? error : new Error(String(error));
  if (isErrorCode(error, 'ENOSPC') || isErrorCode(error, 'EDQUOT'))
    return new StorageError(storageErrorCodes.diskFull, `${action}: no space left on device`, {
      retriable: true,
      cause: error,
    });
  const detail = error instanceof Error ? error.message : String(error);
  return new StorageError(storageErrorCodes.ioError, `${action}: ${detail}`, {
    retriable: true,
    cause: error,
  });
}
