/**
 * Errors for the outside world (clients, disks, peers). Each carries a stable code, whether retrying
 * may help, and the underlying cause.
 */
export interface TideErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class TideError extends Error {
  override name = 'TideError';
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: TideErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}
