import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { TopicDefaults } from '../metadata/topic-admin.ts';
import { Leadership } from './leadership.ts';
import type { MetadataStore } from './metadata-store.ts';
import { SpuRegistry } from './spu-registry.ts';
import { TopicFrontend } from './topic-frontend.ts';

/** The SC's components that decide on the metadata: SPU liveness, topics and leadership. */
export interface ScCore {
  readonly spus: SpuRegistry;
  readonly topics: TopicFrontend;
  readonly leadership: Leadership;
}

export interface ScCoreOptions {
  readonly store: MetadataStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sessionTimeoutMs: number;
  readonly autoRebalance: boolean;
  readonly defaults: TopicDefaults;
  /** Accept topics with more replicas than SPUs online; they wait, unplaced, until enough join. */
  readonly acceptUnplacedTopics: boolean;
  /** An SPU went online or offline; the SC elects and pushes in response. */
  readonly onSpuChange: (spuId: number, online: boolean, leadership: Leadership) => void;
  /** An SPU registered as a new process; it must leave every ISR before it counts as online. */
  readonly onSpuRestarted?: (spuId: number, leadership: Leadership) => Promise<void>;
  /** Topics or partitions changed in the store. */
  readonly onTopicsChange: () => void;
  /** Leaders or ISRs changed in the store. */
  readonly onLeadershipChange: () => void;
  /** True when an SPU reported that it can no longer write its replica of a partition. */
  readonly replicaOffline?: (spuId: number, topic: string, partition: number) => boolean;
}

/**
 * Builds the SC's core on its metadata store, each component wired to the ones it depends on
 * (the registry reports to leadership, which reads the registry and the topics). The SC process
 * and the SC's tests build it the same way; only what the callbacks do differs.
 */
export function wireScCore(options: ScCoreOptions): ScCore {
  const { store, clock, logger, sessionTimeoutMs } = options;
  let leadership: Leadership | undefined;
  const onSpuRestarted = options.onSpuRestarted;
  const spus = new SpuRegistry({
    store,
    clock,
    sessionTimeoutMs,
    onChange: (spuId, online) => {
      if (leadership !== undefined) options.onSpuChange(spuId, online, leadership);
    },
    ...(onSpuRestarted === undefined
      ? {}
      : {
          onRestarted: (spuId: number) =>
            leadership === undefined ? Promise.resolve() : onSpuRestarted(spuId, leadership),
        }),
  });
  const topics = new TopicFrontend({
    store,
    spus,
    clock,
    logger: logger.child({ component: 'topics' }),
    defaults: options.defaults,
    acceptUnplaced: options.acceptUnplacedTopics,
    onChange: options.onTopicsChange,
  });
  leadership = new Leadership({
    store,
    spus,
    topics,
    clock,
    logger: logger.child({ component: 'leadership' }),
    sessionTimeoutMs,
    autoRebalance: options.autoRebalance,
    onChange: options.onLeadershipChange,
    ...(options.replicaOffline === undefined ? {} : { replicaOffline: options.replicaOffline }),
  });
  return { spus, topics, leadership };
}
