/**
 * Output formats for scripts: `-O json` on topic create and delete, and a JSON error object on
 * stdout when a command fails under `-O json` (stderr keeps the message for people).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { tideCli } from './helpers/cli-kit.ts';

after(stopAll);

describe('-O json for scripts', () => {
  let spu: TestSpu;
  const tide = (...args: string[]) => tideCli([...args, '--bootstrap', spu.bootstrap]);

  before(async () => {
    spu = await startSpu();
  });
  after(async () => {
    await spu?.destroy();
  });

  it('topic create says "1 partition", and -O json gives the created topic', async () => {
    const text = await tide('topic', 'create', 'one');
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, 'topic "one" created (1 partition, replication 1)\n');
    const json = await tide('topic', 'create', 'three', '-p', '3', '-O', 'json');
    assert.equal(json.code, 0, json.stderr);
    const created = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual(
      [created.name, created.partitions, created.replicationFactor, created.created],
      ['three', 3, 1, true],
    );
  });

  it('topic delete -O json lists each outcome, failures included, in one document', async () => {
    const deleted = await tide('topic', 'delete', 'one', '-O', 'json');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), [{ name: 'one', deleted: true, error: null }]);
    const missing = await tide('topic', 'delete', 'three', 'nowhere', '-O', 'json');
    assert.equal(missing.code, 1);
    const outcomes = JSON.parse(missing.stdout) as {
      name: string;
      deleted: boolean;
      error: { code: string } | null;
    }[];
    assert.deepEqual(
      outcomes.map((o) => [o.name, o.deleted, o.error?.code ?? null]),
      [
        ['three', true, null],
        ['nowhere', false, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ],
    );
    assert.match(missing.stderr, /^error: .*nowhere|^error: /m);
  });

  it('a failure under -O json prints a JSON error object on stdout', async () => {
    const failed = await tide('topic', 'describe', 'nowhere', '-O', 'json');
    assert.equal(failed.code, 1);
    const { error } = JSON.parse(failed.stdout) as { error: Record<string, unknown> };
    assert.deepEqual(
      [error.code, error.kafkaError, error.exitCode],
      ['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION', 1],
    );
    assert.match(String(error.message), /nowhere/);
    assert.match(failed.stderr, /^error: .*\(UNKNOWN_TOPIC_OR_PARTITION\)$/m);
    const usage = await tide('topic', 'create', 'bad', '-p', '0', '-O', 'json');
    assert.equal(usage.code, 2);
    assert.deepEqual(
      [
        (JSON.parse(usage.stdout) as { error: Record<string, unknown> }).error.code,
        usage.stderr.includes('-p'),
      ],
      ['USAGE', true],
    );
  });
});
