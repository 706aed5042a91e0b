import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of one Kafka listener that loses Produce answers: it forwards every
 * request, and when the answer to a Produce request comes back it drops that answer and closes both
 * connections, for the first `cutsMax` Produce answers whose number (1-based, counted over all
 * connections) is a multiple of `cutEvery`. The broker appended the batch; the client never hears so
 * and must retry, which is where an idempotent producer has to avoid a duplicate.
 *
 * Frames are parsed only as far as Kafka framing goes: a 4-byte size, then (requests) api key,
 * api version and correlation id, or (responses) the correlation id.
 */

export interface CuttingProxyOptions {
  /** Lose every n-th Produce answer. */
  readonly cutEvery: number;
  /** Stop losing answers after this many. */
  readonly cutsMax: number;
}

const produceApiKey = 0;
/** Frames larger than this are not Kafka traffic this proxy expects: it cuts the connection. */
const frameBytesMax = 64 * 1024 * 1024;

export class CuttingProxy {
  readonly #server: Server;
  #options: CuttingProxyOptions;
  readonly #sockets = new Set<Socket>();
  #target: { host: string; port: number } | undefined;
  #produceAnswers = 0;
  /** Produce answers dropped so far. */
  cuts = 0;
  port = 0;

  private constructor(options: CuttingProxyOptions) {
    this.#options = options;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on a free loopback port; set the target before clients connect. */
  static async start(options: CuttingProxyOptions): Promise<CuttingProxy> {
    const proxy = new CuttingProxy(options);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    const address = proxy.#server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy.port = address.port;
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts counting again with new options (one test's worth of cuts). */
  arm(options: CuttingProxyOptions): void {
    this.#options = options;
    this.#produceAnswers = 0;
    this.cuts = 0;
  }

  setTarget(host: string, port: number): void {
    this.#target = { host, port };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const target = this.#target;
    if (target === undefined) {
      client.destroy();
      return;
    }
    const server = connect(target.port, target.host);
    this.#sockets.add(client).add(server);
    const cut = (): void => {
      client.destroy();
      server.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(server);
    };
    client.on('error', cut).on('close', cut);
    server.on('error', cut).on('close', cut);
    const produceRequests = new Set<number>();
    client.on(
      'data',
      frames((frame) => {
        if (frame.length >= 12 && frame.readInt16BE(4) === produceApiKey)
          produceRequests.add(frame.readInt32BE(8));
        if (!server.destroyed) server.write(frame);
      }, cut),
    );
    server.on(
      'data',
      frames((frame) => {
        const correlationId = frame.length >= 8 ? frame.readInt32BE(4) : -1;
        if (produceRequests.delete(correlationId) && this.#loseAnswer()) {
          cut();
          return;
        }
        if (!client.destroyed) client.write(frame);
      }, cut),
    );
  }

  #loseAnswer(): boolean {
    this.#produceAnswers += 1;
    if (this.cuts >= this.#options.cutsMax || this.#produceAnswers % this.#options.cutEvery !== 0)
      return false;
    this.cuts += 1;
    return true;
  }
}

/** A data listener that calls `onFrame` with each whole frame (size prefix included). */
function frames(onFrame: (frame: Buffer) => void, onBad: () => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (size < 0 || size > frameBytesMax) {
        onBad();
        return;
      }
      if (pending.length < 4 + size) break;
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}
