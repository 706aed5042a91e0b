import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TideError } from '../base/errors.ts';
import { jsonValue, stringValue, toBytes, toHeaders, valueToJson, valueToString } from './records.ts';

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
