import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { startCluster, type TestCluster } from '../../src/testing/cluster.ts';
import { stopAll } from '../../src/testing/processes.ts';

/**
 * kafkajs 2.2.4 consumer groups against a 3-SPU cluster: three members share a 6-partition topic and
 * read each record once; a member killed -9 (it runs in its own process) hands its partitions to the
 * others once its session times out; after the whole cluster restarts, the group resumes at its
 * committed offsets (no record below a commit is read again).
 */

const topic = 'group-orders';
const groupId = 'orders-group';
const waitMs = 60_000; // ms any one phase may take on a loaded machine
const memberScript = fileURLToPath(new URL('./node/kafkajs-group-member.ts', import.meta.url));

interface Consumed {
  readonly member: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly value: string;
}

interface Member {
  readonly name: string;
  readonly consumer: Consumer;
  /** Partitions of the member's latest assignment. */
  assignment: number[];
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function kafkaFor(cluster: TestCluster, clientId: string): Kafka {
  return new Kafka({
    brokers: cluster.bootstrap.split(','),
    clientId,
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

interface ProcessMember {
  readonly name: string;
  readonly child: ChildProcess;
  assignment: number[];
}

interface MemberLine {
  readonly event: string;
  readonly partitions?: number[];
  readonly partition?: number;
  readonly offset?: string;
  readonly value?: string;
}

/**
 * A member in its own process (./node/kafkajs-group-member.ts), so that a kill -9 takes it away
 * without a LeaveGroup, as a crash or a network failure would.
 */
const children: ChildProcess[] = [];

function startProcessMember(cluster: TestCluster, name: string, consumed: Consumed[]): ProcessMember {
  const args = ['--import', 'tsx', memberScript, cluster.bootstrap, topic, groupId, name];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const member: ProcessMember = { name, child, assignment: [] };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as MemberLine;
    if (event.event === 'assigned') member.assignment = event.partitions ?? [];
    else
      consumed.push({
        member: name,
        partition: event.partition!,
        offset: BigInt(event.offset!),
        value: event.value!,
      });
  });
  return member;
}

async function startMember(kafka: Kafka, name: string, consumed: Consumed[]): Promise<Member> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 6_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 500,
  });
  const member: Member = { name, consumer, assignment: [] };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    member.assignment = event.payload.memberAssignment[topic] ?? [];
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      consumed.push({
        member: name,
        partition,
        offset: BigInt(message.offset),
        value: String(message.value),
      });
    },
  });
  return member;
}

/** Waits until the members' latest assignments cover every partition exactly once. */
async function settled(members: ReadonlyArray<{ assignment: number[] }>, partitions: number): Promise<void> {
  await until('a settled assignment', () => {
    const all = members.flatMap((member) => member.assignment);
    const distinct = new Set(all);
    return all.length === partitions &&
      distinct.size === partitions &&
      members.every((m) => m.assignment.length > 0)
      ? true
      : undefined;
  });
}

async function produce(kafka: Kafka, prefix: string, count: number): Promise<string[]> {
  const producer = kafka.producer();
  await producer.connect();
  const values = Array.from({ length: count }, (_, at) => `${prefix}-${at}`);
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: value, value })) });
  await producer.disconnect();
  return values;
}

describe('kafkajs consumer groups on a 3-SPU cluster', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({
      spus: 3,
      spuArgs: ['--offsets-topic-partitions', '6', '--group-initial-rebalance-delay-ms', '300'],
    });
    const admin = kafkaFor(cluster, 'groups-admin').admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 6, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await cluster?.destroy();
    await stopAll();
  });

  it('shares partitions, moves them when a member leaves, and resumes from commits after a restart', async () => {
    const consumed: Consumed[] = [];
    let kafka = kafkaFor(cluster, 'groups-members');
    const remaining: Member[] = [];
    for (const name of ['a', 'b']) remaining.push(await startMember(kafka, name, consumed));
    const crashing = startProcessMember(cluster, 'c', consumed);
    const members = [...remaining, crashing];
    await settled(members, 6);
    const assigned = members.map((member) => member.assignment.length);
    assert.deepEqual(assigned, [2, 2, 2], 'the assignor spreads 6 partitions over 3 members');

    const first = await produce(kafka, 'first', 600);
    await until('the first records', () => (consumed.length >= first.length ? true : undefined));
    const values = consumed.map(({ value }) => value);
    assert.equal(new Set(values).size, values.length, 'no record is read twice by a stable group');
    assert.deepEqual([...values].sort(), [...first].sort());
    assert.equal(new Set(consumed.map(({ member }) => member)).size, 3, 'every member read records');

    // Member c dies without leaving: once its session times out, a and b take over its partitions.
    const exited = new Promise((resolve) => crashing.child.once('exit', resolve));
    crashing.child.kill('SIGKILL');
    await exited;
    await settled(remaining, 6);
    const second = await produce(kafka, 'second', 300);
    await until('the second records', () => {
      const seen = new Set(consumed.map(({ value }) => value));
      return second.every((value) => seen.has(value)) ? true : undefined;
    });
    const readByC = consumed.filter(({ member, value }) => member === 'c' && value.startsWith('second-'));
    assert.equal(readByC.length, 0, 'the member that died reads nothing more');

    // Stop the group (kafkajs commits on the way out), then the whole cluster.
    for (const member of remaining) await member.consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    const commits = new Map(
      committed[0]!.partitions.map(({ partition, offset }) => [partition, BigInt(offset)]),
    );
    const total = [...commits.values()].reduce((sum, offset) => sum + offset, 0n);
    assert.equal(total, 900n, 'every consumed record is committed');

    await cluster.stop();
    await cluster.restartSc();
    for (const spu of [...cluster.spus]) await cluster.restartSpu(spu.id);
    kafka = kafkaFor(cluster, 'groups-after-restart');
    const checker = kafka.admin();
    await checker.connect();
    const reloaded = await until('the committed offsets after the restart', async () => {
      try {
        const answer = await checker.fetchOffsets({ groupId, topics: [topic] });
        return answer[0]!.partitions;
      } catch {
        return undefined;
      }
    });
    await checker.disconnect();
    for (const { partition, offset } of reloaded) assert.equal(BigInt(offset), commits.get(partition));

    const third = await produce(kafka, 'third', 60);
    const afterRestart: Consumed[] = [];
    const member = await startMember(kafka, 'd', afterRestart);
    await until('the records produced after the restart', () => {
      const seen = new Set(afterRestart.map(({ value }) => value));
      return third.every((value) => seen.has(value)) ? true : undefined;
    });
    await member.consumer.disconnect();
    for (const record of afterRestart) {
      assert.ok(
        record.offset >= commits.get(record.partition)!,
        `offset ${record.offset} of partition ${record.partition} was read again after its commit`,
      );
    }
    assert.ok(afterRestart.every(({ value }) => value.startsWith('third-')));
  });
});
