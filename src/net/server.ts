import { createServer, type Server, type Socket } from 'node:net';
import { systemClock, type Timer } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import { RequestMemory } from './request-memory.ts';
import { ResponseBudget, type ResponseReservation } from './response-budget.ts';

/**
 * The server side of Kafka framing, shared by the SPU's listeners and the SC's: a Listener accepts
 * TCP connections and gives each a Connection, which runs one request handler per frame and writes
 * the responses in request order.
 *
 * Frame layout (see protocol/frame-decoder.ts): int32 length, then the request header and body;
 * responses: int32 length, response header, body.
 */

/**
 * One client connection: frames in, responses out, in request order. Requests are pipelined (several
 * may be in progress at once, e.g. parked fetches behind produces), but responses are written strictly
 * in the order their requests arrived, as Kafka clients require.
 *
 * Memory per connection is bounded two ways: at most `inflightRequestsMax` requests are in progress,
 * and once `bufferedBytesMax` bytes of responses wait in the socket (a slow consumer), reading stops
 * until the socket drains. Either way the client feels backpressure through TCP rather than the SPU
 * growing without bound. Across connections, frames split over several reads take their buffers from
 * the listener's RequestMemory (`requestBufferedBytesMax`), and reading waits while it is spent.
 *
 * Time: a connection with nothing in progress and no bytes moving for `idleMsMax` is closed
 * (Kafka's connections.max.idle.ms), and so is one that started a frame and has not delivered all of
 * it within `frameReceiveMsMax` (a stalled or trickling sender must not pin a frame buffer).
 */
export interface ConnectionLimits {
  readonly inflightRequestsMax: number; // requests
  readonly bufferedBytesMax: number; // bytes
  readonly idleMsMax?: number; // ms; 0 keeps idle connections open
  readonly frameReceiveMsMax?: number; // ms
  readonly responseBytesInFlightMax?: number; // bytes
}

export const connectionLimitDefaults = Object.freeze({
  // Kafka's connections.max.idle.ms: clients default to closing idle connections at 9 minutes
  // (540000), just below this, so a well-behaved client closes first and never sees a reset.
  idleMsMax: 600_000, // ms
  // Kafka clients give up on a request after request.timeout.ms, 30 s by default: a frame not
  // received by then is answered to nobody. Twice that leaves room for a 100 MiB frame on a slow link.
  frameReceiveMsMax: 60_000, // ms
  // Frames held across all connections of a process. Above the largest frame (100 MiB), so two
  // large produces proceed at once, and small next to a machine's memory: the most that slow or
  // hostile senders can pin, each for at most frameReceiveMsMax.
  requestBufferedBytesMax: 256 * 1024 * 1024, // bytes
  // Responses one connection holds (reserved, built, or written and unread): one fetch response
  // at its largest (fetchResponseBytesMax), so a consumer's own fetches never wait on each other
  // for long, and a client that pipelines fetches without reading pins one response, not 64.
  responseBytesInFlightMax: 64 * 1024 * 1024, // bytes
  // Responses held over all connections: eight largest fetch responses at once. Readers that keep
  // up give their bytes back within a round trip; slow ones delay others' large reads, never memory.
  responseBytesInFlightTotalMax: 512 * 1024 * 1024, // bytes
});

/** What the connection knows about itself, for handlers and logs. */
export interface ConnectionContext {
  readonly id: number;
  readonly remote: string;
  /** Resolved when the connection closes; parked requests use it to stop waiting. */
  readonly closed: AbortSignal;
  /**
   * Waits for room to build a response of about `bytes` (response-budget.ts) and takes it, to be
   * given back once the response is built. Absent where nothing is bounded.
   */
  reserveResponseBytes?(bytes: number): Promise<ResponseReservation>;
}

/**
 * Handles one request frame (without its length prefix). Returns the response as chunks (with the
 * length prefix), or undefined when no response is due (acks=0 produce). Throwing closes the
 * connection: the only answer to a frame that cannot be parsed.
 */
export type RequestHandler = (frame: Buffer, context: ConnectionContext) => Promise<Buffer[] | undefined>;

interface Pending {
  done: boolean;
  response: Buffer[] | undefined;
  bytes: number;
}

export class Connection implements ConnectionContext {
  readonly id: number;
  readonly remote: string;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #handler: RequestHandler;
  readonly #limits: ConnectionLimits;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #queue: Pending[] = [];
  /** Frames read but not yet started because the in-flight limit was reached (at most one read's worth). */
  #backlog: Buffer[] = [];
  #readingPaused = false;
  readonly #memory: RequestMemory;
  /** Frame buffers taken from #memory, until their request is answered. */
  readonly #reserved = new WeakSet<Buffer>();
  #reservedBytes = 0;
  #cancelMemoryWait: (() => void) | undefined;
  #frameTimer: Timer | undefined;
  readonly #responses: ResponseBudget;

  constructor(options: {
    id: number;
    socket: Socket;
    frameBytesMax: number;
    handler: RequestHandler;
    limits: ConnectionLimits;
    memory: RequestMemory;
    responseMemory: RequestMemory;
    logger: Logger;
  }) {
    this.id = options.id;
    this.#socket = options.socket;
    this.remote = `${options.socket.remoteAddress}:${options.socket.remotePort}`;
    this.#memory = options.memory;
    this.#decoder = new FrameDecoder({
      frameBytesMax: options.frameBytesMax,
      allocate: (bytes) => this.#allocateFrame(bytes),
    });
    this.#handler = options.handler;
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#responses = new ResponseBudget({
      bytesMax: this.#limits.responseBytesInFlightMax ?? connectionLimitDefaults.responseBytesInFlightMax,
      process: options.responseMemory,
      closed: this.#abort.signal,
    });
    this.#socket.setNoDelay(true);
    const idleMsMax = this.#limits.idleMsMax ?? connectionLimitDefaults.idleMsMax;
    if (idleMsMax > 0) this.#socket.setTimeout(idleMsMax);
    this.#socket.on('timeout', () => this.#onQuiet());
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('drain', () => {
      this.#responses.drained();
      this.#updateReading();
    });
    this.#socket.on('error', (error) =>
      this.#logger.debug('connection error', { connection: this.id, error }),
    );
    this.#socket.on('close', () => this.#onClose());
  }

  get closed(): AbortSignal {
    return this.#abort.signal;
  }

  reserveResponseBytes(bytes: number): Promise<ResponseReservation> {
    return this.#responses.reserve(bytes);
  }

  /** Requests received and not yet answered. */
  get inflightRequests(): number {
    return this.#queue.length;
  }

  close(reason: string, fields?: Readonly<Record<string, unknown>>): void {
    if (this.#socket.destroyed) return;
    this.#logger.info('closing connection', { connection: this.id, remote: this.remote, reason, ...fields });
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#decode(() => this.#decoder.push(chunk));
  }

  #decode(read: () => Buffer[]): void {
    let frames: Buffer[];
    try {
      frames = read();
    } catch (error) {
      this.close('unreadable framing', { error });
      return;
    }
    if (frames.length > 0) this.#backlog.push(...frames);
    if (this.#decoder.stalled) this.#waitForMemory();
    this.#watchFrame();
    this.#startBacklog();
    this.#updateReading();
  }

  #allocateFrame(bytes: number): Buffer | undefined {
    if (!this.#memory.take(bytes)) return undefined;
    const frame = Buffer.allocUnsafe(bytes);
    this.#reserved.add(frame);
    this.#reservedBytes += bytes;
    return frame;
  }

  /** Gives back a frame's bytes once its request is answered (nothing after the connection closed). */
  #releaseFrame(frame: Buffer): void {
    if (!this.#reserved.delete(frame) || this.#socket.destroyed) return;
    this.#reservedBytes -= frame.length;
    this.#memory.release(frame.length);
  }

  #waitForMemory(): void {
    if (this.#cancelMemoryWait !== undefined || this.#socket.destroyed) return;
    this.#cancelMemoryWait = this.#memory.waitForRelease(() => {
      this.#cancelMemoryWait = undefined;
      this.#decode(() => this.#decoder.retry());
    });
  }

  /**
   * Runs the frame deadline while a frame is partly received (not while it waits for memory: that
   * wait is this process's doing, not the sender's).
   */
  #watchFrame(): void {
    const receiving = this.#decoder.bufferedBytes > 0 && !this.#decoder.stalled;
    if (!receiving) {
      this.#frameTimer?.cancel();
      this.#frameTimer = undefined;
      return;
    }
    if (this.#frameTimer !== undefined) return;
    const frameReceiveMsMax = this.#limits.frameReceiveMsMax ?? connectionLimitDefaults.frameReceiveMsMax;
    this.#frameTimer = systemClock.timeout(frameReceiveMsMax, () => {
      this.close('frame not received in time', {
        frameReceiveMsMax,
        bufferedBytes: this.#decoder.bufferedBytes,
      });
    });
  }

  /** No bytes moved for idleMsMax: close unless a request is in progress or a frame is arriving. */
  #onQuiet(): void {
    if (this.#queue.length > 0 || this.#backlog.length > 0 || this.#decoder.bufferedBytes > 0) return;
    this.close('idle', { idleMsMax: this.#limits.idleMsMax ?? connectionLimitDefaults.idleMsMax });
  }

  #onClose(): void {
    this.#frameTimer?.cancel();
    this.#cancelMemoryWait?.();
    this.#cancelMemoryWait = undefined;
    this.#memory.release(this.#reservedBytes);
    this.#reservedBytes = 0;
    this.#abort.abort();
  }

  #startBacklog(): void {
    let started = 0;
    while (started < this.#backlog.length && this.#queue.length < this.#limits.inflightRequestsMax) {
      this.#dispatch(this.#backlog[started++]!);
    }
    if (started > 0) this.#backlog = this.#backlog.slice(started);
  }

  #dispatch(frame: Buffer): void {
    const pending: Pending = { done: false, response: undefined, bytes: 0 };
    this.#queue.push(pending);
    this.#handler(frame, this).then(
      (response) => {
        this.#releaseFrame(frame);
        pending.done = true;
        pending.response = response;
        for (const chunk of response ?? []) pending.bytes += chunk.length;
        this.#responses.hold(pending.bytes);
        this.#flush();
      },
      // The error's type tells a malformed request (ProtocolError) from a fault in a handler.
      (error: unknown) => {
        this.#releaseFrame(frame);
        this.close('request failed', {
          error,
          errorType: error instanceof Error ? error.name : typeof error,
        });
      },
    );
  }

  /** Writes every finished response at the head of the queue, coalesced into one socket write. */
  #flush(): void {
    if (this.#socket.destroyed) return;
    const head = this.#queue[0];
    if (head === undefined || !head.done) return;
    this.#socket.cork();
    let writtenBytes = 0;
    while (this.#queue.length > 0 && this.#queue[0]!.done) {
      const { response, bytes } = this.#queue.shift()!;
      if (response !== undefined) for (const chunk of response) this.#socket.write(chunk);
      writtenBytes += bytes;
    }
    this.#socket.uncork();
    this.#responses.written(writtenBytes, this.#socket.writableNeedDrain);
    this.#startBacklog();
    this.#updateReading();
  }

  #updateReading(): void {
    if (this.#socket.destroyed) return;
    const busy =
      this.#decoder.stalled ||
      this.#backlog.length > 0 ||
      this.#queue.length >= this.#limits.inflightRequestsMax ||
      this.#socket.writableLength >= this.#limits.bufferedBytesMax;
    if (busy && !this.#readingPaused) {
      this.#readingPaused = true;
      this.#socket.pause();
    } else if (!busy && this.#readingPaused) {
      this.#readingPaused = false;
      this.#socket.resume();
    }
  }
}

export interface ListenerLimits extends ConnectionLimits {
  readonly connectionsMax: number; // connections
  readonly frameBytesMax: number; // bytes
  readonly requestBufferedBytesMax?: number; // bytes, for every connection of the listener together
}

/**
 * The Kafka listener: accepts TCP connections up to `connectionsMax` (more are closed at once, with a
 * log line) and gives each a Connection with its own frame decoder.
 */
export class Listener {
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #limits: ListenerLimits;
  readonly #logger: Logger;
  readonly #handler: RequestHandler;
  readonly #memory: RequestMemory;
  readonly #responseMemory: RequestMemory;
  #nextId = 1;

  constructor(options: {
    handler: RequestHandler;
    limits: ListenerLimits;
    logger: Logger;
    /** The request-bytes budget, shared when several listeners serve one process. */
    memory?: RequestMemory;
    /** The response-bytes budget (response-budget.ts), shared likewise. */
    responseMemory?: RequestMemory;
  }) {
    this.#handler = options.handler;
    this.#limits = options.limits;
    this.#memory =
      options.memory ??
      new RequestMemory(
        options.limits.requestBufferedBytesMax ?? connectionLimitDefaults.requestBufferedBytesMax,
      );
    this.#responseMemory =
      options.responseMemory ?? new RequestMemory(connectionLimitDefaults.responseBytesInFlightTotalMax);
    this.#logger = options.logger;
    this.#server = createServer((socket) => this.#accept(socket));
    this.#server.on('error', (error) => this.#logger.error('listener error', { error }));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The response-bytes budget this listener's connections draw on. */
  get responseMemory(): RequestMemory {
    return this.#responseMemory;
  }

  /** The request-bytes budget this listener's connections draw on. */
  get memory(): RequestMemory {
    return this.#memory;
  }

  /** Starts listening; resolves with the bound port (useful with port 0), rejects if it is taken. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once('error', onError);
      this.#server.listen({ host, port, backlog: 1024 }, () => {
        this.#server.off('error', onError);
        const address = this.#server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  /** Stops accepting, closes every connection and resolves when the server is closed. */
  close(): Promise<void> {
    for (const connection of this.#connections) connection.close('shutting down');
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    if (this.#connections.size >= this.#limits.connectionsMax) {
      this.#logger.warn('connection refused: limit reached', {
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
        connectionsMax: this.#limits.connectionsMax,
      });
      socket.destroy();
      return;
    }
    const connection = new Connection({
      id: this.#nextId++,
      socket,
      frameBytesMax: this.#limits.frameBytesMax,
      handler: this.#handler,
      limits: this.#limits,
      memory: this.#memory,
      responseMemory: this.#responseMemory,
      logger: this.#logger,
    });
    this.#connections.add(connection);
    socket.on('close', () => this.#connections.delete(connection));
  }
}
