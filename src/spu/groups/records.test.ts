import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OffsetsReplay } from './loader.ts';
import {
  decodeGroupValue,
  decodeKey,
  decodeOffsetValue,
  encodeGroupValue,
  encodeKey,
  encodeOffsetValue,
  type GroupValue,
  OffsetsRecordError,
} from './records.ts';

const group: GroupValue = {
  protocolType: 'consumer',
  generation: 7,
  protocol: 'range',
  leader: 'm-1',
  currentStateTimestampMs: 1_700_000_000_000n,
  members: [
    {
      memberId: 'm-1',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 30_000,
      sessionTimeoutMs: 10_000,
      subscription: Buffer.from([0, 1, 2]),
      assignment: Buffer.from([3, 4]),
    },
    {
      memberId: 'm-2',
      groupInstanceId: 'static-2',
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 30_000,
      sessionTimeoutMs: 10_000,
      subscription: Buffer.alloc(0),
      assignment: Buffer.alloc(0),
    },
  ],
};

describe('offsets topic records', () => {
  it('round-trips keys and values', () => {
    const offsetKey = { type: 'offset', group: 'g', topic: 't', partition: 3 } as const;
    assert.deepEqual(decodeKey(encodeKey(offsetKey)), offsetKey);
    assert.deepEqual(decodeKey(encodeKey({ type: 'group', group: 'g' })), { type: 'group', group: 'g' });
    const offset = { offset: 42n, leaderEpoch: 5, metadata: 'meta', commitTimestampMs: 99n };
    assert.deepEqual(decodeOffsetValue(encodeOffsetValue(offset)), offset);
    assert.deepEqual(decodeGroupValue(encodeGroupValue(group)), group);
  });

  it('writes the layout Kafka tools read', () => {
    // Offset key v1: version 1, "g", "t", partition 2.
    assert.equal(
      encodeKey({ type: 'offset', group: 'g', topic: 't', partition: 2 }).toString('hex'),
      '0001' + '000167' + '000174' + '00000002',
    );
    // Offset value v3: version 3, offset 1, epoch -1, metadata "", timestamp 2.
    assert.equal(
      encodeOffsetValue({ offset: 1n, leaderEpoch: -1, metadata: '', commitTimestampMs: 2n }).toString('hex'),
      '0003' + '0000000000000001' + 'ffffffff' + '0000' + '0000000000000002',
    );
  });

  it('reads offset values of versions 0 and 1', () => {
    const v1 = Buffer.from(`0001${'0000000000000010'}0000${'0000000000000005'}${'ffffffffffffffff'}`, 'hex');
    assert.deepEqual(decodeOffsetValue(v1), {
      offset: 16n,
      leaderEpoch: -1,
      metadata: '',
      commitTimestampMs: 5n,
    });
    const v0 = Buffer.from(`0000${'0000000000000010'}0000${'0000000000000005'}`, 'hex');
    assert.equal(decodeOffsetValue(v0).offset, 16n);
  });

  it('turns corrupt or truncated input into OffsetsRecordError, never anything else', () => {
    const samples = [
      encodeKey({ type: 'offset', group: 'g', topic: 't', partition: 1 }),
      encodeOffsetValue({ offset: 1n, leaderEpoch: 0, metadata: 'x', commitTimestampMs: 1n }),
      encodeGroupValue(group),
    ];
    const decoders = [decodeKey, decodeOffsetValue, decodeGroupValue];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 4 }),
        (which, cut, junk) => {
          const sample = samples[which]!;
          const mangled = Buffer.concat([sample.subarray(0, cut % sample.length), Buffer.from(junk)]);
          for (const decode of decoders) {
            try {
              decode(mangled);
            } catch (error) {
              assert.ok(error instanceof OffsetsRecordError, String(error));
            }
          }
        },
      ),
    );
    assert.throws(() => decodeKey(Buffer.from('0009', 'hex')), OffsetsRecordError);
    assert.throws(() => decodeGroupValue(Buffer.from('0001', 'hex')), OffsetsRecordError);
  });
});

describe('OffsetsReplay', () => {
  it('keeps the last record per key and honours tombstones', () => {
    const replay = new OffsetsReplay();
    const key = (group: string, partition: number) =>
      encodeKey({ type: 'offset', group, topic: 't', partition });
    const value = (offset: bigint) =>
      encodeOffsetValue({ offset, leaderEpoch: -1, metadata: '', commitTimestampMs: 1n });
    replay.apply(key('a', 0), value(1n));
    replay.apply(key('a', 0), value(5n));
    replay.apply(key('a', 1), value(7n));
    replay.apply(key('a', 1), null);
    replay.apply(encodeKey({ type: 'group', group: 'a' }), encodeGroupValue(group));
    replay.apply(key('b', 0), value(3n));
    replay.apply(key('b', 0), null);
    replay.apply(encodeKey({ type: 'group', group: 'c' }), encodeGroupValue(group));
    replay.apply(encodeKey({ type: 'group', group: 'c' }), null);
    replay.apply(Buffer.from('ff', 'hex'), value(1n));
    replay.apply(null, value(1n));
    const live = new Map(replay.live());
    assert.deepEqual([...live.keys()], ['a']);
    const a = live.get('a')!;
    assert.deepEqual(
      [...a.offsets.values()].map(({ partition, offset }) => [partition, offset]),
      [[0, 5n]],
    );
    assert.equal(a.value?.generation, 7);
    assert.equal(replay.skippedRecords, 2);
  });
});
