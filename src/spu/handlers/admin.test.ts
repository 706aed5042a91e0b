import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { systemClock } from '../../base/clock.ts';
import { silentLogger } from '../../base/logger.ts';
import { MetricsRegistry } from '../../base/metrics.ts';
import { topicConfigDefinitions } from '../../metadata/topic-config.ts';
import type { ApiKeyOf, RequestOf, ResponseOf } from '../../net/kafka-connection.ts';
import { createAlterConfigsRequest } from '../../protocol/messages/alter-configs.ts';
import { requestHeaderVersion, responseHeaderVersion } from '../../protocol/messages/api-keys.ts';
import { type ApiCodec, apiCodecs } from '../../protocol/messages/codecs.ts';
import { createCreatePartitionsRequest } from '../../protocol/messages/create-partitions.ts';
import {
  type CreateTopicsRequestCreatableTopic,
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../../protocol/messages/create-topics.ts';
import { createDeleteTopicsRequest } from '../../protocol/messages/delete-topics.ts';
import { createDescribeClusterRequest } from '../../protocol/messages/describe-cluster.ts';
import {
  createDescribeConfigsRequest,
  type DescribeConfigsRequestResource,
} from '../../protocol/messages/describe-configs.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import { isZeroUuid } from '../../protocol/messages/helpers.ts';
import { createIncrementalAlterConfigsRequest } from '../../protocol/messages/incremental-alter-configs.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../../protocol/messages/metadata.ts';
import { encodeRequestHeader } from '../../protocol/messages/request-header.ts';
import { decodeResponseHeader } from '../../protocol/messages/response-header.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { makeTempDir } from '../../testing/processes.ts';
import { type SpuConfig, spuDefaults } from '../config.ts';
import type { SpuServices } from '../handler.ts';
import { PartitionManager } from '../partitions.ts';
import { createRequestRouter } from '../request-router.ts';
import { StandaloneCluster } from '../standalone.ts';
import { TopicStore } from '../topic-store.ts';
import { spuHandlers } from './index.ts';

/**
 * The admin handlers behind the real router, in process: every request is encoded at the version
 * under test, decoded by the router, answered, and the answer decoded again, so each version's
 * fields are checked as a client would see them. Storage is real, on a temp dir.
 */

const keys = Object.freeze({
  Metadata: 3,
  CreateTopics: 19,
  DeleteTopics: 20,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  CreatePartitions: 37,
  IncrementalAlterConfigs: 44,
  DescribeCluster: 60,
} as const);

interface TestSpu {
  readonly services: SpuServices;
  readonly cluster: StandaloneCluster;
  readonly dataDir: string;
  call<K extends ApiKeyOf>(apiKey: K, version: number, request: RequestOf<K>): Promise<ResponseOf<K>>;
  close(): Promise<void>;
}

async function openSpu(settings: Partial<SpuConfig> = {}): Promise<TestSpu> {
  const temp = await makeTempDir('tide-admin-');
  const config: SpuConfig = {
    ...spuDefaults,
    dataDir: temp.path,
    listenPort: 9092,
    httpPort: -1,
    ...settings,
  };
  const partitions = await PartitionManager.open({
    dataDir: temp.path,
    clock: systemClock,
    logger: silentLogger,
  });
  const cluster = new StandaloneCluster({
    clusterId: config.clusterId,
    self: { id: config.id, host: '127.0.0.1', port: 9092, rack: config.rack ?? null },
    store: await TopicStore.open(temp.path),
    partitions,
    clock: systemClock,
    logger: silentLogger,
    defaults: {
      partitions: config.defaultPartitions,
      replicationFactor: config.defaultReplicationFactor,
      partitionsPerTopicMax: config.limits.partitionsPerTopicMax,
    },
  });
  const services: SpuServices = {
    config,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    clock: systemClock,
    partitions,
    cluster,
    admin: cluster,
  };
  const router = createRequestRouter(services, spuHandlers());
  const connection = { id: 1, remote: 'test', closed: new AbortController().signal };
  return {
    services,
    cluster,
    dataDir: temp.path,
    async call(apiKey, version, request) {
      const codec = apiCodecs[apiKey] as unknown as ApiCodec<
        RequestOf<typeof apiKey>,
        ResponseOf<typeof apiKey>
      >;
      const w = new Writer();
      encodeRequestHeader(
        w,
        { requestApiKey: apiKey, requestApiVersion: version, correlationId: 7, clientId: 'test' },
        requestHeaderVersion(apiKey, version),
      );
      codec.encodeRequest(w, request, version);
      const chunks = await router(w.toBuffer(), connection);
      assert.ok(chunks !== undefined);
      const reader = new Reader(Buffer.concat(chunks).subarray(4));
      assert.equal(decodeResponseHeader(reader, responseHeaderVersion(apiKey, version)).correlationId, 7);
      return codec.decodeResponse(reader, version);
    },
    async close() {
      await partitions.close();
      await temp.remove();
    },
  };
}

function versions(apiKey: number): number[] {
  const codec = (apiCodecs as Record<number, { minVersion: number; maxVersion: number }>)[apiKey]!;
  return Array.from({ length: codec.maxVersion - codec.minVersion + 1 }, (_, i) => codec.minVersion + i);
}

function topicSpec(name: string, fields: Partial<CreateTopicsRequestCreatableTopic> = {}) {
  return createCreateTopicsRequestCreatableTopic({ name, numPartitions: 1, replicationFactor: 1, ...fields });
}

async function createTopic(
  spu: TestSpu,
  name: string,
  fields: Partial<CreateTopicsRequestCreatableTopic> = {},
) {
  const answer = await spu.call(
    keys.CreateTopics,
    5,
    createCreateTopicsRequest({ topics: [topicSpec(name, fields)] }),
  );
  assert.equal(answer.topics[0]?.errorCode, errorCodes.NONE, answer.topics[0]?.errorMessage ?? '');
}

describe('Metadata', () => {
  let spu: TestSpu;
  before(async () => {
    spu = await openSpu({ rack: 'rack-a' });
    await createTopic(spu, 'alpha', { numPartitions: 2 });
  });
  after(() => spu.close());

  for (const version of versions(keys.Metadata)) {
    it(`v${version} lists every topic, the broker and the cluster`, async () => {
      const answer = await spu.call(
        keys.Metadata,
        version,
        createMetadataRequest({ topics: version === 0 ? [] : null }),
      );
      assert.deepEqual(answer.brokers, [
        { nodeId: 1, host: '127.0.0.1', port: 9092, rack: version >= 1 ? 'rack-a' : null },
      ]);
      assert.equal(answer.controllerId, version >= 1 ? 1 : -1);
      assert.equal(answer.clusterId, version >= 2 ? 'tide-local' : null);
      assert.deepEqual(
        answer.topics.map((topic) => topic.name),
        ['alpha'],
      );
      const topic = answer.topics[0]!;
      assert.equal(topic.errorCode, errorCodes.NONE);
      assert.equal(isZeroUuid(topic.topicId), version < 10);
      assert.equal(topic.topicAuthorizedOperations, -2147483648);
      assert.deepEqual(
        topic.partitions.map((p) => [
          p.partitionIndex,
          p.leaderId,
          p.leaderEpoch,
          p.replicaNodes,
          p.isrNodes,
        ]),
        [0, 1].map((index) => [index, 1, version >= 7 ? 0 : -1, [1], [1]]),
      );
    });

    it(`v${version} names the error of unknown and invalid topics`, async () => {
      const topics = ['alpha', 'missing', 'bad name'].map((name) => createMetadataRequestTopic({ name }));
      const answer = await spu.call(keys.Metadata, version, createMetadataRequest({ topics }));
      assert.deepEqual(
        answer.topics.map((topic) => [topic.name, topic.errorCode]),
        [
          ['alpha', errorCodes.NONE],
          ['missing', errorCodes.UNKNOWN_TOPIC_OR_PARTITION],
          ['bad name', errorCodes.INVALID_TOPIC_EXCEPTION],
        ],
      );
      assert.ok(spu.cluster.topic('missing') === undefined);
    });
  }

  it('v10+ finds a topic by id, and reports unknown ids', async () => {
    const topicId = spu.cluster.topic('alpha')!.topicId;
    const unknownId = Buffer.alloc(16, 9);
    const answer = await spu.call(
      keys.Metadata,
      12,
      createMetadataRequest({
        topics: [
          createMetadataRequestTopic({ topicId, name: null }),
          createMetadataRequestTopic({ topicId: unknownId, name: null }),
        ],
      }),
    );
    assert.deepEqual(
      answer.topics.map((topic) => [topic.name, topic.errorCode]),
      [
        ['alpha', errorCodes.NONE],
        [null, errorCodes.UNKNOWN_TOPIC_ID],
      ],
    );
  });

  it('reports authorized operations only when asked', async () => {
    const answer = await spu.call(
      keys.Metadata,
      10,
      createMetadataRequest({
        topics: null,
        includeTopicAuthorizedOperations: true,
        includeClusterAuthorizedOperations: true,
      }),
    );
    assert.notEqual(answer.clusterAuthorizedOperations, -2147483648);
    assert.ok((answer.topics[0]!.topicAuthorizedOperations & (1 << 3)) !== 0, 'READ allowed');
  });
});

describe('Metadata auto-creation', () => {
  let spu: TestSpu;
  before(async () => {
    spu = await openSpu({ autoCreateTopics: true, defaultPartitions: 3 });
  });
  after(() => spu.close());

  it('creates a missing topic with the default partitions (always before v4)', async () => {
    const answer = await spu.call(
      keys.Metadata,
      3,
      createMetadataRequest({ topics: [createMetadataRequestTopic({ name: 'auto-v3' })] }),
    );
    assert.equal(answer.topics[0]?.errorCode, errorCodes.NONE);
    assert.equal(answer.topics[0]?.partitions.length, 3);
    assert.equal(spu.cluster.topic('auto-v3')?.partitions.length, 3);
  });

  it('from v4, only when the request allows it', async () => {
    const refused = await spu.call(
      keys.Metadata,
      9,
      createMetadataRequest({
        topics: [createMetadataRequestTopic({ name: 'auto-no' })],
        allowAutoTopicCreation: false,
      }),
    );
    assert.equal(refused.topics[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(spu.cluster.topic('auto-no'), undefined);
    const allowed = await spu.call(
      keys.Metadata,
      9,
      createMetadataRequest({ topics: [createMetadataRequestTopic({ name: 'auto-yes' })] }),
    );
    assert.equal(allowed.topics[0]?.errorCode, errorCodes.NONE);
    assert.ok(spu.cluster.topic('auto-yes') !== undefined);
  });

  it('never creates a topic with an invalid name', async () => {
    const answer = await spu.call(
      keys.Metadata,
      9,
      createMetadataRequest({ topics: [createMetadataRequestTopic({ name: 'no/slashes' })] }),
    );
    assert.equal(answer.topics[0]?.errorCode, errorCodes.INVALID_TOPIC_EXCEPTION);
  });
});

describe('CreateTopics', () => {
  let spu: TestSpu;
  beforeEach(async () => {
    await spu?.close();
    spu = await openSpu({ defaultPartitions: 4 });
  });
  after(() => spu.close());

  for (const version of versions(keys.CreateTopics)) {
    it(`v${version} creates a topic with configs and answers its shape`, async () => {
      const answer = await spu.call(
        keys.CreateTopics,
        version,
        createCreateTopicsRequest({
          topics: [
            topicSpec('made', { numPartitions: 2, configs: [{ name: 'retention.ms', value: '1000' }] }),
          ],
        }),
      );
      const result = answer.topics[0]!;
      assert.equal(result.errorCode, errorCodes.NONE);
      assert.equal(result.errorMessage, version >= 1 ? null : '');
      const topic = spu.cluster.topic('made');
      assert.deepEqual(topic?.configs, { 'retention.ms': '1000' });
      assert.equal(topic?.partitions.length, 2);
      assert.ok(spu.services.partitions.get('made', 1) !== undefined, 'partition logs are open');
      if (version >= 5) {
        assert.equal(result.numPartitions, 2);
        assert.equal(result.replicationFactor, 1);
        const retention = result.configs?.find((config) => config.name === 'retention.ms');
        assert.deepEqual(retention, {
          name: 'retention.ms',
          value: '1000',
          readOnly: false,
          configSource: 1,
          isSensitive: false,
        });
        assert.equal(result.configs?.find((config) => config.name === 'segment.ms')?.configSource, 5);
      }
      assert.equal(result.topicId.equals(topic!.topicId), version >= 7);
    });
  }

  it('-1 partitions and replication factor take the defaults', async () => {
    const answer = await spu.call(
      keys.CreateTopics,
      7,
      createCreateTopicsRequest({
        topics: [topicSpec('defaults', { numPartitions: -1, replicationFactor: -1 })],
      }),
    );
    assert.equal(answer.topics[0]?.numPartitions, 4);
    assert.equal(answer.topics[0]?.replicationFactor, 1);
  });

  it('explicit assignments set the partitions', async () => {
    const assignments = [0, 1, 2].map((partitionIndex) => ({ partitionIndex, brokerIds: [1] }));
    const answer = await spu.call(
      keys.CreateTopics,
      7,
      createCreateTopicsRequest({
        topics: [topicSpec('placed', { numPartitions: -1, replicationFactor: -1, assignments })],
      }),
    );
    assert.equal(answer.topics[0]?.errorCode, errorCodes.NONE);
    assert.equal(spu.cluster.topic('placed')?.partitions.length, 3);
  });

  it('validateOnly answers the shape and creates nothing', async () => {
    const answer = await spu.call(
      keys.CreateTopics,
      7,
      createCreateTopicsRequest({ validateOnly: true, topics: [topicSpec('dry', { numPartitions: 6 })] }),
    );
    assert.equal(answer.topics[0]?.errorCode, errorCodes.NONE);
    assert.equal(answer.topics[0]?.numPartitions, 6);
    assert.equal(spu.cluster.topic('dry'), undefined);
    assert.equal(spu.services.partitions.get('dry', 0), undefined);
  });

  it('refuses bad topics one by one, with messages, and creates the good ones', async () => {
    const cases: Array<[CreateTopicsRequestCreatableTopic, number]> = [
      [topicSpec('bad name'), errorCodes.INVALID_TOPIC_EXCEPTION],
      [topicSpec('parts', { numPartitions: 0 }), errorCodes.INVALID_PARTITIONS],
      [topicSpec('parts-huge', { numPartitions: 1_000_000 }), errorCodes.INVALID_PARTITIONS],
      [topicSpec('rf', { replicationFactor: 0 }), errorCodes.INVALID_REPLICATION_FACTOR],
      [topicSpec('rf-big', { replicationFactor: 2 }), errorCodes.INVALID_REPLICATION_FACTOR],
      [
        topicSpec('assign-spu', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [5] }],
        }),
        errorCodes.INVALID_REPLICA_ASSIGNMENT,
      ],
      [
        topicSpec('assign-dup', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 1] }],
        }),
        errorCodes.INVALID_REPLICA_ASSIGNMENT,
      ],
      [
        topicSpec('assign-count', { numPartitions: 2, assignments: [{ partitionIndex: 0, brokerIds: [1] }] }),
        errorCodes.INVALID_REQUEST,
      ],
      [topicSpec('config', { configs: [{ name: 'retention.ms', value: 'x' }] }), errorCodes.INVALID_CONFIG],
      [
        topicSpec('config-null', { configs: [{ name: 'retention.ms', value: null }] }),
        errorCodes.INVALID_CONFIG,
      ],
      [topicSpec('config-name', { configs: [{ name: 'nope', value: '1' }] }), errorCodes.INVALID_CONFIG],
    ];
    const answer = await spu.call(
      keys.CreateTopics,
      7,
      createCreateTopicsRequest({ topics: [...cases.map(([spec]) => spec), topicSpec('fine')] }),
    );
    for (const [index, [spec, errorCode]] of cases.entries()) {
      const result = answer.topics[index]!;
      assert.deepEqual([result.name, result.errorCode], [spec.name, errorCode]);
      assert.ok((result.errorMessage ?? '').length > 0, `${spec.name} has a message`);
      assert.equal(result.numPartitions, -1);
    }
    assert.deepEqual(
      spu.cluster.topics().map((topic) => topic.name),
      ['fine'],
    );
    const stored = await TopicStore.open(spu.dataDir);
    assert.deepEqual(
      stored.list().map((record) => record.name),
      ['fine'],
    );
  });

  it('a name twice in one request is refused and not created; an existing one is TOPIC_ALREADY_EXISTS', async () => {
    await createTopic(spu, 'exists');
    const answer = await spu.call(
      keys.CreateTopics,
      4,
      createCreateTopicsRequest({ topics: [topicSpec('twice'), topicSpec('twice'), topicSpec('exists')] }),
    );
    assert.deepEqual(
      answer.topics.map((result) => [result.name, result.errorCode]),
      [
        ['twice', errorCodes.INVALID_REQUEST],
        ['exists', errorCodes.TOPIC_ALREADY_EXISTS],
      ],
    );
    assert.equal(spu.cluster.topic('twice'), undefined);
  });
});

describe('DeleteTopics and CreatePartitions', () => {
  let spu: TestSpu;
  before(async () => {
    spu = await openSpu();
  });
  after(() => spu.close());

  for (const version of versions(keys.DeleteTopics)) {
    it(`DeleteTopics v${version} deletes by name and reports unknown names`, async () => {
      await createTopic(spu, `gone-${version}`, { numPartitions: 2 });
      const answer = await spu.call(
        keys.DeleteTopics,
        version,
        createDeleteTopicsRequest({ topicNames: [`gone-${version}`, 'never'] }),
      );
      assert.deepEqual(
        answer.responses.map((result) => [result.name, result.errorCode]),
        [
          [`gone-${version}`, errorCodes.NONE],
          ['never', errorCodes.UNKNOWN_TOPIC_OR_PARTITION],
        ],
      );
      assert.equal(answer.responses[1]?.errorMessage !== null, version >= 5);
      assert.equal(spu.cluster.topic(`gone-${version}`), undefined);
      assert.equal(spu.services.partitions.get(`gone-${version}`, 1), undefined);
    });
  }

  for (const version of versions(keys.CreatePartitions)) {
    it(`CreatePartitions v${version} grows topics and validates assignments`, async () => {
      const name = `grow-${version}`;
      await createTopic(spu, name);
      const grow = (count: number, assignments: number[][] | null, validateOnly = false) =>
        spu.call(
          keys.CreatePartitions,
          version,
          createCreatePartitionsRequest({
            validateOnly,
            topics: [{ name, count, assignments: assignments?.map((brokerIds) => ({ brokerIds })) ?? null }],
          }),
        );
      assert.equal((await grow(5, null, true)).results[0]?.errorCode, errorCodes.NONE);
      assert.equal(spu.cluster.topic(name)?.partitions.length, 1);
      assert.equal((await grow(3, [[1], [1]])).results[0]?.errorCode, errorCodes.NONE);
      assert.equal(spu.cluster.topic(name)?.partitions.length, 3);
      assert.ok(spu.services.partitions.get(name, 2) !== undefined);
      assert.equal((await grow(2, null)).results[0]?.errorCode, errorCodes.INVALID_PARTITIONS);
      assert.equal((await grow(4, [[2]])).results[0]?.errorCode, errorCodes.INVALID_REPLICA_ASSIGNMENT);
      assert.equal((await grow(5, [[1]])).results[0]?.errorCode, errorCodes.INVALID_REPLICA_ASSIGNMENT);
      assert.equal(spu.cluster.topic(name)?.partitions.length, 3);
    });
  }

  it('CreatePartitions of a missing topic or one named twice', async () => {
    await createTopic(spu, 'twice');
    const answer = await spu.call(
      keys.CreatePartitions,
      3,
      createCreatePartitionsRequest({
        topics: [
          { name: 'missing', count: 2, assignments: null },
          { name: 'twice', count: 2, assignments: null },
          { name: 'twice', count: 3, assignments: null },
        ],
      }),
    );
    assert.deepEqual(
      answer.results.map((result) => [result.name, result.errorCode]),
      [
        ['twice', errorCodes.INVALID_REQUEST],
        ['missing', errorCodes.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
    assert.equal(spu.cluster.topic('twice')?.partitions.length, 1);
  });
});

describe('DescribeConfigs', () => {
  let spu: TestSpu;
  before(async () => {
    spu = await openSpu();
    await createTopic(spu, 'configured', { configs: [{ name: 'retention.ms', value: '5000' }] });
  });
  after(() => spu.close());

  const topicResource = (configurationKeys: string[] | null = null): DescribeConfigsRequestResource => ({
    resourceType: 2,
    resourceName: 'configured',
    configurationKeys,
  });

  for (const version of versions(keys.DescribeConfigs)) {
    it(`v${version} describes every topic config with the fields of the version`, async () => {
      const answer = await spu.call(
        keys.DescribeConfigs,
        version,
        createDescribeConfigsRequest({
          resources: [topicResource()],
          includeSynonyms: true,
          includeDocumentation: true,
        }),
      );
      const result = answer.results[0]!;
      assert.equal(result.errorCode, errorCodes.NONE);
      assert.equal(result.configs.length, Object.keys(topicConfigDefinitions).length);
      const retention = result.configs.find((config) => config.name === 'retention.ms')!;
      const cleanup = result.configs.find((config) => config.name === 'cleanup.policy')!;
      assert.equal(retention.value, '5000');
      assert.equal(retention.readOnly, false);
      assert.equal(retention.isSensitive, false);
      if (version === 0) {
        assert.equal(retention.isDefault, false);
        assert.equal(cleanup.isDefault, true);
      } else {
        assert.equal(retention.configSource, 1);
        assert.equal(cleanup.configSource, 5);
        assert.deepEqual(
          retention.synonyms.map((synonym) => [synonym.value, synonym.source]),
          [
            ['5000', 1],
            ['604800000', 5],
          ],
        );
      }
      assert.equal(retention.configType, version >= 3 ? 5 : 0);
      assert.equal(cleanup.configType, version >= 3 ? 7 : 0);
      if (version >= 3) assert.match(retention.documentation ?? '', /milliseconds/);
    });
  }

  it('filters by key, leaves out synonyms and documentation unless asked', async () => {
    const answer = await spu.call(
      keys.DescribeConfigs,
      4,
      createDescribeConfigsRequest({
        resources: [topicResource(['segment.ms', 'unclean.leader.election.enable'])],
      }),
    );
    const configs = answer.results[0]!.configs;
    assert.deepEqual(
      configs.map((config) => [config.name, config.configType, config.synonyms.length, config.documentation]),
      [
        ['segment.ms', 5, 0, null],
        ['unclean.leader.election.enable', 1, 0, null],
      ],
    );
  });

  it('answers errors per resource: unknown topic, bad name, other types, duplicates; its own broker', async () => {
    const answer = await spu.call(
      keys.DescribeConfigs,
      4,
      createDescribeConfigsRequest({
        resources: [
          { resourceType: 2, resourceName: 'missing', configurationKeys: null },
          { resourceType: 2, resourceName: 'bad name', configurationKeys: null },
          { resourceType: 8, resourceName: '1', configurationKeys: null },
          { resourceType: 4, resourceName: '1', configurationKeys: null },
          { resourceType: 4, resourceName: '2', configurationKeys: null },
          topicResource(),
          topicResource(),
        ],
      }),
    );
    assert.deepEqual(
      answer.results.map((result) => result.errorCode),
      [
        errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        errorCodes.INVALID_TOPIC_EXCEPTION,
        errorCodes.INVALID_REQUEST,
        errorCodes.NONE,
        errorCodes.INVALID_REQUEST,
        errorCodes.INVALID_REQUEST,
        errorCodes.INVALID_REQUEST,
      ],
    );
    const broker = answer.results[3]!.configs;
    assert.equal(broker.find((config) => config.name === 'broker.id')?.value, '1');
    assert.equal(broker.find((config) => config.name === 'auto.create.topics.enable')?.value, 'false');
    assert.ok(broker.every((config) => config.readOnly && config.configSource === 4));
  });
});

describe('AlterConfigs and IncrementalAlterConfigs', () => {
  let spu: TestSpu;
  beforeEach(async () => {
    await spu?.close();
    spu = await openSpu();
    await createTopic(spu, 'altered', { configs: [{ name: 'retention.ms', value: '5000' }] });
  });
  after(() => spu.close());

  const alter = (
    version: number,
    configs: Array<{ name: string; value: string | null }>,
    validateOnly = false,
  ) =>
    spu.call(
      keys.AlterConfigs,
      version,
      createAlterConfigsRequest({
        validateOnly,
        resources: [{ resourceType: 2, resourceName: 'altered', configs }],
      }),
    );

  for (const version of versions(keys.AlterConfigs)) {
    it(`AlterConfigs v${version} replaces the configs, applies them to the logs, and persists them`, async () => {
      const answer = await alter(version, [
        { name: 'segment.ms', value: '60000' },
        { name: 'max.message.bytes', value: null },
      ]);
      assert.equal(answer.responses[0]?.errorCode, errorCodes.NONE);
      assert.deepEqual(spu.cluster.topic('altered')?.configs, { 'segment.ms': '60000' });
      assert.equal(spu.services.partitions.get('altered', 0)?.log.config.segmentMs, 60_000);
      const stored = await TopicStore.open(spu.dataDir);
      assert.deepEqual(stored.get('altered')?.configs, { 'segment.ms': '60000' });
    });
  }

  it('AlterConfigs refuses bad values and changes nothing; validateOnly changes nothing', async () => {
    const bad = await alter(2, [{ name: 'segment.ms', value: '0' }]);
    assert.equal(bad.responses[0]?.errorCode, errorCodes.INVALID_CONFIG);
    assert.match(bad.responses[0]?.errorMessage ?? '', /segment\.ms/);
    const dry = await alter(2, [{ name: 'segment.ms', value: '60000' }], true);
    assert.equal(dry.responses[0]?.errorCode, errorCodes.NONE);
    assert.deepEqual(spu.cluster.topic('altered')?.configs, { 'retention.ms': '5000' });
    const missing = await spu.call(
      keys.AlterConfigs,
      1,
      createAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'missing', configs: [] }] }),
    );
    assert.equal(missing.responses[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
  });

  const incremental = (
    version: number,
    configs: Array<{ name: string; configOperation: number; value: string | null }>,
    validateOnly = false,
  ) =>
    spu.call(
      keys.IncrementalAlterConfigs,
      version,
      createIncrementalAlterConfigsRequest({
        validateOnly,
        resources: [{ resourceType: 2, resourceName: 'altered', configs }],
      }),
    );

  for (const version of versions(keys.IncrementalAlterConfigs)) {
    it(`IncrementalAlterConfigs v${version}: SET, DELETE, APPEND, SUBTRACT`, async () => {
      const first = await incremental(version, [
        { name: 'segment.ms', configOperation: 0, value: '60000' },
        { name: 'retention.ms', configOperation: 1, value: null },
        { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
      ]);
      assert.equal(first.responses[0]?.errorCode, errorCodes.NONE);
      assert.deepEqual(spu.cluster.topic('altered')?.configs, {
        'segment.ms': '60000',
        'cleanup.policy': 'delete,compact',
      });
      assert.equal(spu.services.partitions.get('altered', 0)?.log.config.cleanupPolicy, 'compact,delete');
      const second = await incremental(version, [
        { name: 'cleanup.policy', configOperation: 3, value: 'delete' },
      ]);
      assert.equal(second.responses[0]?.errorCode, errorCodes.NONE);
      assert.equal(spu.cluster.topic('altered')?.configs['cleanup.policy'], 'compact');
    });
  }

  it('IncrementalAlterConfigs refuses the whole resource on any bad operation', async () => {
    const cases: Array<[Array<{ name: string; configOperation: number; value: string | null }>, number]> = [
      [[{ name: 'retention.ms', configOperation: 0, value: 'x' }], errorCodes.INVALID_CONFIG],
      [[{ name: 'retention.ms', configOperation: 2, value: '1' }], errorCodes.INVALID_CONFIG],
      [[{ name: 'cleanup.policy', configOperation: 2, value: 'shred' }], errorCodes.INVALID_CONFIG],
      [[{ name: 'nope', configOperation: 0, value: '1' }], errorCodes.INVALID_CONFIG],
      [[{ name: 'segment.ms', configOperation: 9, value: '1' }], errorCodes.INVALID_REQUEST],
      [
        [
          { name: 'segment.ms', configOperation: 0, value: '60000' },
          { name: 'segment.ms', configOperation: 1, value: null },
        ],
        errorCodes.INVALID_REQUEST,
      ],
      [
        [
          { name: 'segment.ms', configOperation: 0, value: '60000' },
          { name: 'flush.ms', configOperation: 0, value: '-5' },
        ],
        errorCodes.INVALID_CONFIG,
      ],
    ];
    for (const [configs, errorCode] of cases) {
      const answer = await incremental(1, configs);
      assert.equal(answer.responses[0]?.errorCode, errorCode, JSON.stringify(configs));
      assert.ok((answer.responses[0]?.errorMessage ?? '').length > 0);
    }
    const dry = await incremental(1, [{ name: 'segment.ms', configOperation: 0, value: '60000' }], true);
    assert.equal(dry.responses[0]?.errorCode, errorCodes.NONE);
    assert.deepEqual(spu.cluster.topic('altered')?.configs, { 'retention.ms': '5000' });
  });
});

describe('DescribeCluster', () => {
  let spu: TestSpu;
  before(async () => {
    spu = await openSpu({ clusterId: 'blue' });
  });
  after(() => spu.close());

  for (const version of versions(keys.DescribeCluster)) {
    it(`v${version} lists the broker, cluster id and controller`, async () => {
      const answer = await spu.call(keys.DescribeCluster, version, createDescribeClusterRequest());
      assert.equal(answer.errorCode, errorCodes.NONE);
      assert.equal(answer.clusterId, 'blue');
      assert.equal(answer.controllerId, 1);
      assert.equal(answer.endpointType, 1);
      assert.deepEqual(answer.brokers, [{ brokerId: 1, host: '127.0.0.1', port: 9092, rack: null }]);
    });
  }

  it('v1 refuses controller endpoints', async () => {
    const answer = await spu.call(keys.DescribeCluster, 1, createDescribeClusterRequest({ endpointType: 2 }));
    assert.equal(answer.errorCode, errorCodes.UNSUPPORTED_ENDPOINT_TYPE);
  });
});
