import type { LogLevel } from '../base/logger.ts';

/** Settings of one SC process. */
export interface ScConfig {
  readonly id: number;
  /** Where the internal listener (SPUs, tools) binds. Port 0 picks a free port (tests). */
  readonly listenHost: string;
  readonly listenPort: number;
  /** HTTP endpoint for /metrics and /health; port -1 disables it. */
  readonly httpHost: string;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly spuSessionTimeoutMs: number;
  readonly reconcileIntervalMs: number;
  readonly defaultPartitions: number;
  readonly defaultReplicationFactor: number;
  /** Move leadership back to each partition's preferred (first) replica once it is in sync. */
  readonly autoLeaderRebalance: boolean;
  /**
   * Accept a topic whose replication factor exceeds the SPUs online and place it once enough
   * join (status insufficient-resources). Off: such a topic gets INVALID_REPLICATION_FACTOR, as
   * Kafka clients expect.
   */
  readonly acceptUnplacedTopics: boolean;
  /** Longest a controlled shutdown's answer waits for the pushes that move leadership. */
  readonly shutdownPushWaitMs: number;
  readonly limits: ScLimits;
}

export interface ScLimits {
  readonly frameBytesMax: number; // bytes: largest request accepted
  readonly connectionsMax: number; // connections open at once
  readonly inflightRequestsMax: number; // requests in progress per connection
  readonly bufferedBytesMax: number; // bytes of responses waiting in one socket before reading pauses
  readonly partitionsPerTopicMax: number; // partitions one topic may have
}

export const scDefaults = Object.freeze({
  id: 0,
  listenHost: '127.0.0.1',
  listenPort: 9003,
  httpHost: '127.0.0.1',
  httpPort: 9004,
  logLevel: 'info' as LogLevel,
  spuSessionTimeoutMs: 6000, // ms without a heartbeat before an SPU is offline
  reconcileIntervalMs: 250, // ms between reconciliation runs (changes also trigger one at once)
  defaultPartitions: 1, // partitions of a topic created with -1
  defaultReplicationFactor: 1, // replication factor of a topic created with -1
  autoLeaderRebalance: true, // preferred-leader election (tide sc --no-auto-leader-rebalance disables)
  acceptUnplacedTopics: false, // tide sc --accept-unplaced-topics turns it on
  shutdownPushWaitMs: 5000, // ms a controlled shutdown waits for the leadership pushes before answering
  limits: Object.freeze({
    frameBytesMax: 100 * 1024 * 1024, // bytes
    connectionsMax: 1000, // connections
    inflightRequestsMax: 16, // requests
    bufferedBytesMax: 16 * 1024 * 1024, // bytes
    partitionsPerTopicMax: 10_000, // partitions
  }),
});
