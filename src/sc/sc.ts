import type { Server } from 'node:http';
import { type Clock, systemClock } from '../base/clock.ts';
import { Logger } from '../base/logger.ts';
import { MetricsRegistry } from '../base/metrics.ts';
import { startMetricsServer } from '../net/metrics-server.ts';
import { createRouter } from '../net/router.ts';
import { Listener, type RequestHandler } from '../net/server.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import type { ScConfig } from './config.ts';
import { wireScCore } from './core.ts';
import { electLeadersHandler } from './elect-leaders.ts';
import { scHandlers } from './handlers/index.ts';
import type { Leadership } from './leadership.ts';
import { LocalMetadataStore } from './metadata-store.ts';
import { allocateProducerIdsHandler, ProducerIdAllocator } from './producer-ids.ts';
import { type Connector, Reconciler } from './reconciler.ts';
import { SpuRegistry } from './spu-registry.ts';
import { StatusReports } from './status-reports.ts';

/** Addresses a started SC is reachable at (ports resolved when 0 was asked for). */
export interface ScEndpoints {
  readonly host: string;
  readonly port: number;
  readonly httpPort: number | undefined;
}

/**
 * The Streaming Controller: the metadata store, the SPU registry, the topic frontend, leadership
 * (elections, ISR changes) and the reconciler, behind one Kafka-framed listener. `start` raises the persisted controller epoch, so
 * pushes from an older SC process are recognisably stale; `stop` closes everything.
 */
export class Sc {
  readonly config: ScConfig;
  readonly logger: Logger;
  readonly metrics = new MetricsRegistry();
  readonly clock: Clock;
  readonly #connect: Connector | undefined;
  #listener: Listener | undefined;
  #http: Server | undefined;
  #reconciler: Reconciler | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #repairing = false;

  constructor(config: ScConfig, options: { clock?: Clock; logger?: Logger; connect?: Connector } = {}) {
    this.config = config;
    this.clock = options.clock ?? systemClock;
    this.#connect = options.connect;
    this.logger =
      options.logger ?? new Logger({ level: config.logLevel, fields: { component: 'sc', sc: config.id } });
  }

  async start(): Promise<ScEndpoints> {
    const store = await LocalMetadataStore.open(this.config.dataDir);
    const cluster = await SpuRegistry.startEpoch(store);
    let reconciler: Reconciler | undefined;
    const reports = new StatusReports();
    const { spus, topics, leadership } = wireScCore({
      store,
      replicaOffline: (spuId, topic, partition) => reports.get(spuId, topic, partition)?.offline === true,
      clock: this.clock,
      logger: this.logger,
      sessionTimeoutMs: this.config.spuSessionTimeoutMs,
      autoRebalance: this.config.autoLeaderRebalance,
      acceptUnplacedTopics: this.config.acceptUnplacedTopics,
      defaults: {
        partitions: this.config.defaultPartitions,
        replicationFactor: this.config.defaultReplicationFactor,
        partitionsPerTopicMax: this.config.limits.partitionsPerTopicMax,
      },
      onSpuChange: (spuId, online, leadership) => {
        this.logger.info(online ? 'spu online' : 'spu offline', { spu: spuId });
        leadership.spuChanged(spuId, online);
        reconciler?.spuChanged(spuId, online);
        this.#repair(leadership);
      },
      onSpuRestarted: (spuId, leadership) => leadership.fenceRestarted(spuId),
      onTopicsChange: () => reconciler?.markChanged(),
      onLeadershipChange: () => reconciler?.markChanged(),
    });
    reconciler = new Reconciler({
      store,
      spus,
      topics,
      logger: this.logger.child({ component: 'reconciler' }),
      controllerId: this.config.id,
      controllerEpoch: cluster.controllerEpoch,
      ...(this.#connect === undefined ? {} : { connect: this.#connect }),
    });
    this.#reconciler = reconciler;
    const pushes = reconciler;
    const elections = leadership;
    const shutDown = async (spuId: number): Promise<void> => {
      await elections.repair();
      // The new leaders should know before the old one stops, but a stuck SPU must not hold the answer.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.config.shutdownPushWaitMs);
      });
      await Promise.race([pushes.run(), bound]).finally(() => clearTimeout(timer));
      this.logger.info('spu shutting down cleanly; leadership moved', { spu: spuId });
    };
    const allocateProducerIds = allocateProducerIdsHandler({
      allocator: new ProducerIdAllocator(store),
      isCurrent: (spuId, brokerEpoch) => spus.isCurrent(spuId, brokerEpoch),
    });
    const services = {
      store,
      spus,
      topics,
      reports,
      leadership,
      shutDown,
      allocateProducerIds,
      electLeaders: electLeadersHandler({
        store,
        spus,
        topics,
        logger: this.logger,
        onChange: () => pushes.markChanged(),
      }),
    };
    const router = createRouter({ handlers: scHandlers(), services });
    const port = await this.#listen(router);
    this.#timer = setInterval(() => {
      spus.expireSessions();
      this.#repair(elections);
      void pushes.run();
    }, this.config.reconcileIntervalMs);
    this.metrics.gauge('tide_spus_online', 'SPUs online', {}, () => spus.onlineSpus().length);
    this.metrics.gauge('tide_topics', 'topics', {}, () => topics.topics().length);
    const httpPort = await this.#startHttp();
    this.logger.info('sc ready', {
      host: this.config.listenHost,
      port,
      httpPort,
      dataDir: this.config.dataDir,
      controllerEpoch: cluster.controllerEpoch,
      clusterId: cluster.clusterId,
    });
    return { host: this.config.listenHost, port, httpPort };
  }

  /** A leadership pass in the background; a failure is logged and the next tick tries again. */
  #repair(leadership: Leadership | undefined): void {
    // One background pass at a time: passes are level-triggered, a skipped one is made by the next tick.
    if (leadership === undefined || this.#repairing) return;
    this.#repairing = true;
    leadership
      .repair()
      .catch((error: unknown) => this.logger.warn('leadership pass failed', { error }))
      .finally(() => {
        this.#repairing = false;
      });
  }

  async #listen(router: RequestHandler): Promise<number> {
    const listener = new Listener({
      handler: (frame, connection) =>
        this.#stopping ? Promise.reject(new ProtocolError('SC is stopping')) : router(frame, connection),
      limits: this.config.limits,
      logger: this.logger.child({ component: 'listener' }),
    });
    this.#listener = listener;
    this.metrics.gauge('tide_connections', 'open connections', {}, () => listener.connectionCount);
    return listener.listen(this.config.listenHost, this.config.listenPort);
  }

  async #startHttp(): Promise<number | undefined> {
    if (this.config.httpPort < 0) return undefined;
    const { server, port } = await startMetricsServer({
      host: this.config.httpHost,
      port: this.config.httpPort,
      registry: this.metrics,
      health: () => ({ healthy: !this.#stopping, sc: this.config.id }),
    });
    this.#http = server;
    return port;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.logger.info('sc stopping');
    clearInterval(this.#timer);
    await this.#reconciler?.close();
    await this.#listener?.close();
    this.#http?.close();
    this.logger.info('sc stopped');
  }
}
