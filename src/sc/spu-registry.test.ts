import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { LocalMetadataStore } from './metadata-store.ts';
import { SpuRegistry } from './spu-registry.ts';
import { TopicFrontend } from './topic-frontend.ts';
import { topicStatus } from './topic-records.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'tide-sc-registry-'));
  dirs.push(dir);
  const store = await LocalMetadataStore.open(dir);
  await SpuRegistry.startEpoch(store);
  const clock = new ManualClock();
  const changes: Array<[number, boolean]> = [];
  const spus = new SpuRegistry({
    store,
    clock,
    sessionTimeoutMs: 6000,
    onChange: (id, online) => changes.push([id, online]),
  });
  const topics = new TopicFrontend({
    store,
    spus,
    clock,
    logger: silentLogger,
    defaults: { partitions: 1, replicationFactor: 1, partitionsPerTopicMax: 100 },
    acceptUnplaced: true,
    onChange: () => undefined,
  });
  return { store, clock, spus, topics, changes };
}

function registration(id: number, incarnation = id) {
  return {
    id,
    clusterId: '',
    incarnationId: Buffer.alloc(16, incarnation),
    host: '127.0.0.1',
    port: 9000 + id,
    internalHost: '127.0.0.1',
    internalPort: 9100 + id,
    rack: null,
  };
}

test('SPUs go offline after the session timeout and must register again', async () => {
  const { clock, spus, changes } = await setup();
  const { brokerEpoch } = await spus.register(registration(1));
  assert.equal(spus.heartbeat(1, brokerEpoch, false), errorCodes.NONE);
  assert.equal((await spus.register(registration(1, 9))).errorCode, errorCodes.DUPLICATE_BROKER_REGISTRATION);
  clock.advance(6000);
  spus.expireSessions();
  assert.equal(spus.isOnline(1), true);
  clock.advance(1);
  spus.expireSessions();
  assert.equal(spus.isOnline(1), false);
  assert.equal(spus.heartbeat(1, brokerEpoch, false), errorCodes.STALE_BROKER_EPOCH);
  const again = await spus.register(registration(1, 9));
  assert.ok(again.brokerEpoch > brokerEpoch);
  assert.deepEqual(changes, [
    [1, true],
    [1, false],
    [1, true],
  ]);
});

test('admin validation refuses bad input and persists nothing; RF above the online SPUs waits', async () => {
  const { store, spus, topics } = await setup();
  await spus.register(registration(1));
  const spec = { name: 'ok', partitions: 2, replicationFactor: 1, assignments: new Map(), configs: {} };
  const cases: Array<[object, number]> = [
    [{ name: 'bad/name' }, errorCodes.INVALID_TOPIC_EXCEPTION],
    [{ replicationFactor: 0 }, errorCodes.INVALID_REPLICATION_FACTOR],
    [{ partitions: -3 }, errorCodes.INVALID_PARTITIONS],
    [{ configs: { 'no.such.config': '1' } }, errorCodes.INVALID_CONFIG],
    [{ assignments: new Map([[0, [7]]]) }, errorCodes.INVALID_REPLICA_ASSIGNMENT],
  ];
  for (const [change, errorCode] of cases) {
    const outcome = await topics.createTopic({ ...spec, ...change }, { validateOnly: false });
    assert.equal(outcome.errorCode, errorCode, JSON.stringify(change));
  }
  assert.deepEqual(store.list('topics'), []);
  assert.equal(
    (await topics.createTopic({ ...spec, replicationFactor: 2 }, { validateOnly: false })).errorCode,
    0,
  );
  assert.equal(topicStatus(store, topics.topic('ok')!, 1).status, 'insufficient-resources');
  await spus.register(registration(2));
  assert.equal(await topics.provision(), true);
  assert.equal(topicStatus(store, topics.topic('ok')!, 2).status, 'provisioned');
});
