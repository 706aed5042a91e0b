import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { silentLogger } from '../base/logger.ts';
import { MetricsRegistry } from '../base/metrics.ts';
import { Listener } from '../net/server.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import {
  type BrokerHeartbeatRequest,
  createBrokerHeartbeatResponse,
} from '../protocol/messages/broker-heartbeat.ts';
import {
  type BrokerRegistrationRequest,
  createBrokerRegistrationResponse,
} from '../protocol/messages/broker-registration.ts';
import {
  type CreateTopicsResponse,
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicResult,
} from '../protocol/messages/create-topics.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createSpuStatusResponse, type SpuStatusRequest } from '../protocol/messages/spu-status.ts';
import { spuDefaults } from './config.ts';
import { ControllerLink, type ControllerLinkOptions } from './controller-link.ts';
import type { RequestContext, SpuServices } from './handler.ts';
import { apiVersionsHandler } from './handlers/api-versions.ts';
import { forwardedAdminHandlers } from './handlers/forward.ts';
import { advertisedApis, createRequestRouter, type HandlerTable } from './request-router.ts';

/**
 * The controller link against a tiny fake SC: a Kafka-framed listener that registers SPUs with rising
 * epochs, answers heartbeats of known epochs (STALE_BROKER_EPOCH otherwise) and records what arrives.
 * It stands in for the real SC so that the link's own rules (register, heartbeat, register again,
 * forward) are tested alone.
 */
class FakeSc {
  readonly registrations: BrokerRegistrationRequest[] = [];
  readonly heartbeats: BrokerHeartbeatRequest[] = [];
  readonly statuses: SpuStatusRequest[] = [];
  readonly knownEpochs = new Set<bigint>();
  nextEpoch: bigint;
  port = 0;
  readonly #listener: Listener;
  readonly #watchers = new Set<() => void>();

  constructor(firstEpoch: bigint) {
    this.nextEpoch = firstEpoch;
    const services = { logger: silentLogger, metrics: new MetricsRegistry() } as SpuServices;
    this.#listener = new Listener({
      handler: createRequestRouter(services, this.#handlers()),
      limits: spuDefaults.limits,
      logger: silentLogger,
    });
  }

  static async start(firstEpoch: bigint, port = 0): Promise<FakeSc> {
    const sc = new FakeSc(firstEpoch);
    sc.port = await sc.#listener.listen('127.0.0.1', port);
    return sc;
  }

  close(): Promise<void> {
    return this.#listener.close();
  }

  /** Resolves once `condition` holds (checked after every request), or fails after a bounded wait. */
  until(condition: () => boolean, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#watchers.delete(check);
        reject(new Error(`fake SC: timed out waiting for ${what}`));
      }, 10_000);
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#watchers.delete(check);
        resolve();
      };
      this.#watchers.add(check);
    });
  }

  #changed(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  #handlers(): HandlerTable {
    const table: { -readonly [K in keyof HandlerTable]: HandlerTable[K] } = {
      [apiKeys.BrokerRegistration]: async (request) => {
        const brokerEpoch = this.nextEpoch++;
        this.knownEpochs.add(brokerEpoch);
        this.registrations.push(request);
        this.#changed();
        return createBrokerRegistrationResponse({ errorCode: errorCodes.NONE, brokerEpoch });
      },
      [apiKeys.BrokerHeartbeat]: async (request) => {
        this.heartbeats.push(request);
        this.#changed();
        const known = this.knownEpochs.has(request.brokerEpoch);
        return createBrokerHeartbeatResponse({
          errorCode: known ? errorCodes.NONE : errorCodes.STALE_BROKER_EPOCH,
        });
      },
      [apiKeys.SpuStatus]: async (request) => {
        this.statuses.push(request);
        this.#changed();
        return createSpuStatusResponse({ errorCode: errorCodes.NONE });
      },
      [apiKeys.CreateTopics]: async (request) =>
        createCreateTopicsResponse({
          topics: request.topics.map(({ name }) =>
            createCreateTopicsResponseCreatableTopicResult({
              name,
              errorCode: errorCodes.POLICY_VIOLATION,
              errorMessage: 'decided by the fake SC',
            }),
          ),
        }),
    };
    table[apiKeys.ApiVersions] = apiVersionsHandler(() => advertisedApis(table));
    return table;
  }
}

const fastTiming = Object.freeze({
  heartbeatIntervalMs: 10,
  statusIntervalMs: 30,
  retryBackoffMsMin: 5,
  retryBackoffMsMax: 20,
  requestTimeoutMs: 2000,
  shutdownTimeoutMs: 1000,
});

function linkTo(port: number, extra: Partial<ControllerLinkOptions> = {}): ControllerLink {
  return new ControllerLink({
    controller: { host: '127.0.0.1', port },
    clusterId: '',
    brokerId: 7,
    kafka: { host: '127.0.0.1', port: 19092 },
    internal: { host: '127.0.0.1', port: 19192 },
    rack: 'rack-a',
    metadataOffset: () => 3n,
    partitionStatus: () => [],
    logger: silentLogger,
    timing: fastTiming,
    ...extra,
  });
}

const context: RequestContext = {
  apiKey: apiKeys.CreateTopics,
  apiVersion: 5,
  correlationId: 1,
  clientId: 'test',
  connection: { id: 1, remote: 'test', closed: new AbortController().signal },
};

const services = { logger: silentLogger } as SpuServices;

async function createTopicThrough(link: ControllerLink): Promise<CreateTopicsResponse | undefined> {
  const handler = forwardedAdminHandlers(link)[apiKeys.CreateTopics]!;
  const request = createCreateTopicsRequest({
    topics: [
      createCreateTopicsRequestCreatableTopic({ name: 'orders', numPartitions: 3, replicationFactor: 1 }),
    ],
  });
  return handler(request, context, services);
}

describe('controller link', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('registers with both listeners, then heartbeats with its epoch and reports status', async () => {
    const sc = await FakeSc.start(41n);
    cleanups.push(() => sc.close());
    const link = linkTo(sc.port, {
      partitionStatus: () => [
        {
          topic: 't',
          partition: 0,
          leaderEpoch: 2,
          logStartOffset: 0n,
          logEndOffset: 5n,
          highWatermark: 5n,
          sizeBytes: 100n,
          followers: [],
          offline: false,
        },
      ],
    });
    link.start();
    cleanups.push(() => link.stop());
    await sc.until(() => sc.heartbeats.length >= 2 && sc.statuses.length >= 1, 'heartbeats and a status');
    const registration = sc.registrations[0]!;
    assert.equal(registration.brokerId, 7);
    assert.equal(registration.rack, 'rack-a');
    assert.deepEqual(
      registration.listeners.map(({ name, host, port }) => ({ name, host, port })),
      [
        { name: 'PLAINTEXT', host: '127.0.0.1', port: 19092 },
        { name: 'INTERNAL', host: '127.0.0.1', port: 19192 },
      ],
    );
    assert.equal(link.brokerEpoch, 41n);
    for (const heartbeat of sc.heartbeats) {
      assert.equal(heartbeat.brokerEpoch, 41n);
      assert.equal(heartbeat.currentMetadataOffset, 3n);
      assert.equal(heartbeat.wantShutDown, false);
    }
    assert.equal(sc.statuses[0]!.brokerEpoch, 41n);
    assert.equal(sc.statuses[0]!.partitions[0]!.logEndOffset, 5n);
  });

  it('registers again when a heartbeat is answered STALE_BROKER_EPOCH', async () => {
    const sc = await FakeSc.start(1n);
    cleanups.push(() => sc.close());
    const link = linkTo(sc.port);
    link.start();
    cleanups.push(() => link.stop());
    await sc.until(() => sc.heartbeats.length >= 1, 'a heartbeat');
    sc.knownEpochs.clear(); // the SC forgets this SPU, as after losing its state
    await sc.until(() => sc.registrations.length >= 2, 'a second registration');
    await sc.until(() => sc.heartbeats.at(-1)?.brokerEpoch === 2n, 'heartbeats with the new epoch');
    assert.equal(link.brokerEpoch, 2n);
    assert.deepEqual(sc.registrations[1]!.incarnationId, sc.registrations[0]!.incarnationId);
  });

  it('registers again with an SC restarted on the same address, and forwards meanwhile', async () => {
    const first = await FakeSc.start(1n);
    const link = linkTo(first.port);
    link.start();
    cleanups.push(() => link.stop());
    await first.until(() => link.isRegistered, 'registration');
    const forwarded = await createTopicThrough(link);
    assert.equal(forwarded?.topics[0]?.errorCode, errorCodes.POLICY_VIOLATION);
    assert.equal(forwarded?.topics[0]?.errorMessage, 'decided by the fake SC');

    await first.close();
    const down = await createTopicThrough(link);
    assert.equal(down?.topics[0]?.name, 'orders');
    assert.equal(down?.topics[0]?.errorCode, errorCodes.NOT_CONTROLLER);

    const second = await FakeSc.start(100n, first.port);
    cleanups.push(() => second.close());
    await second.until(() => second.heartbeats.some((beat) => beat.brokerEpoch === 100n), 'new heartbeats');
    assert.equal(link.brokerEpoch, 100n);
    assert.equal(second.registrations[0]!.previousBrokerEpoch, 1n);
  });

  it('says goodbye with wantShutDown when stopped', async () => {
    const sc = await FakeSc.start(5n);
    cleanups.push(() => sc.close());
    const link = linkTo(sc.port);
    link.start();
    await sc.until(() => link.isRegistered, 'registration');
    await link.stop();
    assert.equal(sc.heartbeats.at(-1)?.wantShutDown, true);
    assert.equal(link.isRegistered, false);
  });
});
