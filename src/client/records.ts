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
