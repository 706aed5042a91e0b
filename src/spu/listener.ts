import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../base/logger.ts';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import { Connection, type ConnectionLimits, type RequestHandler } from './connection.ts';

export interface ListenerLimits extends ConnectionLimits {
  readonly connectionsMax: number; // connections
  readonly frameBytesMax: number; // bytes
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
  #nextId = 1;

  constructor(options: { handler: RequestHandler; limits: ListenerLimits; logger: Logger }) {
    this.#handler = options.handler;
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#server = createServer((socket) => this.#accept(socket));
    this.#server.on('error', (error) => this.#logger.error('listener error', { error }));
  }

  get connectionCount(): number {
    return this.#connections.size;
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
      decoder: new FrameDecoder({ frameBytesMax: this.#limits.frameBytesMax }),
      handler: this.#handler,
      limits: this.#limits,
      logger: this.#logger,
    });
    this.#connections.add(connection);
    socket.on('close', () => this.#connections.delete(connection));
  }
}
