/**
 * NATS JetStream: `nats-server -js` on loopback with a temporary store folder, one stream per topic
 * with file storage and 1 replica; partition p is the subject `<topic>.<p>`. Publishes wait for
 * the stream's PubAck; the consumer is an ordered (ephemeral, unacknowledged) pull consumer that
 * reads the stream from its first message.
 */
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { makeTempDir } from '../../src/testing/processes.ts';
import { freePort, startServer } from '../omb/servers.ts';
import type { BenchConsumer, BenchProducer, Driver, DriverHints } from './driver.ts';
import { commandOutput } from './peers.ts';

const publishTimeoutMs = 120_000; // ms for a PubAck; the client's 5 s default fails runs that fall behind

export async function openNats(_hints: DriverHints): Promise<Driver> {
  const temp = await makeTempDir('tide-bench-nats-');
  const port = await freePort();
  const server = await startServer({
    name: 'nats-server',
    command: 'nats-server',
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', temp.path],
    readyLine: /Server is ready/,
  });
  const connections: Awaited<ReturnType<typeof connect>>[] = [];
  const open = async () => {
    const connection = await connect({ servers: `127.0.0.1:${port}` });
    connections.push(connection);
    return connection;
  };
  const manager = await jetstreamManager(await open());
  return {
    system: 'nats-jetstream',
    version: commandOutput('nats-server', ['--version']),
    durability:
      'JetStream file store, 1 replica: PubAck once written to the OS page cache; fsync on the server interval (default, not per message)',
    settings: { storage: 'file', replicas: 1, consumer: 'ordered pull', publishTimeoutMs },
    notes: ['one stream per topic; partition p is subject <topic>.<p>'],
    pids: [server.pid],
    createTopic: async (name, partitions) => {
      await manager.streams.add({
        name,
        subjects: Array.from({ length: partitions }, (_, partition) => `${name}.${partition}`),
        storage: StorageType.File,
        num_replicas: 1,
      });
    },
    createProducer: async (topic): Promise<BenchProducer> => {
      const client = jetstream(await open());
      return {
        send: async (partition, payload) => {
          await client.publish(`${topic}.${partition}`, payload, { timeout: publishTimeoutMs });
        },
        close: async () => undefined,
      };
    },
    createConsumer: async (topic, _partitions, onMessage): Promise<BenchConsumer> => {
      const client = jetstream(await open());
      const consumer = await client.consumers.get(topic);
      const messages = await consumer.consume({ max_messages: 4096 });
      const loop = (async () => {
        for await (const message of messages) onMessage(message.data);
      })();
      return {
        close: async () => {
          await messages.close();
          await loop.catch(() => undefined);
        },
      };
    },
    close: async () => {
      await Promise.allSettled(connections.map((connection) => connection.close()));
      await server.stop();
      await temp.remove();
    },
  };
}
