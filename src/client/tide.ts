import { TideError } from '../base/errors.ts';
import { Admin } from './admin.ts';
import { ClusterClient, type ClusterClientOptions } from './cluster-client.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import { clientErrorCodes, kafkaError, TideClientError } from './errors.ts';
import { GroupConsumer, type GroupConsumerOptions } from './group-consumer.ts';
import { Producer, type ProducerOptions } from './producer.ts';
import { defaultProfilesPath, resolveProfile } from './profiles.ts';

/** TLS settings (reserved: Tide does not speak TLS yet). */
export type TlsOptions = boolean | Readonly<Record<string, unknown>>;

/** SASL credentials (reserved: Tide does not authenticate yet). */
export interface SaslOptions {
  readonly mechanism: string;
  readonly username: string;
  readonly password: string;
}

/** How `Tide.connect` finds and talks to a cluster. */
export interface TideConnectOptions {
  /** SPU addresses (`host:port`); when given, profiles are not read. */
  readonly bootstrap?: string | readonly string[];
  /** A profile name from the profiles file; default: its current profile. */
  readonly profile?: string;
  /** The profiles file (default `~/.tide/config.toml`). */
  readonly profilesPath?: string;
  /** Sent in every request header (default: the profile's, else `tide`). */
  readonly clientId?: string;
  /** Not supported yet; setting it fails with NOT_SUPPORTED. */
  readonly tls?: TlsOptions;
  /** Not supported yet; setting it fails with NOT_SUPPORTED. */
  readonly sasl?: SaslOptions;
  /** Milliseconds a request may wait for its answer. */
  readonly requestTimeoutMs?: number;
  /** Milliseconds to keep retrying unreachable SPUs (also bounds `connect`). */
  readonly reconnectTimeoutMs?: number;
  /** Milliseconds cached metadata is trusted. */
  readonly metadataMaxAgeMs?: number;
  /** Aborting it closes the client. */
  readonly signal?: AbortSignal;
}

/**
 * A connection to a Tide (or any Kafka-protocol) cluster: the entry point of the client library.
 *
 * ```ts
 * const tide = await Tide.connect({ bootstrap: '127.0.0.1:9092' });
 * const producer = tide.producer('events');
 * await producer.send({ key: 'user-1', value: 'signed in' });
 * for await (const record of tide.consumer('events', { offset: Offset.beginning() })) { … }
 * await tide.close();
 * ```
 */
export class Tide {
  /** The shared metadata cache and SPU connections (for advanced use). */
  readonly cluster: ClusterClient;
  readonly #lifetime = new AbortController();
  readonly #producers = new Set<Producer>();
  readonly #groupConsumers = new Set<GroupConsumer>();
  #closing: Promise<void> | undefined;

  private constructor(cluster: ClusterClient) {
    this.cluster = cluster;
  }

  /**
   * Connects using `bootstrap` addresses, or else a profile (the named one or the current one).
   * Resolves once an SPU answered Metadata; rejects with NO_BROKER_AVAILABLE when none did within
   * `reconnectTimeoutMs`, with PROFILE when the profile is missing or unreadable.
   */
  static async connect(options: TideConnectOptions = {}): Promise<Tide> {
    if (options.tls !== undefined && options.tls !== false) {
      throw new TideError(clientErrorCodes.notSupported, 'TLS is not supported yet');
    }
    if (options.sasl !== undefined) {
      throw new TideError(clientErrorCodes.notSupported, 'SASL authentication is not supported yet');
    }
    const target = await resolveTarget(options);
    const clusterOptions: ClusterClientOptions = {
      bootstrap: target.bootstrap,
      ...(target.clientId === undefined ? {} : { clientId: target.clientId }),
      ...pick(options, ['requestTimeoutMs', 'reconnectTimeoutMs', 'metadataMaxAgeMs', 'signal']),
    };
    try {
      return new Tide(await ClusterClient.connect(clusterOptions));
    } catch (error) {
      throw target.profile === undefined ? error : withProfileName(error, target.profile);
    }
  }

  /** Topics, configs, partitions, SPUs and the cluster. */
  admin(): Admin {
    return new Admin(this.cluster);
  }

  /**
   * A producer for `topic` (or for records that name their topic). Close it, or close this client,
   * to flush what it buffered.
   */
  producer(topic?: string, options: ProducerOptions = {}): Producer {
    const producer = new Producer(this.cluster, topic, options);
    this.#producers.add(producer);
    return producer;
  }

  /**
   * Records as an async iterable; it ends when this client closes. With `group`, a member of that
   * consumer group reading its share of `topics` from the group's committed offsets (see
   * GroupConsumer: `commit()`, events 'assigned' / 'revoked' / 'lost', `close()`); without, a reader
   * of `topic`'s partitions from `offset`.
   */
  consumer(topics: string | readonly string[], options: GroupConsumerOptions): GroupConsumer;
  consumer(topic: string, options?: ConsumerOptions): Consumer;
  consumer(
    topics: string | readonly string[],
    options: ConsumerOptions | GroupConsumerOptions = {},
  ): Consumer | GroupConsumer {
    const signal =
      options.signal === undefined
        ? this.#lifetime.signal
        : AbortSignal.any([options.signal, this.#lifetime.signal]);
    if ('group' in options && options.group !== undefined) {
      const consumer = new GroupConsumer(this.cluster, topics, { ...options, signal });
      this.#groupConsumers.add(consumer);
      void consumer.closed.then(() => this.#groupConsumers.delete(consumer));
      return consumer;
    }
    if (typeof topics !== 'string') {
      throw new TideError(clientErrorCodes.invalidArgument, 'several topics need a consumer group (`group`)');
    }
    return new Consumer(this.cluster, topics, { ...options, signal });
  }

  /** Flushes and closes every producer, closes group consumers, ends consumers, then closes the connections. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const producers = [...this.#producers];
      this.#producers.clear();
      await Promise.allSettled(producers.map((producer) => producer.close()));
      // Group consumers commit and leave their groups while the connections are still open.
      const groupConsumers = [...this.#groupConsumers];
      this.#groupConsumers.clear();
      await Promise.allSettled(groupConsumers.map((consumer) => consumer.close()));
      this.#lifetime.abort();
      await this.cluster.close();
    })();
    return this.#closing;
  }
}

interface Target {
  readonly bootstrap: readonly string[];
  readonly clientId: string | undefined;
  /** The profile the addresses came from (undefined for explicit bootstrap addresses). */
  readonly profile?: string;
}

async function resolveTarget(options: TideConnectOptions): Promise<Target> {
  if (options.bootstrap !== undefined) {
    const bootstrap =
      typeof options.bootstrap === 'string' ? splitAddresses(options.bootstrap) : options.bootstrap;
    return { bootstrap, clientId: options.clientId };
  }
  const { name, profile } = await resolveProfile(
    options.profilesPath ?? defaultProfilesPath(),
    options.profile,
  );
  return { bootstrap: profile.bootstrap, clientId: options.clientId ?? profile.clientId, profile: name };
}

/** The same failure, its message starting with the profile whose addresses were tried. */
function withProfileName(error: unknown, profile: string): unknown {
  if (!(error instanceof TideError)) return error;
  const message = `profile "${profile}": ${error.message}`;
  const options = { retriable: error.retriable, cause: error };
  return error instanceof TideClientError
    ? kafkaError(error.errorCode, message, { ...options, code: error.code })
    : new TideError(error.code, message, options);
}

/** `a:1,b:2` → `['a:1', 'b:2']`. */
export function splitAddresses(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
