import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../base/logger.ts';
import { Listener, type ListenerLimits, type RequestHandler } from './server.ts';

/**
 * The listener's time and memory limits, with raw sockets and limits short enough for a test:
 * idle connections and frames that never finish are closed, a connection whose request is in
 * progress is not idle, and frames split across reads share one budget of bytes: a connection that
 * finds it spent waits (reading paused) until another's request is answered.
 */

const baseLimits: ListenerLimits = {
  connectionsMax: 100,
  frameBytesMax: 1024 * 1024,
  inflightRequestsMax: 8,
  bufferedBytesMax: 1024 * 1024,
};

const listeners: Listener[] = [];
const sockets: Socket[] = [];

after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(listeners.map((listener) => listener.close()));
});

/** Answers every frame with a 4-byte "ok" response. */
const answerOk: RequestHandler = async () => [Buffer.from([0, 0, 0, 2, 0x6f, 0x6b])];

async function start(limits: Partial<ListenerLimits>, handler: RequestHandler = answerOk) {
  const listener = new Listener({ handler, limits: { ...baseLimits, ...limits }, logger: silentLogger });
  listeners.push(listener);
  const port = await listener.listen('127.0.0.1', 0);
  return { listener, port };
}

async function open(port: number): Promise<{ socket: Socket; received: Buffer[]; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, received, closed };
}

function prefix(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(length);
  return bytes;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 2000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never: ${what}`);
}

describe('listener limits', { timeout: 20_000 }, () => {
  it('closes a connection that stays idle', async () => {
    const { listener, port } = await start({ idleMsMax: 50 });
    const client = await open(port);
    await until(() => listener.connectionCount === 1, 'the listener has the connection');
    await client.closed;
    await until(() => listener.connectionCount === 0, 'the listener let it go');
  });

  it('closes a connection whose started frame does not arrive in time, releasing its bytes', async () => {
    const { listener, port } = await start({ frameReceiveMsMax: 50 });
    const client = await open(port);
    client.socket.write(Buffer.concat([prefix(100_000), Buffer.alloc(10)]));
    await until(() => listener.memory.heldBytes === 100_000, 'the frame took its buffer');
    await client.closed;
    await until(() => listener.memory.heldBytes === 0, 'the buffer was given back');
  });

  it('does not take a connection whose request is in progress for an idle one', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    const parked: RequestHandler = async () => {
      started = true;
      await gate;
      return [Buffer.from([0, 0, 0, 2, 0x6f, 0x6b])];
    };
    const { port } = await start({ idleMsMax: 20 }, parked);
    const client = await open(port);
    client.socket.write(Buffer.concat([prefix(3), Buffer.from('req')]));
    await until(() => started, 'the request started');
    // Many idle periods pass while the request is parked; the connection must still be there.
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await until(() => Buffer.concat(client.received).length === 6, 'the parked request was answered');
    await client.closed;
  });

  it('makes split frames share one budget: a second waits until the first is answered', async () => {
    const frameBytes = 800;
    const { listener, port } = await start({ requestBufferedBytesMax: 1000 });
    const first = await open(port);
    const second = await open(port);
    first.socket.write(Buffer.concat([prefix(frameBytes), Buffer.alloc(100)]));
    await until(() => listener.memory.heldBytes === frameBytes, 'the first frame took its buffer');
    second.socket.write(Buffer.concat([prefix(frameBytes), Buffer.alloc(100)]));
    await until(() => listener.memory.waitingCount === 1, 'the second frame waits for memory');
    assert.equal(listener.memory.heldBytes, frameBytes, 'the budget is not exceeded');
    second.socket.write(Buffer.alloc(frameBytes - 100));
    first.socket.write(Buffer.alloc(frameBytes - 100));
    await until(() => Buffer.concat(first.received).length === 6, 'the first frame was answered');
    await until(() => Buffer.concat(second.received).length === 6, 'the second then went through');
    await until(() => listener.memory.heldBytes === 0, 'every byte was given back');
    first.socket.destroy();
    second.socket.destroy();
  });
});
