import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';

/**
 * librdkafka 2.0.2 consumer groups against a real standalone SPU: three confluent-kafka-python
 * Consumer processes with one group.id share a 6-partition topic and read each record once; one is
 * killed -9, and once its session times out the other two take its partitions. cooperative-sticky
 * members move only the partitions that change hands; a static member (group.instance.id) restarts
 * without a rebalance. Then kcat -G (the balanced consumer) reads the topic in its own group and,
 * run again, finds nothing left past its committed offsets.
 */

const python = '/usr/bin/python3';
const member = fileURLToPath(new URL('./python/group_consumer.py', import.meta.url));
const run = promisify(execFile);
const topic = 'py-groups';
const groupId = 'py-group';
const waitMs = 60_000; // ms any one phase may take on a loaded machine

interface PythonMember {
  readonly name: string;
  readonly child: ChildProcess;
  assignment: number[];
  /** Every partition the member was told to give up, in order. */
  readonly revoked: number[];
  readonly records: Array<{ partition: number; offset: number; value: string }>;
  readonly errors: string[];
}

interface MemberEvent {
  readonly event: 'assigned' | 'revoked' | 'record' | 'error';
  readonly partitions?: number[];
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
  readonly error?: string;
}

let spu: TestSpu;
const members: PythonMember[] = [];

before(async () => {
  spu = await startSpu({
    args: ['--offsets-topic-partitions', '3', '--group-initial-rebalance-delay-ms', '500'],
  });
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
  await admin.disconnect();
});

after(async () => {
  for (const each of members) each.child.kill('SIGKILL');
  await spu?.destroy();
  await stopAll();
});

function kafka(): Kafka {
  return new Kafka({ brokers: [spu.bootstrap], clientId: 'py-groups-producer', logLevel: logLevel.NOTHING });
}

interface MemberOptions {
  readonly topic?: string;
  readonly group?: string;
  /** partition.assignment.strategy; cooperative strategies report incremental changes. */
  readonly strategy?: string;
  readonly instance?: string;
}

function startMember(name: string, options: MemberOptions = {}): PythonMember {
  const args = [member, spu.bootstrap, options.topic ?? topic, options.group ?? groupId, name];
  args.push(options.strategy ?? '-', ...(options.instance === undefined ? [] : [options.instance]));
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const started: PythonMember = { name, child, assignment: [], revoked: [], records: [], errors: [] };
  const incremental = options.strategy === 'cooperative-sticky';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as MemberEvent;
    const partitions = event.partitions ?? [];
    if (event.event === 'assigned')
      started.assignment = incremental ? [...started.assignment, ...partitions].sort() : partitions;
    else if (event.event === 'revoked') {
      started.revoked.push(...partitions);
      started.assignment = started.assignment.filter((partition) => !partitions.includes(partition));
    } else if (event.event === 'record')
      started.records.push({ partition: event.partition!, offset: event.offset!, value: event.value! });
    else started.errors.push(event.error ?? '');
  });
  members.push(started);
  return started;
}

async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function coversAll(group: readonly PythonMember[], partitions = 6): boolean {
  const all = group.flatMap(({ assignment }) => assignment);
  return (
    all.length === partitions &&
    new Set(all).size === partitions &&
    group.every(({ assignment }) => assignment.length > 0)
  );
}

async function stopMembers(group: readonly PythonMember[]): Promise<void> {
  const exits = group.map((each) => new Promise((resolve) => each.child.once('exit', resolve)));
  for (const each of group) each.child.kill('SIGTERM');
  await Promise.all(exits);
}

async function createTopic(name: string, numPartitions: number): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions }] });
  await admin.disconnect();
}

async function produce(prefix: string, count: number): Promise<string[]> {
  const producer = kafka().producer();
  await producer.connect();
  const values = Array.from({ length: count }, (_, at) => `${prefix}-${at}`);
  await producer.send({ topic, messages: values.map((value) => ({ key: value, value })) });
  await producer.disconnect();
  return values;
}

function valuesOf(group: readonly PythonMember[]): string[] {
  return group.flatMap(({ records }) => records.map(({ value }) => value));
}

describe('confluent-kafka-python and kcat consumer groups', () => {
  it('shares a topic among three processes and hands a killed one’s partitions to the others', async () => {
    const group = ['p1', 'p2', 'p3'].map((name) => startMember(name));
    await until('three members sharing six partitions', () => coversAll(group));
    const first = await produce('first', 300);
    await until('the first records', () => valuesOf(group).length >= first.length);
    const read = valuesOf(group);
    assert.equal(new Set(read).size, read.length, 'no record is read twice');
    assert.deepEqual([...read].sort(), [...first].sort());

    group[2]!.child.kill('SIGKILL');
    const survivors = group.slice(0, 2);
    await until('the survivors taking every partition', () => coversAll(survivors));
    const second = await produce('second', 100);
    await until('the second records', () => {
      const seen = new Set(valuesOf(survivors));
      return second.every((value) => seen.has(value));
    });
    for (const each of survivors) assert.deepEqual(each.errors, []);
    await stopMembers(survivors);
  });

  it('passes cooperative-sticky metadata through: a joining member takes partitions incrementally', async () => {
    await createTopic('py-coop', 4);
    const options = { topic: 'py-coop', group: 'py-coop-group', strategy: 'cooperative-sticky' };
    const first = startMember('c1', options);
    await until('the first member owning every partition', () => coversAll([first], 4));
    const second = startMember('c2', options);
    await until('two members sharing four partitions', () => coversAll([first, second], 4));
    assert.equal(first.revoked.length, 2, 'only the partitions that moved were revoked');
    assert.deepEqual(second.revoked, []);
    await stopMembers([first, second]);
  });

  it('lets a static member (group.instance.id) restart without a rebalance', async () => {
    await createTopic('py-static', 4);
    const options = (instance: string) => ({ topic: 'py-static', group: 'py-static-group', instance });
    // The first member to join leads the group and keeps leading; the restarted one is a follower.
    const leader = startMember('s1', options('instance-1'));
    await until('the leader owning every partition', () => coversAll([leader], 4));
    const follower = startMember('s2', options('instance-2'));
    await until('two static members sharing four partitions', () => coversAll([leader, follower], 4));
    const owned = [...follower.assignment];
    const revokedBefore = leader.revoked.length;
    follower.child.kill('SIGKILL');
    await new Promise((resolve) => follower.child.once('exit', resolve));
    const restarted = startMember('s2-again', options('instance-2'));
    await until('the restarted member getting its partitions back', () => restarted.assignment.length > 0);
    assert.deepEqual(restarted.assignment, owned, 'the same partitions as before the restart');
    assert.equal(leader.revoked.length, revokedBefore, 'the other member saw no rebalance');
    await stopMembers([leader, restarted]);
  });

  it('lets the static leader restart without a rebalance either', async () => {
    await createTopic('py-static-leader', 4);
    const options = (instance: string) => ({
      topic: 'py-static-leader',
      group: 'py-static-leader-group',
      instance,
    });
    const leader = startMember('l1', options('leader-1'));
    await until('the leader owning every partition', () => coversAll([leader], 4));
    const follower = startMember('l2', options('leader-2'));
    await until('two static members sharing four partitions', () => coversAll([leader, follower], 4));
    const owned = [...leader.assignment];
    const revokedBefore = follower.revoked.length;
    leader.child.kill('SIGKILL');
    await new Promise((resolve) => leader.child.once('exit', resolve));
    const restarted = startMember('l1-again', options('leader-1'));
    await until('the restarted leader getting its partitions back', () => restarted.assignment.length > 0);
    assert.deepEqual(restarted.assignment, owned, 'the same partitions as before the restart');
    assert.equal(follower.revoked.length, revokedBefore, 'the follower saw no rebalance');
    assert.deepEqual(restarted.errors, []);
    await stopMembers([follower, restarted]);
  });

  it('runs kcat -G as a balanced consumer that resumes from its commits', async () => {
    const kcat = (groupName: string) =>
      run(
        'kcat',
        [
          '-b',
          spu.bootstrap,
          '-G',
          groupName,
          '-X',
          'auto.offset.reset=earliest',
          '-e',
          '-q',
          '-f',
          '%s\\n',
          topic,
        ],
        { timeout: waitMs, killSignal: 'SIGKILL' },
      );
    const first = await kcat('kcat-group');
    const lines = first.stdout.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 400, 'kcat reads every record of the topic');
    const again = await kcat('kcat-group');
    assert.equal(again.stdout.trim(), '', 'nothing is left past the committed offsets');
  });
});
