import { connect } from 'node:net';
import { batchHeader } from '../protocol/batch-header.ts';
import type { Codec } from '../protocol/compression/compression.ts';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import { createApiVersionsRequest } from '../protocol/messages/api-versions.ts';
import {
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../protocol/messages/create-topics.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
} from '../protocol/messages/fetch.ts';
import {
  createListOffsetsRequest,
  createListOffsetsRequestPartition,
  createListOffsetsRequestTopic,
} from '../protocol/messages/list-offsets.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../protocol/messages/metadata.ts';
import { encodeRecordBatch } from '../protocol/record-batch.ts';
import { batchFromSection } from './poison-batches.ts';
import { SeededRandom } from './random.ts';
import { encodeRequestFrame, produceRequest, type WireApiKey, type WireRequest } from './wire-client.ts';

/**
 * A seeded mutation fuzzer for a Kafka listener: valid request frames of several APIs and versions
 * (the corpus), mutated in the ways a broken or hostile client might (bit flips, truncation, edited
 * length fields inside the body, wrong API keys and versions, inserted and deleted bytes, garbage),
 * sent pipelined over many connections. A connection ends when the server closes it (the expected
 * answer to an unparseable frame), when it stays quiet (a request without an answer), or after a
 * final frame that breaks the framing itself (negative or oversized length, a frame cut short).
 *
 * Frames keep a sane length prefix except in that final position, so the server never has to hold
 * a huge partial frame for a valid-looking prefix: the fuzzer tests parsing, not memory exhaustion.
 *
 * Given a topic for records, a share of the mutated frames are well-formed Produce requests whose one
 * batch has a valid header and CRC around mutated records (bad varints, record and header counts that
 * lie, edited lengths, every codec including the unassigned ones), so the broker's record validation
 * is fuzzed too, not only its request parsing.
 */

export interface FuzzStats {
  framesSent: number;
  /** Frames sent mutated, random or with broken framing (the rest are valid requests). */
  framesMutated: number;
  responses: number;
  connections: number;
  /** Responses whose correlation id did not follow request order: must stay 0. */
  outOfOrderResponses: number;
  /** Of the mutated frames, Produce requests with mutated records inside a valid batch. */
  recordFramesSent: number;
}

export const frameFuzzerDefaults = Object.freeze({
  roundFramesMax: 16, // frames written at once
  roundsPerConnectionMax: 64, // rounds before the fuzzer itself closes a connection
  quietMs: 200, // ms without an answer before giving up on a connection
  frameBytesOversized: 100 * 1024 * 1024 + 1, // bytes: just above the SPU's default frameBytesMax
});

function versions(min: number, max: number): number[] {
  return Array.from({ length: max - min + 1 }, (_, index) => min + index);
}

/** Valid request frames (length prefix included) for ApiVersions, Metadata, Produce, Fetch, ListOffsets and CreateTopics. */
export function fuzzCorpus(topic: string): Buffer[] {
  const frames: Buffer[] = [];
  const add = <K extends WireApiKey>(apiKey: K, apiVersion: number, body: WireRequest<K>): void => {
    frames.push(encodeRequestFrame({ apiKey, apiVersion, correlationId: 0, clientId: 'fuzz' }, body));
  };
  for (const version of versions(0, 3)) {
    add(18, version, createApiVersionsRequest({ clientSoftwareName: 'fuzz', clientSoftwareVersion: '1.0' }));
  }
  for (const version of versions(0, 12)) {
    add(
      3,
      version,
      createMetadataRequest({
        topics: [createMetadataRequestTopic({ name: topic })],
        allowAutoTopicCreation: false,
      }),
    );
    if (version >= 1) add(3, version, createMetadataRequest({ topics: null, allowAutoTopicCreation: false }));
  }
  const batches = [
    encodeRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('fuzz value') }] }),
    encodeRecordBatch({
      codec: 'gzip',
      records: Array.from({ length: 5 }, (_, index) => ({ key: null, value: Buffer.alloc(40, index) })),
    }),
    encodeRecordBatch({
      codec: 'lz4',
      records: [{ key: null, value: Buffer.from('lz4'), headers: [{ key: 'h', value: Buffer.from('v') }] }],
    }),
  ];
  for (const version of versions(0, 9)) {
    for (const batch of batches) add(0, version, produceRequest(topic, 0, batch, { acks: 1 }));
  }
  add(0, 9, produceRequest(topic, 7, batches[0]!, { acks: -1 }));
  for (const version of versions(4, 12)) add(1, version, fetchBody(topic));
  for (const version of versions(1, 7)) {
    const partition = createListOffsetsRequestPartition({ partitionIndex: 0, timestamp: -1n });
    add(
      2,
      version,
      createListOffsetsRequest({
        replicaId: -1,
        topics: [createListOffsetsRequestTopic({ name: topic, partitions: [partition] })],
      }),
    );
  }
  for (const version of versions(0, 7)) add(19, version, createTopicsBody(topic, version));
  return frames;
}

function fetchBody(topic: string): ReturnType<typeof createFetchRequest> {
  return createFetchRequest({
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 4096,
    topics: [
      createFetchRequestTopic({
        topic,
        partitions: [createFetchRequestPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: 4096 })],
      }),
    ],
  });
}

/** Asks to create a topic that exists (v0 cannot validate only), or validates only (v1+). */
function createTopicsBody(topic: string, version: number): ReturnType<typeof createCreateTopicsRequest> {
  return createCreateTopicsRequest({
    timeoutMs: 5000,
    validateOnly: version >= 1,
    topics: [
      createCreateTopicsRequestCreatableTopic({
        name: topic,
        numPartitions: version >= 4 ? -1 : 1,
        replicationFactor: version >= 4 ? -1 : 1,
        configs: [{ name: 'retention.ms', value: '3600000' }],
      }),
    ],
  });
}

const interestingInt16 = [0, 1, -1, 0x7fff, -0x8000, 255, 256];
const interestingInt32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0x10000, 1_000_000, 4096];
const interestingVarints = [
  [0x00],
  [0x7f],
  [0xff, 0xff, 0xff, 0xff, 0x0f], // the largest uint32
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // too long for a varint
  [0xff], // cut short
];

/** Share of mutated frames that carry mutated records (when the worker has a records topic). */
const recordFrameShare = 0.4;
const recordCodecs: readonly Codec[] = ['none', 'none', 'gzip', 'snappy', 'lz4', 'zstd'];
const interestingRecordCounts = [0, -1, 2 ** 31 - 1, 1_000_001, 65_536];

/** The records section of a small valid batch: a few records, some with keys and headers. */
function fuzzSection(random: SeededRandom): Buffer {
  const records = Array.from({ length: random.int(1, 5) }, (_, index) => ({
    key: random.next() < 0.5 ? null : Buffer.from(`key-${index}`),
    value: random.next() < 0.1 ? null : random.bytes(random.int(0, 40)),
    headers: Array.from({ length: random.int(0, 3) }, () => ({
      key: random.next() < 0.5 ? '' : 'h',
      value: random.next() < 0.3 ? null : random.bytes(random.int(0, 8)),
    })),
  }));
  const batch = encodeRecordBatch({ records });
  return Buffer.from(batch.subarray(batchHeader.bytes));
}

/** One mutation of a records section: a varint dropped in, bytes overwritten, cut or grown. */
function mutateSection(section: Buffer, random: SeededRandom): Buffer {
  const at = random.int(0, section.length);
  switch (random.int(0, 4)) {
    case 0: // replace one field's first byte by a whole (often hostile) varint
      return Buffer.concat([
        section.subarray(0, at),
        Buffer.from(random.pick(interestingVarints)),
        section.subarray(at + 1),
      ]);
    case 1: {
      const copy = Buffer.from(section);
      if (at < copy.length) copy[at] = random.pick([0x00, 0x01, 0x7f, 0x80, 0xff, random.int(0, 255)]);
      return copy;
    }
    case 2:
      return section.subarray(0, at);
    case 3:
      return Buffer.concat([section.subarray(0, at), random.bytes(random.int(1, 16)), section.subarray(at)]);
    default: // a header count or length in the millions, then little behind it
      return Buffer.concat([section.subarray(0, at), Buffer.from([0x80, 0x9b, 0xee, 0x1d]), random.bytes(4)]);
  }
}

/**
 * A Produce request (to `topic`, partition 0) carrying one batch whose header and CRC are valid and
 * whose records are mutated; the record count and codec may lie as well.
 */
export function recordFuzzFrame(topic: string, correlationId: number, random: SeededRandom): Buffer {
  let section = fuzzSection(random);
  const recordCount = section.length === 0 ? 0 : countRecords(section);
  for (let mutations = random.int(0, 3); mutations > 0; mutations--) section = mutateSection(section, random);
  const declared =
    random.next() < 0.3
      ? random.pick([...interestingRecordCounts, recordCount + 1, recordCount - 1])
      : recordCount;
  const codec = random.pick(recordCodecs);
  const unassignedCodec = random.next() < 0.05;
  const batch = batchFromSection(section, {
    recordCount: declared,
    codec: unassignedCodec ? 'none' : codec,
    ...(unassignedCodec ? { codecBits: random.int(5, 7) } : {}),
  });
  const apiVersion = random.int(3, 9);
  return encodeRequestFrame(
    { apiKey: 0, apiVersion, correlationId, clientId: 'fuzz' },
    produceRequest(topic, 0, batch, { acks: random.pick([1, -1, 1]) }),
  );
}

/** Records in a section fuzzSection made: its first varint is the first record's length, and so on. */
function countRecords(section: Buffer): number {
  let at = 0;
  let count = 0;
  while (at < section.length) {
    let raw = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = section[at++]!;
      raw |= (byte & 0x7f) << shift;
      shift += 7;
    } while ((byte & 0x80) !== 0);
    at += (raw >>> 1) ^ -(raw & 1);
    count++;
  }
  return count;
}

/** Sets the length prefix to what follows it. */
function reframe(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Applies one random mutation that keeps the framing readable (the prefix matches the body). */
export function mutateFrame(frame: Buffer, random: SeededRandom): Buffer {
  const body = Buffer.from(frame.subarray(4));
  switch (random.int(1, 7)) {
    case 1: {
      for (let flips = random.int(1, 4); flips > 0; flips--) {
        const at = random.int(0, body.length - 1);
        body[at] = body[at]! ^ (1 << random.int(0, 7));
      }
      return reframe(body);
    }
    case 2:
      return reframe(body.subarray(0, random.int(0, body.length - 1)));
    case 3: {
      // Edit a length (or count) field inside the body, header excluded.
      const at = random.int(8, Math.max(8, body.length - 4));
      const kind = random.int(0, 2);
      if (kind === 0 && at + 2 <= body.length) body.writeInt16BE(random.pick(interestingInt16), at);
      else if (kind === 1 && at + 4 <= body.length) body.writeInt32BE(random.pick(interestingInt32), at);
      else
        return reframe(
          Buffer.concat([
            body.subarray(0, at),
            Buffer.from(random.pick(interestingVarints)),
            body.subarray(at + 1),
          ]),
        );
      return reframe(body);
    }
    case 4: {
      if (random.next() < 0.5)
        body.writeInt16BE(random.pick([-1, 7, 9, 24, 57, 67, 99, 1000, 32767, random.int(-32768, 32767)]), 0);
      else
        body.writeInt16BE(random.pick([-1, 99, 127, 32767, random.int(0, 20), random.int(-32768, 32767)]), 2);
      return reframe(body);
    }
    case 5:
      return reframe(random.bytes(random.int(0, 200)));
    case 6: {
      // Insert or delete a few bytes somewhere after the header's fixed fields.
      const at = random.int(Math.min(8, body.length), body.length);
      if (random.next() < 0.5)
        return reframe(
          Buffer.concat([body.subarray(0, at), random.bytes(random.int(1, 8)), body.subarray(at)]),
        );
      return reframe(
        Buffer.concat([body.subarray(0, at), body.subarray(Math.min(body.length, at + random.int(1, 8)))]),
      );
    }
    default: {
      // Bytes of another request glued in: a plausible but wrong body.
      const at = random.int(Math.min(8, body.length), body.length);
      return reframe(Buffer.concat([body.subarray(0, at), random.bytes(random.int(0, 64))]));
    }
  }
}

/** A last frame that breaks the framing: the server can only close the connection. */
export function framingBreaker(frame: Buffer, random: SeededRandom): Buffer {
  switch (random.int(0, 2)) {
    case 0: {
      const prefix = Buffer.allocUnsafe(4);
      const lengths = [
        -1,
        -0x80000000,
        0x7fffffff,
        frameFuzzerDefaults.frameBytesOversized,
        200 * 1024 * 1024,
      ];
      prefix.writeInt32BE(random.pick(lengths), 0);
      return Buffer.concat([prefix, random.bytes(random.int(0, 64))]);
    }
    case 1:
      return frame.subarray(0, random.int(1, frame.length - 1)); // cut short; the connection then ends
    default:
      return Buffer.from([0xff, 0xff]); // half a length prefix
  }
}

interface WorkerOptions {
  readonly port: number;
  readonly corpus: readonly Buffer[];
  readonly seed: number;
  /** Mutated frames to send, over as many connections as it takes (valid ones are mixed in). */
  readonly frames: number;
  readonly host?: string;
  /** A topic to send Produce requests with mutated records to (none: frame mutations only). */
  readonly recordsTopic?: string;
}

/** Sends `frames` fuzzed frames to the listener at `port`, one connection at a time. */
export async function runFuzzWorker(options: WorkerOptions): Promise<FuzzStats> {
  const random = new SeededRandom(options.seed);
  const stats: FuzzStats = {
    framesSent: 0,
    framesMutated: 0,
    responses: 0,
    connections: 0,
    outOfOrderResponses: 0,
    recordFramesSent: 0,
  };
  while (stats.framesMutated < options.frames) {
    stats.connections++;
    await fuzzOneConnection(options, random, stats);
  }
  return stats;
}

/** Share of a round's frames that are mutated; one rate is picked per round. */
const mutationRates = [0.05, 0.3, 1];

/** Correlation ids the server should answer, in the order it should answer them. */
class AnswerOrder {
  #expected: number[] = [];
  #next = 0;
  expect(frame: Buffer): void {
    if (frame.length >= 12) this.#expected.push(frame.readInt32BE(8));
  }
  /** Records an answer; false when it does not follow request order. */
  answer(correlationId: number): boolean {
    const at = this.#expected.indexOf(correlationId, this.#next);
    if (at < 0) return false;
    this.#next = at + 1;
    return true;
  }
  get complete(): boolean {
    return this.#next >= this.#expected.length;
  }
}

function mutatedFrame(
  frame: Buffer,
  correlationId: number,
  options: WorkerOptions,
  random: SeededRandom,
  stats: FuzzStats,
): Buffer {
  if (options.recordsTopic === undefined || random.next() >= recordFrameShare)
    return mutateFrame(frame, random);
  stats.recordFramesSent++;
  return recordFuzzFrame(options.recordsTopic, correlationId, random);
}

function fuzzOneConnection(options: WorkerOptions, random: SeededRandom, stats: FuzzStats): Promise<void> {
  const defaults = frameFuzzerDefaults;
  return new Promise((resolve) => {
    const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port });
    const decoder = new FrameDecoder({ frameBytesMax: 64 * 1024 * 1024 });
    let order = new AnswerOrder();
    let rounds = 0;
    let correlationId = 0;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(quiet);
      socket.destroy();
      resolve();
    };
    const waitQuietly = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, defaults.quietMs);
    };
    const sendRound = (): void => {
      if (stats.framesMutated >= options.frames || rounds++ >= defaults.roundsPerConnectionMax) {
        finish();
        return;
      }
      order = new AnswerOrder();
      const frames: Buffer[] = [];
      // Some rounds are mostly valid, so that pipelines of answered requests get checked too.
      const mutationRate = random.pick(mutationRates);
      for (let count = random.int(1, defaults.roundFramesMax); count > 0; count--) {
        const frame = Buffer.from(random.pick(options.corpus));
        frame.writeInt32BE(++correlationId, 8);
        const mutate = random.next() < mutationRate;
        const sent = mutate ? mutatedFrame(frame, correlationId, options, random, stats) : frame;
        order.expect(sent);
        frames.push(sent);
        if (mutate) stats.framesMutated++;
      }
      const breakFraming = random.next() < 0.04;
      if (breakFraming) frames.push(framingBreaker(random.pick(options.corpus), random));
      if (breakFraming) stats.framesMutated++;
      stats.framesSent += frames.length;
      socket.write(Buffer.concat(frames));
      if (breakFraming) socket.end();
      waitQuietly();
    };
    socket.on('error', () => undefined); // resets are one way the server closes
    socket.once('close', finish);
    socket.once('connect', sendRound);
    socket.on('data', (chunk: Buffer) => {
      let answers: Buffer[];
      try {
        answers = decoder.push(chunk);
      } catch {
        stats.outOfOrderResponses++; // the server must always frame its answers
        finish();
        return;
      }
      for (const answer of answers) {
        stats.responses++;
        if (answer.length < 4 || !order.answer(answer.readInt32BE(0))) stats.outOfOrderResponses++;
      }
      if (order.complete) sendRound();
      else waitQuietly();
    });
  });
}
