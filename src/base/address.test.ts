import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHostPort } from './address.ts';

test('host:port and [ipv6]:port parse; anything else does not', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9092'), { host: '127.0.0.1', port: 9092 });
  assert.deepEqual(parseHostPort(' localhost:1 '), { host: 'localhost', port: 1 });
  assert.deepEqual(parseHostPort('[::1]:9092'), { host: '::1', port: 9092 });
  assert.equal(parseHostPort('127.0.0.1:0'), undefined);
  assert.deepEqual(parseHostPort('127.0.0.1:0', { allowPortZero: true }), { host: '127.0.0.1', port: 0 });
  for (const bad of ['', '9092', ':9092', 'host:', 'host:65536', 'host:12ab', 'a b:1', '::1:9092']) {
    assert.equal(parseHostPort(bad), undefined, bad);
  }
});
