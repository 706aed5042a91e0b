import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { apiSupport, chooseVersion, isSupportedVersion, supportFor } from './api-support.ts';
import { apiKeys, requestHeaderVersion, responseHeaderVersion } from './messages/api-keys.ts';
import { type ApiCodec, apiCodecs, codecFor } from './messages/codecs.ts';
import { type FieldDescriptor, type MessageDescriptor, messageDescriptors } from './messages/descriptors.ts';
import { errorByCode, errorCodes, errorName, isRetriable, kafkaErrors } from './messages/error-codes.ts';
import {
  createFetchResponsePartitionData,
  decodeFetchResponse,
  encodeFetchResponse,
} from './messages/fetch.ts';
import { decodeMetadataRequest, encodeMetadataRequest } from './messages/metadata.ts';
import { decodeProduceRequest, encodeProduceRequest } from './messages/produce.ts';
import { decodeRequestHeader, encodeRequestHeader } from './messages/request-header.ts';
import { decodeResponseHeader, encodeResponseHeader } from './messages/response-header.ts';
import { ProtocolError } from './protocol-error.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/**
 * Round trips of every generated message in every supported version, with random values built from
 * the generated field descriptors: decode(encode(x)) must equal x and consume every byte.
 */

type Arbitrary = fc.Arbitrary<unknown>;

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

function inRange(range: readonly [number, number] | null, version: number): boolean {
  return range !== null && version >= range[0] && version <= range[1];
}

function primitiveArbitrary(type: string): Arbitrary {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'int32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'uint32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'int64':
      return fc.bigInt({ min: int64Min, max: int64Max });
    case 'float64':
      return fc.double();
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 6 });
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes));
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes));
    default:
      throw new Error(`no arbitrary for ${type}`);
  }
}

/** A fresh copy of a descriptor default (structs: every field at its default). */
function defaultOf(field: FieldDescriptor): unknown {
  const [, type, , , , defaultValue, fields] = field;
  if (type === 'struct') return defaultStruct(fields ?? []);
  if (Array.isArray(defaultValue)) return [];
  if (Buffer.isBuffer(defaultValue)) return Buffer.from(defaultValue);
  return defaultValue;
}

function defaultStruct(fields: readonly FieldDescriptor[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [field[0], defaultOf(field)]));
}

function fieldArbitrary(field: FieldDescriptor, version: number): Arbitrary {
  const [, type, versions, nullableVersions, , , fields] = field;
  if (!inRange(versions, version)) return fc.constant(null).map(() => defaultOf(field));
  const elementType = type.startsWith('[]') ? type.slice(2) : type;
  const element =
    elementType === 'struct' ? structArbitrary(fields ?? [], version) : primitiveArbitrary(elementType);
  const value = type.startsWith('[]') ? fc.array(element, { maxLength: 3 }) : element;
  return inRange(nullableVersions, version) ? fc.option(value, { nil: null, freq: 4 }) : value;
}

function structArbitrary(fields: readonly FieldDescriptor[], version: number): Arbitrary {
  const model: Record<string, Arbitrary> = {};
  for (const field of fields) model[field[0]] = fieldArbitrary(field, version);
  // fast-check builds null-prototype records; decoded values are plain objects.
  return fc.record(model).map((value) => ({ ...value }));
}

interface Codec {
  encode(w: Writer, value: unknown, version: number): void;
  decode(r: Reader, version: number): unknown;
}

function codecOf(descriptor: MessageDescriptor): Codec {
  if (descriptor.name === 'RequestHeader') {
    return {
      encode: (w, v, version) => encodeRequestHeader(w, v as never, version),
      decode: decodeRequestHeader,
    };
  }
  if (descriptor.name === 'ResponseHeader') {
    return {
      encode: (w, v, version) => encodeResponseHeader(w, v as never, version),
      decode: decodeResponseHeader,
    };
  }
  const codec: ApiCodec<unknown, unknown> | undefined = codecFor(descriptor.apiKey ?? -1);
  assert.ok(codec !== undefined, `no codec for ${descriptor.name}`);
  return descriptor.name.endsWith('Request')
    ? { encode: codec.encodeRequest, decode: codec.decodeRequest }
    : { encode: codec.encodeResponse, decode: codec.decodeResponse };
}

function encode(codec: Codec, value: unknown, version: number): Buffer {
  const writer = new Writer(256);
  codec.encode(writer, value, version);
  return writer.toBuffer();
}

describe('generated message codecs round-trip', () => {
  for (const descriptor of messageDescriptors) {
    test(`${descriptor.name} v${descriptor.minVersion}-${descriptor.maxVersion}`, () => {
      const codec = codecOf(descriptor);
      for (let version = descriptor.minVersion; version <= descriptor.maxVersion; version++) {
        const property = fc.property(structArbitrary(descriptor.fields, version), (value) => {
          const bytes = encode(codec, value, version);
          const reader = new Reader(bytes);
          const decoded = codec.decode(reader, version);
          assert.equal(reader.remaining, 0, `${descriptor.name} v${version} left bytes unread`);
          assert.deepEqual(decoded, value);
          // Encoding is a function of the value: the decoded copy encodes to the same bytes.
          assert.deepEqual(encode(codec, decoded, version), bytes);
        });
        fc.assert(property, { numRuns: 40, seed: 20_240 + version });
      }
    });
  }
});

describe('support table and generated modules agree', () => {
  test('every supported API has codecs for exactly its range', () => {
    for (const [key, support] of Object.entries(apiSupport)) {
      const codec = codecFor(Number(key));
      assert.ok(codec !== undefined, support.name);
      assert.equal(codec.name, support.name);
      assert.equal(codec.minVersion, support.minVersion);
      assert.equal(codec.maxVersion, support.maxVersion);
      assert.equal(apiKeys[support.name], Number(key));
    }
    assert.equal(Object.keys(apiCodecs).length, Object.keys(apiSupport).length);
  });

  test('versions outside the range are refused with ProtocolError', () => {
    const writer = new Writer();
    assert.throws(() => encodeProduceRequest(writer, emptyProduceRequest(), 10), ProtocolError);
    assert.throws(() => decodeProduceRequest(new Reader(Buffer.alloc(64)), 10), ProtocolError);
    assert.throws(() => decodeMetadataRequest(new Reader(Buffer.alloc(64)), 13), ProtocolError);
    assert.throws(
      () => codecFor(apiKeys.Fetch)?.decodeRequest(new Reader(Buffer.alloc(64)), 3),
      ProtocolError,
    );
  });
});

function emptyProduceRequest() {
  return { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [] };
}

describe('version choice', () => {
  test('chooseVersion picks the highest version both sides speak', () => {
    assert.equal(chooseVersion(apiKeys.Produce, 0, 11), apiSupport[0].maxVersion);
    assert.equal(chooseVersion(apiKeys.Fetch, 0, 7), 7);
    assert.equal(chooseVersion(apiKeys.Fetch, 0, 3), undefined);
    assert.equal(chooseVersion(apiKeys.Fetch, 13, 17), undefined);
    assert.equal(chooseVersion(apiKeys.ApiVersions, 3, 3), 3);
    assert.equal(chooseVersion(9999, 0, 5), undefined);
  });

  test('isSupportedVersion and supportFor read the same table', () => {
    assert.equal(isSupportedVersion(apiKeys.Metadata, 12), true);
    assert.equal(isSupportedVersion(apiKeys.Metadata, 13), false);
    assert.equal(isSupportedVersion(9999, 0), false);
    assert.deepEqual(supportFor(apiKeys.OffsetDelete), {
      name: 'OffsetDelete',
      minVersion: 0,
      maxVersion: 0,
    });
  });
});

describe('header versions', () => {
  test('flexible request versions use header v2, others v1', () => {
    assert.equal(requestHeaderVersion(apiKeys.Produce, 8), 1);
    assert.equal(requestHeaderVersion(apiKeys.Produce, 9), 2);
    assert.equal(requestHeaderVersion(apiKeys.Metadata, 9), 2);
    assert.equal(requestHeaderVersion(apiKeys.OffsetDelete, 0), 1);
    // Beyond the supported range the schema still decides, so a v4 ApiVersions header is readable.
    assert.equal(requestHeaderVersion(apiKeys.ApiVersions, 4), 2);
    assert.equal(requestHeaderVersion(9999, 3), 1);
  });

  test('ApiVersions responses always use header v0', () => {
    assert.equal(responseHeaderVersion(apiKeys.ApiVersions, 3), 0);
    assert.equal(responseHeaderVersion(apiKeys.Fetch, 12), 1);
    assert.equal(responseHeaderVersion(apiKeys.Fetch, 11), 0);
  });

  test('client id keeps its int16 length in header v2', () => {
    const writer = new Writer();
    encodeRequestHeader(
      writer,
      { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: 'ab' },
      2,
    );
    assert.deepEqual(writer.toBuffer(), Buffer.from([0, 18, 0, 3, 0, 0, 0, 7, 0, 2, 0x61, 0x62, 0]));
  });
});

describe('wire details', () => {
  test('tagged fields are written only when they differ from their default', () => {
    const partition = createFetchResponsePartitionData({ partitionIndex: 1, records: null });
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: 't', partitions: [partition] }],
    };
    const plain = new Writer();
    encodeFetchResponse(plain, response, 12);
    partition.currentLeader = { leaderId: 3, leaderEpoch: 9 };
    const tagged = new Writer();
    encodeFetchResponse(tagged, response, 12);
    // tag 1, size 9 (two int32s and an empty tag section), then the struct.
    assert.equal(tagged.length - plain.length, 11);
    const decoded = decodeFetchResponse(new Reader(tagged.toBuffer()), 12);
    assert.deepEqual(decoded.responses[0]?.partitions[0]?.currentLeader, { leaderId: 3, leaderEpoch: 9 });
  });

  test('unknown tagged fields are skipped and out-of-order tags refused', () => {
    const body = (tags: number[][]) => {
      const writer = new Writer();
      // topics, then allowAutoTopicCreation and the two authorized-operations flags.
      writer.compactArrayLength(0).bool(true).bool(false).bool(false).uvarint(tags.length);
      for (const [tag, ...bytes] of tags)
        writer
          .uvarint(tag ?? 0)
          .uvarint(bytes.length)
          .raw(Buffer.from(bytes));
      return new Reader(writer.toBuffer());
    };
    assert.deepEqual(decodeMetadataRequest(body([[7, 1, 2]]), 9).topics, []);
    assert.throws(() => decodeMetadataRequest(body([[7], [5]]), 9), ProtocolError);
  });

  test('a field absent from the version decodes to its default and is not encoded', () => {
    const writer = new Writer();
    const request = {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true,
      includeTopicAuthorizedOperations: true,
    };
    encodeMetadataRequest(writer, request, 3);
    const decoded = decodeMetadataRequest(new Reader(writer.toBuffer()), 3);
    assert.equal(decoded.allowAutoTopicCreation, true);
    assert.equal(decoded.includeClusterAuthorizedOperations, false);
  });

  test('null where the version forbids it is a ProtocolError both ways', () => {
    const writer = new Writer();
    const request = {
      topics: null,
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    assert.throws(() => encodeMetadataRequest(writer, request, 0), ProtocolError);
    assert.throws(
      () => decodeMetadataRequest(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])), 0),
      ProtocolError,
    );
  });

  test('a hostile array count is refused before allocating', () => {
    const frame = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0]);
    assert.throws(() => decodeMetadataRequest(new Reader(frame), 1), /exceeds/);
  });

  test('produce records are views into the frame, not copies', () => {
    const records = Buffer.alloc(600, 7);
    const writer = new Writer();
    const request = {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
    };
    encodeProduceRequest(writer, request, 7);
    const frame = writer.toBuffer();
    const decoded = decodeProduceRequest(new Reader(frame), 7);
    const view = decoded.topicData[0]?.partitionData[0]?.records;
    assert.ok(view !== null && view !== undefined);
    assert.equal(view.buffer, frame.buffer);
    assert.deepEqual(view, records);
  });
});

describe('error codes', () => {
  test('the table holds Kafka codes by name and by number', () => {
    assert.equal(errorCodes.NONE, 0);
    assert.equal(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, 3);
    assert.equal(errorCodes.NOT_LEADER_OR_FOLLOWER, 6);
    assert.equal(errorCodes.UNSUPPORTED_VERSION, 35);
    assert.equal(errorCodes.NOT_ENOUGH_REPLICAS, 19);
    assert.equal(errorCodes.UNKNOWN_TOPIC_ID, 100);
    assert.equal(errorByCode(-1)?.name, 'UNKNOWN_SERVER_ERROR');
    assert.equal(errorName(37), 'INVALID_PARTITIONS');
    assert.equal(errorName(9999), 'UNKNOWN_ERROR_CODE_9999');
    assert.equal(isRetriable(errorCodes.LEADER_NOT_AVAILABLE), true);
    assert.equal(isRetriable(errorCodes.TOPIC_AUTHORIZATION_FAILED), false);
    const codes = kafkaErrors.map((error) => error.code);
    assert.equal(new Set(codes).size, codes.length);
    for (const error of kafkaErrors) assert.equal(errorCodes[error.name], error.code);
  });
});
