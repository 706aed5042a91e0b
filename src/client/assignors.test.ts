import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AssignInput,
  assignorNamed,
  cooperativeStickyAssignor,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type GroupAssignment,
  type GroupMember,
  rangeAssignor,
  roundRobinAssignor,
  type TopicPartitions,
} from './assignors.ts';

/** Bytes built field by field from the documented layout, independent of the encoders. */
function layout(
  parts: readonly (
    | readonly ['i16' | 'i32', number]
    | readonly ['str', string | null]
    | readonly ['bytes', Buffer | null]
  )[],
): Buffer {
  const chunks: Buffer[] = [];
  for (const [kind, value] of parts) {
    if (kind === 'i16') {
      const b = Buffer.alloc(2);
      b.writeInt16BE(value as number);
      chunks.push(b);
    } else if (kind === 'i32') {
      const b = Buffer.alloc(4);
      b.writeInt32BE(value as number);
      chunks.push(b);
    } else if (kind === 'str') {
      const text = value as string | null;
      const b = Buffer.alloc(2);
      b.writeInt16BE(text === null ? -1 : Buffer.byteLength(text));
      chunks.push(b, Buffer.from(text ?? ''));
    } else {
      const bytes = value as Buffer | null;
      const b = Buffer.alloc(4);
      b.writeInt32BE(bytes === null ? -1 : bytes.length);
      chunks.push(b, bytes ?? Buffer.alloc(0));
    }
  }
  return Buffer.concat(chunks);
}

function member(memberId: string, topics: string[], owned: TopicPartitions[] = []): GroupMember {
  return {
    memberId,
    groupInstanceId: null,
    subscription: decodeSubscription(encodeSubscription({ topics, ownedPartitions: owned })),
  };
}

function flat(assignment: GroupAssignment): Map<string, string[]> {
  return new Map(
    [...assignment].map(([id, list]) => [
      id,
      list.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`)),
    ]),
  );
}

function assertCoversOnce(assignment: GroupAssignment, input: AssignInput): void {
  const seen = [...flat(assignment).values()].flat().sort();
  const expected = [...input.partitionCounts].flatMap(([topic, count]) =>
    Array.from({ length: count }, (_, p) => `${topic}-${p}`),
  );
  assert.deepEqual(seen, expected.sort());
}

describe('consumer protocol blobs', () => {
  test('subscription v1 encodes to the documented bytes and back', () => {
    const bytes = encodeSubscription({
      topics: ['a', 'bb'],
      ownedPartitions: [{ topic: 'a', partitions: [0, 2] }],
    });
    const expected = layout([
      ['i16', 1],
      ['i32', 2],
      ['str', 'a'],
      ['str', 'bb'],
      ['bytes', null],
      ['i32', 1],
      ['str', 'a'],
      ['i32', 2],
      ['i32', 0],
      ['i32', 2],
    ]);
    assert.deepEqual(bytes, expected);
    assert.deepEqual(decodeSubscription(bytes), {
      version: 1,
      topics: ['a', 'bb'],
      userData: null,
      ownedPartitions: [{ topic: 'a', partitions: [0, 2] }],
      generationId: -1,
      rackId: null,
    });
  });

  test('subscription v0, a v1 without owned partitions, and v3 with generation and rack all read', () => {
    const v0 = layout([
      ['i16', 0],
      ['i32', 1],
      ['str', 't'],
      ['bytes', Buffer.from('u')],
    ]);
    assert.deepEqual(decodeSubscription(v0).topics, ['t']);
    assert.deepEqual(decodeSubscription(v0).userData, Buffer.from('u'));
    // Announces version 1 but stops after userData, as some clients write it.
    const shortV1 = layout([
      ['i16', 1],
      ['i32', 1],
      ['str', 't'],
      ['bytes', null],
    ]);
    assert.deepEqual(decodeSubscription(shortV1).ownedPartitions, []);
    const v3 = layout([
      ['i16', 3],
      ['i32', 1],
      ['str', 't'],
      ['bytes', null],
      ['i32', 1],
      ['str', 't'],
      ['i32', 1],
      ['i32', 4],
      ['i32', 7],
      ['str', 'rack-a'],
    ]);
    const decoded = decodeSubscription(v3);
    assert.deepEqual(decoded.ownedPartitions, [{ topic: 't', partitions: [4] }]);
    assert.equal(decoded.generationId, 7);
    assert.equal(decoded.rackId, 'rack-a');
  });

  test('assignment encodes to the documented bytes; v0 and empty blobs read', () => {
    const bytes = encodeAssignment([{ topic: 'x', partitions: [1, 3] }]);
    assert.deepEqual(
      bytes,
      layout([
        ['i16', 1],
        ['i32', 1],
        ['str', 'x'],
        ['i32', 2],
        ['i32', 1],
        ['i32', 3],
        ['bytes', null],
      ]),
    );
    assert.deepEqual(decodeAssignment(bytes).assigned, [{ topic: 'x', partitions: [1, 3] }]);
    const v0 = layout([
      ['i16', 0],
      ['i32', 1],
      ['str', 'y'],
      ['i32', 1],
      ['i32', 0],
      ['bytes', Buffer.from('d')],
    ]);
    assert.deepEqual(decodeAssignment(v0), {
      version: 0,
      assigned: [{ topic: 'y', partitions: [0] }],
      userData: Buffer.from('d'),
    });
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)).assigned, []);
  });

  test('truncated and corrupt blobs raise ProtocolError, never RangeError', () => {
    const bytes = encodeSubscription({
      topics: ['topic'],
      ownedPartitions: [{ topic: 'topic', partitions: [1] }],
    });
    for (let cut = 1; cut < bytes.length; cut++) {
      try {
        decodeSubscription(bytes.subarray(0, cut));
      } catch (error) {
        assert.equal((error as Error).name, 'ProtocolError', `cut at ${cut}`);
      }
    }
    const huge = layout([
      ['i16', 0],
      ['i32', 0x7fffffff],
    ]);
    assert.throws(() => decodeSubscription(huge), { name: 'ProtocolError' });
    assert.throws(() => decodeAssignment(layout([['i16', -1]])), { name: 'ProtocolError' });
  });
});

describe('range and roundrobin', () => {
  const input: AssignInput = {
    members: [member('c', ['t']), member('a', ['t']), member('b', ['t'])],
    partitionCounts: new Map([['t', 7]]),
  };

  test('range gives consecutive ranges, the first members one more', () => {
    const result = flat(rangeAssignor.assign(input));
    assert.deepEqual(result.get('a'), ['t-0', 't-1', 't-2']);
    assert.deepEqual(result.get('b'), ['t-3', 't-4']);
    assert.deepEqual(result.get('c'), ['t-5', 't-6']);
    assertCoversOnce(rangeAssignor.assign(input), input);
  });

  test('roundrobin deals partitions in turn and skips members not subscribed', () => {
    assert.deepEqual(flat(roundRobinAssignor.assign(input)).get('a'), ['t-0', 't-3', 't-6']);
    const mixed: AssignInput = {
      members: [member('a', ['t', 'u']), member('b', ['u'])],
      partitionCounts: new Map([
        ['t', 2],
        ['u', 2],
      ]),
    };
    const result = flat(roundRobinAssignor.assign(mixed));
    assert.deepEqual(result.get('a'), ['t-0', 't-1', 'u-1']);
    assert.deepEqual(result.get('b'), ['u-0']);
  });

  test('deterministic: member order in the input does not matter; missing topics are skipped', () => {
    const shuffled: AssignInput = { ...input, members: [...input.members].reverse() };
    for (const assignor of [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]) {
      assert.deepEqual(assignor.assign(shuffled), assignor.assign(input), assignor.name);
    }
    const missing = flat(
      rangeAssignor.assign({ members: [member('a', ['gone'])], partitionCounts: new Map() }),
    );
    assert.deepEqual(missing.get('a'), []);
  });

  test('balanced for many sizes', () => {
    for (let members = 1; members <= 5; members++) {
      for (let partitions = 0; partitions <= 12; partitions++) {
        const sized: AssignInput = {
          members: Array.from({ length: members }, (_, i) => member(`m${i}`, ['t'])),
          partitionCounts: new Map([['t', partitions]]),
        };
        for (const assignor of [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]) {
          const result = assignor.assign(sized);
          assertCoversOnce(result, sized);
          const loads = [...flat(result).values()].map((list) => list.length);
          assert.ok(
            Math.max(...loads) - Math.min(...loads) <= 1,
            `${assignor.name} ${members}/${partitions}`,
          );
        }
      }
    }
  });
});

describe('cooperative-sticky', () => {
  const counts = new Map([['t', 6]]);
  const all = [{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }];

  test('a new member gets nothing still owned in phase one, then its share in phase two', () => {
    const phaseOne = flat(
      cooperativeStickyAssignor.assign({
        members: [member('a', ['t'], all), member('b', ['t'])],
        partitionCounts: counts,
      }),
    );
    assert.equal(phaseOne.get('a')!.length, 3, 'a keeps three of its own');
    assert.deepEqual(phaseOne.get('b'), [], 'b waits until a revoked');
    const kept = phaseOne.get('a')!.map((name) => Number(name.split('-')[1]));
    const phaseTwo = flat(
      cooperativeStickyAssignor.assign({
        members: [member('a', ['t'], [{ topic: 't', partitions: kept }]), member('b', ['t'])],
        partitionCounts: counts,
      }),
    );
    assert.deepEqual(phaseTwo.get('a'), phaseOne.get('a'), 'a keeps exactly what it kept');
    assert.equal(phaseTwo.get('b')!.length, 3);
    assert.deepEqual([...phaseTwo.values()].flat().sort(), all[0]!.partitions.map((p) => `t-${p}`).sort());
  });

  test('a leaving member’s partitions go to the others without moving anything else', () => {
    const owned = (partitions: number[]) => [{ topic: 't', partitions }];
    const result = flat(
      cooperativeStickyAssignor.assign({
        members: [member('a', ['t'], owned([0, 1])), member('b', ['t'], owned([2, 3]))],
        partitionCounts: counts,
      }),
    );
    assert.ok(['t-0', 't-1'].every((p) => result.get('a')!.includes(p)));
    assert.ok(['t-2', 't-3'].every((p) => result.get('b')!.includes(p)));
    assert.equal(result.get('a')!.length + result.get('b')!.length, 6);
  });

  test('claims on unsubscribed topics, out-of-range partitions and double claims are dropped', () => {
    const result = flat(
      cooperativeStickyAssignor.assign({
        members: [
          member(
            'a',
            ['t'],
            [
              { topic: 't', partitions: [0, 9] },
              { topic: 'other', partitions: [0] },
            ],
          ),
          member('b', ['t'], [{ topic: 't', partitions: [0, 1] }]),
        ],
        partitionCounts: counts,
      }),
    );
    assert.ok(result.get('a')!.includes('t-0'));
    assert.ok(!result.get('b')!.includes('t-0'));
    assert.ok(result.get('b')!.includes('t-1'));
  });

  test('unknown assignor names are an INVALID_ARGUMENT', () => {
    assert.equal(assignorNamed('range'), rangeAssignor);
    assert.throws(() => assignorNamed('sticky'), { code: 'INVALID_ARGUMENT' });
  });
});
