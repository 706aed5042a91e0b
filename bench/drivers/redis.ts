/**
 * Redis Streams: `redis-server` on loopback with a temporary folder, AOF on with appendfsync
 * everysec and RDB snapshots off; partition p is the stream key `<topic>-<p>`. The producer sends
 * XADD with ioredis auto-pipelining (commands issued in one tick share a write); the consumer loops
 * over XREAD BLOCK on every partition's key from ID 0.
 */
import { Redis } from 'ioredis';
import { makeTempDir } from '../../src/testing/processes.ts';
import { freePort, startServer } from '../omb/servers.ts';
import type { BenchConsumer, BenchProducer, Driver, DriverHints } from './driver.ts';
import { commandOutput } from './peers.ts';

const readCount = 2_000; // entries per key per XREAD
const blockMs = 100; // ms an XREAD waits for new entries

type XreadReply = [Buffer, [Buffer, Buffer[]][]][] | null;

export async function openRedis(_hints: DriverHints): Promise<Driver> {
  const temp = await makeTempDir('tide-bench-redis-');
  const port = await freePort();
  const server = await startServer({
    name: 'redis-server',
    command: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      temp.path,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
    ],
    readyLine: /Ready to accept connections/,
  });
  const clients: Redis[] = [];
  const open = (): Redis => {
    const client = new Redis({
      host: '127.0.0.1',
      port,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
    });
    // Connection errors surface as failed commands; without a listener ioredis also prints them.
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const key = (topic: string, partition: number): string => `${topic}-${partition}`;
  return {
    system: 'redis-streams',
    version: commandOutput('redis-server', ['--version']),
    durability: 'AOF with appendfsync everysec: acked once in memory and the AOF buffer; fsync once a second',
    settings: { appendfsync: 'everysec', pipelining: 'ioredis auto-pipelining', xreadCount: readCount },
    notes: ['partition p is stream key <topic>-<p>; every entry is held in memory'],
    pids: [server.pid],
    createTopic: async () => undefined,
    createProducer: async (topic): Promise<BenchProducer> => {
      const client = open();
      return {
        send: async (partition, payload) => {
          await client.xadd(key(topic, partition), '*', 'v', payload);
        },
        close: async () => undefined,
      };
    },
    createConsumer: async (topic, partitions, onMessage): Promise<BenchConsumer> => {
      const client = open();
      const keys = Array.from({ length: partitions }, (_, partition) => key(topic, partition));
      const positions = new Map(keys.map((name) => [name, '0']));
      let stopped = false;
      const loop = (async () => {
        while (!stopped) {
          const ids = keys.map((name) => positions.get(name) ?? '0');
          const reply = (await client.xreadBuffer(
            'COUNT',
            readCount,
            'BLOCK',
            blockMs,
            'STREAMS',
            ...keys,
            ...ids,
          )) as XreadReply;
          for (const [name, entries] of reply ?? []) {
            for (const [, fields] of entries) {
              const value = fields[1];
              if (value !== undefined) onMessage(value);
            }
            const last = entries[entries.length - 1];
            if (last !== undefined) positions.set(name.toString(), last[0].toString());
          }
        }
      })();
      return {
        close: async () => {
          stopped = true;
          await loop.catch(() => undefined);
        },
      };
    },
    close: async () => {
      await Promise.allSettled(clients.map((client) => client.quit()));
      await server.stop();
      await temp.remove();
    },
  };
}
