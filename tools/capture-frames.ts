/**
 * Captures golden request frames from real Kafka clients (a development tool, run once by hand; the
 * result is committed under tests/fixtures/frames/).
 *
 * Usage: tsx tools/capture-frames.ts [--out tests/fixtures/frames]
 *
 * It listens on a free loopback port and, with the generated codecs, answers just enough for clients
 * to proceed: ApiVersions (the support table), Metadata (one broker, itself; every requested topic
 * exists with one partition it leads), Produce (offset 0, no error), ListOffsets and Fetch (every
 * partition is empty), and the group APIs (it coordinates every group; the first member leads and
 * gets what it assigns itself). It then runs, one after the other: `kcat -L`; `kcat -P` once per
 * compression codec with keyed records carrying headers; `kcat -C -e` on the empty partition; a
 * kafkajs producer; a kafkajs group consumer that stops after its first heartbeat.
 *
 * Each request frame (the bytes after the 4-byte length prefix) is written to
 * `<client>-<scenario>-<n>-<api>-v<version>.bin`, once per distinct frame in a scenario (consumers
 * repeat fetches and heartbeats); the record batch inside each kcat produce request is also
 * written on its own (`….batch.bin`). manifest.json lists every file with its API key, version,
 * client, codec and a description.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { apiSupport } from '../src/protocol/api-support.ts';
import { FrameDecoder } from '../src/protocol/frame-decoder.ts';
import {
  type ApiVersionsResponse,
  apiCodecs,
  apiKeys,
  codecFor,
  createApiVersionsResponse,
  createFetchResponsePartitionData,
  createMetadataResponse,
  createMetadataResponseBroker,
  createMetadataResponsePartition,
  createMetadataResponseTopic,
  createOffsetFetchResponsePartition,
  createProduceResponsePartitionProduceResponse,
  decodeRequestHeader,
  encodeResponseHeader,
  errorCodes,
  type FetchResponse,
  type FindCoordinatorResponse,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type LeaveGroupResponse,
  type ListOffsetsResponse,
  type MetadataResponse,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
  type ProduceResponse,
  type RequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  type SyncGroupResponse,
} from '../src/protocol/messages/index.ts';
import { Reader } from '../src/protocol/reader.ts';
import { Writer } from '../src/protocol/writer.ts';
import { kebabCase } from './gen-protocol/model.ts';

/**
 * The records each kcat run produces: `key:value` lines, every record with the same two headers.
 * Values repeat themselves so that every codec actually shrinks the batch (librdkafka sends a batch
 * uncompressed when compression would not make it smaller).
 */
const repeated = 'hello tide '.repeat(12);
const goldenRecords = Object.freeze([
  { key: 'key-1', value: `value one: ${repeated}` },
  { key: 'key-2', value: `value two: ${repeated}` },
  { key: 'key-3', value: `value three: ${repeated}` },
]);
const goldenHeaders = Object.freeze([
  { key: 'trace', value: 'abc123' },
  { key: 'source', value: 'kcat' },
]);
const goldenTopic = 'golden';
const goldenGroup = 'golden-group';
const kcatCodecs = Object.freeze(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const);

const clientTimeoutMs = 30_000; // ms
const brokerId = 1;
const memberId = 'golden-member-1';

interface Scenario {
  readonly client: 'kcat' | 'kafkajs';
  readonly name: string;
  readonly codec: string | null;
  readonly description: string;
}

interface ManifestEntry {
  readonly file: string;
  /** `request` for a whole request frame, `recordBatch` for the batches of a produce request. */
  readonly kind: 'request' | 'recordBatch';
  readonly apiKey: number;
  readonly apiName: string;
  readonly version: number;
  readonly client: string;
  readonly codec: string | null;
  readonly description: string;
}

class Capture {
  readonly entries: ManifestEntry[] = [];
  port = 0;
  #scenario: Scenario | undefined;
  #seen = new Set<string>();
  #count = 0;
  #waiters: { apiKey: number; wake: () => void }[] = [];
  readonly #outDir: string;

  constructor(outDir: string) {
    this.#outDir = outDir;
  }

  get scenario(): Scenario | undefined {
    return this.#scenario;
  }

  set scenario(scenario: Scenario) {
    this.#scenario = scenario;
    this.#seen.clear();
  }

  /** Resolves when the next request of this API arrives. */
  next(apiKey: number): Promise<void> {
    return new Promise((wake) => this.#waiters.push({ apiKey, wake }));
  }

  received(apiKey: number): void {
    const waiting = this.#waiters.filter((waiter) => waiter.apiKey === apiKey);
    this.#waiters = this.#waiters.filter((waiter) => waiter.apiKey !== apiKey);
    for (const waiter of waiting) waiter.wake();
  }

  write(frame: Buffer, kind: ManifestEntry['kind'], apiKey: number, version: number): void {
    const scenario = this.#scenario;
    if (scenario === undefined) throw new Error('frame outside a scenario');
    // Consumers repeat fetches and heartbeats: keep one of each distinct frame (ignoring the
    // correlation id, bytes 4-7).
    const key = `${kind}:${Buffer.concat([frame.subarray(0, 4), frame.subarray(8)]).toString('base64')}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const apiName = codecFor(apiKey)?.name ?? `api-${apiKey}`;
    const index = String(++this.#count).padStart(2, '0');
    const suffix = kind === 'recordBatch' ? '.batch' : '';
    const file = `${scenario.client}-${scenario.name}-${index}-${kebabCase(apiName)}-v${version}${suffix}.bin`;
    writeFileSync(join(this.#outDir, file), frame);
    const { client, codec, description } = scenario;
    this.entries.push({ file, kind, apiKey, apiName, version, client, codec, description });
  }
}

// Answers ---------------------------------------------------------------------------------------------

/** Builds the response to one request, or undefined when none is due (acks=0). */
type Answer = (header: RequestHeader, reader: Reader, capture: Capture) => object | undefined;

function answerApiVersions(header: RequestHeader, reader: Reader): ApiVersionsResponse {
  if (header.requestApiVersion <= apiSupport[18].maxVersion) {
    apiCodecs[18].decodeRequest(reader, header.requestApiVersion);
  }
  const keys = Object.entries(apiSupport).map(([key, support]) => ({
    apiKey: Number(key),
    minVersion: support.minVersion,
    maxVersion: support.maxVersion,
  }));
  return createApiVersionsResponse({ errorCode: errorCodes.NONE, apiKeys: keys });
}

function answerMetadata(header: RequestHeader, reader: Reader, capture: Capture): MetadataResponse {
  const request = apiCodecs[3].decodeRequest(reader, header.requestApiVersion);
  const requested = request.topics?.map((topic) => topic.name ?? goldenTopic) ?? [];
  const partition = { leaderId: brokerId, leaderEpoch: 0, replicaNodes: [brokerId], isrNodes: [brokerId] };
  return createMetadataResponse({
    brokers: [createMetadataResponseBroker({ nodeId: brokerId, host: '127.0.0.1', port: capture.port })],
    clusterId: 'golden-cluster',
    controllerId: brokerId,
    topics: (requested.length === 0 ? [goldenTopic] : requested).map((name) =>
      createMetadataResponseTopic({ name, partitions: [createMetadataResponsePartition(partition)] }),
    ),
  });
}

function answerProduce(header: RequestHeader, reader: Reader, capture: Capture): ProduceResponse | undefined {
  const request = apiCodecs[0].decodeRequest(reader, header.requestApiVersion);
  for (const partition of request.topicData.flatMap((topic) => topic.partitionData)) {
    if (capture.scenario?.client === 'kcat' && partition.records !== null) {
      capture.write(partition.records, 'recordBatch', apiKeys.Produce, header.requestApiVersion);
    }
  }
  if (request.acks === 0) return undefined;
  const responses = request.topicData.map((topic) => ({
    name: topic.name,
    partitionResponses: topic.partitionData.map(({ index }) =>
      createProduceResponsePartitionProduceResponse({ index, baseOffset: 0n, logStartOffset: 0n }),
    ),
  }));
  return { responses, throttleTimeMs: 0 };
}

/** Every partition starts and ends at offset 0: the log is empty. */
function answerListOffsets(header: RequestHeader, reader: Reader): ListOffsetsResponse {
  const request = apiCodecs[2].decodeRequest(reader, header.requestApiVersion);
  const topics = request.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map(({ partitionIndex }) => ({
      partitionIndex,
      errorCode: errorCodes.NONE,
      timestamp: -1n,
      offset: 0n,
      leaderEpoch: 0,
    })),
  }));
  return { throttleTimeMs: 0, topics };
}

/** Empty partitions, high watermark 0: a consumer started with `-e` sees the end and exits. */
function answerFetch(header: RequestHeader, reader: Reader): FetchResponse {
  const request = apiCodecs[1].decodeRequest(reader, header.requestApiVersion);
  const responses = request.topics.map((topic) => ({
    topic: topic.topic,
    partitions: topic.partitions.map(({ partition }) =>
      createFetchResponsePartitionData({
        partitionIndex: partition,
        highWatermark: 0n,
        lastStableOffset: 0n,
        logStartOffset: 0n,
        records: Buffer.alloc(0),
      }),
    ),
  }));
  return { throttleTimeMs: 0, errorCode: errorCodes.NONE, sessionId: 0, responses };
}

function answerFindCoordinator(
  header: RequestHeader,
  reader: Reader,
  capture: Capture,
): FindCoordinatorResponse {
  const request = apiCodecs[10].decodeRequest(reader, header.requestApiVersion);
  const node = { nodeId: brokerId, host: '127.0.0.1', port: capture.port };
  const coordinators = request.coordinatorKeys.map((key) => ({
    key,
    ...node,
    errorCode: 0,
    errorMessage: null,
  }));
  return { throttleTimeMs: 0, errorCode: errorCodes.NONE, errorMessage: null, ...node, coordinators };
}

/** The only member leads the group and picks the first protocol it offers. */
function answerJoinGroup(header: RequestHeader, reader: Reader): JoinGroupResponse {
  const request = apiCodecs[11].decodeRequest(reader, header.requestApiVersion);
  const protocol = request.protocols[0];
  return {
    throttleTimeMs: 0,
    errorCode: errorCodes.NONE,
    generationId: 1,
    protocolType: request.protocolType,
    protocolName: protocol?.name ?? null,
    leader: memberId,
    skipAssignment: false,
    memberId,
    members: [{ memberId, groupInstanceId: null, metadata: protocol?.metadata ?? Buffer.alloc(0) }],
  };
}

function answerSyncGroup(header: RequestHeader, reader: Reader): SyncGroupResponse {
  const request = apiCodecs[14].decodeRequest(reader, header.requestApiVersion);
  const mine = request.assignments.find((assignment) => assignment.memberId === request.memberId);
  return {
    throttleTimeMs: 0,
    errorCode: errorCodes.NONE,
    protocolType: request.protocolType,
    protocolName: request.protocolName,
    assignment: mine?.assignment ?? Buffer.alloc(0),
  };
}

/** No committed offsets yet. */
function answerOffsetFetch(header: RequestHeader, reader: Reader): OffsetFetchResponse {
  const request = apiCodecs[9].decodeRequest(reader, header.requestApiVersion);
  const topics = (request.topics ?? []).map((topic) => ({
    name: topic.name,
    partitions: topic.partitionIndexes.map((partitionIndex) =>
      createOffsetFetchResponsePartition({ partitionIndex, committedOffset: -1n, metadata: '' }),
    ),
  }));
  return { throttleTimeMs: 0, topics, errorCode: errorCodes.NONE, groups: [] };
}

function answerOffsetCommit(header: RequestHeader, reader: Reader): OffsetCommitResponse {
  const request = apiCodecs[8].decodeRequest(reader, header.requestApiVersion);
  const topics = request.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map(({ partitionIndex }) => ({
      partitionIndex,
      errorCode: errorCodes.NONE,
    })),
  }));
  return { throttleTimeMs: 0, topics };
}

function answerHeartbeat(header: RequestHeader, reader: Reader): HeartbeatResponse {
  apiCodecs[12].decodeRequest(reader, header.requestApiVersion);
  return { throttleTimeMs: 0, errorCode: errorCodes.NONE };
}

function answerLeaveGroup(header: RequestHeader, reader: Reader): LeaveGroupResponse {
  const request = apiCodecs[13].decodeRequest(reader, header.requestApiVersion);
  const members = request.members.map(({ memberId, groupInstanceId }) => ({
    memberId,
    groupInstanceId,
    errorCode: errorCodes.NONE,
  }));
  return { throttleTimeMs: 0, errorCode: errorCodes.NONE, members };
}

const answers: Readonly<Record<number, Answer>> = {
  [apiKeys.ApiVersions]: answerApiVersions,
  [apiKeys.Metadata]: answerMetadata,
  [apiKeys.Produce]: answerProduce,
  [apiKeys.ListOffsets]: answerListOffsets,
  [apiKeys.Fetch]: answerFetch,
  [apiKeys.FindCoordinator]: answerFindCoordinator,
  [apiKeys.JoinGroup]: answerJoinGroup,
  [apiKeys.SyncGroup]: answerSyncGroup,
  [apiKeys.OffsetFetch]: answerOffsetFetch,
  [apiKeys.OffsetCommit]: answerOffsetCommit,
  [apiKeys.Heartbeat]: answerHeartbeat,
  [apiKeys.LeaveGroup]: answerLeaveGroup,
};

// Server ----------------------------------------------------------------------------------------------

function handleFrame(socket: Socket, frame: Buffer, capture: Capture): void {
  const apiKey = frame.readInt16BE(0);
  const apiVersion = frame.readInt16BE(2);
  capture.write(frame, 'request', apiKey, apiVersion);
  const reader = new Reader(frame);
  const header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
  const answer = answers[apiKey];
  const codec = codecFor(apiKey);
  if (answer === undefined || codec === undefined) {
    process.stderr.write(`unexpected API ${apiKey} v${apiVersion}; closing the connection\n`);
    socket.destroy();
    return;
  }
  const response = answer(header, reader, capture);
  if (response !== undefined) {
    // An ApiVersions request newer than Tide's is answered in v0 with UNSUPPORTED_VERSION, which every
    // client reads and then retries with a version from the list.
    const tooNew = apiKey === apiKeys.ApiVersions && apiVersion > apiSupport[18].maxVersion;
    const body = tooNew
      ? { ...(response as ApiVersionsResponse), errorCode: errorCodes.UNSUPPORTED_VERSION }
      : response;
    const writer = new Writer();
    const length = writer.reserve(4);
    encodeResponseHeader(
      writer,
      { correlationId: header.correlationId },
      responseHeaderVersion(apiKey, apiVersion),
    );
    codec.encodeResponse(writer, body, tooNew ? 0 : apiVersion);
    length.buffer.writeInt32BE(writer.length - 4, length.offset);
    socket.write(writer.toBuffer());
  }
  capture.received(apiKey);
}

function startServer(capture: Capture): Promise<Server> {
  const server = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      try {
        for (const frame of decoder.push(chunk)) handleFrame(socket, Buffer.from(frame), capture);
      } catch (error) {
        process.stderr.write(`capture failed: ${String(error)}\n`);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolvePromise) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') capture.port = address.port;
      resolvePromise(server);
    });
  });
}

// Clients ---------------------------------------------------------------------------------------------

function runKcat(args: readonly string[], input = ''): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('kcat', [...args, '-X', 'client.id=golden-kcat'], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), clientTimeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`kcat ${args.join(' ')} exited with ${code ?? signal}`));
    });
    child.stdin.end(input);
  });
}

function kafkajsClient(port: number): Kafka {
  return new Kafka({
    clientId: 'golden-kafkajs',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
  });
}

async function runKafkajsProducer(port: number): Promise<void> {
  const producer = kafkajsClient(port).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const messages = [
    { key: 'key-1', value: 'value one', headers: { trace: 'abc123' } },
    { key: null, value: 'value two' },
  ];
  await producer.send({ topic: goldenTopic, acks: -1, messages });
  await producer.disconnect();
}

/** Joins a group, fetches, and leaves once it has sent a heartbeat (no waiting on timers). */
async function runKafkajsConsumer(capture: Capture): Promise<void> {
  const consumer = kafkajsClient(capture.port).consumer({ groupId: goldenGroup, heartbeatInterval: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [goldenTopic], fromBeginning: true });
  const heartbeat = capture.next(apiKeys.Heartbeat);
  await consumer.run({ eachMessage: async () => {} });
  await heartbeat;
  await consumer.disconnect();
}

async function runScenarios(capture: Capture): Promise<void> {
  const broker = `127.0.0.1:${capture.port}`;
  capture.scenario = { client: 'kcat', name: 'list', codec: null, description: 'kcat -L (metadata listing)' };
  await runKcat(['-b', broker, '-L']);
  const input = goldenRecords.map((record) => `${record.key}:${record.value}\n`).join('');
  const headers = goldenHeaders.flatMap((header) => ['-H', `${header.key}=${header.value}`]);
  for (const codec of kcatCodecs) {
    const description = `kcat -P -z ${codec}: ${goldenRecords.length} keyed records with ${goldenHeaders.length} headers each`;
    capture.scenario = { client: 'kcat', name: `produce-${codec}`, codec, description };
    const produce = ['-P', '-b', broker, '-t', goldenTopic, '-z', codec, '-K:', '-X', 'linger.ms=200'];
    await runKcat([...produce, ...headers], input);
  }
  const consumeDescription = 'kcat -C -o beginning -e on an empty partition (list offsets, fetch)';
  capture.scenario = { client: 'kcat', name: 'consume', codec: null, description: consumeDescription };
  await runKcat(['-C', '-b', broker, '-t', goldenTopic, '-p', '0', '-o', 'beginning', '-e']);
  const kcatGroupDescription = `kcat -G ${goldenGroup} -e: join, sync, fetch to the end, commit, leave`;
  capture.scenario = { client: 'kcat', name: 'group', codec: null, description: kcatGroupDescription };
  await runKcat(['-b', broker, '-G', goldenGroup, '-e', '-X', 'auto.offset.reset=earliest', goldenTopic]);
  const producerDescription = 'kafkajs producer: connect, send two records, disconnect';
  capture.scenario = { client: 'kafkajs', name: 'produce', codec: 'none', description: producerDescription };
  await runKafkajsProducer(capture.port);
  const groupDescription = `kafkajs consumer in group ${goldenGroup}: join, sync, fetch, heartbeat, leave`;
  capture.scenario = { client: 'kafkajs', name: 'group', codec: null, description: groupDescription };
  await runKafkajsConsumer(capture);
}

async function main(argv: readonly string[]): Promise<void> {
  const outIndex = argv.indexOf('--out');
  const outDir = resolve(outIndex >= 0 ? (argv[outIndex + 1] ?? '') : 'tests/fixtures/frames');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const capture = new Capture(outDir);
  const server = await startServer(capture);
  try {
    await runScenarios(capture);
  } finally {
    server.close();
  }
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(capture.entries, null, 2)}\n`);
  process.stdout.write(`captured ${capture.entries.length} files into ${outDir}\n`);
  // kafkajs may keep timers alive after disconnecting; the capture is complete.
  process.exit(0);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
