/**
 * Errors when the CLI's addresses lead nowhere useful: nothing listening (every address named, with
 * the profile, and the commands to try next), an SPU's HTTP port, and the SC's internal port; and
 * `Tide.connect` to a dead address rejecting with Kafka's BROKER_NOT_AVAILABLE.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TideClientError } from '../src/client/errors.ts';
import { Tide } from '../src/client/tide.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { makeTempDir, stopAll } from '../src/testing/processes.ts';
import { tideCli } from './helpers/cli-kit.ts';

after(stopAll);

/** A loopback address where nothing listens (a port the system just handed out and took back). */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return `127.0.0.1:${address.port}`;
}

describe('endpoint errors', () => {
  let cluster: TestCluster;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;

  before(async () => {
    temp = await makeTempDir('tide-endpoints-');
    cluster = await startCluster({ spus: 1 });
  });
  after(async () => {
    await cluster?.destroy();
    await temp?.remove();
  });

  it('nothing listening: names the profile and every address, suggests the next command', async () => {
    const [first, second] = [await deadAddress(), await deadAddress()];
    const config = join(temp.path, 'config.toml');
    const added = await tideCli(['profile', 'add', 'dev', '--bootstrap', `${first},${second}`], { config });
    assert.equal(added.code, 0, added.stderr);
    const outcome = await tideCli(['topic', 'list'], { config });
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stdout, '');
    assert.match(outcome.stderr, /^error: profile "dev": /m);
    assert.ok(outcome.stderr.includes(`${first} (connection refused)`), outcome.stderr);
    assert.ok(outcome.stderr.includes(`${second} (connection refused)`), outcome.stderr);
    assert.match(outcome.stderr, /\(BROKER_NOT_AVAILABLE\)$/m);
    assert.match(outcome.stderr, /`tide cluster status`.*`tide cluster start`/);
  });

  it("an SPU's HTTP port is recognised as HTTP", async () => {
    const http = `127.0.0.1:${cluster.spus[0]!.httpPort}`;
    const outcome = await tideCli(['topic', 'list', '--bootstrap', http]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, new RegExp(`${http} answered in HTTP: it is an HTTP port`));
    assert.match(outcome.stderr, /`tide cluster status` lists them/);
  });

  it("the SC's port is recognised as not an SPU", async () => {
    const outcome = await tideCli(['topic', 'list', '--bootstrap', cluster.scAddress]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, new RegExp(`${cluster.scAddress} is not an SPU's Kafka listener`));
    assert.match(outcome.stderr, /the SC's port\?/);
  });

  it('Tide.connect to a dead address rejects with BROKER_NOT_AVAILABLE', async () => {
    const dead = await deadAddress();
    await assert.rejects(Tide.connect({ bootstrap: dead }), (error: unknown) => {
      assert.ok(error instanceof TideClientError);
      assert.equal(error.errorName, 'BROKER_NOT_AVAILABLE');
      assert.equal(error.code, 'NO_BROKER_AVAILABLE');
      assert.equal(error.retriable, false);
      assert.match(error.message, new RegExp(`${dead} \\(connection refused\\)`));
      return true;
    });
  });
});
