import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { requestHeaderVersion, responseHeaderVersion } from './messages/api-keys.ts';
import { codecFor } from './messages/codecs.ts';
import { type FieldDescriptor, messageDescriptors } from './messages/descriptors.ts';
import { decodeRequestHeader, encodeRequestHeader } from './messages/request-header.ts';
import { decodeResponseHeader, encodeResponseHeader } from './messages/response-header.ts';
import { ProtocolError } from './protocol-error.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/**
 * Mutation fuzzing of frame decoding (header, then body), as a broker decodes requests and a client
 * decodes responses. Seeds are the golden frames from real clients plus encodings of random values
 * of every message and version; each run applies a few random edits (bit flips, byte changes,
 * truncations, length-field rewrites, insertions, deletions) and checks that decoding either
 * succeeds or throws ProtocolError, never anything else, and that what it returns holds no more
 * array elements than the frame has bytes (a hostile count cannot make it allocate).
 */

const requestFramesPerRun = 300_000;
const responseFramesPerRun = 100_000;
const seed = 0x5eed_71de;

/** mulberry32: small, fast, seedable. */
function randomSource(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = randomSource(seed);
const below = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;

// Seeds -----------------------------------------------------------------------------------------------

function randomPrimitive(type: string): unknown {
  switch (type) {
    case 'bool':
      return random() < 0.5;
    case 'int8':
      return below(256) - 128;
    case 'int16':
      return below(65536) - 32768;
    case 'uint16':
      return below(65536);
    case 'int32':
      return below(2 ** 32) - 2 ** 31;
    case 'uint32':
      return below(2 ** 32);
    case 'int64':
      return BigInt(below(2 ** 32) - 2 ** 31) * BigInt(below(2 ** 20));
    case 'float64':
      return random() * 1e6;
    case 'string':
      return pick(['', 'golden', 'topic-1', 'ü→💡']);
    case 'uuid':
      return Buffer.from(Array.from({ length: 16 }, () => below(256)));
    default:
      return Buffer.from(Array.from({ length: below(6) }, () => below(256)));
  }
}

function randomValue(field: FieldDescriptor, version: number): unknown {
  const [, type, versions, nullable, , defaultValue, fields] = field;
  if (version < versions[0] || version > versions[1]) {
    return type === 'struct' ? randomStruct(fields ?? [], -1) : defaultValue;
  }
  if (nullable !== null && version >= nullable[0] && version <= nullable[1] && random() < 0.2) return null;
  const element = type.replace('[]', '');
  const one = () => (element === 'struct' ? randomStruct(fields ?? [], version) : randomPrimitive(element));
  return type.startsWith('[]') ? Array.from({ length: below(3) }, one) : one();
}

/** A struct value; version -1 gives every field its default (for structs absent from the version). */
function randomStruct(fields: readonly FieldDescriptor[], version: number): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [field[0], randomValue(field, version)]));
}

interface Seed {
  readonly frame: Buffer;
  readonly apiKey: number;
  readonly version: number;
}

function encodedSeeds(side: 'Request' | 'Response'): Seed[] {
  const seeds: Seed[] = [];
  for (const descriptor of messageDescriptors) {
    const codec = codecFor(descriptor.apiKey ?? -1);
    if (codec === undefined || !descriptor.name.endsWith(side)) continue;
    for (let version = descriptor.minVersion; version <= descriptor.maxVersion; version++) {
      for (let copy = 0; copy < 2; copy++) {
        const writer = new Writer(256);
        const value = randomStruct(descriptor.fields, version);
        if (side === 'Request') {
          const header = {
            requestApiKey: codec.apiKey,
            requestApiVersion: version,
            correlationId: copy,
            clientId: 'fuzz',
          };
          encodeRequestHeader(writer, header, requestHeaderVersion(codec.apiKey, version));
          codec.encodeRequest(writer, value, version);
        } else {
          encodeResponseHeader(writer, { correlationId: copy }, responseHeaderVersion(codec.apiKey, version));
          codec.encodeResponse(writer, value, version);
        }
        seeds.push({ frame: writer.toBuffer(), apiKey: codec.apiKey, version });
      }
    }
  }
  return seeds;
}

function goldenSeeds(): Buffer[] {
  const dir = join(import.meta.dirname, '../../tests/fixtures/frames');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.bin') && !file.endsWith('.batch.bin'))
    .map((file) => readFileSync(join(dir, file)));
}

// Mutations -------------------------------------------------------------------------------------------

const hostileNumbers = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

function writeNumber(frame: Buffer, at: number): Buffer {
  const copy = Buffer.from(frame);
  const value = pick(hostileNumbers);
  const width = pick([1, 2, 4]);
  for (let i = 0; i < width && at + i < copy.length; i++)
    copy[at + i] = (value >>> (8 * (width - 1 - i))) & 0xff;
  return copy;
}

function writeVarint(frame: Buffer, at: number): Buffer {
  const varint = pick([
    [0x00],
    [0x01],
    [0x7f],
    [0xff, 0xff, 0xff, 0xff, 0x0f],
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  ]);
  return Buffer.concat([frame.subarray(0, at), Buffer.from(varint), frame.subarray(at + 1)]);
}

function mutateOnce(frame: Buffer): Buffer {
  if (frame.length === 0) return Buffer.from([below(256)]);
  const at = below(frame.length);
  switch (below(8)) {
    case 0: {
      const copy = Buffer.from(frame);
      copy[at] = copy[at]! ^ (1 << below(8));
      return copy;
    }
    case 1: {
      const copy = Buffer.from(frame);
      copy[at] = below(256);
      return copy;
    }
    case 2:
      return frame.subarray(0, at);
    case 3:
      return writeNumber(frame, at);
    case 4:
      return writeVarint(frame, at);
    case 5: {
      const inserted = Buffer.from(Array.from({ length: 1 + below(8) }, () => below(256)));
      return Buffer.concat([frame.subarray(0, at), inserted, frame.subarray(at)]);
    }
    case 6:
      return Buffer.concat([frame.subarray(0, at), frame.subarray(at + 1 + below(8))]);
    default: {
      const start = below(frame.length);
      return Buffer.concat([
        frame.subarray(0, at),
        frame.subarray(start, start + below(16)),
        frame.subarray(at),
      ]);
    }
  }
}

function mutate(frame: Buffer): Buffer {
  let mutated = frame;
  const edits = 1 + below(4);
  for (let i = 0; i < edits; i++) mutated = mutateOnce(mutated);
  return mutated;
}

// Decoding --------------------------------------------------------------------------------------------

function decodeRequestFrame(frame: Buffer): unknown {
  const reader = new Reader(frame);
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  reader.offset = 0;
  const header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
  return codecFor(apiKey)?.decodeRequest(reader, apiVersion) ?? header;
}

/** Responses name no API: the client knows it from the request, so the fuzzer picks one per seed. */
function decodeResponseFrame(frame: Buffer, apiKey: number, apiVersion: number): unknown {
  const reader = new Reader(frame);
  decodeResponseHeader(reader, responseHeaderVersion(apiKey, apiVersion));
  return codecFor(apiKey)?.decodeResponse(reader, apiVersion);
}

/** Total elements of every array in a decoded value. */
function arrayElements(value: unknown): number {
  if (Array.isArray(value))
    return value.reduce((sum: number, item) => sum + arrayElements(item), value.length);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return 0;
  return Object.values(value).reduce((sum: number, item) => sum + arrayElements(item), 0);
}

function check(frame: Buffer, decode: () => unknown): 'decoded' | 'refused' {
  try {
    const value = decode();
    assert.ok(
      arrayElements(value) <= frame.length,
      `more array elements than bytes: ${frame.toString('hex')}`,
    );
    return 'decoded';
  } catch (error) {
    if (error instanceof ProtocolError) return 'refused';
    assert.fail(`${String(error)} decoding ${frame.toString('hex')}`);
  }
}

test('mutated request frames decode or raise ProtocolError', { timeout: 120_000 }, () => {
  const seeds = [...goldenSeeds(), ...encodedSeeds('Request').map((seed) => seed.frame)];
  assert.ok(seeds.length > 100);
  const outcomes = { decoded: 0, refused: 0 };
  for (const frame of seeds)
    assert.equal(
      check(frame, () => decodeRequestFrame(frame)),
      'decoded',
    );
  for (let i = 0; i < requestFramesPerRun; i++) {
    const frame = mutate(pick(seeds));
    outcomes[check(frame, () => decodeRequestFrame(frame))]++;
  }
  // Both paths must be exercised, or the mutations are too weak (or too strong) to mean anything.
  assert.ok(outcomes.decoded > requestFramesPerRun / 100, `decoded ${outcomes.decoded}`);
  assert.ok(outcomes.refused > requestFramesPerRun / 10, `refused ${outcomes.refused}`);
});

test('mutated response frames decode or raise ProtocolError', { timeout: 120_000 }, () => {
  const seeds = encodedSeeds('Response');
  for (const { frame, apiKey, version } of seeds) {
    assert.equal(
      check(frame, () => decodeResponseFrame(frame, apiKey, version)),
      'decoded',
    );
  }
  for (let i = 0; i < responseFramesPerRun; i++) {
    const { frame, apiKey, version } = pick(seeds);
    const mutated = mutate(frame);
    check(mutated, () => decodeResponseFrame(mutated, apiKey, version));
  }
});
