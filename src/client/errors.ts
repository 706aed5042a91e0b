import { TideError } from '../base/errors.ts';
import { errorByCode, errorCodes } from '../protocol/messages/error-codes.ts';

/**
 * Errors the client raises for what a broker answered. Each names the Kafka error (so code that
 * already knows Kafka's vocabulary can match on it), says whether retrying may help, and keeps the
 * underlying cause.
 */
export interface TideClientErrorOptions {
  /** Overrides the retriable flag of Kafka's error table (for example when the client will retry). */
  readonly retriable?: boolean;
  readonly cause?: unknown;
  /** The TideError code when it is not the Kafka name (a client-side failure told in Kafka's words). */
  readonly code?: string;
}

/** A Kafka error returned by a broker (or one the client concluded on its own, such as an unknown topic). */
export class TideClientError extends TideError {
  override name = 'TideClientError';
  /** Kafka's name for the error, for example `NOT_LEADER_OR_FOLLOWER`. */
  readonly errorName: string;
  /** Kafka's numeric error code, for example 6. */
  readonly errorCode: number;

  constructor(errorCode: number, message?: string, options: TideClientErrorOptions = {}) {
    const known = errorByCode(errorCode);
    const errorName = known?.name ?? `UNKNOWN_ERROR_CODE_${errorCode}`;
    const text = message ?? known?.message ?? `broker answered error code ${errorCode}`;
    super(options.code ?? errorName, text, {
      retriable: options.retriable ?? known?.retriable ?? false,
      cause: options.cause,
    });
    this.errorName = errorName;
    this.errorCode = errorCode;
  }
}

/** The error for Kafka error `code`, with `message` (default: Kafka's description) and an optional cause. */
export function kafkaError(
  code: number,
  message?: string,
  options?: TideClientErrorOptions,
): TideClientError {
  return new TideClientError(code, message, options);
}

/** Throws the matching TideClientError when `code` is not NONE. */
export function throwIfError(code: number, message: string | (() => string)): void {
  if (code === errorCodes.NONE) return;
  throw kafkaError(code, typeof message === 'string' ? message : message());
}

/** Whether `error` says that retrying the same operation may succeed. */
export function isRetriable(error: unknown): boolean {
  return error instanceof TideError && error.retriable;
}

/** Codes of client-side failures that are not Kafka errors (TideError.code). */
export const clientErrorCodes = Object.freeze({
  closed: 'CLIENT_CLOSED',
  aborted: 'ABORTED',
  noBrokerAvailable: 'NO_BROKER_AVAILABLE',
  unknownBroker: 'UNKNOWN_BROKER',
  invalidArgument: 'INVALID_ARGUMENT',
  notSupported: 'NOT_SUPPORTED',
  profile: 'PROFILE',
  wrongListener: 'WRONG_LISTENER',
});
