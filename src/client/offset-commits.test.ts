import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createOffsetFetchResponse,
  createOffsetFetchResponseGroup,
  createOffsetFetchResponsePartition,
  createOffsetFetchResponsePartitions,
  createOffsetFetchResponseTopic,
  createOffsetFetchResponseTopics,
  decodeOffsetFetchRequest,
  encodeOffsetFetchRequest,
} from '../protocol/messages/offset-fetch.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import {
  adminIdentity,
  OffsetTracker,
  offsetCommitRequest,
  offsetFetchRequest,
  readOffsetFetch,
} from './offset-commits.ts';

describe('offset commits', () => {
  test('one OffsetFetch request serves the old versions and the v8 group form', () => {
    const request = offsetFetchRequest('g', [{ topic: 't', partitions: [0, 2] }]);
    for (const version of [1, 7, 8]) {
      const w = new Writer();
      encodeOffsetFetchRequest(w, request, version);
      const decoded = decodeOffsetFetchRequest(new Reader(w.toBuffer()), version);
      if (version < 8) {
        assert.equal(decoded.groupId, 'g');
        assert.deepEqual(decoded.topics, [{ name: 't', partitionIndexes: [0, 2] }]);
      } else {
        assert.equal(decoded.groups[0]!.groupId, 'g');
        assert.deepEqual(decoded.groups[0]!.topics, [{ name: 't', partitionIndexes: [0, 2] }]);
      }
    }
  });

  test('answers are read from the v8 group entry or the top level; errors throw', () => {
    const old = createOffsetFetchResponse({
      topics: [
        createOffsetFetchResponseTopic({
          name: 't',
          partitions: [createOffsetFetchResponsePartition({ partitionIndex: 1, committedOffset: 42n })],
        }),
      ],
    });
    assert.deepEqual(readOffsetFetch('g', old), [{ topic: 't', partition: 1, offset: 42n }]);
    const grouped = createOffsetFetchResponse({
      groups: [
        createOffsetFetchResponseGroup({
          groupId: 'g',
          topics: [
            createOffsetFetchResponseTopics({
              name: 't',
              partitions: [createOffsetFetchResponsePartitions({ partitionIndex: 0, committedOffset: -1n })],
            }),
          ],
        }),
      ],
    });
    assert.deepEqual(readOffsetFetch('g', grouped), [{ topic: 't', partition: 0, offset: -1n }]);
    const failed = createOffsetFetchResponse({ errorCode: errorCodes.NOT_COORDINATOR });
    assert.throws(() => readOffsetFetch('g', failed), { code: 'NOT_COORDINATOR' });
  });

  test('an admin commit carries generation -1 and no member id, offsets grouped per topic', () => {
    const request = offsetCommitRequest('g', adminIdentity, [
      { topic: 'a', partition: 0, offset: 5n },
      { topic: 'b', partition: 1, offset: 7n },
      { topic: 'a', partition: 2, offset: 9n },
    ]);
    assert.equal(request.generationIdOrMemberEpoch, -1);
    assert.equal(request.memberId, '');
    assert.deepEqual(
      request.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])]),
      [
        [
          'a',
          [
            [0, 5n],
            [2, 9n],
          ],
        ],
        ['b', [[1, 7n]]],
      ],
    );
  });

  test('the tracker offers only positions that moved past the last commit', () => {
    const tracker = new OffsetTracker();
    tracker.started('t', 0, 10n);
    tracker.started('t', 1, undefined);
    assert.deepEqual(tracker.uncommitted(), []);
    tracker.consumed('t', 0, 10n);
    tracker.consumed('t', 1, 3n);
    assert.deepEqual(tracker.uncommitted(), [{ topic: 't', partition: 1, offset: 3n }]);
    tracker.consumed('t', 0, 12n);
    assert.deepEqual(tracker.uncommitted([{ topic: 't', partition: 0 }]), [
      { topic: 't', partition: 0, offset: 12n },
    ]);
    tracker.committed(tracker.uncommitted());
    assert.deepEqual(tracker.uncommitted(), []);
    tracker.forget('t', 0);
    tracker.consumed('t', 1, 4n);
    assert.deepEqual(tracker.uncommitted(), [{ topic: 't', partition: 1, offset: 4n }]);
  });
});
