import { connect, type Socket } from 'node:net';
import { TideError } from '../base/errors.ts';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/messages/api-keys.ts';
import { type ApiVersionsResponse, createApiVersionsRequest } from '../protocol/messages/api-versions.ts';
import { type ApiCodec, apiCodecs } from '../protocol/messages/codecs.ts';
import {
  type CreateTopicsResponse,
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../protocol/messages/create-topics.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
  type FetchResponse,
} from '../protocol/messages/fetch.ts';
import {
  createMetadataRequest,
  createMetadataRequestTopic,
  type MetadataResponse,
} from '../protocol/messages/metadata.ts';
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  type ProduceResponse,
} from '../protocol/messages/produce.ts';
import { encodeRequestHeader } from '../protocol/messages/request-header.ts';
import { decodeResponseHeader } from '../protocol/messages/response-header.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';

/**
 * A minimal Kafka wire client for tests and benchmarks: one TCP connection, requests encoded with the
 * generated codecs, responses read with the FrameDecoder and matched to requests in order (Kafka
 * answers in request order; the correlation id is checked). Requests may be pipelined: `request` can
 * be called again before earlier answers arrive.
 *
 * Frame layout (see frame-decoder.ts): int32 length, then request header v1/v2 and the body.
 */

type Codecs = typeof apiCodecs;
export type WireApiKey = keyof Codecs;
export type WireRequest<K extends WireApiKey> = Parameters<Codecs[K]['encodeRequest']>[1];
export type WireResponse<K extends WireApiKey> = ReturnType<Codecs[K]['decodeResponse']>;

/** The codecs by plain number, for calls where the key is a type parameter. */
const codecsByKey = apiCodecs as Readonly<Record<number, ApiCodec<unknown, unknown>>>;

export const wireClientDefaults = Object.freeze({
  clientId: 'tide-wire-client',
  connectTimeoutMs: 10_000, // ms
  requestTimeoutMs: 30_000, // ms
  frameBytesMax: 256 * 1024 * 1024, // bytes of one response
});

export interface WireClientOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** Who a request is for: the fields of its header. */
export interface WireRequestHeader<K extends WireApiKey> {
  readonly apiKey: K;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId?: string | null;
}

/** Encodes one whole request frame, length prefix included. */
export function encodeRequestFrame<K extends WireApiKey>(
  header: WireRequestHeader<K>,
  body: WireRequest<K>,
): Buffer {
  const { apiKey, apiVersion, correlationId } = header;
  const w = new Writer();
  const size = w.reserve(4);
  encodeRequestHeader(
    w,
    {
      requestApiKey: apiKey,
      requestApiVersion: apiVersion,
      correlationId,
      clientId: header.clientId ?? null,
    },
    requestHeaderVersion(apiKey, apiVersion),
  );
  codecsByKey[apiKey]!.encodeRequest(w, body, apiVersion);
  size.buffer.writeInt32BE(w.length - 4, size.offset);
  return w.toBuffer();
}

/** Splits "host:port" (as `TestSpu.bootstrap`). */
export function parseBootstrap(bootstrap: string): { host: string; port: number } {
  const at = bootstrap.lastIndexOf(':');
  return { host: bootstrap.slice(0, at), port: Number(bootstrap.slice(at + 1)) };
}

interface Waiter {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly resolve: (frame: Buffer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class WireClient {
  readonly #socket: Socket;
  readonly #options: Required<WireClientOptions>;
  readonly #decoder = new FrameDecoder({ frameBytesMax: wireClientDefaults.frameBytesMax });
  readonly #waiting: Waiter[] = [];
  #nextCorrelationId = 1;
  #closeError: Error | undefined;
  /** Resolves once the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket, options: Required<WireClientOptions>) {
    this.#socket = socket;
    this.#options = options;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => {
      this.#closeError ??= error;
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#failAll(
          new TideError('connection_closed', 'connection closed by peer', { cause: this.#closeError }),
        );
        resolve();
      }),
    );
  }

  static connect(options: WireClientOptions): Promise<WireClient> {
    const settled: Required<WireClientOptions> = { ...wireClientDefaults, ...options };
    return new Promise((resolve, reject) => {
      const socket = connect({ host: settled.host, port: settled.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TideError('connect_timeout', `no connection to ${settled.host}:${settled.port}`));
      }, settled.connectTimeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new WireClient(socket, settled));
      });
    });
  }

  /** Requests sent and not yet answered. */
  get inflightRequests(): number {
    return this.#waiting.length;
  }

  get isClosed(): boolean {
    return this.#socket.destroyed;
  }

  /** Sends one request and resolves with its decoded response. */
  async request<K extends WireApiKey>(
    apiKey: K,
    apiVersion: number,
    body: WireRequest<K>,
  ): Promise<WireResponse<K>> {
    const frame = await this.requestRaw(apiKey, apiVersion, body);
    const reader = new Reader(frame);
    decodeResponseHeader(reader, responseHeaderVersion(apiKey, apiVersion));
    return codecsByKey[apiKey]!.decodeResponse(reader, apiVersion) as WireResponse<K>;
  }

  /** Sends one request and resolves with the raw response frame (header included, no length prefix). */
  requestRaw<K extends WireApiKey>(apiKey: K, apiVersion: number, body: WireRequest<K>): Promise<Buffer> {
    const correlationId = this.#nextCorrelationId++;
    const frame = encodeRequestFrame(
      { apiKey, apiVersion, correlationId, clientId: this.#options.clientId },
      body,
    );
    return this.#send(frame, { apiKey, apiVersion, correlationId });
  }

  /** Sends a request that gets no answer (acks=0 produce). */
  sendOneWay<K extends WireApiKey>(apiKey: K, apiVersion: number, body: WireRequest<K>): void {
    const correlationId = this.#nextCorrelationId++;
    const frame = encodeRequestFrame(
      { apiKey, apiVersion, correlationId, clientId: this.#options.clientId },
      body,
    );
    this.#socket.write(frame);
  }

  /**
   * Sends a frame encoded by the caller (length prefix included; it may be malformed on purpose) and
   * resolves with the raw response frame carrying `correlationId`.
   */
  requestFrame(
    frame: Buffer,
    request: { apiKey: number; apiVersion: number; correlationId: number },
  ): Promise<Buffer> {
    return this.#send(frame, request);
  }

  /** Writes bytes as they are (for malformed input); responses to them are not awaited. */
  writeRaw(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  close(): Promise<void> {
    this.#socket.destroy();
    return this.closed;
  }

  #send(
    frame: Buffer,
    request: { apiKey: number; apiVersion: number; correlationId: number },
  ): Promise<Buffer> {
    if (this.#socket.destroyed)
      return Promise.reject(new TideError('connection_closed', 'connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#socket.destroy();
        this.#failAll(
          new TideError('request_timeout', `no answer to correlation id ${request.correlationId}`),
        );
      }, this.#options.requestTimeoutMs);
      this.#waiting.push({ ...request, resolve, reject, timer });
      this.#socket.write(frame);
    });
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#socket.destroy();
      this.#failAll(error instanceof Error ? error : new TideError('bad_frame', String(error)));
      return;
    }
    for (const frame of frames) {
      const waiter = this.#waiting.shift();
      if (waiter === undefined || frame.length < 4 || frame.readInt32BE(0) !== waiter.correlationId) {
        this.#socket.destroy();
        this.#failAll(new TideError('unexpected_response', 'response does not match the oldest request'));
        waiter?.reject(new TideError('unexpected_response', 'response does not match the request'));
        return;
      }
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    }
  }

  #failAll(error: Error): void {
    for (const waiter of this.#waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  // Typed helpers for the common requests ---------------------------------------------------------

  apiVersions(version = 3): Promise<ApiVersionsResponse> {
    return this.request(18, version, createApiVersionsRequest({ clientSoftwareName: 'tide-wire-client' }));
  }

  metadata(topics: readonly string[] | null, version = 9): Promise<MetadataResponse> {
    const request = createMetadataRequest({
      topics: topics === null ? null : topics.map((name) => createMetadataRequestTopic({ name })),
      allowAutoTopicCreation: false,
    });
    return this.request(3, version, request);
  }

  createTopics(
    topics: readonly { name: string; partitions?: number; configs?: Readonly<Record<string, string>> }[],
    options: { version?: number; validateOnly?: boolean } = {},
  ): Promise<CreateTopicsResponse> {
    const request = createCreateTopicsRequest({
      timeoutMs: 10_000,
      validateOnly: options.validateOnly ?? false,
      topics: topics.map(({ name, partitions, configs }) =>
        createCreateTopicsRequestCreatableTopic({
          name,
          numPartitions: partitions ?? 1,
          replicationFactor: 1,
          configs: Object.entries(configs ?? {}).map(([key, value]) => ({ name: key, value })),
        }),
      ),
    });
    return this.request(19, options.version ?? 7, request);
  }

  /** Produces record batches (bytes as on the wire) to one partition. */
  produce(
    topic: string,
    partition: number,
    records: Buffer,
    options: { acks?: number; version?: number; timeoutMs?: number } = {},
  ): Promise<ProduceResponse> {
    return this.request(0, options.version ?? 9, produceRequest(topic, partition, records, options));
  }

  fetch(
    topic: string,
    partition: number,
    fetchOffset: bigint,
    options: { version?: number; maxWaitMs?: number; maxBytes?: number } = {},
  ): Promise<FetchResponse> {
    const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    const request = createFetchRequest({
      replicaId: -1,
      maxWaitMs: options.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes,
      topics: [
        createFetchRequestTopic({
          topic,
          partitions: [createFetchRequestPartition({ partition, fetchOffset, partitionMaxBytes: maxBytes })],
        }),
      ],
    });
    return this.request(1, options.version ?? 12, request);
  }
}

/** A Produce request body for one partition. */
export function produceRequest(
  topic: string,
  partition: number,
  records: Buffer,
  options: { acks?: number; timeoutMs?: number } = {},
): WireRequest<0> {
  return createProduceRequest({
    acks: options.acks ?? 1,
    timeoutMs: options.timeoutMs ?? 30_000,
    topicData: [
      createProduceRequestTopicProduceData({
        name: topic,
        partitionData: [createProduceRequestPartitionProduceData({ index: partition, records })],
      }),
    ],
  });
}
