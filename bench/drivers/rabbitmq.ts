/**
 * RabbitMQ stream queues over AMQP 0-9-1 (amqplib): a private node on loopback — its own epmd on a
 * free port, node name, AMQP and distribution ports, data and log folders, and a config file that
 * binds the listener to 127.0.0.1 — because the stream protocol's JS client does not work with
 * RabbitMQ 3.10. Partition p is the durable queue `<topic>-<p>` with x-queue-type=stream. The
 * producer waits for publisher confirms; the consumer reads with x-stream-offset=first, prefetch
 * and cumulative acks (stream queues require both).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { makeTempDir } from '../../src/testing/processes.ts';
import { freePort, type ServerProcess, startServer } from '../omb/servers.ts';
import type { BenchConsumer, BenchProducer, Driver, DriverHints } from './driver.ts';
import { debianVersion } from './peers.ts';

const prefetchMessages = 2_000; // unacknowledged deliveries per consumer
const ackEveryMessages = 500; // the consumer acks cumulatively this often
const rabbitServer = '/usr/lib/rabbitmq/bin/rabbitmq-server';

async function startNode(directory: string): Promise<{ amqpPort: number; servers: ServerProcess[] }> {
  const [epmdPort, amqpPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const config = join(directory, 'rabbitmq.conf');
  await writeFile(
    config,
    `listeners.tcp.default = 127.0.0.1:${amqpPort}\nlog.console = true\nlog.console.level = info\nlog.file = false\n`,
  );
  await writeFile(join(directory, 'enabled_plugins'), '[].\n');
  const epmd = await startServer({
    name: 'epmd',
    command: 'epmd',
    args: ['-port', String(epmdPort), '-address', '127.0.0.1'],
    readyPort: epmdPort,
  });
  try {
    const rabbit = await startServer({
      name: 'rabbitmq-server',
      command: rabbitServer,
      args: [],
      env: {
        HOME: directory, // the Erlang cookie goes here, not into the user's home
        RABBITMQ_ALLOW_INPUT: '1', // exec the VM directly, so the PID we hold is the node's
        RABBITMQ_SERVER_START_ARGS: '-noinput',
        RABBITMQ_NODENAME: `tidebench${amqpPort}@localhost`,
        RABBITMQ_NODE_PORT: String(amqpPort),
        RABBITMQ_DIST_PORT: String(distPort),
        ERL_EPMD_PORT: String(epmdPort),
        RABBITMQ_MNESIA_BASE: join(directory, 'mnesia'),
        RABBITMQ_LOG_BASE: join(directory, 'log'),
        RABBITMQ_CONFIG_FILE: config,
        RABBITMQ_ENABLED_PLUGINS_FILE: join(directory, 'enabled_plugins'),
        RABBITMQ_LOGS: '-',
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      },
      readyLine: /Server startup complete/,
      readyTimeoutMs: 120_000,
    });
    return { amqpPort, servers: [rabbit, epmd] };
  } catch (error) {
    await epmd.stop();
    throw error;
  }
}

export async function openRabbitMq(_hints: DriverHints): Promise<Driver> {
  const temp = await makeTempDir('tide-bench-rabbitmq-');
  const node = await startNode(temp.path);
  const rabbit = node.servers[0]!;
  const connections: amqp.ChannelModel[] = [];
  const open = async (): Promise<amqp.ChannelModel> => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${node.amqpPort}`);
    connections.push(connection);
    return connection;
  };
  const admin = await (await open()).createChannel();
  const queue = (topic: string, partition: number): string => `${topic}-${partition}`;
  return {
    system: 'rabbitmq-stream',
    version: `rabbitmq-server ${debianVersion('rabbitmq-server')}, Erlang ${debianVersion('erlang-base')}`,
    durability:
      'stream queue, publisher confirms: confirmed once written to the stream log (OS page cache; no fsync per message)',
    settings: {
      protocol: 'AMQP 0-9-1',
      confirms: true,
      prefetch: prefetchMessages,
      ackEvery: ackEveryMessages,
    },
    notes: [
      `node start-up took ${(rabbit.startupMs / 1000).toFixed(1)} s`,
      'partition p is queue <topic>-<p>',
    ],
    pids: [rabbit.pid],
    createTopic: async (name, partitions) => {
      for (let partition = 0; partition < partitions; partition++)
        await admin.assertQueue(queue(name, partition), {
          durable: true,
          arguments: { 'x-queue-type': 'stream' },
        });
    },
    createProducer: async (topic): Promise<BenchProducer> => {
      const channel = await (await open()).createConfirmChannel();
      return {
        send: (partition, payload) =>
          new Promise<void>((resolve, reject) => {
            channel.sendToQueue(queue(topic, partition), payload, {}, (error: unknown) =>
              error === null || error === undefined ? resolve() : reject(new Error(String(error))),
            );
          }),
        close: () => channel.close(),
      };
    },
    createConsumer: async (topic, partitions, onMessage): Promise<BenchConsumer> => {
      const channel = await (await open()).createChannel();
      await channel.prefetch(prefetchMessages);
      const tags: string[] = [];
      for (let partition = 0; partition < partitions; partition++) {
        let unacked = 0;
        const reply = await channel.consume(
          queue(topic, partition),
          (message) => {
            if (message === null) return;
            onMessage(message.content);
            if (++unacked >= ackEveryMessages) {
              channel.ack(message, true);
              unacked = 0;
            }
          },
          { noAck: false, arguments: { 'x-stream-offset': 'first' } },
        );
        tags.push(reply.consumerTag);
      }
      return {
        close: async () => {
          await Promise.allSettled(tags.map((tag) => channel.cancel(tag)));
          await channel.close().catch(() => undefined);
        },
      };
    },
    close: async () => {
      await Promise.allSettled(connections.map((connection) => connection.close()));
      for (const server of node.servers) await server.stop();
      await temp.remove();
    },
  };
}
