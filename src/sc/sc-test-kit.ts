import { ManualClock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import { Leadership } from './leadership.ts';
import { LocalMetadataStore } from './metadata-store.ts';
import { SpuRegistry } from './spu-registry.ts';
import { TopicFrontend } from './topic-frontend.ts';

/**
 * For the SC's unit tests: the store in `dir`, the SPU registry, the topic front end and the
 * leadership, on a manual clock. `spuEvents` says how much of sc.ts's wiring to copy: none (tests
 * that drive leadership by hand), SPUs going online/offline, or that plus restarted SPUs' fencing.
 */
export async function openScCore(
  dir: string,
  options: {
    sessionTimeoutMs: number;
    spuEvents: 'none' | 'online' | 'online-and-restarts';
    autoRebalance?: boolean;
    onLeadershipChange?: () => void;
  },
) {
  const { sessionTimeoutMs, spuEvents } = options;
  const store = await LocalMetadataStore.open(dir);
  await SpuRegistry.startEpoch(store);
  const clock = new ManualClock();
  let leadership: Leadership | undefined;
  const spus = new SpuRegistry({
    store,
    clock,
    sessionTimeoutMs,
    onChange: (id, online) => {
      if (spuEvents !== 'none') leadership?.spuChanged(id, online);
    },
    ...(spuEvents === 'online-and-restarts'
      ? { onRestarted: (id: number) => leadership?.fenceRestarted(id) ?? Promise.resolve() }
      : {}),
  });
  const topics = new TopicFrontend({
    store,
    spus,
    clock,
    logger: silentLogger,
    defaults: { partitions: 1, replicationFactor: 1, partitionsPerTopicMax: 100 },
    onChange: () => undefined,
  });
  leadership = new Leadership({
    store,
    spus,
    topics,
    clock,
    logger: silentLogger,
    sessionTimeoutMs,
    autoRebalance: options.autoRebalance ?? true,
    onChange: options.onLeadershipChange ?? (() => undefined),
  });
  return { store, clock, spus, topics, leadership };
}
