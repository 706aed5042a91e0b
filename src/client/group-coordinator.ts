import { systemClock } from '../base/clock.ts';
import { TideError } from '../base/errors.ts';
import {
  type ApiKeyOf,
  connectionErrorCodes,
  KafkaConnection,
  type RequestOf,
  type ResponseOf,
} from '../net/kafka-connection.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../protocol/messages/find-coordinator.ts';
import type { ClusterClient } from './cluster-client.ts';
import { isRetriable, kafkaError } from './errors.ts';

/**
 * The way to a consumer group's coordinator: FindCoordinator (asked of any SPU), then a connection to
 * the SPU it names. A group consumer gets a connection of its own (`dedicated`), because JoinGroup is
 * held by the coordinator until the whole group has joined and answers on one connection come in
 * request order: on the shared connection it would hold up the fetches from that SPU. Admin requests
 * use the shared connections. `reset` forgets the coordinator (after NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE or a lost connection); the next call looks it up again.
 */

export const coordinatorDefaults = Object.freeze({
  lookupAttemptsMax: 20, // FindCoordinator attempts before giving up
  lookupBackoffMs: 100, // ms before the first repeated lookup; doubles up to lookupBackoffMaxMs
  lookupBackoffMaxMs: 1_000, // ms
});

/** What group code needs from a coordinator; tests give a fake. */
export interface CoordinatorTransport {
  /**
   * Sends a request to the coordinator at the negotiated version. Callers fill the fields of every
   * version (e.g. OffsetFetch's top-level topics and its v8 groups): the codec writes those the
   * version has.
   */
  call<K extends ApiKeyOf>(apiKey: K, body: RequestOf<K>): Promise<ResponseOf<K>>;
  /** Forgets the coordinator; the next call finds it again. */
  reset(): void;
  close(): Promise<void>;
}

export interface CoordinatorAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/** Asks any SPU which SPU coordinates `groupId`, retrying while the answer is retriable. */
export async function findCoordinator(
  cluster: ClusterClient,
  groupId: string,
  signal?: AbortSignal,
): Promise<CoordinatorAddress> {
  let backoffMs: number = coordinatorDefaults.lookupBackoffMs;
  for (let attempt = 1; ; attempt++) {
    let error: unknown;
    try {
      const response = await cluster.callAny(
        apiKeys.FindCoordinator,
        createFindCoordinatorRequest({ key: groupId, keyType: 0, coordinatorKeys: [groupId] }),
      );
      // v4+ answers per key; earlier versions in the top-level fields.
      const answer = response.coordinators.find((c) => c.key === groupId) ?? response;
      if (answer.errorCode === errorCodes.NONE) {
        return { nodeId: answer.nodeId, host: answer.host, port: answer.port };
      }
      error = kafkaError(
        answer.errorCode,
        `finding the coordinator of group "${groupId}"${answer.errorMessage ? `: ${answer.errorMessage}` : ''}`,
      );
    } catch (caught) {
      error = caught;
    }
    if (!isRetriable(error) || attempt >= coordinatorDefaults.lookupAttemptsMax) throw error;
    await systemClock.sleep(backoffMs, signal);
    backoffMs = Math.min(backoffMs * 2, coordinatorDefaults.lookupBackoffMaxMs);
  }
}

export interface CoordinatorLinkOptions {
  /** Open a connection of its own instead of sharing the cluster client's. */
  readonly dedicated?: boolean;
  readonly clientId?: string;
  /** Milliseconds a request may wait on the dedicated connection (JoinGroup waits for the group). */
  readonly requestTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export class CoordinatorLink implements CoordinatorTransport {
  readonly #cluster: ClusterClient;
  readonly #groupId: string;
  readonly #options: CoordinatorLinkOptions;
  #connection: Promise<KafkaConnection> | undefined;
  #closed = false;

  constructor(cluster: ClusterClient, groupId: string, options: CoordinatorLinkOptions = {}) {
    this.#cluster = cluster;
    this.#groupId = groupId;
    this.#options = options;
  }

  async call<K extends ApiKeyOf>(apiKey: K, body: RequestOf<K>): Promise<ResponseOf<K>> {
    const connection = await this.#connect();
    try {
      return await connection.call(apiKey, body);
    } catch (error) {
      if (error instanceof TideError && error.code === connectionErrorCodes.closed) this.reset();
      throw error;
    }
  }

  reset(): void {
    const previous = this.#connection;
    this.#connection = undefined;
    if (this.#options.dedicated === true && previous !== undefined) {
      void previous.then((connection) => connection.close()).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const previous = this.#connection;
    this.#connection = undefined;
    if (this.#options.dedicated === true && previous !== undefined) {
      await previous.then((connection) => connection.close()).catch(() => undefined);
    }
  }

  #connect(): Promise<KafkaConnection> {
    if (this.#closed) {
      return Promise.reject(new TideError(connectionErrorCodes.closed, 'the group connection is closed'));
    }
    const current = this.#connection;
    if (current !== undefined) return current;
    const opening = this.#open();
    this.#connection = opening;
    opening.then(
      (connection) => {
        void connection.closed.then(() => {
          if (this.#connection === opening) this.#connection = undefined;
        });
      },
      () => {
        if (this.#connection === opening) this.#connection = undefined;
      },
    );
    return opening;
  }

  async #open(): Promise<KafkaConnection> {
    const address = await findCoordinator(this.#cluster, this.#groupId, this.#options.signal);
    if (this.#options.dedicated !== true) return this.#cluster.connectionTo(address.nodeId);
    const connection = await KafkaConnection.connect({
      host: address.host,
      port: address.port,
      ...(this.#options.clientId === undefined ? {} : { clientId: this.#options.clientId }),
      ...(this.#options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: this.#options.requestTimeoutMs }),
    });
    try {
      await connection.negotiateVersions();
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }
}
