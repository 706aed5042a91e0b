/**
 * Assertions guard invariants of Tide's own code. A failed assertion is a programmer error: it is never
 * caught, because continuing with corrupt state could write or replicate that corruption.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
