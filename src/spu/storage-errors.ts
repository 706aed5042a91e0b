import type { Logger } from '../base/logger.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { StorageError, type StorageErrorCode, storageErrorCodes } from '../storage/errors.ts';

/**
 * The Kafka error code a client gets for each storage failure. Disk and log-state failures are all
 * KAFKA_STORAGE_ERROR, which clients treat as retriable (they refresh metadata and try again).
 */
const kafkaCodeByStorageCode: Readonly<Record<StorageErrorCode, number>> = Object.freeze({
  [storageErrorCodes.offsetOutOfRange]: errorCodes.OFFSET_OUT_OF_RANGE,
  [storageErrorCodes.invalidBatch]: errorCodes.CORRUPT_MESSAGE,
  [storageErrorCodes.batchTooLarge]: errorCodes.MESSAGE_TOO_LARGE,
  [storageErrorCodes.notAtLogEnd]: errorCodes.OFFSET_OUT_OF_RANGE,
  [storageErrorCodes.diskFull]: errorCodes.KAFKA_STORAGE_ERROR,
  [storageErrorCodes.ioError]: errorCodes.KAFKA_STORAGE_ERROR,
  [storageErrorCodes.corruptLog]: errorCodes.KAFKA_STORAGE_ERROR,
  [storageErrorCodes.logClosed]: errorCodes.KAFKA_STORAGE_ERROR,
  [storageErrorCodes.invalidConfig]: errorCodes.INVALID_CONFIG,
  [storageErrorCodes.invalidLogName]: errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
});

export interface PartitionFailure {
  readonly errorCode: number;
  readonly errorMessage: string;
}

/**
 * Turns an error from one partition's storage operation into the Kafka error code for that
 * partition. Anything that is not a StorageError is a bug or an unforeseen failure: it is logged
 * and answered UNKNOWN_SERVER_ERROR for that partition alone, so other partitions and the
 * connection carry on.
 */
export function partitionFailure(
  error: unknown,
  logger: Logger,
  fields: Readonly<Record<string, unknown>>,
): PartitionFailure {
  if (error instanceof StorageError) {
    const errorCode = kafkaCodeByStorageCode[error.code] ?? errorCodes.UNKNOWN_SERVER_ERROR;
    if (errorCode === errorCodes.KAFKA_STORAGE_ERROR) logger.warn('storage failure', { ...fields, error });
    return { errorCode, errorMessage: error.message };
  }
  logger.error('unexpected partition failure', { ...fields, error });
  return {
    errorCode: errorCodes.UNKNOWN_SERVER_ERROR,
    errorMessage: error instanceof Error ? error.message : String(error),
  };
}

/** The Kafka code of a storage error code (for tests and callers that hold only the code). */
export function kafkaCodeForStorage(code: StorageErrorCode): number {
  return kafkaCodeByStorageCode[code];
}
