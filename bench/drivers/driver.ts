/**
 * What the OMB-style runner needs from each system: start its server(s), create a topic of N
 * partitions, publish a payload to a partition with a promise settled on the acknowledgement, and
 * consume every partition from the beginning with a callback per message. Each driver states how
 * durable an acknowledged message is, so its figures are printed with that beside them.
 */

export type SystemName =
  | 'tide'
  | 'tide-fsync'
  | 'tide-rf3'
  | 'nats-jetstream'
  | 'redis-streams'
  | 'rabbitmq-stream'
  | 'harness-floor';

export const peerSystems: readonly SystemName[] = ['nats-jetstream', 'redis-streams', 'rabbitmq-stream'];

/** Per-workload hints a driver may use (batching tuned for latency or throughput). */
export interface DriverHints {
  /** True for fixed-rate latency workloads: drivers keep client batching short. */
  readonly latency: boolean;
}

export interface BenchProducer {
  /** Resolves when the system acknowledged the message. `payload` is not reused by the caller. */
  send(partition: number, payload: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface BenchConsumer {
  close(): Promise<void>;
}

export type MessageHandler = (payload: Uint8Array) => void;

export interface Driver {
  readonly system: SystemName;
  readonly version: string;
  readonly durability: string;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly notes: readonly string[];
  /** Server processes whose RSS and CPU are sampled. */
  readonly pids: readonly number[];
  createTopic(name: string, partitions: number): Promise<void>;
  createProducer(topic: string, partitions: number): Promise<BenchProducer>;
  /** Reads every partition from its first message. */
  createConsumer(topic: string, partitions: number, onMessage: MessageHandler): Promise<BenchConsumer>;
  /** Closes the clients and stops the servers. */
  close(): Promise<void>;
}

export async function openDriver(system: SystemName, hints: DriverHints): Promise<Driver> {
  switch (system) {
    case 'tide':
    case 'tide-fsync':
    case 'tide-rf3':
      return (await import('./tide.ts')).openTide(system, hints);
    case 'nats-jetstream':
      return (await import('./nats.ts')).openNats(hints);
    case 'redis-streams':
      return (await import('./redis.ts')).openRedis(hints);
    case 'rabbitmq-stream':
      return (await import('./rabbitmq.ts')).openRabbitMq(hints);
    case 'harness-floor':
      return (await import('./null.ts')).openNull(hints);
  }
}
