/**
 * The harness floor: a "system" that stores nothing and delivers each message to the consumer on
 * the next turn of the event loop, inside the harness process. Its figures are what the harness
 * itself costs on this machine at that moment — the client-side floor under every real system's
 * latency and ceiling over its rate — so a busy machine shows up as such, not as a slow broker.
 */
import type { BenchConsumer, BenchProducer, Driver, DriverHints, MessageHandler } from './driver.ts';

export function openNull(_hints: DriverHints): Driver {
  const handlers = new Map<string, MessageHandler>();
  return {
    system: 'harness-floor',
    version: `Node ${process.version}`,
    durability: 'none: in-process, nothing stored (measures the harness, not a broker)',
    settings: { delivery: 'setImmediate' },
    notes: ['RSS and CPU are the harness process’s own'],
    pids: [process.pid],
    createTopic: async () => undefined,
    createProducer: async (topic): Promise<BenchProducer> => ({
      send: async (_partition, payload) => {
        setImmediate(() => handlers.get(topic)?.(payload));
      },
      close: async () => undefined,
    }),
    createConsumer: async (topic, _partitions, onMessage): Promise<BenchConsumer> => {
      handlers.set(topic, onMessage);
      return { close: async () => void handlers.delete(topic) };
    },
    close: async () => undefined,
  };
}
