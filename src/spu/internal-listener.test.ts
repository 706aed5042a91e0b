import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spuConfigFromOptions } from './main.ts';
import { isLoopback } from './spu.ts';

/** The internal listener takes unauthenticated control pushes: it must not face the network unasked. */
describe('internal listener address', () => {
  it('binds to loopback unless told otherwise', () => {
    for (const id of ['1', '3']) {
      const config = spuConfigFromOptions({ id, sc: '127.0.0.1:9003' }, {});
      assert.equal(isLoopback(config.internalHost), true, config.internalHost);
    }
    const told = spuConfigFromOptions({ id: '1', sc: '127.0.0.1:9003', internal: '10.0.0.5:9192' }, {});
    assert.equal(told.internalHost, '10.0.0.5');
    assert.equal(isLoopback(told.internalHost), false);
  });

  it('tells loopback names from others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1'])
      assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'spu-1.example'])
      assert.equal(isLoopback(host), false, host);
  });
});
