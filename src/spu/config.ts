import type { HostPort } from '../base/address.ts';
import type { LogLevel } from '../base/logger.ts';
import type { CoordinatorSettings } from './groups/coordinator.ts';

/** Settings of one SPU process. */
export interface SpuConfig {
  readonly id: number;
  /** Where the Kafka listener binds. Port 0 picks a free port (tests). */
  readonly listenHost: string;
  readonly listenPort: number;
  /** What clients are told to connect to; defaults to the bound listener address. */
  readonly advertisedHost?: string;
  readonly advertisedPort?: number;
  /** HTTP endpoint for /metrics and /health; port -1 disables it. */
  readonly httpHost: string;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly rack?: string;
  readonly logLevel: LogLevel;
  /** Create a topic when a client asks for one that does not exist (Metadata, Produce). */
  readonly autoCreateTopics: boolean;
  readonly defaultPartitions: number;
  readonly defaultReplicationFactor: number;
  readonly clusterId: string;
  /** The SC this SPU registers with; absent for a standalone SPU, which owns every partition. */
  readonly controller?: ControllerAddress;
  /**
   * Where the internal listener (the SC's pushes, the followers' fetches) binds in a cluster. Port 0
   * picks a free port. Loopback by default: the channel is not authenticated yet, and whoever reaches
   * it can change partition roles, so a multi-host cluster binds it to a private network only.
   */
  readonly internalHost: string;
  readonly internalPort: number;
  /** ms a follower may go without catching up before its leader drops it from the ISR. */
  readonly replicaLagTimeMsMax: number;
  /**
   * Leader SPU id → the address this SPU's followers fetch from instead of the leader's internal
   * address, the replication channel (fault-injection tests put a proxy there).
   */
  readonly replicationRoutes?: ReadonlyMap<number, HostPort>;
  /** Consumer-group coordinator settings that differ from coordinatorDefaults (groups/coordinator.ts). */
  readonly groups?: Partial<CoordinatorSettings>;
  readonly limits: SpuLimits;
}

export interface ControllerAddress {
  readonly host: string;
  readonly port: number;
  /** The cluster id sent at registration; '' accepts whatever cluster the SC runs. */
  readonly clusterId: string;
}

export interface SpuLimits {
  readonly frameBytesMax: number; // bytes: largest request accepted
  readonly connectionsMax: number; // connections open at once
  readonly inflightRequestsMax: number; // requests in progress per connection
  readonly bufferedBytesMax: number; // bytes of responses waiting in one socket before reading pauses
  readonly fetchWaitMsMax: number; // ms a fetch may park, whatever the client asks
  readonly fetchResponseBytesMax: number; // bytes in one fetch response, whatever the client asks
  readonly partitionsPerTopicMax: number; // partitions one topic may have
  readonly produceTimeoutMsMax: number; // ms an acks=all produce may wait
  // Defaults and why: connectionLimitDefaults in net/server.ts.
  readonly idleMsMax?: number; // ms a connection with nothing in progress may stay silent
  readonly frameReceiveMsMax?: number; // ms to receive the rest of a started frame
  readonly requestBufferedBytesMax?: number; // bytes of request frames held over all connections
}

export const spuDefaults = Object.freeze({
  id: 1,
  listenHost: '127.0.0.1',
  listenPort: 9092, // SPU n listens on 9092 + n - 1
  httpHost: '127.0.0.1',
  httpPort: 9292, // SPU n serves HTTP on 9292 + n - 1
  internalHost: '127.0.0.1',
  internalPort: 9192, // SPU n takes the SC's pushes on 9192 + n - 1
  logLevel: 'info' as LogLevel,
  autoCreateTopics: false,
  defaultPartitions: 1,
  defaultReplicationFactor: 1,
  clusterId: 'tide-local',
  replicaLagTimeMsMax: 10_000, // ms (replica.lag.time.max.ms)
  limits: Object.freeze({
    frameBytesMax: 100 * 1024 * 1024, // bytes
    connectionsMax: 10_000, // connections
    inflightRequestsMax: 64, // requests
    bufferedBytesMax: 8 * 1024 * 1024, // bytes
    fetchWaitMsMax: 30_000, // ms
    fetchResponseBytesMax: 64 * 1024 * 1024, // bytes
    partitionsPerTopicMax: 10_000, // partitions
    produceTimeoutMsMax: 60_000, // ms
  }) satisfies SpuLimits,
});
