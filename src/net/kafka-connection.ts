import { connect, type Socket } from 'node:net';
import { TideError } from '../base/errors.ts';
import { chooseVersion } from '../protocol/api-support.ts';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import { apiKeys, requestHeaderVersion, responseHeaderVersion } from '../protocol/messages/api-keys.ts';
import { createApiVersionsRequest, decodeApiVersionsResponse } from '../protocol/messages/api-versions.ts';
import { type ApiCodec, apiCodecs } from '../protocol/messages/codecs.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { encodeRequestHeader } from '../protocol/messages/request-header.ts';
import { decodeResponseHeader } from '../protocol/messages/response-header.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';

/**
 * One Kafka-framed client connection: requests encoded with the generated codecs, pipelined, and
 * answered in order (the correlation id is checked). The Tide client, the SPU's link to the SC, the
 * SC's pushes to SPUs and follower fetches all speak through it.
 *
 * Frame layout (see protocol/frame-decoder.ts): int32 length, then request header v1/v2 and the body.
 */

type Codecs = typeof apiCodecs;
export type ApiKeyOf = keyof Codecs;
export type RequestOf<K extends ApiKeyOf> = Parameters<Codecs[K]['encodeRequest']>[1];
export type ResponseOf<K extends ApiKeyOf> = ReturnType<Codecs[K]['decodeResponse']>;

const codecsByKey = apiCodecs as Readonly<Record<number, ApiCodec<unknown, unknown>>>;

export const connectionDefaults = Object.freeze({
  clientId: 'tide',
  connectTimeoutMs: 10_000, // ms
  requestTimeoutMs: 30_000, // ms: without an answer by then the connection is closed
  frameBytesMax: 256 * 1024 * 1024, // bytes of one response
});

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

export const connectionErrorCodes = Object.freeze({
  closed: 'CONNECTION_CLOSED',
  connectFailed: 'CONNECT_FAILED',
  requestTimeout: 'REQUEST_TIMEOUT',
  badResponse: 'BAD_RESPONSE',
  unsupportedVersion: 'UNSUPPORTED_VERSION',
});

/** Encodes one whole request frame, length prefix included. */
export function encodeRequestFrame<K extends ApiKeyOf>(
  header: { apiKey: K; apiVersion: number; correlationId: number; clientId?: string | null },
  body: RequestOf<K>,
): Buffer {
  const { apiKey, apiVersion, correlationId } = header;
  const w = new Writer(512);
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

interface Waiter {
  readonly correlationId: number;
  readonly resolve: (frame: Buffer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class KafkaConnection {
  readonly host: string;
  readonly port: number;
  protected readonly socket: Socket;
  protected readonly options: Required<ConnectionOptions>;
  readonly #decoder = new FrameDecoder({ frameBytesMax: connectionDefaults.frameBytesMax });
  readonly #waiting: Waiter[] = [];
  #nextCorrelationId = 1;
  #closeError: Error | undefined;
  /** The peer's version ranges, once `negotiateVersions` ran. */
  #peerVersions: Map<number, { min: number; max: number }> | undefined;
  /** Resolves once the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;

  protected constructor(socket: Socket, options: Required<ConnectionOptions>) {
    this.socket = socket;
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => {
      this.#closeError ??= error;
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.failAll(
          new TideError(connectionErrorCodes.closed, `connection to ${this.host}:${this.port} closed`, {
            retriable: true,
            cause: this.#closeError,
          }),
        );
        resolve();
      }),
    );
  }

  /** Opens a TCP connection; rejects with a retriable CONNECT_FAILED error when it cannot. */
  static connect(options: ConnectionOptions): Promise<KafkaConnection> {
    return openSocket(options).then(({ socket, settled }) => new KafkaConnection(socket, settled));
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Requests sent and not yet answered. */
  get inflightRequests(): number {
    return this.#waiting.length;
  }

  /**
   * Asks the peer for its version ranges (ApiVersions, falling back to v0 if it refuses v3), so that
   * `versionFor` can pick the highest version both sides speak.
   */
  async negotiateVersions(): Promise<void> {
    let version = 3;
    for (;;) {
      const frame = await this.requestRaw(
        apiKeys.ApiVersions,
        version,
        createApiVersionsRequest({
          clientSoftwareName: 'tide',
          clientSoftwareVersion: '0',
        }),
      );
      const reader = new Reader(frame);
      decodeResponseHeader(reader, 0);
      const response = decodeApiVersionsResponse(reader, version);
      if (response.errorCode === errorCodes.UNSUPPORTED_VERSION && version !== 0) {
        version = 0;
        continue;
      }
      if (response.errorCode !== errorCodes.NONE) {
        throw new TideError(
          connectionErrorCodes.badResponse,
          `ApiVersions failed with error ${response.errorCode}`,
        );
      }
      this.#peerVersions = new Map(
        response.apiKeys.map((api) => [api.apiKey, { min: api.minVersion, max: api.maxVersion }]),
      );
      return;
    }
  }

  /** The version to use for `apiKey` with this peer; throws UNSUPPORTED_VERSION if there is none. */
  versionFor(apiKey: number): number {
    const peer = this.#peerVersions?.get(apiKey);
    const version = peer === undefined ? undefined : chooseVersion(apiKey, peer.min, peer.max);
    if (version === undefined) {
      throw new TideError(
        connectionErrorCodes.unsupportedVersion,
        `${this.host}:${this.port} does not speak API ${apiKey} in a version Tide knows`,
      );
    }
    return version;
  }

  /** Sends one request at the negotiated version (see negotiateVersions). */
  call<K extends ApiKeyOf>(apiKey: K, body: RequestOf<K>): Promise<ResponseOf<K>> {
    return this.request(apiKey, this.versionFor(apiKey), body);
  }

  /** Sends one request at `apiVersion` and resolves with its decoded response. */
  async request<K extends ApiKeyOf>(
    apiKey: K,
    apiVersion: number,
    body: RequestOf<K>,
  ): Promise<ResponseOf<K>> {
    const frame = await this.requestRaw(apiKey, apiVersion, body);
    const reader = new Reader(frame);
    decodeResponseHeader(reader, responseHeaderVersion(apiKey, apiVersion));
    return codecsByKey[apiKey]!.decodeResponse(reader, apiVersion) as ResponseOf<K>;
  }

  /** Sends one request and resolves with the raw response frame (header included, no length prefix). */
  requestRaw<K extends ApiKeyOf>(apiKey: K, apiVersion: number, body: RequestOf<K>): Promise<Buffer> {
    const correlationId = this.#nextCorrelationId++;
    const frame = encodeRequestFrame(
      { apiKey, apiVersion, correlationId, clientId: this.options.clientId },
      body,
    );
    return this.sendFrame(frame, correlationId);
  }

  /** Sends a request that gets no answer (acks=0 produce). */
  sendOneWay<K extends ApiKeyOf>(apiKey: K, apiVersion: number, body: RequestOf<K>): void {
    const correlationId = this.#nextCorrelationId++;
    this.socket.write(
      encodeRequestFrame({ apiKey, apiVersion, correlationId, clientId: this.options.clientId }, body),
    );
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  /** Writes a whole frame and resolves with the response carrying `correlationId`. */
  protected sendFrame(frame: Buffer, correlationId: number): Promise<Buffer> {
    if (this.socket.destroyed) {
      return Promise.reject(
        new TideError(connectionErrorCodes.closed, 'connection is closed', { retriable: true }),
      );
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        this.failAll(
          new TideError(
            connectionErrorCodes.requestTimeout,
            `no answer from ${this.host}:${this.port} in ${this.options.requestTimeoutMs} ms`,
            { retriable: true },
          ),
        );
      }, this.options.requestTimeoutMs);
      this.#waiting.push({ correlationId, resolve, reject, timer });
      this.socket.write(frame);
    });
  }

  protected failAll(error: Error): void {
    for (const waiter of this.#waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.socket.destroy();
      this.failAll(
        new TideError(connectionErrorCodes.badResponse, 'unreadable response framing', { cause: error }),
      );
      return;
    }
    for (const frame of frames) {
      const waiter = this.#waiting.shift();
      if (waiter === undefined || frame.length < 4 || frame.readInt32BE(0) !== waiter.correlationId) {
        this.socket.destroy();
        const error = new TideError(
          connectionErrorCodes.badResponse,
          'response does not match the oldest request',
        );
        waiter?.reject(error);
        this.failAll(error);
        return;
      }
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    }
  }
}

/** Connects a socket within the connect timeout. */
export function openSocket(
  options: ConnectionOptions,
): Promise<{ socket: Socket; settled: Required<ConnectionOptions> }> {
  const settled: Required<ConnectionOptions> = { ...connectionDefaults, ...options };
  return new Promise((resolve, reject) => {
    const socket = connect({ host: settled.host, port: settled.port });
    const fail = (cause: unknown): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new TideError(
          connectionErrorCodes.connectFailed,
          `cannot connect to ${settled.host}:${settled.port}`,
          { retriable: true, cause },
        ),
      );
    };
    const timer = setTimeout(() => fail(new Error('connect timeout')), settled.connectTimeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve({ socket, settled });
    });
  });
}
