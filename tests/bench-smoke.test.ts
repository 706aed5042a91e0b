import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SystemName } from '../bench/drivers/driver.ts';
import { describeMachine } from '../bench/machine.ts';
import { measureCeilings } from '../bench/omb/ceilings.ts';
import { type RunContext, runOne } from '../bench/omb/runner.ts';
import { type RunResult, resultSchemaVersion, validateResultFile } from '../bench/omb/schema.ts';
import { stopEverything } from '../bench/omb/servers.ts';
import type { BacklogWorkload, FixedRateWorkload } from '../bench/omb/workload.ts';

/**
 * A few seconds of every driver against its real server: the peers' servers must be installed
 * (bench/setup.sh installs them; CI fails, not skips, when one is missing).
 */

const context: RunContext = {
  ceilings: {
    sequentialWriteBytesPerSecond: 1e9,
    sequentialWriteMethod: 'assumed',
    loopbackBytesPerSecond: 1e9,
  },
  log: () => undefined,
};

const fixedRate: FixedRateWorkload = {
  kind: 'fixed-rate',
  name: 'smoke-fixed',
  description: 'smoke',
  partitions: 2,
  messageBytes: 256,
  producers: 1,
  consumers: 1,
  messagesPerSecond: 1_000,
  warmupSeconds: 0.3,
  durationSeconds: 1,
};

const backlog: BacklogWorkload = {
  kind: 'backlog',
  name: 'smoke-backlog',
  description: 'smoke',
  partitions: 2,
  messageBytes: 1024,
  producers: 1,
  consumers: 1,
  backlogBytes: 2_000 * 1024,
};

function assertValid(run: RunResult): void {
  const problems = validateResultFile({
    schemaVersion: resultSchemaVersion,
    suite: 'smoke',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    quick: true,
    machine: describeMachine(),
    ceilings: context.ceilings,
    notes: [],
    runs: [run],
  });
  assert.deepEqual(problems, []);
}

const systems: readonly SystemName[] = [
  'harness-floor',
  'tide',
  'nats-jetstream',
  'redis-streams',
  'rabbitmq-stream',
  'tide-rf3',
];

describe('benchmark drivers (quick smoke run)', { timeout: 240_000 }, () => {
  after(stopEverything);

  for (const system of systems) {
    it(`${system}: fixed rate, every measured message acknowledged and received`, async () => {
      const run = await runOne(system, fixedRate, context);
      assert.equal(run.error, undefined);
      assert.ok(run.ok);
      assert.ok(
        run.publishLatencyUs.count > 500,
        `only ${run.publishLatencyUs.count} messages in the window`,
      );
      assert.equal(
        run.endToEndLatencyUs.count,
        run.publishLatencyUs.count,
        'every message of the window arrived once',
      );
      assert.ok(run.durability.length > 0 && run.version !== 'unknown');
      assert.ok(run.server.samples >= 2 && run.server.rssMaxBytes > 0, 'the server process was sampled');
      assertValid(run);
    });
  }

  for (const system of systems.filter((name) => name !== 'tide-rf3' && name !== 'harness-floor')) {
    it(`${system}: a backlog written with no consumer drains completely`, async () => {
      const run = await runOne(system, backlog, context);
      assert.equal(run.error, undefined);
      assert.equal(run.backlog?.messages, 2_000);
      assert.ok(run.consume.messagesPerSecond > 0);
      assert.deepEqual(
        run.notes.filter((note) => note.startsWith('drain stopped')),
        [],
      );
      assertValid(run);
    });
  }

  it('harness floor: the in-process system reports its own process', async () => {
    const run = await runOne('harness-floor', fixedRate, context);
    assert.ok(run.ok);
    assert.match(run.durability, /nothing stored/);
  });

  it('measures the ceilings', async () => {
    const ceilings = await measureCeilings({ quick: true });
    assert.ok(ceilings.sequentialWriteBytesPerSecond > 0);
    assert.ok(ceilings.loopbackBytesPerSecond > 0);
  });
});
