import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  apiCodecs,
  apiKeys,
  codecFor,
  decodeFetchRequest,
  decodeListOffsetsRequest,
  decodeMetadataRequest,
  decodeProduceRequest,
  decodeRequestHeader,
  encodeRequestHeader,
  type RequestHeader,
  requestHeaderVersion,
} from '../src/protocol/messages/index.ts';
import { Reader } from '../src/protocol/reader.ts';
import { decodeRecordBatch } from '../src/protocol/record-batch.ts';
import { Writer } from '../src/protocol/writer.ts';

/**
 * Golden request frames captured from kcat (librdkafka 2.0.2) and kafkajs 2.2.4 by
 * tools/capture-frames.ts: each decodes to what the client sent and re-encodes byte for byte.
 */

interface ManifestEntry {
  readonly file: string;
  readonly kind: 'request' | 'recordBatch';
  readonly apiKey: number;
  readonly apiName: string;
  readonly version: number;
  readonly client: 'kcat' | 'kafkajs';
  readonly codec: string | null;
  readonly description: string;
}

const framesDir = join(import.meta.dirname, 'fixtures/frames');
const manifest = JSON.parse(readFileSync(join(framesDir, 'manifest.json'), 'utf8')) as ManifestEntry[];
const requests = manifest.filter((entry) => entry.kind === 'request');

/** What kcat produced in every codec run (see tools/capture-frames.ts). */
const kcatRecords = [
  { key: 'key-1', value: `value one: ${'hello tide '.repeat(12)}` },
  { key: 'key-2', value: `value two: ${'hello tide '.repeat(12)}` },
  { key: 'key-3', value: `value three: ${'hello tide '.repeat(12)}` },
];
const kcatHeaders = [
  { key: 'trace', value: 'abc123' },
  { key: 'source', value: 'kcat' },
];
const groupApis = ['FindCoordinator', 'JoinGroup', 'SyncGroup', 'OffsetFetch', 'Heartbeat', 'LeaveGroup'];
const codecAttributes: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

function readFrame(entry: ManifestEntry): Buffer {
  return readFileSync(join(framesDir, entry.file));
}

function decodeFrame(
  entry: ManifestEntry,
  frame: Buffer,
): { header: RequestHeader; body: unknown; reader: Reader } {
  const reader = new Reader(frame);
  const header = decodeRequestHeader(reader, requestHeaderVersion(entry.apiKey, entry.version));
  const codec = codecFor(entry.apiKey);
  assert.ok(codec !== undefined, `no codec for API ${entry.apiKey}`);
  return { header, body: codec.decodeRequest(reader, entry.version), reader };
}

function produceRecords(frame: Buffer, version: number): Buffer {
  const reader = new Reader(frame);
  decodeRequestHeader(reader, requestHeaderVersion(apiKeys.Produce, version));
  const records = decodeProduceRequest(reader, version).topicData[0]?.partitionData[0]?.records;
  assert.ok(records !== null && records !== undefined, 'produce request without records');
  return records;
}

describe('golden frames from real clients', () => {
  test('the fixtures cover every client, codec and API they were captured for', () => {
    const seen = new Set(requests.map((entry) => `${entry.client}:${entry.apiName}`));
    for (const expected of ['ApiVersions', 'Metadata', 'Produce', 'ListOffsets', 'Fetch']) {
      assert.ok(seen.has(`kcat:${expected}`), `kcat ${expected}`);
    }
    for (const expected of ['ApiVersions', 'Metadata', 'Produce', 'ListOffsets', 'Fetch', ...groupApis]) {
      assert.ok(seen.has(`kafkajs:${expected}`), `kafkajs ${expected}`);
    }
    for (const expected of groupApis) assert.ok(seen.has(`kcat:${expected}`), `kcat ${expected}`);
    const codecs = manifest.filter((entry) => entry.kind === 'recordBatch').map((entry) => entry.codec);
    assert.deepEqual([...codecs].sort(), ['gzip', 'lz4', 'none', 'snappy', 'zstd']);
  });

  for (const entry of requests) {
    test(`${entry.file}: decodes completely and re-encodes byte for byte`, () => {
      const frame = readFrame(entry);
      const { header, body, reader } = decodeFrame(entry, frame);
      assert.equal(reader.remaining, 0);
      assert.equal(header.requestApiKey, entry.apiKey);
      assert.equal(header.requestApiVersion, entry.version);
      assert.equal(header.clientId, entry.client === 'kcat' ? 'golden-kcat' : 'golden-kafkajs');
      const writer = new Writer();
      encodeRequestHeader(writer, header, requestHeaderVersion(entry.apiKey, entry.version));
      codecFor(entry.apiKey)?.encodeRequest(writer, body, entry.version);
      assert.deepEqual(writer.toBuffer(), frame);
    });
  }
});

describe('golden frames carry what the clients sent', () => {
  const byApi = (client: string, apiKey: number) =>
    requests.filter((entry) => entry.client === client && entry.apiKey === apiKey);

  test('ApiVersions: librdkafka names itself in v3; kafkajs asks v2', () => {
    for (const entry of byApi('kcat', apiKeys.ApiVersions)) {
      assert.equal(entry.version, 3);
      const { body } = decodeFrame(entry, readFrame(entry));
      assert.deepEqual(body, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
    }
    const [kafkajs] = byApi('kafkajs', apiKeys.ApiVersions);
    assert.equal(kafkajs?.version, 2);
  });

  test('Metadata: producers ask for the golden topic, kcat -L for every topic', () => {
    const asked = new Map<string, string[]>();
    for (const entry of [...byApi('kcat', apiKeys.Metadata), ...byApi('kafkajs', apiKeys.Metadata)]) {
      const reader = new Reader(readFrame(entry));
      decodeRequestHeader(reader, requestHeaderVersion(entry.apiKey, entry.version));
      const topics = decodeMetadataRequest(reader, entry.version).topics;
      // null asks for every topic, [] for brokers only (librdkafka's first request), else names.
      const names = topics === null ? 'all' : topics.map((topic) => topic.name).join(',') || 'none';
      const scenario = entry.file.replace(/-\d+-metadata-v\d+\.bin$/, '');
      asked.set(scenario, [...(asked.get(scenario) ?? []), names]);
    }
    assert.ok(asked.get('kcat-list')?.includes('all'));
    for (const scenario of ['kcat-produce-none', 'kcat-produce-zstd', 'kafkajs-produce', 'kafkajs-group']) {
      assert.ok(asked.get(scenario)?.includes('golden'), scenario);
    }
    for (const names of [...asked.values()].flat())
      assert.ok(['all', 'none', 'golden'].includes(names), names);
  });

  test('Produce: acks=all to golden partition 0, records left in place', () => {
    for (const entry of [...byApi('kcat', apiKeys.Produce), ...byApi('kafkajs', apiKeys.Produce)]) {
      const frame = readFrame(entry);
      const reader = new Reader(frame);
      decodeRequestHeader(reader, requestHeaderVersion(entry.apiKey, entry.version));
      const request = decodeProduceRequest(reader, entry.version);
      assert.equal(request.acks, -1);
      assert.equal(request.timeoutMs, 30_000);
      assert.equal(request.transactionalId, null);
      assert.deepEqual(
        request.topicData.map((topic) => [
          topic.name,
          topic.partitionData.map((partition) => partition.index),
        ]),
        [['golden', [0]]],
      );
      const records = request.topicData[0]?.partitionData[0]?.records;
      assert.ok(records !== null && records !== undefined);
      assert.equal(records.buffer, frame.buffer, 'records must be a view of the frame');
    }
  });

  test('ListOffsets and Fetch from kcat -C: earliest offset, then fetch from 0', () => {
    const [listEntry] = byApi('kcat', apiKeys.ListOffsets);
    assert.ok(listEntry !== undefined);
    const listReader = new Reader(readFrame(listEntry));
    decodeRequestHeader(listReader, requestHeaderVersion(listEntry.apiKey, listEntry.version));
    const list = decodeListOffsetsRequest(listReader, listEntry.version);
    assert.equal(list.replicaId, -1);
    assert.equal(list.topics[0]?.name, 'golden');
    assert.equal(list.topics[0]?.partitions[0]?.timestamp, -2n);
    for (const entry of byApi('kcat', apiKeys.Fetch)) {
      const reader = new Reader(readFrame(entry));
      decodeRequestHeader(reader, requestHeaderVersion(entry.apiKey, entry.version));
      const fetch = decodeFetchRequest(reader, entry.version);
      assert.equal(fetch.replicaId, -1);
      assert.equal(fetch.maxWaitMs, 500);
      assert.equal(fetch.topics[0]?.topic, 'golden');
      assert.equal(fetch.topics[0]?.partitions[0]?.fetchOffset, 0n);
    }
  });
});

describe('golden group frames carry what the consumers sent', () => {
  const groupFrames = (client: string, apiKey: number) =>
    requests.filter((entry) => entry.client === client && entry.apiKey === apiKey);
  const decodeBody = <T>(entry: ManifestEntry, decode: (r: Reader, version: number) => T): T => {
    const reader = new Reader(readFrame(entry));
    decodeRequestHeader(reader, requestHeaderVersion(entry.apiKey, entry.version));
    return decode(reader, entry.version);
  };

  for (const client of ['kcat', 'kafkajs']) {
    test(`${client}: every group request names the group; the joined member id comes back`, () => {
      const [find] = groupFrames(client, apiKeys.FindCoordinator);
      assert.ok(find !== undefined);
      assert.equal(decodeBody(find, apiCodecs[10].decodeRequest).key, 'golden-group');
      const [join] = groupFrames(client, apiKeys.JoinGroup);
      assert.ok(join !== undefined);
      const joinRequest = decodeBody(join, apiCodecs[11].decodeRequest);
      assert.equal(joinRequest.groupId, 'golden-group');
      assert.equal(joinRequest.memberId, '');
      assert.equal(joinRequest.protocolType, 'consumer');
      const protocols = joinRequest.protocols.map((protocol) => protocol.name);
      assert.deepEqual(protocols, client === 'kcat' ? ['range', 'roundrobin'] : ['RoundRobinAssigner']);
      const [sync] = groupFrames(client, apiKeys.SyncGroup);
      assert.ok(sync !== undefined);
      const syncRequest = decodeBody(sync, apiCodecs[14].decodeRequest);
      assert.equal(syncRequest.memberId, 'golden-member-1');
      assert.deepEqual(
        syncRequest.assignments.map((assignment) => assignment.memberId),
        ['golden-member-1'],
      );
      const [heartbeat] = groupFrames(client, apiKeys.Heartbeat);
      assert.ok(heartbeat !== undefined);
      assert.equal(decodeBody(heartbeat, apiCodecs[12].decodeRequest).generationId, 1);
      const [offsets] = groupFrames(client, apiKeys.OffsetFetch);
      assert.ok(offsets !== undefined);
      const offsetRequest = decodeBody(offsets, apiCodecs[9].decodeRequest);
      assert.deepEqual(offsetRequest.topics, [{ name: 'golden', partitionIndexes: [0] }]);
      const [leave] = groupFrames(client, apiKeys.LeaveGroup);
      assert.ok(leave !== undefined);
      const leaveRequest = decodeBody(leave, apiCodecs[13].decodeRequest);
      const leaving =
        leave.version >= 3 ? leaveRequest.members.map((member) => member.memberId) : [leaveRequest.memberId];
      assert.deepEqual(leaving, ['golden-member-1']);
    });
  }
});

describe('record batches inside kcat produce requests', () => {
  const batches = manifest.filter((entry) => entry.kind === 'recordBatch');
  for (const batchEntry of batches) {
    test(`codec ${batchEntry.codec}: keys, values and headers as produced`, () => {
      const produce = requests.find(
        (entry) =>
          entry.apiKey === apiKeys.Produce && entry.client === 'kcat' && entry.codec === batchEntry.codec,
      );
      assert.ok(produce !== undefined);
      const records = produceRecords(readFrame(produce), produce.version);
      assert.deepEqual(records, readFrame(batchEntry));
      const batch = decodeRecordBatch(records);
      assert.equal(batch.attributes & 0x07, codecAttributes[batchEntry.codec ?? 'none']);
      assert.deepEqual(
        batch.records.map((record) => ({ key: record.key?.toString(), value: record.value?.toString() })),
        kcatRecords,
      );
      for (const record of batch.records) {
        assert.deepEqual(
          record.headers.map((header) => ({ key: header.key, value: header.value?.toString() })),
          kcatHeaders,
        );
      }
    });
  }
});
