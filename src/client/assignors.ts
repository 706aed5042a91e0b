import { TideError } from '../base/errors.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { clientErrorCodes } from './errors.ts';

/**
 * Partition assignors of the standard "consumer" group protocol, and the two blobs that protocol
 * carries through the group coordinator: each member's subscription (JoinGroup metadata) and the
 * assignment the leader hands each member (SyncGroup). Any Kafka client that speaks the "consumer"
 * protocol type (Java, librdkafka, kafkajs) reads and writes the same bytes, which is what lets their
 * members share a group with Tide's.
 *
 * Byte layouts (big-endian; string = int16 length + UTF-8; bytes = int32 length + data, -1 = null;
 * array = int32 count + elements):
 *
 *   Subscription
 *     int16  version          Tide writes 1; any version is read, later fields only if present
 *     array  topics: string
 *     bytes  userData         nullable
 *     v1+  array ownedPartitions: { string topic; array partitions: int32 }
 *     v2+  int32 generationId  (-1 when absent)
 *     v3+  string rackId       nullable
 *
 *   Assignment
 *     int16  version          Tide writes 1 (v1–v3 have the v0 layout)
 *     array  assignedPartitions: { string topic; array partitions: int32 }
 *     bytes  userData         nullable
 *
 * Fields of a version are read only while bytes remain: some clients announce version 1 but stop
 * after userData, and newer versions only append fields, so a reader stops where the bytes stop.
 *
 * Assignors are pure: the same members and partition counts always give the same assignment.
 * `range` and `roundrobin` use the eager rebalance protocol (every member gives up everything before
 * rejoining); `cooperative-sticky` keeps what members own and moves partitions in two rebalances: the
 * first takes a partition away from its owner without giving it to anyone, the second (after the
 * owner revoked it and rejoined) gives it to its new member.
 */

export const consumerProtocolType = 'consumer';
export const subscriptionVersion = 1;
export const assignmentVersion = 1;

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface Subscription {
  readonly version: number;
  readonly topics: readonly string[];
  readonly userData: Buffer | null;
  readonly ownedPartitions: readonly TopicPartitions[];
  readonly generationId: number;
  readonly rackId: string | null;
}

export interface MemberAssignment {
  readonly version: number;
  readonly assigned: readonly TopicPartitions[];
  readonly userData: Buffer | null;
}

export function encodeSubscription(subscription: {
  topics: readonly string[];
  ownedPartitions?: readonly TopicPartitions[];
  userData?: Buffer | null;
}): Buffer {
  const w = new Writer(256);
  w.int16(subscriptionVersion);
  w.arrayLength(subscription.topics.length);
  for (const topic of subscription.topics) w.string(topic);
  w.nullableBytes(subscription.userData ?? null);
  writeTopicPartitions(w, subscription.ownedPartitions ?? []);
  return w.toBuffer();
}

/** Reads a member's subscription; throws ProtocolError for bytes that do not follow the layout. */
export function decodeSubscription(bytes: Buffer): Subscription {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new ProtocolError(`subscription version ${version} is negative`);
  const count = r.arrayLength(2);
  const topics: string[] = [];
  for (let i = 0; i < count; i++) topics.push(r.string());
  const userData = r.remaining > 0 ? r.nullableBytes() : null;
  const ownedPartitions = version >= 1 && r.remaining > 0 ? readTopicPartitions(r) : [];
  const generationId = version >= 2 && r.remaining >= 4 ? r.int32() : -1;
  const rackId = version >= 3 && r.remaining >= 2 ? r.nullableString() : null;
  return { version, topics, userData, ownedPartitions, generationId, rackId };
}

export function encodeAssignment(
  assigned: readonly TopicPartitions[],
  userData: Buffer | null = null,
): Buffer {
  const w = new Writer(256);
  w.int16(assignmentVersion);
  writeTopicPartitions(w, assigned);
  w.nullableBytes(userData);
  return w.toBuffer();
}

/** Reads an assignment; an empty buffer (a member the leader gave nothing, per some clients) is empty. */
export function decodeAssignment(bytes: Buffer): MemberAssignment {
  if (bytes.length === 0) return { version: 0, assigned: [], userData: null };
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new ProtocolError(`assignment version ${version} is negative`);
  const assigned = readTopicPartitions(r);
  const userData = r.remaining > 0 ? r.nullableBytes() : null;
  return { version, assigned, userData };
}

function writeTopicPartitions(w: Writer, list: readonly TopicPartitions[]): void {
  w.arrayLength(list.length);
  for (const { topic, partitions } of list) {
    w.string(topic);
    w.arrayLength(partitions.length);
    for (const partition of partitions) w.int32(partition);
  }
}

function readTopicPartitions(r: Reader): TopicPartitions[] {
  const count = r.arrayLength(6);
  const list: TopicPartitions[] = [];
  for (let i = 0; i < count; i++) {
    const topic = r.string();
    const partitionCount = r.arrayLength(4);
    const partitions: number[] = [];
    for (let j = 0; j < partitionCount; j++) partitions.push(r.int32());
    list.push({ topic, partitions });
  }
  return list;
}

// Assignors --------------------------------------------------------------------------------------

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';
export type RebalanceProtocol = 'eager' | 'cooperative';

export interface GroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly subscription: Subscription;
}

export interface AssignInput {
  readonly members: readonly GroupMember[];
  /** Partition count of each subscribed topic that exists; topics missing here get no assignment. */
  readonly partitionCounts: ReadonlyMap<string, number>;
}

/** Member id → its partitions, topics and partitions sorted; every member appears, maybe with nothing. */
export type GroupAssignment = Map<string, TopicPartitions[]>;

export interface Assignor {
  readonly name: AssignorName;
  readonly protocol: RebalanceProtocol;
  assign(input: AssignInput): GroupAssignment;
}

interface Slot {
  readonly topic: string;
  readonly partition: number;
}

const slotKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Members in a stable order: static members by instance id, the others by member id. */
function sortedMembers(members: readonly GroupMember[]): GroupMember[] {
  const key = (member: GroupMember): string => member.groupInstanceId ?? member.memberId;
  return [...members].sort((a, b) => compareText(key(a), key(b)) || compareText(a.memberId, b.memberId));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function subscribedTopics(input: AssignInput): string[] {
  const topics = new Set(input.members.flatMap((member) => member.subscription.topics));
  return [...topics].filter((topic) => input.partitionCounts.has(topic)).sort(compareText);
}

function allSlots(input: AssignInput): Slot[] {
  return subscribedTopics(input).flatMap((topic) =>
    Array.from({ length: input.partitionCounts.get(topic) ?? 0 }, (_, partition) => ({ topic, partition })),
  );
}

/** Groups slots per member into the assignment shape, sorted, with an entry for every member. */
function toAssignment(members: readonly GroupMember[], owners: ReadonlyMap<string, Slot[]>): GroupAssignment {
  const assignment: GroupAssignment = new Map();
  for (const member of members) {
    const byTopic = new Map<string, number[]>();
    for (const slot of owners.get(member.memberId) ?? []) {
      byTopic.set(slot.topic, [...(byTopic.get(slot.topic) ?? []), slot.partition]);
    }
    assignment.set(
      member.memberId,
      [...byTopic]
        .sort(([a], [b]) => compareText(a, b))
        .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
    );
  }
  return assignment;
}

/** Per topic, consecutive ranges of partitions to the members subscribed to it, the first ones one more. */
export const rangeAssignor: Assignor = Object.freeze({
  name: 'range',
  protocol: 'eager',
  assign(input: AssignInput): GroupAssignment {
    const members = sortedMembers(input.members);
    const owners = new Map<string, Slot[]>();
    for (const topic of subscribedTopics(input)) {
      const takers = members.filter((member) => member.subscription.topics.includes(topic));
      const count = input.partitionCounts.get(topic) ?? 0;
      const share = Math.floor(count / takers.length);
      const extra = count % takers.length;
      takers.forEach((member, index) => {
        const start = index * share + Math.min(index, extra);
        const length = share + (index < extra ? 1 : 0);
        const slots = owners.get(member.memberId) ?? [];
        for (let partition = start; partition < start + length; partition++) slots.push({ topic, partition });
        owners.set(member.memberId, slots);
      });
    }
    return toAssignment(members, owners);
  },
});

/** Every partition of every topic in order, dealt to the members in turn (skipping the unsubscribed). */
export const roundRobinAssignor: Assignor = Object.freeze({
  name: 'roundrobin',
  protocol: 'eager',
  assign(input: AssignInput): GroupAssignment {
    const members = sortedMembers(input.members);
    const owners = new Map<string, Slot[]>();
    let next = 0;
    for (const slot of allSlots(input)) {
      for (let step = 0; step < members.length; step++) {
        const member = members[(next + step) % members.length]!;
        if (!member.subscription.topics.includes(slot.topic)) continue;
        owners.set(member.memberId, [...(owners.get(member.memberId) ?? []), slot]);
        next = (next + step + 1) % members.length;
        break;
      }
    }
    return toAssignment(members, owners);
  },
});

/**
 * Balanced and sticky: members keep the partitions they own (when still subscribed and not claimed by
 * a member sorted before them), free partitions go to the least loaded eligible member, then single
 * partitions move from the most to the least loaded member until no eligible pair differs by more
 * than one. A partition that ends up with a new member while another member still owns it is left
 * out of this round, so its owner revokes it first (the cooperative protocol's first phase).
 */
export const cooperativeStickyAssignor: Assignor = Object.freeze({
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign(input: AssignInput): GroupAssignment {
    const members = sortedMembers(input.members);
    const slots = allSlots(input);
    const previous = claimedOwners(members, input);
    const owner = new Map(previous);
    const load = new Map(members.map((member) => [member.memberId, 0]));
    for (const id of owner.values()) load.set(id, (load.get(id) ?? 0) + 1);
    const eligible = (slot: Slot): GroupMember[] =>
      members.filter((member) => member.subscription.topics.includes(slot.topic));
    const leastLoaded = (candidates: readonly GroupMember[]): GroupMember | undefined =>
      candidates.reduce<GroupMember | undefined>(
        (best, member) =>
          best === undefined || load.get(member.memberId)! < load.get(best.memberId)! ? member : best,
        undefined,
      );
    for (const slot of slots) {
      const key = slotKey(slot.topic, slot.partition);
      if (owner.has(key)) continue;
      const chosen = leastLoaded(eligible(slot));
      if (chosen === undefined) continue;
      owner.set(key, chosen.memberId);
      load.set(chosen.memberId, load.get(chosen.memberId)! + 1);
    }
    rebalanceLoad([...slots].reverse(), owner, load, eligible, leastLoaded);
    const owners = new Map<string, Slot[]>();
    for (const slot of slots) {
      const key = slotKey(slot.topic, slot.partition);
      const id = owner.get(key);
      const before = previous.get(key);
      // Still owned by someone else: that member revokes it first; it is handed over next round.
      if (id === undefined || (before !== undefined && before !== id)) continue;
      owners.set(id, [...(owners.get(id) ?? []), slot]);
    }
    return toAssignment(members, owners);
  },
});

/** Who owns what according to the subscriptions; a slot claimed twice goes to the first member. */
function claimedOwners(members: readonly GroupMember[], input: AssignInput): Map<string, string> {
  const owners = new Map<string, string>();
  for (const member of members) {
    for (const { topic, partitions } of member.subscription.ownedPartitions) {
      const count = input.partitionCounts.get(topic);
      if (count === undefined || !member.subscription.topics.includes(topic)) continue;
      for (const partition of partitions) {
        const key = slotKey(topic, partition);
        if (partition >= 0 && partition < count && !owners.has(key)) owners.set(key, member.memberId);
      }
    }
  }
  return owners;
}

/**
 * Moves one slot at a time from its owner to the least loaded eligible member while that lowers the
 * imbalance by at least two; each move lowers the sum of squared loads, so the loop ends.
 */
function rebalanceLoad(
  slots: readonly Slot[],
  owner: Map<string, string>,
  load: Map<string, number>,
  eligible: (slot: Slot) => GroupMember[],
  leastLoaded: (candidates: readonly GroupMember[]) => GroupMember | undefined,
): void {
  const movesMax = slots.length * Math.max(1, load.size);
  for (let moves = 0, moved = true; moved && moves < movesMax; ) {
    moved = false;
    for (const slot of slots) {
      const key = slotKey(slot.topic, slot.partition);
      const from = owner.get(key);
      const to = leastLoaded(eligible(slot));
      if (from === undefined || to === undefined) continue;
      if (load.get(from)! - load.get(to.memberId)! <= 1) continue;
      owner.set(key, to.memberId);
      load.set(from, load.get(from)! - 1);
      load.set(to.memberId, load.get(to.memberId)! + 1);
      moved = true;
      moves++;
    }
  }
}

export const assignors: Readonly<Record<AssignorName, Assignor>> = Object.freeze({
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
});

/** The assignor named `name`; INVALID_ARGUMENT for a name Tide does not implement. */
export function assignorNamed(name: string): Assignor {
  const found = (assignors as Readonly<Record<string, Assignor | undefined>>)[name];
  if (found === undefined) {
    throw new TideError(
      clientErrorCodes.invalidArgument,
      `unknown assignor "${name}" (expected ${Object.keys(assignors).join(', ')})`,
    );
  }
  return found;
}
