import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { HostPort } from '../base/address.ts';

/**
 * A loopback TCP proxy for fault injection: it listens on a port of its own and forwards every
 * connection to a target, in one of three modes, switched at any time:
 *
 * - `pass`: bytes flow both ways (a healthy network).
 * - `blackhole`: connections are accepted and kept open, but every byte in either direction is
 *   dropped (a partition where packets vanish: peers notice only through their own timeouts).
 * - `cut`: every open connection is closed and new ones are closed at once (a peer that refuses).
 *
 * Going back to `pass` closes the connections that lost bytes in a black hole (their byte streams
 * have gaps, as a real connection would have timed out by then); new connections flow again.
 */

export type ProxyMode = 'pass' | 'blackhole' | 'cut';

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Bytes were dropped on this pair: it can never carry a valid stream again. */
  damaged: boolean;
}

export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #target: HostPort;
  #mode: ProxyMode = 'pass';
  #port = 0;

  private constructor(target: HostPort) {
    this.#target = target;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Starts a proxy towards `target` on `listen` (default 127.0.0.1, a free port). */
  static async start(options: { target: HostPort; listen?: HostPort }): Promise<TcpProxy> {
    const proxy = new TcpProxy(options.target);
    const listen = options.listen ?? { host: '127.0.0.1', port: 0 };
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(listen.port, listen.host, () => resolve());
    });
    const address = proxy.#server.address();
    proxy.#port = typeof address === 'object' && address !== null ? address.port : 0;
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Connections currently open through the proxy. */
  get connectionCount(): number {
    return this.#pairs.size;
  }

  /** Where new connections go (existing ones keep their upstream). */
  setTarget(target: HostPort): void {
    this.#target = target;
  }

  setMode(mode: ProxyMode): void {
    this.#mode = mode;
    for (const pair of [...this.#pairs]) {
      if (mode === 'cut' || (mode === 'pass' && pair.damaged)) this.#close(pair);
    }
  }

  async close(): Promise<void> {
    for (const pair of [...this.#pairs]) this.#close(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.#mode === 'cut') {
      client.on('error', () => undefined);
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, damaged: false };
    this.#pairs.add(pair);
    client.on('error', () => this.#close(pair));
    client.on('close', () => this.#close(pair));
    const upstream = createConnection({ host: this.#target.host, port: this.#target.port });
    pair.upstream = upstream;
    upstream.on('error', () => this.#upstreamGone(pair));
    upstream.on('close', () => this.#upstreamGone(pair));
    client.on('data', (chunk: Buffer) => this.#forward(pair, upstream, chunk));
    upstream.on('data', (chunk: Buffer) => this.#forward(pair, client, chunk));
  }

  #forward(pair: Pair, to: Socket, chunk: Buffer): void {
    if (this.#mode !== 'pass' || pair.damaged) {
      pair.damaged = true;
      return;
    }
    if (!to.destroyed) to.write(chunk);
  }

  /** In a black hole the client must not learn that the far end went away: it only times out. */
  #upstreamGone(pair: Pair): void {
    if (this.#mode === 'blackhole') pair.damaged = true;
    else this.#close(pair);
  }

  #close(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
