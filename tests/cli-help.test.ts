/**
 * Help and argument polish: defaults printed once and no `(default: false)`, a base port whose layout
 * leaves 1–65535 refused with the range that works, and `--replica-assignment` beside a partition or
 * replica count refused instead of one of them being ignored. None of these needs a cluster.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '../src/testing/processes.ts';
import { tideCli } from './helpers/cli-kit.ts';

describe('help and argument checks', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;

  before(async () => {
    temp = await makeTempDir('tide-cli-help-');
  });
  after(async () => {
    await temp?.remove();
  });

  it('prints each default once, and none for flags that are off', async () => {
    const consume = await tideCli(['consume', '--help']);
    assert.equal(consume.code, 0, consume.stderr);
    assert.doesNotMatch(consume.stdout, /default: false/);
    assert.match(consume.stdout, /default: "text"/);
    const status = await tideCli(['cluster', 'status', '--help'], { home: temp.path });
    assert.equal(status.code, 0, status.stderr);
    const dataDir = status.stdout.slice(status.stdout.indexOf('--data-dir'));
    assert.equal(dataDir.split('--')[1]?.match(/default/g)?.length, 1, status.stdout);
  });

  it('`tide group` is `tide consumer-group`', async () => {
    const [alias, full] = await Promise.all([
      tideCli(['group', 'reset-offsets', '--help']),
      tideCli(['consumer-group', 'reset-offsets', '--help']),
    ]);
    assert.equal(alias.code, 0, alias.stderr);
    assert.equal(alias.stdout, full.stdout);
    assert.match(alias.stdout, /^Usage: tide consumer-group reset-offsets/);
  });

  it('--base-port 50 is refused with the range that works, starting nothing', async () => {
    const dataDir = join(temp.path, 'cluster');
    const outcome = await tideCli(['cluster', 'start', '--base-port', '50', '--data-dir', dataDir]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /--base-port 50 puts ports outside 1–65535 .*must be from 90 to 65335/);
    assert.doesNotMatch(outcome.stderr, /port -39/);
    assert.equal(existsSync(join(dataDir, 'cluster.json')), false);
  });

  it('--replica-assignment with -p or -r is a usage error', async () => {
    const file = join(temp.path, 'assignment.json');
    writeFileSync(file, '[[1], [1]]');
    for (const extra of [
      ['-p', '3'],
      ['-r', '2'],
    ]) {
      const outcome = await tideCli([
        'topic',
        'create',
        'placed',
        '--replica-assignment',
        file,
        ...extra,
        '--bootstrap',
        '127.0.0.1:1',
      ]);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.match(
        outcome.stderr,
        /--replica-assignment places every partition; it cannot be combined with --/,
      );
    }
  });
});
