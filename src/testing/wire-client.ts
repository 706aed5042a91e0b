import {
  type ConnectionOptions,
  connectionDefaults,
  encodeRequestFrame,
  KafkaConnection,
  openSocket,
} from '../net/kafka-connection.ts';
import { type ApiVersionsResponse, createApiVersionsRequest } from '../protocol/messages/api-versions.ts';
import type { apiCodecs } from '../protocol/messages/codecs.ts';
import {
  type CreateTopicsResponse,
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../protocol/messages/create-topics.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
  type FetchResponse,
} from '../protocol/messages/fetch.ts';
import {
  createMetadataRequest,
  createMetadataRequestTopic,
  type MetadataResponse,
} from '../protocol/messages/metadata.ts';
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  type ProduceResponse,
} from '../protocol/messages/produce.ts';

export { encodeRequestFrame };

/**
 * The wire client of tests and benchmarks: a KafkaConnection (net/kafka-connection.ts) plus ways to
 * send malformed frames and typed helpers at explicit versions.
 */

export const wireClientDefaults = Object.freeze({ ...connectionDefaults, clientId: 'tide-wire-client' });

export type WireClientOptions = ConnectionOptions;

type Codecs = typeof apiCodecs;
export type WireApiKey = keyof Codecs;
export type WireRequest<K extends WireApiKey> = Parameters<Codecs[K]['encodeRequest']>[1];
export type WireResponse<K extends WireApiKey> = ReturnType<Codecs[K]['decodeResponse']>;

/** Splits "host:port" (as `TestSpu.bootstrap`). */
export function parseBootstrap(bootstrap: string): { host: string; port: number } {
  const at = bootstrap.lastIndexOf(':');
  return { host: bootstrap.slice(0, at), port: Number(bootstrap.slice(at + 1)) };
}

/**
 * A Kafka connection with extras for tests: frames written as they are (malformed on purpose) and
 * typed helpers for the common requests at explicit versions.
 */
export class WireClient extends KafkaConnection {
  static override async connect(options: WireClientOptions): Promise<WireClient> {
    const { socket, settled } = await openSocket({ clientId: wireClientDefaults.clientId, ...options });
    return new WireClient(socket, settled);
  }

  /**
   * Sends a frame encoded by the caller (length prefix included; it may be malformed on purpose) and
   * resolves with the raw response frame carrying `correlationId`.
   */
  requestFrame(
    frame: Buffer,
    request: { apiKey: number; apiVersion: number; correlationId: number },
  ): Promise<Buffer> {
    return this.sendFrame(frame, request.correlationId);
  }

  /** Writes bytes as they are (for malformed input); responses to them are not awaited. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  // Typed helpers for the common requests ---------------------------------------------------------

  apiVersions(version = 3): Promise<ApiVersionsResponse> {
    return this.request(18, version, createApiVersionsRequest({ clientSoftwareName: 'tide-wire-client' }));
  }

  metadata(topics: readonly string[] | null, version = 9): Promise<MetadataResponse> {
    const request = createMetadataRequest({
      topics: topics === null ? null : topics.map((name) => createMetadataRequestTopic({ name })),
      allowAutoTopicCreation: false,
    });
    return this.request(3, version, request);
  }

  createTopics(
    topics: readonly { name: string; partitions?: number; configs?: Readonly<Record<string, string>> }[],
    options: { version?: number; validateOnly?: boolean } = {},
  ): Promise<CreateTopicsResponse> {
    const request = createCreateTopicsRequest({
      timeoutMs: 10_000,
      validateOnly: options.validateOnly ?? false,
      topics: topics.map(({ name, partitions, configs }) =>
        createCreateTopicsRequestCreatableTopic({
          name,
          numPartitions: partitions ?? 1,
          replicationFactor: 1,
          configs: Object.entries(configs ?? {}).map(([key, value]) => ({ name: key, value })),
        }),
      ),
    });
    return this.request(19, options.version ?? 7, request);
  }

  /** Produces record batches (bytes as on the wire) to one partition. */
  produce(
    topic: string,
    partition: number,
    records: Buffer,
    options: { acks?: number; version?: number; timeoutMs?: number } = {},
  ): Promise<ProduceResponse> {
    return this.request(0, options.version ?? 9, produceRequest(topic, partition, records, options));
  }

  fetch(
    topic: string,
    partition: number,
    fetchOffset: bigint,
    options: { version?: number; maxWaitMs?: number; maxBytes?: number } = {},
  ): Promise<FetchResponse> {
    const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    const request = createFetchRequest({
      replicaId: -1,
      maxWaitMs: options.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes,
      topics: [
        createFetchRequestTopic({
          topic,
          partitions: [createFetchRequestPartition({ partition, fetchOffset, partitionMaxBytes: maxBytes })],
        }),
      ],
    });
    return this.request(1, options.version ?? 12, request);
  }
}

/** A Produce request body for one partition. */
export function produceRequest(
  topic: string,
  partition: number,
  records: Buffer,
  options: { acks?: number; timeoutMs?: number } = {},
): WireRequest<0> {
  return createProduceRequest({
    acks: options.acks ?? 1,
    timeoutMs: options.timeoutMs ?? 30_000,
    topicData: [
      createProduceRequestTopicProduceData({
        name: topic,
        partitionData: [createProduceRequestPartitionProduceData({ index: partition, records })],
      }),
    ],
  });
}
