import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnomalyKind, anomalyKinds, checkHistory, type History, type ReadRecord } from './checker.ts';

/** A clean history: values a0..a3 on partition 0 and b0..b1 on partition 1, all acknowledged. */
function cleanHistory(): History {
  const finalRead: ReadRecord[] = [
    { partition: 0, offset: 0n, value: 'a0' },
    { partition: 0, offset: 1n, value: 'a1' },
    { partition: 0, offset: 2n, value: 'a2' },
    { partition: 0, offset: 3n, value: 'a3' },
    { partition: 1, offset: 0n, value: 'b0' },
    { partition: 1, offset: 1n, value: 'b1' },
  ];
  return {
    attempted: new Map([
      ['a0', 0],
      ['a1', 0],
      ['a2', 0],
      ['a3', 0],
      ['a4', 0],
      ['b0', 1],
      ['b1', 1],
    ]),
    acked: finalRead.filter((record) => record.value !== 'a3'),
    failed: new Set(['a4']),
    consumers: [
      { consumer: 'c1', reads: finalRead.slice(0, 3) },
      { consumer: 'c2', reads: [finalRead[4]!, finalRead[0]!, finalRead[5]!, finalRead[1]!] },
    ],
    finalRead,
    replicaDivergences: [],
    idempotent: false,
  };
}

function kinds(history: History): AnomalyKind[] {
  return checkHistory(history).anomalies.map((anomaly) => anomaly.kind);
}

describe('chaos checker', () => {
  it('passes a clean history', () => {
    const result = checkHistory(cleanHistory());
    assert.deepEqual(result.anomalies, []);
    assert.equal(result.failed, false);
  });

  it('finds an acknowledged write missing from the final read', () => {
    const history = cleanHistory();
    const lost = { ...history, finalRead: history.finalRead.filter((record) => record.value !== 'a1') };
    // c1 and c2 read a1 too: three reports, all of one kind.
    assert.deepEqual(new Set(kinds(lost)), new Set([anomalyKinds.lostWrite]));
    assert.equal(checkHistory(lost).failed, true);
  });

  it('finds an acknowledgement whose offset holds another value, and one offset acknowledged twice', () => {
    const history = cleanHistory();
    // a2 was acknowledged at offset 2 already; a3 acknowledged there too: two reports.
    const acked = [...history.acked, { partition: 0, offset: 2n, value: 'a3' }];
    assert.deepEqual(kinds({ ...history, acked }), [
      anomalyKinds.inconsistentOffset,
      anomalyKinds.inconsistentOffset,
    ]);
  });

  it('finds a consumer that read another value at an offset than the final read', () => {
    const history = cleanHistory();
    const consumers = [{ consumer: 'c3', reads: [{ partition: 1, offset: 1n, value: 'b0' }] }];
    assert.deepEqual(kinds({ ...history, consumers }), [anomalyKinds.inconsistentOffset]);
  });

  it('finds two values at one offset in the final read', () => {
    const history = cleanHistory();
    const finalRead = [...history.finalRead, { partition: 1, offset: 1n, value: 'b9' }];
    const attempted = new Map([...history.attempted, ['b9', 1]]);
    assert.deepEqual(kinds({ ...history, finalRead, attempted }), [anomalyKinds.inconsistentOffset]);
  });

  it('finds a value that nobody wrote, and one written to another partition', () => {
    const history = cleanHistory();
    const finalRead = [
      ...history.finalRead,
      { partition: 1, offset: 2n, value: 'ghost' },
      { partition: 1, offset: 3n, value: 'a4' },
    ];
    assert.deepEqual(kinds({ ...history, finalRead, failed: new Set() }), [
      anomalyKinds.phantomValue,
      anomalyKinds.wrongPartition,
    ]);
  });

  it('finds a value whose write was refused', () => {
    const history = cleanHistory();
    const finalRead = [...history.finalRead, { partition: 0, offset: 4n, value: 'a4' }];
    assert.deepEqual(kinds({ ...history, finalRead }), [anomalyKinds.failedValueRead]);
  });

  it('finds a consumer whose offsets go back', () => {
    const history = cleanHistory();
    const reads = [history.finalRead[1]!, history.finalRead[0]!];
    assert.deepEqual(kinds({ ...history, consumers: [{ consumer: 'c1', reads }] }), [
      anomalyKinds.nonMonotonicRead,
    ]);
  });

  it('reports duplicates as information, and as failures with an idempotent producer', () => {
    const history = cleanHistory();
    const finalRead = [...history.finalRead, { partition: 0, offset: 4n, value: 'a2' }];
    const plain = checkHistory({ ...history, finalRead });
    assert.deepEqual(
      plain.anomalies.map((anomaly) => [anomaly.kind, anomaly.fatal]),
      [[anomalyKinds.duplicate, false]],
    );
    assert.equal(plain.failed, false);
    const idempotent = checkHistory({ ...history, finalRead, idempotent: true });
    assert.equal(idempotent.failed, true);
    assert.equal(idempotent.counts[anomalyKinds.duplicate], 1);
  });

  it('reports replicas that differ below the high watermark', () => {
    const history = cleanHistory();
    const replicaDivergences = [{ partition: 1, detail: 'SPU 2 differs from SPU 1 at byte 70' }];
    const result = checkHistory({ ...history, replicaDivergences });
    assert.deepEqual(
      result.anomalies.map((anomaly) => anomaly.kind),
      [anomalyKinds.replicaDivergence],
    );
    assert.equal(result.failed, true);
  });
});
