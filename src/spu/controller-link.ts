import { randomBytes } from 'node:crypto';
import { TideError } from '../base/errors.ts';
import type { Logger } from '../base/logger.ts';
import { type ApiKeyOf, KafkaConnection, type RequestOf, type ResponseOf } from '../net/kafka-connection.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { createBrokerHeartbeatRequest } from '../protocol/messages/broker-heartbeat.ts';
import {
  createBrokerRegistrationRequest,
  createBrokerRegistrationRequestListener,
} from '../protocol/messages/broker-registration.ts';
import { errorCodes, errorName } from '../protocol/messages/error-codes.ts';
import { createSpuStatusRequest, type SpuStatusRequestPartition } from '../protocol/messages/spu-status.ts';

/**
 * The SPU's link to the SC (docs/CONTROL-PLANE.md, "SPU → SC"): register, heartbeat, report the
 * replicas' offsets (SpuStatus), and carry forwarded admin requests. Whenever the connection is lost or the SC answers a heartbeat with
 * an error (it restarted and forgot this SPU, or a newer registration fenced this one), the link
 * connects and registers again, backing off between attempts. The SPU serves data all the while.
 */

export const controllerLinkDefaults = Object.freeze({
  heartbeatIntervalMs: 1000, // ms between heartbeats (spu.heartbeat.ms)
  statusIntervalMs: 5000, // ms between partition status reports
  retryBackoffMsMin: 100, // ms before the first reconnection attempt
  retryBackoffMsMax: 2000, // ms between attempts at most (doubling from the minimum)
  requestTimeoutMs: 5000, // ms for the SC to answer one request
  shutdownTimeoutMs: 2000, // ms to wait for the SC to acknowledge a clean shutdown
});

export type ControllerLinkTiming = { readonly [K in keyof typeof controllerLinkDefaults]: number };

export const controllerLinkErrorCodes = Object.freeze({
  notConnected: 'CONTROLLER_NOT_CONNECTED',
  refused: 'CONTROLLER_REFUSED',
});

const securityProtocolPlaintext = 0;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ControllerLinkOptions {
  readonly controller: Endpoint;
  /** Sent at registration; '' accepts the SC's cluster, whatever its id. */
  readonly clusterId: string;
  readonly brokerId: number;
  /** The advertised Kafka address (listener PLAINTEXT) and the internal one (listener INTERNAL). */
  readonly kafka: Endpoint;
  readonly internal: Endpoint;
  readonly rack: string | null;
  /** The metadata version the SPU applied last, reported in heartbeats. */
  readonly metadataOffset: () => bigint;
  /** The replicas this SPU holds, reported every statusIntervalMs (SpuStatus). */
  readonly partitionStatus: () => SpuStatusRequestPartition[];
  readonly logger: Logger;
  readonly timing?: Partial<ControllerLinkTiming>;
}

export class ControllerLink {
  /** This process's identity towards the SC: a new one at every start. */
  readonly incarnationId = randomBytes(16);
  readonly #options: ControllerLinkOptions;
  readonly #timing: ControllerLinkTiming;
  readonly #logger: Logger;
  #brokerEpoch = -1n;
  /** The connection, once registered on it; forwarded requests use it. */
  #registered: KafkaConnection | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Whether the last attempt failed, so that a dead SC logs one warning, not one per attempt. */
  #failing = false;
  /** Pushes naming a broker epoch newer than this SPU's, waiting for the registration answer. */
  readonly #epochWaiters = new Set<{ readonly epoch: bigint; readonly settle: () => void }>();
  /** Whether a BrokerRegistration is waiting for its answer. */
  #registering = false;

  constructor(options: ControllerLinkOptions) {
    this.#options = options;
    this.#timing = { ...controllerLinkDefaults, ...options.timing };
    this.#logger = options.logger;
  }

  /** The epoch the SC gave at the last registration; -1 before the first. */
  get brokerEpoch(): bigint {
    return this.#brokerEpoch;
  }

  /**
   * Resolves with this SPU's broker epoch once it is at least `epoch` (the SC may push for a
   * registration whose answer is still on its way here), or with whatever it is after `timeoutMs`
   * or when no registration is in flight (nothing could bring a newer epoch).
   */
  brokerEpochAtLeast(epoch: bigint, timeoutMs: number): Promise<bigint> {
    if (this.#brokerEpoch >= epoch || this.#stopping || !this.#registering)
      return Promise.resolve(this.#brokerEpoch);
    return new Promise((resolve) => {
      const waiter = {
        epoch,
        settle: () => {
          clearTimeout(timer);
          this.#epochWaiters.delete(waiter);
          resolve(this.#brokerEpoch);
        },
      };
      const timer = setTimeout(waiter.settle, timeoutMs);
      this.#epochWaiters.add(waiter);
    });
  }

  get isRegistered(): boolean {
    return this.#registered !== undefined && !this.#registered.isClosed;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * The version to forward a client's request at: the client's own when the SC speaks it, else the
   * highest the SC speaks (the generated codecs fill fields the SC's version lacks with defaults).
   */
  forwardVersion(apiKey: number, clientVersion: number): number {
    return Math.min(clientVersion, this.#connection().versionFor(apiKey));
  }

  /** Sends one request to the SC; rejects (retriable) when the SC is not reachable right now. */
  request<K extends ApiKeyOf>(apiKey: K, apiVersion: number, body: RequestOf<K>): Promise<ResponseOf<K>> {
    return this.#connection().request(apiKey, apiVersion, body);
  }

  /** Stops the link; a registered SPU first tells the SC it is shutting down (bounded wait). */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const waiter of this.#epochWaiters) waiter.settle();
    const connection = this.#registered;
    if (connection !== undefined && !connection.isClosed) {
      const goodbye = connection.call(apiKeys.BrokerHeartbeat, this.#heartbeat(true)).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(resolve, this.#timing.shutdownTimeoutMs);
      });
      await Promise.race([goodbye, timeout]);
      clearTimeout(timer);
    }
    await connection?.close();
    this.#wake?.();
    await this.#loop;
  }

  #connection(): KafkaConnection {
    const connection = this.#registered;
    if (connection === undefined || connection.isClosed)
      throw new TideError(controllerLinkErrorCodes.notConnected, 'the SC is not reachable', {
        retriable: true,
      });
    return connection;
  }

  async #run(): Promise<void> {
    let backoffMs = this.#timing.retryBackoffMsMin;
    while (!this.#stopping) {
      try {
        await this.#session();
        backoffMs = this.#timing.retryBackoffMsMin;
      } catch (error) {
        if (this.#stopping) break;
        const fields = { controller: this.#address(), error, retryInMs: backoffMs };
        if (this.#failing) this.#logger.debug('controller still unreachable', fields);
        else this.#logger.warn('controller unreachable', fields);
        this.#failing = true;
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.#timing.retryBackoffMsMax);
      }
    }
  }

  /** One connection's life: connect, register, heartbeat until something goes wrong. */
  async #session(): Promise<void> {
    const { host, port } = this.#options.controller;
    const connection = await KafkaConnection.connect({
      host,
      port,
      clientId: `spu-${this.#options.brokerId}`,
      requestTimeoutMs: this.#timing.requestTimeoutMs,
    });
    try {
      await connection.negotiateVersions();
      await this.#register(connection);
      this.#registered = connection;
      this.#failing = false;
      await this.#heartbeatLoop(connection);
    } finally {
      if (this.#registered === connection) this.#registered = undefined;
      await connection.close();
    }
  }

  async #register(connection: KafkaConnection): Promise<void> {
    const options = this.#options;
    const listener = (name: string, endpoint: Endpoint) =>
      createBrokerRegistrationRequestListener({
        name,
        host: endpoint.host,
        port: endpoint.port,
        securityProtocol: securityProtocolPlaintext,
      });
    this.#registering = true;
    const response = await connection
      .call(
        apiKeys.BrokerRegistration,
        createBrokerRegistrationRequest({
          brokerId: options.brokerId,
          clusterId: options.clusterId,
          incarnationId: this.incarnationId,
          listeners: [listener('PLAINTEXT', options.kafka), listener('INTERNAL', options.internal)],
          features: [],
          rack: options.rack,
          previousBrokerEpoch: this.#brokerEpoch,
        }),
      )
      .finally(() => {
        this.#registering = false;
      });
    if (response.errorCode !== errorCodes.NONE) {
      for (const waiter of this.#epochWaiters) waiter.settle();
      throw new TideError(
        controllerLinkErrorCodes.refused,
        `the SC refused the registration: ${errorName(response.errorCode)}`,
        { retriable: true },
      );
    }
    this.#brokerEpoch = response.brokerEpoch;
    // Every waiting push can now be judged: its epoch is this registration's or no registration's.
    for (const waiter of this.#epochWaiters) waiter.settle();
    this.#logger.info('registered with controller', {
      controller: this.#address(),
      brokerEpoch: response.brokerEpoch,
    });
  }

  /** Heartbeats (and status reports) until the SC answers with an error or the connection fails. */
  async #heartbeatLoop(connection: KafkaConnection): Promise<void> {
    // The first report goes out with the first heartbeat, so the SC learns the offsets at once.
    let sinceStatusMs = this.#timing.statusIntervalMs;
    for (;;) {
      await this.#sleep(this.#timing.heartbeatIntervalMs, connection);
      if (this.#stopping) return;
      const response = await connection.call(apiKeys.BrokerHeartbeat, this.#heartbeat(false));
      if (response.errorCode !== errorCodes.NONE) {
        throw new TideError(
          controllerLinkErrorCodes.refused,
          `heartbeat answered ${errorName(response.errorCode)}; registering again`,
          { retriable: true },
        );
      }
      if (sinceStatusMs >= this.#timing.statusIntervalMs) {
        sinceStatusMs = 0;
        await this.#reportStatus(connection);
      }
      sinceStatusMs += this.#timing.heartbeatIntervalMs;
    }
  }

  async #reportStatus(connection: KafkaConnection): Promise<void> {
    const response = await connection.call(
      apiKeys.SpuStatus,
      createSpuStatusRequest({
        brokerId: this.#options.brokerId,
        brokerEpoch: this.#brokerEpoch,
        partitions: this.#options.partitionStatus(),
      }),
    );
    if (response.errorCode !== errorCodes.NONE)
      this.#logger.debug('status report refused', { error: errorName(response.errorCode) });
  }

  #heartbeat(wantShutDown: boolean) {
    return createBrokerHeartbeatRequest({
      brokerId: this.#options.brokerId,
      brokerEpoch: this.#brokerEpoch,
      currentMetadataOffset: this.#options.metadataOffset(),
      wantFence: false,
      wantShutDown,
    });
  }

  /** Waits `ms`, or less when the link stops or `connection` closes. */
  #sleep(ms: number, connection?: KafkaConnection): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
      connection?.closed.then(done);
    });
  }

  #address(): string {
    return `${this.#options.controller.host}:${this.#options.controller.port}`;
  }
}
