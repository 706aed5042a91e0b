import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spuConfigFromOptions } from './main.ts';
import { isLoopback } from './spu.ts';

/** Listener settings from the command line: the internal listener (unauthenticated control pushes and
 * replication) must not face the network unasked, and the client idle limit is configurable. */
describe('SPU listener settings', () => {
  it('binds to loopback unless told otherwise', () => {
    for (const id of ['1', '3']) {
      const config = spuConfigFromOptions({ id, sc: '127.0.0.1:9003' }, {});
      assert.equal(isLoopback(config.internalHost), true, config.internalHost);
    }
    const told = spuConfigFromOptions({ id: '1', sc: '127.0.0.1:9003', internal: '10.0.0.5:9192' }, {});
    assert.equal(told.internalHost, '10.0.0.5');
    assert.equal(isLoopback(told.internalHost), false);
  });

  it('takes the idle limit of client connections from --connections-max-idle-ms', () => {
    assert.equal(spuConfigFromOptions({ id: '1' }, {}).limits.idleMsMax, 600_000);
    assert.equal(
      spuConfigFromOptions({ id: '1', connectionsMaxIdleMs: '30000' }, {}).limits.idleMsMax,
      30_000,
    );
    assert.throws(
      () => spuConfigFromOptions({ id: '1', connectionsMaxIdleMs: '0' }, {}),
      /--connections-max-idle-ms/,
    );
  });

  it('tells loopback names from others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1'])
      assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'spu-1.example'])
      assert.equal(isLoopback(host), false, host);
  });
});
