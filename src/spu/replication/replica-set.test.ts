import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplicaSet } from './replica-set.ts';

/** Leader 1 with followers 2 and 3, all in the ISR, assigned at time 0. */
function leaderOfThree(): ReplicaSet {
  const set = new ReplicaSet(1);
  set.assign({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2, 3], partitionEpoch: 0 }, true, 0);
  return set;
}

describe('ReplicaSet: high watermark', () => {
  it('is the smallest log end over the ISR, and waits for followers that never fetched', () => {
    const set = leaderOfThree();
    assert.equal(set.highWatermarkCandidate(10n), -1n);
    set.recordFetch(2, 10n, 10n, 1);
    assert.equal(set.highWatermarkCandidate(10n), -1n, 'follower 3 has not fetched yet');
    set.recordFetch(3, 7n, 10n, 1);
    assert.equal(set.highWatermarkCandidate(10n), 7n);
    set.recordFetch(3, 10n, 10n, 2);
    assert.equal(set.highWatermarkCandidate(12n), 10n);
  });

  it('ignores replicas outside the ISR and fetches from non-replicas', () => {
    const set = new ReplicaSet(1);
    set.assign({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2], partitionEpoch: 4 }, true, 0);
    assert.equal(set.recordFetch(9, 5n, 5n, 1), false);
    set.recordFetch(2, 5n, 5n, 1);
    assert.equal(set.highWatermarkCandidate(8n), 5n, 'replica 3 is outside the ISR');
  });

  it('counts a proposed, unanswered ISR at once: a joining replica may be elected before the answer', () => {
    const set = new ReplicaSet(1);
    set.assign({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2], partitionEpoch: 4 }, true, 0);
    set.recordFetch(2, 9n, 9n, 1);
    set.recordFetch(3, 6n, 9n, 1);
    assert.equal(set.highWatermarkCandidate(9n), 9n);
    set.pendingIsr = [1, 2, 3];
    assert.equal(set.highWatermarkCandidate(9n), 6n, 'replica 3 is joining');
    set.pendingIsr = undefined;
    assert.equal(set.highWatermarkCandidate(9n), 9n);
  });

  it('has no other replica to wait for when it is alone', () => {
    const set = new ReplicaSet(1);
    assert.equal(set.replicated, false);
    set.assign({ leaderId: 1, replicas: [1], isr: [1], partitionEpoch: 0 }, true, 0);
    assert.equal(set.replicated, false);
    assert.equal(set.highWatermarkCandidate(3n), 3n);
  });

  it('forgets followers’ progress under a new leadership, keeps it for an ISR update', () => {
    const set = leaderOfThree();
    set.recordFetch(2, 4n, 4n, 1);
    set.recordFetch(3, 4n, 4n, 1);
    set.assign({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2, 3], partitionEpoch: 1 }, false, 2);
    assert.equal(set.highWatermarkCandidate(4n), 4n);
    set.assign({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2, 3], partitionEpoch: 2 }, true, 3);
    assert.equal(set.highWatermarkCandidate(4n), -1n);
  });
});

describe('ReplicaSet: ISR changes', () => {
  const lagMs = 1000;

  it('keeps the ISR while every follower catches up within the lag limit', () => {
    const set = leaderOfThree();
    set.recordFetch(2, 5n, 5n, 900);
    set.recordFetch(3, 5n, 5n, 900);
    assert.equal(set.proposedIsr(5n, 1500, lagMs), undefined);
  });

  it('drops a follower that has not caught up within the lag limit, never the leader', () => {
    const set = leaderOfThree();
    set.recordFetch(2, 5n, 5n, 1200);
    set.recordFetch(3, 2n, 5n, 1200); // fetching, but behind since it joined at time 0
    assert.deepEqual(set.proposedIsr(5n, 1200, lagMs), [1, 2]);
  });

  it('counts a follower that read all the leader had at its previous fetch as caught up then', () => {
    const set = leaderOfThree();
    set.recordFetch(2, 5n, 5n, 100);
    set.recordFetch(3, 3n, 5n, 500); // leader end was 5 at this fetch
    set.recordFetch(3, 5n, 8n, 1400); // reached 5: caught up as of time 500
    set.recordFetch(2, 8n, 8n, 1400);
    assert.equal(set.proposedIsr(5n, 1400, lagMs), undefined);
    assert.deepEqual(set.proposedIsr(5n, 1600, lagMs), [1, 2]);
  });

  it('adds back a caught-up follower once its log reaches the high watermark', () => {
    const set = new ReplicaSet(1);
    set.assign({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2], partitionEpoch: 3 }, false, 0);
    set.recordFetch(2, 9n, 9n, 100);
    set.recordFetch(3, 4n, 9n, 100);
    assert.equal(set.proposedIsr(9n, 100, lagMs), undefined, 'replica 3 is behind the high watermark');
    set.recordFetch(3, 9n, 9n, 200);
    assert.deepEqual(set.proposedIsr(9n, 200, lagMs), [1, 2, 3]);
  });
});
