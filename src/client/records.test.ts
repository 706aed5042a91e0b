import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TideError } from '../base/errors.ts';
import {
  ConsumedRecord,
  jsonValue,
  stringValue,
  toBytes,
  toHeaders,
  valueToJson,
  valueToString,
} from './records.ts';

describe('record value helpers', () => {
  test('strings and JSON round-trip through bytes', () => {
    assert.equal(valueToString(stringValue('héllo')), 'héllo');
    assert.deepEqual(valueToJson(jsonValue({ a: [1, 'x'] })), { a: [1, 'x'] });
    assert.equal(valueToString(null), null);
    assert.equal(valueToJson(null), null);
  });

  test('bad JSON and values without a JSON form give TideErrors', () => {
    assert.throws(
      () => valueToJson(Buffer.from('{nope')),
      (e: unknown) => e instanceof TideError && e.code === 'INVALID_JSON',
    );
    assert.throws(
      () => jsonValue(undefined),
      (e: unknown) => e instanceof TideError && e.code === 'INVALID_VALUE',
    );
  });

  test('keys, values and headers normalise to Buffers', () => {
    assert.equal(toBytes(undefined), null);
    assert.deepEqual(toBytes('ab'), Buffer.from('ab'));
    const view = new Uint8Array([9, 1, 2, 3]).subarray(1);
    assert.deepEqual(toBytes(view), Buffer.from([1, 2, 3]));
    assert.deepEqual(toHeaders({ a: 'x', b: null }), [
      { key: 'a', value: Buffer.from('x') },
      { key: 'b', value: null },
    ]);
    assert.deepEqual(toHeaders([{ key: 'c', value: Buffer.from('y') }]), [
      { key: 'c', value: Buffer.from('y') },
    ]);
    assert.deepEqual(toHeaders(undefined), []);
  });
});

test('JSON.stringify of a consumed record: offsets as numbers (strings past 2^53), bytes as text', () => {
  const headers = [
    { key: 'source', value: Buffer.from('web') },
    { key: 'source', value: null },
  ];
  const record = new ConsumedRecord('orders', 2, 41n, Buffer.from('ada'), null, headers, 1_700_000_000_000);
  assert.deepEqual(JSON.parse(JSON.stringify(record)), {
    topic: 'orders',
    partition: 2,
    offset: 41,
    timestamp: 1_700_000_000_000,
    key: 'ada',
    value: null,
    headers: [
      { key: 'source', value: 'web' },
      { key: 'source', value: null },
    ],
  });
  const far = new ConsumedRecord('orders', 0, 2n ** 60n, null, Buffer.from('x'), [], 0);
  assert.equal(JSON.parse(JSON.stringify(far)).offset, (2n ** 60n).toString());
});
