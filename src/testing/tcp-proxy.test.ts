import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TcpProxy } from './tcp-proxy.ts';

/** An echo server behind the proxy; each test talks to it through the proxy. */

const boundMs = 5_000; // ms any single expectation may take

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The next chunk the socket receives, or 'closed' when it closes first, or 'silent' after `ms`. */
function nextEvent(socket: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const done = (value: string): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => done(chunk.toString());
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => done('silent'), ms);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', () => undefined);
  });
}

describe('TcpProxy', () => {
  let echo: Server;
  let proxy: TcpProxy;

  before(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    const address = echo.address();
    assert.ok(typeof address === 'object' && address !== null);
    proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: address.port } });
  });
  after(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it('passes bytes both ways', async () => {
    const socket = await connect(proxy.port);
    socket.write('ping');
    assert.equal(await nextEvent(socket, boundMs), 'ping');
    socket.destroy();
  });

  it('drops bytes in a black hole without closing, and closes those connections on healing', async () => {
    const socket = await connect(proxy.port);
    proxy.setMode('blackhole');
    socket.write('lost');
    // Nothing comes back; the connection stays open (a real black hole says nothing).
    assert.equal(await nextEvent(socket, 300), 'silent');
    const late = await connect(proxy.port);
    late.write('also lost');
    assert.equal(await nextEvent(late, 300), 'silent');
    const closed = nextEvent(socket, boundMs);
    proxy.setMode('pass');
    assert.equal(await closed, 'closed');
    const fresh = await connect(proxy.port);
    fresh.write('back');
    assert.equal(await nextEvent(fresh, boundMs), 'back');
    fresh.destroy();
    late.destroy();
  });

  it('cuts open connections and refuses new ones until it passes again', async () => {
    const socket = await connect(proxy.port);
    const closed = nextEvent(socket, boundMs);
    proxy.setMode('cut');
    assert.equal(await closed, 'closed');
    const refused = await connect(proxy.port).then(
      (late) => nextEvent(late, boundMs),
      () => 'closed',
    );
    assert.equal(refused, 'closed');
    proxy.setMode('pass');
    const fresh = await connect(proxy.port);
    fresh.write('again');
    assert.equal(await nextEvent(fresh, boundMs), 'again');
    fresh.destroy();
  });
});
