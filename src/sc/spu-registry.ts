import { randomBytes } from 'node:crypto';
import { assert } from '../base/assert.ts';
import type { Clock } from '../base/clock.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import type { MetadataStore } from './metadata-store.ts';

/**
 * The SPUs the SC knows and whether each is alive. Registration (BrokerRegistration) stores the SPU's
 * endpoints and gives it a new broker epoch from a persisted counter, so epochs never repeat across
 * SC restarts; heartbeats keep it online; an SPU silent for `sessionTimeoutMs` goes offline.
 *
 * What is persisted (kind `spus`, key = id): { id, host, port, internalHost, internalPort, rack,
 * brokerEpoch, incarnationId }. A registration from a new process of a known SPU (another
 * incarnation than the stored one) first awaits `onRestarted`, which takes the SPU out of every
 * ISR: the SC may not have seen the old process die (it was down itself), and the new one may hold
 * less than the old one acknowledged. Liveness is memory only: after an SC restart every SPU is offline until it
 * registers again (its heartbeat with an epoch this process did not give out is answered
 * STALE_BROKER_EPOCH, which makes the SPU register).
 */

export interface SpuRecord {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly internalHost: string;
  readonly internalPort: number;
  readonly rack: string | null;
  readonly brokerEpoch: number;
  /** The incarnation (hex) of the SPU process that registered last; absent in older files. */
  readonly incarnationId?: string;
}

export interface Registration {
  readonly id: number;
  readonly clusterId: string;
  /** 16 bytes, random per SPU process. */
  readonly incarnationId: Buffer;
  readonly host: string;
  readonly port: number;
  readonly internalHost: string;
  readonly internalPort: number;
  readonly rack: string | null;
}

interface Session {
  readonly incarnationId: string;
  readonly brokerEpoch: number;
  lastSeenMs: number;
  online: boolean;
}

/** The `cluster` object: counters the SC keeps across restarts. */
export interface ClusterRecord {
  readonly clusterId: string;
  readonly controllerEpoch: number;
  readonly nextBrokerEpoch: number;
}

export const clusterKey = 'cluster';

export class SpuRegistry {
  readonly #store: MetadataStore;
  readonly #clock: Clock;
  readonly #sessionTimeoutMs: number;
  readonly #sessions = new Map<number, Session>();
  readonly #onChange: (spuId: number, online: boolean) => void;
  readonly #onRestarted: (spuId: number) => Promise<void>;
  #registering: Promise<unknown> = Promise.resolve();

  constructor(options: {
    store: MetadataStore;
    clock: Clock;
    sessionTimeoutMs: number;
    onChange: (spuId: number, online: boolean) => void;
    /** Awaited before a new process of a known SPU is registered (see the module comment). */
    onRestarted?: (spuId: number) => Promise<void>;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#sessionTimeoutMs = options.sessionTimeoutMs;
    this.#onChange = options.onChange;
    this.#onRestarted = options.onRestarted ?? (() => Promise.resolve());
  }

  /**
   * Raises the persisted controller epoch (called once per SC start) and returns the cluster record,
   * creating it with a random cluster id on first start.
   */
  static async startEpoch(store: MetadataStore): Promise<ClusterRecord> {
    const stored = store.get<ClusterRecord>('cluster', clusterKey);
    const previous = stored?.value ?? {
      clusterId: randomBytes(16).toString('base64url'),
      controllerEpoch: 0,
      nextBrokerEpoch: 1,
    };
    const next = { ...previous, controllerEpoch: previous.controllerEpoch + 1 };
    await store.put('cluster', clusterKey, next, stored?.revision ?? 0);
    return next;
  }

  get clusterId(): string {
    return this.#cluster().value.clusterId;
  }

  /** Every known SPU, by id. */
  list(): SpuRecord[] {
    return this.#store
      .list<SpuRecord>('spus')
      .map((entry) => entry.value)
      .sort((a, b) => a.id - b.id);
  }

  get(id: number): SpuRecord | undefined {
    return this.#store.get<SpuRecord>('spus', String(id))?.value;
  }

  isOnline(id: number): boolean {
    return this.#sessions.get(id)?.online === true;
  }

  onlineSpus(): SpuRecord[] {
    return this.list().filter((spu) => this.isOnline(spu.id));
  }

  /** Registers an SPU; answers a Kafka error code and, on success, its new broker epoch. */
  register(registration: Registration): Promise<{ errorCode: number; brokerEpoch: number }> {
    // One registration at a time: each reads and raises the epoch counter.
    const next = this.#registering.catch(() => undefined).then(() => this.#register(registration));
    this.#registering = next;
    return next;
  }

  async #register(registration: Registration): Promise<{ errorCode: number; brokerEpoch: number }> {
    const cluster = this.#cluster();
    if (registration.clusterId !== '' && registration.clusterId !== cluster.value.clusterId)
      return { errorCode: errorCodes.INCONSISTENT_CLUSTER_ID, brokerEpoch: -1 };
    const incarnationId = registration.incarnationId.toString('hex');
    const session = this.#sessions.get(registration.id);
    if (session?.online && session.incarnationId !== incarnationId)
      return { errorCode: errorCodes.DUPLICATE_BROKER_REGISTRATION, brokerEpoch: -1 };
    const previous = this.get(registration.id);
    if (previous !== undefined && previous.incarnationId !== incarnationId)
      await this.#onRestarted(registration.id);
    // Read after the fencing, which committed to the same store meanwhile.
    const counters = this.#cluster();
    const brokerEpoch = counters.value.nextBrokerEpoch;
    const { id, host, port, internalHost, internalPort, rack } = registration;
    const record: SpuRecord = {
      id,
      host,
      port,
      internalHost,
      internalPort,
      rack,
      brokerEpoch,
      incarnationId,
    };
    await this.#store.commit([
      {
        kind: 'cluster',
        key: clusterKey,
        value: { ...counters.value, nextBrokerEpoch: brokerEpoch + 1 },
        expectedRevision: counters.revision,
      },
      {
        kind: 'spus',
        key: String(id),
        value: record,
        expectedRevision: this.#store.get('spus', String(id))?.revision ?? 0,
      },
    ]);
    const lastSeenMs = this.#clock.monotonicMs();
    this.#sessions.set(id, { incarnationId, brokerEpoch, lastSeenMs, online: true });
    this.#onChange(id, true);
    return { errorCode: errorCodes.NONE, brokerEpoch };
  }

  /**
   * A heartbeat: NONE when it comes from the SPU's current registration, STALE_BROKER_EPOCH otherwise
   * (unknown SPU, an older epoch, or an SPU that went offline and must register again).
   */
  heartbeat(id: number, brokerEpoch: number, wantShutDown: boolean): number {
    const session = this.#sessions.get(id);
    if (session === undefined || !session.online || session.brokerEpoch !== brokerEpoch)
      return errorCodes.STALE_BROKER_EPOCH;
    session.lastSeenMs = this.#clock.monotonicMs();
    if (wantShutDown) this.#setOffline(id, session);
    return errorCodes.NONE;
  }

  /** Whether `brokerEpoch` is the current epoch of an online SPU (status reports are checked so). */
  isCurrent(id: number, brokerEpoch: number): boolean {
    const session = this.#sessions.get(id);
    return session?.online === true && session.brokerEpoch === brokerEpoch;
  }

  /** Takes offline every SPU silent for longer than the session timeout; call on a tick. */
  expireSessions(): void {
    const now = this.#clock.monotonicMs();
    for (const [id, session] of this.#sessions) {
      if (session.online && now - session.lastSeenMs > this.#sessionTimeoutMs) this.#setOffline(id, session);
    }
  }

  #setOffline(id: number, session: Session): void {
    session.online = false;
    this.#onChange(id, false);
  }

  #cluster(): { value: ClusterRecord; revision: number } {
    const stored = this.#store.get<ClusterRecord>('cluster', clusterKey);
    assert(stored !== undefined, 'SpuRegistry used before startEpoch');
    return stored;
  }
}
