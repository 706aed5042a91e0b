/**
 * Record values travel as `Buffer`s; these helpers turn strings and JSON into them and back, so
 * application code does not repeat `Buffer.from(JSON.stringify(...))` everywhere.
 */
import { TideError } from '../base/errors.ts';

/** A record header as the client library sees it (values are bytes or null). */
export interface Header {
  readonly key: string;
  readonly value: Buffer | null;
}

/** Header input: bytes, a string (UTF-8) or null. */
export type HeaderValue = Buffer | string | null;

/** Headers as an array of pairs or a plain object (`{ source: 'web' }`). */
export type HeadersInput = readonly Header[] | Readonly<Record<string, HeaderValue>>;

/** Bytes of a UTF-8 string. */
export function stringValue(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** Bytes of `value` as JSON (UTF-8). */
export function jsonValue(value: unknown): Buffer {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TideError('INVALID_VALUE', 'value has no JSON form (undefined, a function or a symbol)');
  }
  return Buffer.from(text, 'utf8');
}

/** The UTF-8 text of a value, or null for a null value. */
export function valueToString(value: Buffer | null): string | null {
  return value === null ? null : value.toString('utf8');
}

/** Parses a value as JSON; a TideError (code INVALID_JSON) when it is not JSON. */
export function valueToJson<T = unknown>(value: Buffer | null): T | null {
  if (value === null) return null;
  try {
    return JSON.parse(value.toString('utf8')) as T;
  } catch (cause) {
    throw new TideError('INVALID_JSON', 'record value is not valid JSON', { cause });
  }
}

/** Anything `send` accepts as a key or value: bytes, a string (UTF-8) or null. */
export type BytesInput = Buffer | Uint8Array | string | null | undefined;

/** Normalises a key or value to a Buffer (or null). */
export function toBytes(input: BytesInput): Buffer | null {
  if (input === null || input === undefined) return null;
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (Buffer.isBuffer(input)) return input;
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

/** Normalises headers given as pairs or as an object to an array of byte-valued headers. */
export function toHeaders(input: HeadersInput | undefined): Header[] {
  if (input === undefined) return [];
  if (Array.isArray(input)) {
    return (input as readonly Header[]).map((header) => ({ key: header.key, value: toBytes(header.value) }));
  }
  return Object.entries(input as Readonly<Record<string, HeaderValue>>).map(([key, value]) => ({
    key,
    value: toBytes(value),
  }));
}

/** A record's fields as `JSON.stringify` writes them (see ConsumedRecord). */
export interface RecordJson {
  readonly topic: string;
  readonly partition: number;
  /** A number, or a decimal string when beyond 2^53 (exact either way). */
  readonly offset: number | string;
  readonly timestamp: number;
  /** Keys, values and header values as UTF-8 text (null stays null). */
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: readonly { readonly key: string; readonly value: string | null }[];
}

/**
 * A consumed record. A class rather than a plain object so that `JSON.stringify(record)` works (a
 * bigint offset and Buffers have no useful JSON form) through one `toJSON` on the prototype, at no
 * cost per record.
 */
export class ConsumedRecord {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: bigint,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: readonly Header[],
    /** Milliseconds since the epoch (create time, or log-append time if the topic uses it). */
    readonly timestamp: number,
  ) {}

  toJSON(): RecordJson {
    const safe = this.offset <= BigInt(Number.MAX_SAFE_INTEGER);
    return {
      topic: this.topic,
      partition: this.partition,
      offset: safe ? Number(this.offset) : this.offset.toString(),
      timestamp: this.timestamp,
      key: valueToString(this.key),
      value: valueToString(this.value),
      headers: this.headers.map((header) => ({ key: header.key, value: valueToString(header.value) })),
    };
  }
}
