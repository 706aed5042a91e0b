import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { type Clock, systemClock } from '../base/clock.ts';
import { Logger } from '../base/logger.ts';
import { MetricsRegistry, startMetricsServer } from '../base/metrics.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import type { SpuConfig } from './config.ts';
import type { RequestHandler } from './connection.ts';
import type { SpuServices } from './handler.ts';
import { spuHandlers } from './handlers/index.ts';
import { Listener } from './listener.ts';
import { PartitionManager } from './partitions.ts';
import { createRequestRouter } from './request-router.ts';
import { StandaloneCluster } from './standalone.ts';
import { TopicStore } from './topic-store.ts';

/** Addresses a started SPU is reachable at (ports resolved when 0 was asked for). */
export interface SpuEndpoints {
  readonly host: string;
  readonly port: number;
  readonly httpPort: number | undefined;
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
  #listener: Listener | undefined;
  #http: Server | undefined;
  #partitions: PartitionManager | undefined;
  #stopping = false;

  constructor(config: SpuConfig, options: { clock?: Clock; logger?: Logger } = {}) {
    this.config = config;
    this.clock = options.clock ?? systemClock;
    this.logger =
      options.logger ?? new Logger({ level: config.logLevel, fields: { component: 'spu', spu: config.id } });
  }

  async start(): Promise<SpuEndpoints> {
    await mkdir(this.config.dataDir, { recursive: true });
    const partitions = await PartitionManager.open({
      dataDir: this.config.dataDir,
      clock: this.clock,
      logger: this.logger,
    });
    this.#partitions = partitions;
    const store = await TopicStore.open(this.config.dataDir);
    // The listener binds first (the advertised port may be 0 until then); requests that arrive in the
    // moment before the router exists are refused by closing their connection.
    let router: RequestHandler | undefined;
    const listener = new Listener({
      handler: (frame, connection) =>
        router === undefined
          ? Promise.reject(new ProtocolError('SPU is starting'))
          : router(frame, connection),
      limits: this.config.limits,
      logger: this.logger.child({ component: 'listener' }),
    });
    this.#listener = listener;
    const port = await listener.listen(this.config.listenHost, this.config.listenPort);
    const cluster = new StandaloneCluster({
      clusterId: this.config.clusterId,
      self: {
        id: this.config.id,
        host: this.config.advertisedHost ?? this.config.listenHost,
        port: this.config.advertisedPort ?? port,
        rack: this.config.rack ?? null,
      },
      store,
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
    const services: SpuServices = {
      config: this.config,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      partitions,
      cluster,
      admin: cluster,
    };
    router = createRequestRouter(services, spuHandlers());
    this.metrics.gauge('tide_connections', 'open client connections', {}, () => listener.connectionCount);
    this.metrics.gauge('tide_partitions', 'partitions held by this SPU', {}, () => partitions.list().length);
    const httpPort = await this.#startHttp(partitions);
    this.logger.info('spu ready', {
      host: this.config.listenHost,
      port,
      httpPort,
      dataDir: this.config.dataDir,
    });
    return { host: this.config.listenHost, port, httpPort };
  }

  async #startHttp(partitions: PartitionManager): Promise<number | undefined> {
    if (this.config.httpPort < 0) return undefined;
    const { server, port } = await startMetricsServer({
      host: this.config.httpHost,
      port: this.config.httpPort,
      registry: this.metrics,
      health: () => ({ healthy: !this.#stopping, spu: this.config.id, partitions: partitions.list().length }),
    });
    this.#http = server;
    return port;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.logger.info('spu stopping');
    await this.#listener?.close();
    this.#http?.close();
    await this.#partitions?.close();
    this.logger.info('spu stopped');
  }
}
