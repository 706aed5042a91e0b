import { TideError } from '../../base/errors.ts';
import { ProtocolError } from '../../protocol/protocol-error.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

/**
 * The records of the internal `__consumer_offsets` topic: each is a key and a value (null value =
 * tombstone, so compaction drops the key). The layouts follow Kafka's, so tools that read the topic
 * agree. Integers are big-endian; `string` is int16 length + UTF-8; `nullable string` uses length
 * -1 for null; `bytes` is int32 length + bytes; `array` is int32 count + elements.
 *
 * Keys:
 *   offset commit key    int16 version (1; 0 read too), string group, string topic, int32 partition
 *   group metadata key   int16 version (2), string group
 *
 * Offset commit value (written as v3; v0..v3 read):
 *   v0  int16 0, int64 offset, string metadata, int64 commitTimestamp
 *   v1  int16 1, int64 offset, string metadata, int64 commitTimestamp, int64 expireTimestamp
 *   v2  as v0
 *   v3  int16 3, int64 offset, int32 leaderEpoch, string metadata, int64 commitTimestamp
 *
 * Group metadata value (written and read as v3):
 *   int16 3, string protocolType, int32 generation, nullable string protocol,
 *   nullable string leader, int64 currentStateTimestamp (ms; -1 = unknown),
 *   array of members:
 *     string memberId, nullable string groupInstanceId, string clientId, string clientHost,
 *     int32 rebalanceTimeoutMs, int32 sessionTimeoutMs, bytes subscription, bytes assignment
 */

const keyVersions = Object.freeze({ offsetV0: 0, offsetV1: 1, group: 2 });
const offsetValueVersion = 3;
const groupValueVersion = 3;

export interface OffsetKey {
  readonly type: 'offset';
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

export interface GroupKey {
  readonly type: 'group';
  readonly group: string;
}

export type OffsetsTopicKey = OffsetKey | GroupKey;

export interface OffsetValue {
  readonly offset: bigint;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: bigint;
}

export interface GroupMemberValue {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly subscription: Buffer;
  readonly assignment: Buffer;
}

export interface GroupValue {
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  readonly currentStateTimestampMs: bigint;
  readonly members: readonly GroupMemberValue[];
}

/** A record of the offsets topic that Tide cannot read: a corrupt or foreign key or value. */
export class OffsetsRecordError extends TideError {
  constructor(message: string, cause?: unknown) {
    super('offsets_record_invalid', message, cause === undefined ? {} : { cause });
  }
}

export function encodeKey(key: OffsetsTopicKey): Buffer {
  const w = new Writer(64);
  if (key.type === 'group') return w.int16(keyVersions.group).string(key.group).toBuffer();
  return w.int16(keyVersions.offsetV1).string(key.group).string(key.topic).int32(key.partition).toBuffer();
}

export function encodeOffsetValue(value: OffsetValue): Buffer {
  return new Writer(64)
    .int16(offsetValueVersion)
    .int64(value.offset)
    .int32(value.leaderEpoch)
    .string(value.metadata)
    .int64(value.commitTimestampMs)
    .toBuffer();
}

export function encodeGroupValue(value: GroupValue): Buffer {
  const w = new Writer(256)
    .int16(groupValueVersion)
    .string(value.protocolType)
    .int32(value.generation)
    .nullableString(value.protocol)
    .nullableString(value.leader)
    .int64(value.currentStateTimestampMs)
    .arrayLength(value.members.length);
  for (const member of value.members) {
    w.string(member.memberId)
      .nullableString(member.groupInstanceId)
      .string(member.clientId)
      .string(member.clientHost)
      .int32(member.rebalanceTimeoutMs)
      .int32(member.sessionTimeoutMs)
      .bytes(member.subscription)
      .bytes(member.assignment);
  }
  return w.toBuffer();
}

/** Runs a decoder over the whole buffer; short or trailing bytes become an OffsetsRecordError. */
function decodeWhole<T>(buffer: Buffer, what: string, decode: (r: Reader) => T): T {
  const r = new Reader(buffer);
  let value: T;
  try {
    value = decode(r);
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof OffsetsRecordError)
      throw new OffsetsRecordError(`${what}: ${error.message}`, error);
    throw error;
  }
  if (r.remaining !== 0) throw new OffsetsRecordError(`${what}: ${r.remaining} bytes after the end`);
  return value;
}

export function decodeKey(buffer: Buffer): OffsetsTopicKey {
  return decodeWhole(buffer, 'offsets topic key', (r) => {
    const version = r.int16();
    if (version === keyVersions.group) return { type: 'group', group: r.string() };
    if (version !== keyVersions.offsetV0 && version !== keyVersions.offsetV1)
      throw new OffsetsRecordError(`unknown key version ${version}`);
    return { type: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  });
}

export function decodeOffsetValue(buffer: Buffer): OffsetValue {
  return decodeWhole(buffer, 'offset value', (r) => {
    const version = r.int16();
    if (version < 0 || version > offsetValueVersion)
      throw new OffsetsRecordError(`unknown offset value version ${version}`);
    const offset = r.int64();
    const leaderEpoch = version === 3 ? r.int32() : -1;
    const metadata = r.string();
    const commitTimestampMs = r.int64();
    if (version === 1) r.int64(); // expire timestamp: Tide applies its own retention
    return { offset, leaderEpoch, metadata, commitTimestampMs };
  });
}

export function decodeGroupValue(buffer: Buffer): GroupValue {
  return decodeWhole(buffer, 'group value', (r) => {
    const version = r.int16();
    if (version !== groupValueVersion) throw new OffsetsRecordError(`unknown group value version ${version}`);
    const protocolType = r.string();
    const generation = r.int32();
    const protocol = r.nullableString();
    const leader = r.nullableString();
    const currentStateTimestampMs = r.int64();
    // A member takes at least 2+2+2+2+4+4+4+4 bytes, which bounds the count before allocating.
    const count = r.arrayLength(24);
    const members: GroupMemberValue[] = [];
    for (let at = 0; at < count; at++) {
      members.push({
        memberId: r.string(),
        groupInstanceId: r.nullableString(),
        clientId: r.string(),
        clientHost: r.string(),
        rebalanceTimeoutMs: r.int32(),
        sessionTimeoutMs: r.int32(),
        subscription: Buffer.from(r.bytes()),
        assignment: Buffer.from(r.bytes()),
      });
    }
    return { protocolType, generation, protocol, leader, currentStateTimestampMs, members };
  });
}
