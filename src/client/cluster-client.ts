import { setTimeout as delay } from 'node:timers/promises';
import { type HostPort, parseHostPort } from '../base/address.ts';
import { type Clock, systemClock } from '../base/clock.ts';
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
import {
  createMetadataRequest,
  createMetadataRequestTopic,
  type MetadataResponse,
  type MetadataResponseTopic,
} from '../protocol/messages/metadata.ts';
import {
  type AddressFailure,
  addressesFailedError,
  isRefused,
  noBrokerError,
  notAnSpuError,
  wrongListenerError,
} from './bootstrap-errors.ts';
import { clientErrorCodes, isRetriable, kafkaError } from './errors.ts';

/**
 * The client's view of a cluster: where the SPUs are, which SPU leads which partition (a metadata
 * cache refreshed on demand and when it ages), and one pipelined, version-negotiated connection per
 * SPU that is reopened with exponential backoff when it closes. Producers, consumers and the admin
 * client all sit on top of it.
 */

export const clusterClientDefaults = Object.freeze({
  clientId: 'tide',
  requestTimeoutMs: 30_000, // ms without an answer before a connection is given up
  connectTimeoutMs: 10_000, // ms for one TCP connect attempt
  metadataMaxAgeMs: 300_000, // ms a cached topic's metadata is trusted
  reconnectBackoffMs: 50, // ms before the first retry of a failed connect
  reconnectBackoffMaxMs: 1_000, // ms between retries at most
  reconnectTimeoutMs: 30_000, // ms connect() and connectionTo() keep retrying before failing
  // ms connect() keeps retrying while every bootstrap address refuses the connection: nothing listens
  // there, and an SPU being restarted listens again well within this; waiting longer only hides the
  // answer a person or a health check needs (is the cluster running?)
  bootstrapRefusedTimeoutMs: 1_000,
});

export interface ClusterClientOptions {
  /** Addresses (`host:port`, `[v6]:port`) of one or more SPUs; any one that answers is enough. */
  readonly bootstrap: readonly string[];
  /** Sent in every request header; shows up in SPU logs. */
  readonly clientId?: string;
  /** Milliseconds a request may wait for its answer before the connection is closed. */
  readonly requestTimeoutMs?: number;
  /** Milliseconds for one TCP connect attempt. */
  readonly connectTimeoutMs?: number;
  /** Milliseconds cached topic metadata is used before it is fetched again. */
  readonly metadataMaxAgeMs?: number;
  /** Milliseconds before the first reconnect attempt; doubles per failure. */
  readonly reconnectBackoffMs?: number;
  /** Upper bound of the reconnect backoff, in milliseconds. */
  readonly reconnectBackoffMaxMs?: number;
  /** Milliseconds `connect` and `connectionTo` keep retrying an unreachable SPU before failing. */
  readonly reconnectTimeoutMs?: number;
  /** Milliseconds `connect` keeps retrying while every bootstrap address refuses the connection. */
  readonly bootstrapRefusedTimeoutMs?: number;
  /** Aborting it closes the client and cancels pending connects. */
  readonly signal?: AbortSignal;
  /** Time source (tests). */
  readonly clock?: Clock;
}

/** An SPU as Metadata describes it. */
export interface BrokerAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/** One partition as Metadata describes it. */
export interface PartitionMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The leading SPU's id, or -1 while there is no leader. */
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: number[];
  readonly isr: number[];
  readonly offlineReplicas: number[];
  /** Kafka error code for this partition (0 when healthy, e.g. 5 LEADER_NOT_AVAILABLE). */
  readonly errorCode: number;
}

/** One topic as Metadata describes it; partitions are sorted by index. */
export interface TopicMetadata {
  readonly name: string;
  readonly topicId: Buffer;
  readonly errorCode: number;
  readonly isInternal: boolean;
  readonly partitions: PartitionMetadata[];
}

interface ConnectionEntry {
  readonly pending: Promise<KafkaConnection>;
  connection: KafkaConnection | undefined;
}

type Settings = Required<Omit<ClusterClientOptions, 'signal' | 'bootstrap'>>;

/** Parses `host:port` or `[ipv6]:port`; throws INVALID_ARGUMENT for anything else. */
export function parseAddress(address: string): HostPort {
  const parsed = parseHostPort(address);
  if (parsed === undefined) {
    throw new TideError(
      clientErrorCodes.invalidArgument,
      `"${address}" is not an address (expected host:port, e.g. 127.0.0.1:9092)`,
    );
  }
  return parsed;
}

export class ClusterClient {
  readonly #settings: Settings;
  readonly #addresses: readonly HostPort[];
  readonly #lifetime = new AbortController();
  #brokers = new Map<number, BrokerAddress>();
  readonly #topics = new Map<string, { metadata: TopicMetadata; fetchedAtMs: number }>();
  readonly #topicLoads = new Map<string, Promise<TopicMetadata>>();
  readonly #connections = new Map<number, ConnectionEntry>();
  /** A bootstrap connection whose address matches no SPU in Metadata (e.g. behind a proxy). */
  #spare: KafkaConnection | undefined;
  #anyPending: Promise<KafkaConnection> | undefined;
  #clusterId: string | null = null;
  #controllerId = -1;
  #closed = false;

  private constructor(options: ClusterClientOptions) {
    if (options.bootstrap.length === 0) {
      throw new TideError(clientErrorCodes.invalidArgument, 'bootstrap needs at least one address');
    }
    this.#addresses = options.bootstrap.map(parseAddress);
    const { signal: _signal, bootstrap: _bootstrap, ...rest } = options;
    this.#settings = { ...clusterClientDefaults, clock: systemClock, ...rest };
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.#lifetime.abort();
      else signal.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  /**
   * Connects to the first bootstrap address that answers ApiVersions and Metadata, retrying the list
   * with backoff for up to `reconnectTimeoutMs`.
   */
  static async connect(options: ClusterClientOptions): Promise<ClusterClient> {
    const client = new ClusterClient(options);
    try {
      await client.#bootstrap();
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** The cluster id from the last Metadata answer (null when the SPU reports none). */
  get clusterId(): string | null {
    return this.#clusterId;
  }

  /** The controller id from the last Metadata answer (-1 when unknown). */
  get controllerId(): number {
    return this.#controllerId;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The SPUs of the last Metadata answer, by id. */
  brokers(): readonly BrokerAddress[] {
    return [...this.#brokers.values()].sort((a, b) => a.id - b.id);
  }

  /**
   * A topic's metadata, from the cache while it is younger than `metadataMaxAgeMs` (or fetched when
   * `refresh` is set). Throws TideClientError UNKNOWN_TOPIC_OR_PARTITION for a missing topic, or the
   * topic's error (e.g. LEADER_NOT_AVAILABLE while it is being created).
   */
  topicMetadata(topic: string, options: { refresh?: boolean } = {}): Promise<TopicMetadata> {
    if (this.#closed) return Promise.reject(closedError());
    const cached = this.#topics.get(topic);
    const fresh =
      cached !== undefined &&
      this.#settings.clock.monotonicMs() - cached.fetchedAtMs < this.#settings.metadataMaxAgeMs;
    if (fresh && options.refresh !== true) return Promise.resolve(cached.metadata);
    let load = this.#topicLoads.get(topic);
    if (load === undefined) {
      load = this.#loadTopic(topic).finally(() => this.#topicLoads.delete(topic));
      this.#topicLoads.set(topic, load);
    }
    return load;
  }

  /**
   * Fetches Metadata and updates the SPU list and the topic cache. `topics`: the topics to fetch;
   * `null` fetches every topic of the cluster; omitted, the topics already cached.
   */
  async refreshMetadata(topics?: readonly string[] | null): Promise<void> {
    this.#ensureOpen();
    await this.#fetchMetadata(topics === undefined ? [...this.#topics.keys()] : topics);
  }

  /** Topic metadata from the last answers (no request). */
  cachedTopics(): readonly TopicMetadata[] {
    return [...this.#topics.values()].map((entry) => entry.metadata);
  }

  /** Forgets cached metadata of `topic` (or of every topic), e.g. after NOT_LEADER_OR_FOLLOWER. */
  invalidate(topic?: string): void {
    if (topic === undefined) this.#topics.clear();
    else this.#topics.delete(topic);
  }

  /**
   * The connection to SPU `brokerId`, opened (and version-negotiated) if needed. A closed one is
   * reopened, retrying with backoff for up to `reconnectTimeoutMs`. Concurrent callers share one
   * connection. With `once`, a single attempt is made: callers that re-route on failure (the producer
   * and consumer after a leader change) must learn at once that an SPU is gone, not after the backoff.
   */
  connectionTo(brokerId: number, options: { once?: boolean } = {}): Promise<KafkaConnection> {
    if (this.#closed) return Promise.reject(closedError());
    const entry = this.#connections.get(brokerId);
    if (entry !== undefined && !(entry.connection?.isClosed ?? false) && options.once !== true)
      return entry.pending;
    if (entry?.connection !== undefined && !entry.connection.isClosed) return entry.pending;
    // Not worth a backoff: only new metadata can make an unknown SPU known, and callers refresh it.
    if (!this.#brokers.has(brokerId)) return Promise.reject(unknownBrokerError(brokerId));
    const opening =
      options.once === true
        ? this.#openBroker(brokerId)
        : this.#withBackoff(`SPU ${brokerId}`, () => this.#openBroker(brokerId));
    return this.#track(brokerId, opening);
  }

  /** The connection to the leader of `topic`/`partition` and the leader epoch the client knows. */
  async leaderConnection(
    topic: string,
    partition: number,
  ): Promise<{ connection: KafkaConnection; leaderEpoch: number }> {
    let metadata = await this.topicMetadata(topic);
    let found = metadata.partitions.find((p) => p.partition === partition);
    if (found === undefined) {
      metadata = await this.topicMetadata(topic, { refresh: true });
      found = metadata.partitions.find((p) => p.partition === partition);
    }
    if (found === undefined) {
      throw kafkaError(
        errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        `topic "${topic}" has no partition ${partition} (it has ${metadata.partitions.length})`,
      );
    }
    if (found.leaderId < 0) {
      this.invalidate(topic);
      throw kafkaError(errorCodes.LEADER_NOT_AVAILABLE, `partition ${topic}-${partition} has no leader now`);
    }
    return { connection: await this.connectionTo(found.leaderId), leaderEpoch: found.leaderEpoch };
  }

  /** An open connection to any SPU (for metadata and admin requests), reconnecting if none is open. */
  anyConnection(): Promise<KafkaConnection> {
    if (this.#closed) return Promise.reject(closedError());
    for (const entry of this.#connections.values()) {
      if (entry.connection !== undefined && !entry.connection.isClosed)
        return Promise.resolve(entry.connection);
    }
    if (this.#spare !== undefined && !this.#spare.isClosed) return Promise.resolve(this.#spare);
    this.#anyPending ??= this.#withBackoff('any SPU', () => this.#openAny()).finally(() => {
      this.#anyPending = undefined;
    });
    return this.#anyPending;
  }

  /**
   * Sends a request to any SPU at the negotiated version. A request lost because the connection
   * closed under it is sent once more on a fresh connection.
   */
  async callAny<K extends ApiKeyOf>(apiKey: K, body: RequestOf<K>): Promise<ResponseOf<K>> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.anyConnection();
      try {
        return await connection.call(apiKey, body);
      } catch (error) {
        const lost = error instanceof TideError && error.code === connectionErrorCodes.closed;
        if (!lost || attempt >= 1) throw error;
      }
    }
  }

  /** Closes every connection; pending connects and requests fail with CLIENT_CLOSED or CONNECTION_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#lifetime.abort();
    const closing: Promise<void>[] = [];
    for (const entry of this.#connections.values()) {
      closing.push(entry.pending.then((connection) => connection.close()).catch(() => undefined));
    }
    if (this.#spare !== undefined) closing.push(this.#spare.close());
    this.#connections.clear();
    this.#spare = undefined;
    await Promise.all(closing);
  }

  async #bootstrap(): Promise<void> {
    const startedMs = this.#settings.clock.monotonicMs();
    const connection = await this.#withBackoff('the bootstrap SPUs', () =>
      this.#openAnyAddress({ refusedSinceMs: startedMs }),
    );
    try {
      const response = await connection.call(
        apiKeys.Metadata,
        createMetadataRequest({ topics: [], allowAutoTopicCreation: false }),
      );
      this.#applyMetadata(response, []);
    } catch (error) {
      await connection.close();
      throw error;
    }
    this.#adopt(connection);
  }

  /** Files a bootstrap connection under the SPU with its address, or keeps it as the spare. */
  #adopt(connection: KafkaConnection): void {
    const broker = this.brokers().find((b) => b.host === connection.host && b.port === connection.port);
    if (broker !== undefined && !this.#connections.has(broker.id)) {
      this.#track(broker.id, Promise.resolve(connection));
      return;
    }
    if (this.#spare !== undefined && this.#spare !== connection) void this.#spare.close();
    this.#spare = connection;
  }

  #track(brokerId: number, pending: Promise<KafkaConnection>): Promise<KafkaConnection> {
    const entry: ConnectionEntry = { pending, connection: undefined };
    this.#connections.set(brokerId, entry);
    const forget = (): void => {
      if (this.#connections.get(brokerId) === entry) this.#connections.delete(brokerId);
    };
    pending.then((connection) => {
      entry.connection = connection;
      void connection.closed.then(forget);
    }, forget);
    return pending;
  }

  async #openBroker(brokerId: number): Promise<KafkaConnection> {
    const broker = this.#brokers.get(brokerId);
    if (broker === undefined) throw unknownBrokerError(brokerId);
    return this.#open(broker);
  }

  async #openAny(): Promise<KafkaConnection> {
    let lastError: unknown;
    for (const broker of this.brokers()) {
      // A connect already under way (connectionTo backing off) is left alone rather than doubled.
      if (this.#connections.has(broker.id)) continue;
      try {
        const connection = await this.#open(broker);
        this.#track(broker.id, Promise.resolve(connection));
        return connection;
      } catch (error) {
        lastError = error;
      }
    }
    try {
      const connection = await this.#openAnyAddress();
      this.#adopt(connection);
      return connection;
    } catch (error) {
      throw lastError ?? error;
    }
  }

  /**
   * Opens a connection to the first bootstrap address that answers; else throws one error naming
   * every address and its reason. With `refusedSinceMs`, refusals by every address stop counting as
   * retriable once `bootstrapRefusedTimeoutMs` has passed since then.
   */
  async #openAnyAddress(options: { refusedSinceMs?: number } = {}): Promise<KafkaConnection> {
    const failures: AddressFailure[] = [];
    for (const address of this.#addresses) {
      try {
        return await this.#open(address);
      } catch (error) {
        failures.push({ address, error });
      }
    }
    const { clock, bootstrapRefusedTimeoutMs } = this.#settings;
    const refusedLongEnough =
      options.refusedSinceMs !== undefined &&
      failures.every((failure) => isRefused(failure.error)) &&
      clock.monotonicMs() - options.refusedSinceMs >= bootstrapRefusedTimeoutMs;
    if (refusedLongEnough) {
      throw noBrokerError('the bootstrap SPUs', addressesFailedError(failures, false), { retriable: false });
    }
    const wrong = failures.find((failure) => !isRetriable(failure.error));
    if (wrong !== undefined && failures.every((failure) => !isRetriable(failure.error))) throw wrong.error;
    throw addressesFailedError(failures, true);
  }

  /** Opens and version-negotiates one connection. */
  async #open(address: HostPort): Promise<KafkaConnection> {
    this.#ensureOpen();
    const { clientId, connectTimeoutMs, requestTimeoutMs } = this.#settings;
    const connection = await KafkaConnection.connect({
      host: address.host,
      port: address.port,
      clientId,
      connectTimeoutMs,
      requestTimeoutMs,
    });
    try {
      await connection.negotiateVersions();
      this.#ensureOpen();
      connection.versionFor(apiKeys.Metadata);
    } catch (error) {
      await connection.close();
      if (error instanceof TideError && error.code === connectionErrorCodes.unsupportedVersion) {
        throw notAnSpuError(address);
      }
      throw wrongListenerError(address, error) ?? error;
    }
    return connection;
  }

  /** Retries `attempt` while it fails with a retriable error, with exponential backoff and jitter. */
  async #withBackoff<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const { clock, reconnectBackoffMs, reconnectBackoffMaxMs, reconnectTimeoutMs } = this.#settings;
    const deadlineMs = clock.monotonicMs() + reconnectTimeoutMs;
    let backoffMs = reconnectBackoffMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!isRetriable(error)) throw error;
        const remainingMs = deadlineMs - clock.monotonicMs();
        if (remainingMs <= 0) throw noBrokerError(what, error);
        await this.#sleep(Math.min(backoffMs * (0.8 + Math.random() * 0.4), remainingMs));
        backoffMs = Math.min(backoffMs * 2, reconnectBackoffMaxMs);
      }
    }
  }

  async #sleep(ms: number): Promise<void> {
    try {
      await delay(ms, undefined, { signal: this.#lifetime.signal });
    } catch {
      this.#ensureOpen();
    }
  }

  async #loadTopic(topic: string): Promise<TopicMetadata> {
    const response = await this.#fetchMetadata([topic]);
    const found = response.topics.find((t) => t.name === topic);
    const code = found?.errorCode ?? errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
    if (code === errorCodes.UNKNOWN_TOPIC_OR_PARTITION) {
      throw kafkaError(code, `topic "${topic}" does not exist`);
    }
    if (code !== errorCodes.NONE || found === undefined) {
      throw kafkaError(code, `topic "${topic}": ${kafkaError(code).message}`);
    }
    return this.#topics.get(topic)?.metadata ?? toTopicMetadata(topic, found);
  }

  async #fetchMetadata(topics: readonly string[] | null): Promise<MetadataResponse> {
    const request = createMetadataRequest({
      topics: topics === null ? null : topics.map((name) => createMetadataRequestTopic({ name })),
      allowAutoTopicCreation: false,
    });
    const response = await this.callAny(apiKeys.Metadata, request);
    this.#applyMetadata(response, topics);
    return response;
  }

  #applyMetadata(response: MetadataResponse, requested: readonly string[] | null): void {
    this.#clusterId = response.clusterId;
    this.#controllerId = response.controllerId;
    const brokers = new Map(
      response.brokers.map((b) => [b.nodeId, { id: b.nodeId, host: b.host, port: b.port, rack: b.rack }]),
    );
    this.#dropMovedConnections(brokers);
    this.#brokers = brokers;
    const fetchedAtMs = this.#settings.clock.monotonicMs();
    if (requested === null) this.#topics.clear();
    for (const topic of response.topics) {
      if (topic.name === null) continue;
      if (topic.errorCode === errorCodes.NONE) {
        this.#topics.set(topic.name, { metadata: toTopicMetadata(topic.name, topic), fetchedAtMs });
      } else {
        this.#topics.delete(topic.name);
      }
    }
  }

  /** Closes connections to SPUs that left the cluster or moved to another address. */
  #dropMovedConnections(brokers: ReadonlyMap<number, BrokerAddress>): void {
    for (const [id, entry] of this.#connections) {
      const connection = entry.connection;
      const broker = brokers.get(id);
      if (connection === undefined) continue;
      if (broker === undefined || broker.host !== connection.host || broker.port !== connection.port) {
        this.#connections.delete(id);
        void connection.close();
      }
    }
  }

  #ensureOpen(): void {
    if (this.#closed || this.#lifetime.signal.aborted) throw closedError();
  }
}

function closedError(): TideError {
  return new TideError(clientErrorCodes.closed, 'the client is closed');
}

function toTopicMetadata(name: string, topic: MetadataResponseTopic): TopicMetadata {
  const partitions = topic.partitions
    .map((p) => ({
      topic: name,
      partition: p.partitionIndex,
      leaderId: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicaNodes,
      isr: p.isrNodes,
      offlineReplicas: p.offlineReplicas,
      errorCode: p.errorCode,
    }))
    .sort((a, b) => a.partition - b.partition);
  return {
    name,
    topicId: topic.topicId,
    errorCode: topic.errorCode,
    isInternal: topic.isInternal,
    partitions,
  };
}

/**
 * An SPU the last metadata does not list (it left, or was fenced after a restart). Retriable: the
 * partitions it led have moved, and a metadata refresh tells the caller where.
 */
function unknownBrokerError(brokerId: number): TideError {
  return new TideError(clientErrorCodes.unknownBroker, `SPU ${brokerId} is not in the cluster metadata`, {
    retriable: true,
  });
}
