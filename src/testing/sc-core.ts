import { ManualClock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import { wireScCore } from '../sc/core.ts';
import { LocalMetadataStore } from '../sc/metadata-store.ts';
import { SpuRegistry } from '../sc/spu-registry.ts';

/**
 * For the SC's unit tests: the SC's core (sc/core.ts, as the SC builds it) on the store in `dir`
 * and a manual clock. `spuEvents` says what leadership hears of SPUs: nothing (tests that drive
 * leadership by hand), SPUs going online and offline, or that and restarted SPUs' fencing.
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
  const core = wireScCore({
    store,
    clock,
    logger: silentLogger,
    sessionTimeoutMs,
    autoRebalance: options.autoRebalance ?? true,
    defaults: { partitions: 1, replicationFactor: 1, partitionsPerTopicMax: 100 },
    // Tests place topics on SPUs they register later.
    acceptUnplacedTopics: true,
    onSpuChange: (spuId, online, leadership) => {
      if (spuEvents !== 'none') leadership.spuChanged(spuId, online);
    },
    ...(spuEvents === 'online-and-restarts'
      ? { onSpuRestarted: (spuId: number, leadership) => leadership.fenceRestarted(spuId) }
      : {}),
    onTopicsChange: () => undefined,
    onLeadershipChange: options.onLeadershipChange ?? (() => undefined),
  });
  return { store, clock, ...core };
}
