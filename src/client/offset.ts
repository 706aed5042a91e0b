/**
 * Where a consumer starts (or stops) in each partition, resolved against the partition's log when the
 * consumer begins: `beginning` is the log start offset, `end` the high watermark (or the last stable
 * offset when reading committed records), `fromEnd(n)` n records before the end (never before the
 * beginning), `fromBeginning(n)` n records after the beginning (never past the end), `timestamp(ms)`
 * the first record whose timestamp is at or after ms (the end when there is none).
 */
import { TideError } from '../base/errors.ts';

export type Offset =
  | { readonly kind: 'beginning' }
  | { readonly kind: 'end' }
  | { readonly kind: 'absolute'; readonly offset: bigint }
  | { readonly kind: 'fromEnd'; readonly count: bigint }
  | { readonly kind: 'fromBeginning'; readonly count: bigint }
  | { readonly kind: 'timestamp'; readonly timestampMs: bigint };

function nonNegative(value: bigint | number, what: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new TideError('INVALID_OFFSET', `${what} must be a whole number, got ${value}`);
  }
  const big = BigInt(value);
  if (big < 0n) throw new TideError('INVALID_OFFSET', `${what} must not be negative, got ${big}`);
  return big;
}

export const Offset = Object.freeze({
  /** The first record still in the log. */
  beginning: (): Offset => ({ kind: 'beginning' }),
  /** The next record to arrive (nothing already stored). */
  end: (): Offset => ({ kind: 'end' }),
  /** An offset in the partition. */
  absolute: (offset: bigint | number): Offset => ({
    kind: 'absolute',
    offset: nonNegative(offset, 'offset'),
  }),
  /** `count` records before the end. */
  fromEnd: (count: bigint | number): Offset => ({ kind: 'fromEnd', count: nonNegative(count, 'count') }),
  /** `count` records after the beginning. */
  fromBeginning: (count: bigint | number): Offset => ({
    kind: 'fromBeginning',
    count: nonNegative(count, 'count'),
  }),
  /** The first record with a timestamp at or after `at` (milliseconds since the epoch, or a Date). */
  timestamp: (at: number | bigint | Date): Offset => ({
    kind: 'timestamp',
    timestampMs: nonNegative(at instanceof Date ? at.getTime() : at, 'timestamp'),
  }),
});

/** The bounds of one partition's log that offsets resolve against. */
export interface LogBounds {
  readonly logStartOffset: bigint;
  readonly endOffset: bigint;
}

/**
 * Resolves `offset` against a partition's bounds. Timestamps need a broker lookup and are resolved by
 * the caller (pass the looked-up offset, or -1 when no record is that recent).
 */
export function resolveOffset(offset: Offset, bounds: LogBounds, timestampOffset = -1n): bigint {
  const { logStartOffset, endOffset } = bounds;
  switch (offset.kind) {
    case 'beginning':
      return logStartOffset;
    case 'end':
      return endOffset;
    case 'absolute':
      return offset.offset;
    case 'fromEnd': {
      return largest(endOffset - offset.count, logStartOffset);
    }
    case 'fromBeginning': {
      return smallest(logStartOffset + offset.count, endOffset);
    }
    case 'timestamp':
      return timestampOffset < 0n ? endOffset : timestampOffset;
  }
}

function largest(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function smallest(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** Human form, for messages: `beginning`, `end`, `42`, `end-10`, `beginning+10`, `@1700000000000`. */
export function describeOffset(offset: Offset): string {
  switch (offset.kind) {
    case 'beginning':
    case 'end':
      return offset.kind;
    case 'absolute':
      return String(offset.offset);
    case 'fromEnd':
      return `end-${offset.count}`;
    case 'fromBeginning':
      return `beginning+${offset.count}`;
    case 'timestamp':
      return `@${offset.timestampMs}`;
  }
}
