import type { HostPort } from '../base/address.ts';
import { TideError } from '../base/errors.ts';
import { connectionErrorCodes } from '../net/kafka-connection.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { clientErrorCodes, kafkaError, type TideClientError } from './errors.ts';

/**
 * Errors for a client that reaches no SPU, written for the person who has to act on them: every
 * address tried with why it failed, and what is listening there when it is not an SPU's Kafka port.
 */

/** An HTTP server answers a Kafka request with `HTTP/1.1 400…`, read as a frame length of "HTTP". */
const httpFrameLength = Buffer.from('HTTP').readInt32BE(0);

export interface AddressFailure {
  readonly address: HostPort;
  readonly error: unknown;
}

/** `host:port`, with brackets for IPv6. */
export function addressText(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** A short reason: "connection refused", "timed out", or the error's message. */
export function failureReason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (cause instanceof Error && cause.message === 'connect timeout') return 'timed out';
  return error instanceof Error ? error.message : String(error);
}

/** Whether nothing listens at the address (the peer refused the TCP connection). */
export function isRefused(error: unknown): boolean {
  return failureReason(error) === 'connection refused';
}

/**
 * The error for a peer that answered but is not an SPU's Kafka listener, or undefined: an HTTP
 * port (the SPU's or SC's metrics and health), or a Kafka-framed port without Metadata (the SC's).
 */
export function wrongListenerError(address: HostPort, error: unknown): TideError | undefined {
  if (!(error instanceof TideError) || error.code !== connectionErrorCodes.badResponse) return undefined;
  const cause = error.cause instanceof Error ? error.cause.message : '';
  if (!cause.includes(`frame length ${httpFrameLength} `)) return undefined;
  return new TideError(
    clientErrorCodes.wrongListener,
    `${addressText(address)} answered in HTTP: it is an HTTP port (health, metrics), not an SPU's Kafka listener`,
    { cause: error },
  );
}

/** The error for a peer that speaks Kafka framing but not Metadata: not an SPU (the SC's port?). */
export function notAnSpuError(address: HostPort): TideError {
  return new TideError(
    clientErrorCodes.wrongListener,
    `${addressText(address)} is not an SPU's Kafka listener (it does not answer Metadata): is it the SC's port?`,
  );
}

/** Every address that failed, each with its reason, as one error (retriable unless none may help). */
export function addressesFailedError(failures: readonly AddressFailure[], retriable: boolean): TideError {
  const listed = failures.map(({ address, error }) => `${addressText(address)} (${failureReason(error)})`);
  return new TideError(connectionErrorCodes.connectFailed, `cannot connect to ${listed.join(', ')}`, {
    retriable,
    cause: failures.at(-1)?.error,
  });
}

/**
 * The final error when no SPU answered: Kafka's BROKER_NOT_AVAILABLE, code NO_BROKER_AVAILABLE.
 * `retriable: false` ends the client's own retries (nothing listens at any address).
 */
export function noBrokerError(
  what: string,
  cause: unknown,
  options: { retriable?: boolean } = {},
): TideClientError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return kafkaError(errorCodes.BROKER_NOT_AVAILABLE, `cannot reach ${what}: ${reason}`, {
    code: clientErrorCodes.noBrokerAvailable,
    retriable: options.retriable ?? true,
    cause,
  });
}
