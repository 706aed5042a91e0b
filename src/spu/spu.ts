import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { type Clock, systemClock } from '../base/clock.ts';
import { Logger } from '../base/logger.ts';
import { MetricsRegistry } from '../base/metrics.ts';
import { startMetricsServer } from '../net/metrics-server.ts';
import { RequestMemory } from '../net/request-memory.ts';
import type { RequestHandler } from '../net/server.ts';
import { connectionLimitDefaults, Listener } from '../net/server.ts';
import { createSpuStatusRequestPartition } from '../protocol/messages/spu-status.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import type { BrokerInfo } from './cluster.ts';
import { ClusterAdmin } from './cluster-admin.ts';
import { ClusterMember, followerLogEnds } from './cluster-member.ts';
import { ClusterState } from './cluster-state.ts';
import type { ControllerAddress, SpuConfig } from './config.ts';
import { ControllerLink } from './controller-link.ts';
import { GroupCoordinator } from './groups/coordinator.ts';
import type { SpuServices } from './handler.ts';
import { controlHandlers } from './handlers/control.ts';
import { forwardedElectLeadersHandlers } from './handlers/elect-leaders.ts';
import { forwardedAdminHandlers } from './handlers/forward.ts';
import { groupHandlers } from './handlers/groups/index.ts';
import { spuHandlers } from './handlers/index.ts';
import { producerIdHandlers } from './handlers/init-producer-id.ts';
import { toolAdminHandlers } from './handlers/tool-admin.ts';
import { warnMissingNativeModules } from './native-codecs.ts';
import { type Partition, PartitionManager } from './partitions.ts';
import { controllerProducerIds, localProducerIds } from './producer-ids.ts';
import { alterPartitionSender } from './replication/alter-partition.ts';
import { FollowerFetchers } from './replication/follower-fetcher.ts';
import { IsrMaintainer } from './replication/isr-maintainer.ts';
import { createRequestRouter } from './request-router.ts';
import { StandaloneCluster } from './standalone.ts';
import { TopicStore } from './topic-store.ts';

/** Addresses a started SPU is reachable at (ports resolved when 0 was asked for). */
export interface SpuEndpoints {
  readonly host: string;
  readonly port: number;
  readonly httpPort: number | undefined;
  /** The internal listener's port (the SC's pushes), in a cluster only. */
  readonly internalPort: number | undefined;
}

/**
 * One Streaming Processing Unit: storage, the Kafka listener and the HTTP endpoint, wired together.
 * `start` brings it up; `stop` stops accepting, closes connections and closes every log cleanly.
 */
export class Spu {
  readonly config: SpuConfig;
  readonly logger: Logger;
  readonly metrics = new MetricsRegistry();
  readonly clock: Clock;
  /** Request bytes held for clients and the cluster together: one budget for both listeners. */
  readonly #requestMemory: RequestMemory;
  /** Responses held for both listeners' connections (net/response-budget.ts). */
  readonly #responseMemory = new RequestMemory(connectionLimitDefaults.responseBytesInFlightTotalMax);
  #listener: Listener | undefined;
  #internalListener: Listener | undefined;
  #link: ControllerLink | undefined;
  #fetchers: FollowerFetchers | undefined;
  #isr: IsrMaintainer | undefined;
  #http: Server | undefined;
  #partitions: PartitionManager | undefined;
  #groups: GroupCoordinator | undefined;
  #stopping = false;

  constructor(config: SpuConfig, options: { clock?: Clock; logger?: Logger } = {}) {
    this.config = config;
    this.clock = options.clock ?? systemClock;
    this.#requestMemory = new RequestMemory(
      config.limits.requestBufferedBytesMax ?? connectionLimitDefaults.requestBufferedBytesMax,
    );
    this.logger =
      options.logger ?? new Logger({ level: config.logLevel, fields: { component: 'spu', spu: config.id } });
  }

  async start(): Promise<SpuEndpoints> {
    await mkdir(this.config.dataDir, { recursive: true });
    const partitions = await PartitionManager.open({
      dataDir: this.config.dataDir,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
    });
    this.#partitions = partitions;
    const kafka = await this.#openListener(this.config.listenHost, this.config.listenPort, 'listener');
    this.#listener = kafka.listener;
    const self: BrokerInfo = {
      id: this.config.id,
      host: this.config.advertisedHost ?? this.config.listenHost,
      port: this.config.advertisedPort ?? kafka.port,
      rack: this.config.rack ?? null,
    };
    const base = {
      config: this.config,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      partitions,
    };
    const controller = this.config.controller;
    let internalPort: number | undefined;
    let clusterFields = {};
    if (controller === undefined) {
      const cluster = await this.#openStandalone(partitions, self);
      const producerIds = producerIdHandlers(localProducerIds(this.config.dataDir));
      const groups = this.#startGroupCoordinator({ ...base, cluster, admin: cluster });
      kafka.route(
        createRequestRouter(
          { ...base, cluster, admin: cluster },
          spuHandlers({ ...groupHandlers(groups), ...toolAdminHandlers, ...producerIds }),
        ),
      );
    } else {
      internalPort = await this.#joinCluster(base, self, controller, kafka.route);
      clusterFields = { internalPort, controller: `${controller.host}:${controller.port}` };
    }
    this.#registerGauges(kafka.listener, partitions);
    const httpPort = await this.#startHttp(partitions);
    warnMissingNativeModules(this.logger);
    this.logger.info('spu ready', {
      host: this.config.listenHost,
      port: kafka.port,
      httpPort,
      ...clusterFields,
      dataDir: this.config.dataDir,
    });
    return { host: this.config.listenHost, port: kafka.port, httpPort, internalPort };
  }

  /** The SPU's own gauges: connections, buffered bytes, and the state of its partitions. */
  #registerGauges(listener: Listener, partitions: PartitionManager): void {
    this.metrics.gauge('tide_connections', 'open client connections', {}, () => listener.connectionCount);
    this.metrics.gauge(
      'tide_request_buffered_bytes',
      'bytes of request frames held (received in parts, waiting or in progress), both listeners',
      {},
      () => this.#requestMemory.heldBytes,
    );
    this.metrics.gauge(
      'tide_response_buffered_bytes',
      'bytes of responses reserved, built or written and not yet read by clients, both listeners',
      {},
      () => this.#responseMemory.heldBytes,
    );
    this.metrics.gauge('tide_partitions', 'partitions held by this SPU', {}, () => partitions.list().length);
    this.metrics.gauge(
      'tide_under_replicated_partitions',
      'partitions this SPU leads whose ISR is smaller than their replica set',
      {},
      () => partitions.list().filter(isUnderReplicated).length,
    );
    this.metrics.gauge(
      'tide_offline_partitions',
      'partitions this SPU holds that have no leader',
      {},
      () => partitions.list().filter((partition) => partition.replicaSet.leaderId < 0).length,
    );
  }

  /**
   * Binds a listener before its router exists (the advertised port may be 0 until then); requests
   * that arrive in the moment before `route` is called are refused by closing their connection.
   */
  async #openListener(
    host: string,
    port: number,
    component: string,
    overrides: { idleMsMax?: number } = {},
  ): Promise<{ listener: Listener; port: number; route: (router: RequestHandler) => void }> {
    let router: RequestHandler | undefined;
    const listener = new Listener({
      handler: (frame, connection) =>
        router === undefined
          ? Promise.reject(new ProtocolError('SPU is starting'))
          : router(frame, connection),
      limits: { ...this.config.limits, ...overrides },
      memory: this.#requestMemory,
      responseMemory: this.#responseMemory,
      logger: this.logger.child({ component }),
    });
    const bound = await listener.listen(host, port);
    return {
      listener,
      port: bound,
      route: (handler) => {
        router = handler;
      },
    };
  }

  /** A standalone SPU: it keeps the topic list itself (topics.json) and leads every partition. */
  async #openStandalone(partitions: PartitionManager, self: BrokerInfo): Promise<StandaloneCluster> {
    const cluster = new StandaloneCluster({
      clusterId: this.config.clusterId,
      self,
      store: await TopicStore.open(this.config.dataDir),
      partitions,
      clock: this.clock,
      logger: this.logger.child({ component: 'admin' }),
      defaults: {
        partitions: this.config.defaultPartitions,
        replicationFactor: this.config.defaultReplicationFactor,
        partitionsPerTopicMax: this.config.limits.partitionsPerTopicMax,
      },
    });
    await cluster.openAll();
    return cluster;
  }

  /**
   * An SPU in a cluster: it follows the SC (docs/CONTROL-PLANE.md). The internal listener takes the
   * SC's pushes, the controller link registers and heartbeats, and admin requests go to the SC.
   * Resolves with the internal listener's port.
   */
  async #joinCluster(
    base: Omit<SpuServices, 'cluster' | 'admin'>,
    self: BrokerInfo,
    controller: ControllerAddress,
    routeKafka: (router: RequestHandler) => void,
  ): Promise<number> {
    // The SC pushes only when something changes, over one connection it keeps: closing that one
    // when quiet would make the SC's next push fail and start over with a full one.
    const internal = await this.#openListener(
      this.config.internalHost,
      this.config.internalPort,
      'internal',
      {
        idleMsMax: 0,
      },
    );
    if (!isLoopback(this.config.internalHost))
      this.logger.warn('internal listener reachable from other hosts; it is not authenticated yet', {
        internalHost: this.config.internalHost,
        internalPort: internal.port,
      });
    this.#internalListener = internal.listener;
    const state = new ClusterState({ clusterId: this.config.clusterId, selfId: this.config.id });
    const link = new ControllerLink({
      controller,
      clusterId: controller.clusterId,
      brokerId: this.config.id,
      kafka: self,
      internal: { host: this.config.internalHost, port: internal.port },
      rack: self.rack,
      metadataOffset: () => state.metadataVersion,
      partitionStatus: () =>
        base.partitions.list().map((partition) =>
          createSpuStatusRequestPartition({
            topic: partition.topic,
            partition: partition.index,
            leaderEpoch: partition.leaderEpoch,
            logStartOffset: partition.log.logStartOffset,
            logEndOffset: partition.log.logEndOffset,
            highWatermark: partition.log.highWatermark,
            sizeBytes: BigInt(partition.log.sizeBytes),
            followers: followerLogEnds(partition),
            // The SC moves leadership off a replica this SPU can no longer write.
            offline: partition.log.offline,
          }),
        ),
      logger: this.logger.child({ component: 'controller-link' }),
    });
    this.#link = link;
    const fetchers = new FollowerFetchers({
      selfId: this.config.id,
      partitions: base.partitions,
      brokers: () => state.replicationBrokers(),
      ...(this.config.replicationRoutes === undefined ? {} : { routes: this.config.replicationRoutes }),
      logger: this.logger.child({ component: 'replica-fetcher' }),
    });
    this.#fetchers = fetchers;
    this.#isr = new IsrMaintainer({
      partitions: base.partitions,
      send: alterPartitionSender(link, this.config.id),
      nowMs: () => this.clock.monotonicMs(),
      replicaLagTimeMsMax: this.config.replicaLagTimeMsMax,
      logger: this.logger.child({ component: 'isr' }),
    });
    const member = new ClusterMember({
      selfId: this.config.id,
      state,
      partitions: base.partitions,
      brokerEpoch: () => link.brokerEpoch,
      brokerEpochAtLeast: (epoch, timeoutMs) => link.brokerEpochAtLeast(epoch, timeoutMs),
      logger: this.logger.child({ component: 'cluster' }),
      nowMs: () => this.clock.monotonicMs(),
      onRolesChanged: () => {
        fetchers.update();
        groups.reconcile();
      },
    });
    const admin = new ClusterAdmin({ link, state, logger: this.logger.child({ component: 'admin' }) });
    const services: SpuServices = { ...base, cluster: state, admin };
    const groups = this.#startGroupCoordinator(services);
    const producerIds = producerIdHandlers(controllerProducerIds(link, this.config.id));
    routeKafka(
      createRequestRouter(
        services,
        spuHandlers({
          ...groupHandlers(groups),
          ...toolAdminHandlers,
          ...forwardedAdminHandlers(link),
          ...forwardedElectLeadersHandlers(link),
          ...producerIds,
        }),
      ),
    );
    internal.route(createRequestRouter(services, controlHandlers(member)));
    link.start();
    this.#isr.start();
    return internal.port;
  }

  /** The consumer-group coordinator (docs/CONSUMER-GROUPS.md), ticking until the SPU stops. */
  #startGroupCoordinator(services: SpuServices): GroupCoordinator {
    const groups = new GroupCoordinator({
      selfId: this.config.id,
      partitions: services.partitions,
      cluster: services.cluster,
      admin: services.admin,
      clock: this.clock,
      logger: this.logger.child({ component: 'groups' }),
      settings: this.config.groups ?? {},
    });
    this.#groups = groups;
    groups.start();
    this.metrics.gauge('tide_consumer_groups', 'consumer groups this SPU coordinates', {}, () =>
      groups.groupCount(),
    );
    return groups;
  }

  async #startHttp(partitions: PartitionManager): Promise<number | undefined> {
    if (this.config.httpPort < 0) return undefined;
    const { server, port } = await startMetricsServer({
      host: this.config.httpHost,
      port: this.config.httpPort,
      registry: this.metrics,
      health: () => ({
        healthy: !this.#stopping,
        spu: this.config.id,
        partitions: partitions.list().length,
        damagedPartitions: partitions.damagedPartitions(),
        ...(this.#link === undefined ? {} : { registered: this.#link.isRegistered }),
      }),
    });
    this.#http = server;
    return port;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.logger.info('spu stopping');
    this.#groups?.stop();
    this.#isr?.stop();
    await this.#fetchers?.stop();
    await this.#link?.stop();
    await this.#internalListener?.close();
    await this.#listener?.close();
    this.#http?.close();
    await this.#partitions?.close();
    this.logger.info('spu stopped');
  }
}

/** Whether `host` names this machine only (the internal listener's safe default). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function isUnderReplicated(partition: Partition): boolean {
  const { isr, replicas } = partition.replicaSet;
  return partition.leading && isr.length < replicas.length;
}
