/**
 * Units on `tide topic create`: a duration without a unit is refused (and creates nothing), because
 * read as milliseconds `--retention-time 7` deletes records at once; sizes tell GB from GiB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { tideCli } from './helpers/cli-kit.ts';

after(stopAll);

describe('units on topic create', () => {
  let spu: TestSpu;
  const configsOf = async (topic: string): Promise<Map<string, string | null>> => {
    const outcome = await tideCli(['topic', 'describe', topic, '-O', 'json', '--bootstrap', spu.bootstrap]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const described = JSON.parse(outcome.stdout) as { configs: { name: string; value: string | null }[] };
    return new Map(described.configs.map((config) => [config.name, config.value]));
  };

  before(async () => {
    spu = await startSpu();
  });
  after(async () => {
    await spu?.destroy();
  });

  it('refuses a duration without a unit and creates nothing', async () => {
    const outcome = await tideCli([
      'topic',
      'create',
      'logs',
      '--retention-time',
      '7',
      '--bootstrap',
      spu.bootstrap,
    ]);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /--retention-time: "7" has no unit: say 7d, 7h, 7min, 7s or 7ms/);
    const listed = await tideCli(['topic', 'list', '-O', 'json', '--bootstrap', spu.bootstrap]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('"logs"'), listed.stdout);
  });

  it('takes durations with units, and GB as 10^9 bytes, GiB as 2^30', async () => {
    const created = await tideCli([
      'topic',
      'create',
      'logs',
      '--retention-time',
      '7d',
      '--retention-bytes',
      '2GB',
      '--segment-size',
      '1GiB',
      '--bootstrap',
      spu.bootstrap,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const configs = await configsOf('logs');
    assert.equal(configs.get('retention.ms'), String(7 * 24 * 3_600_000));
    assert.equal(configs.get('retention.bytes'), '2000000000');
    assert.equal(configs.get('segment.bytes'), String(2 ** 30));
  });

  it('says in the help which unit is which', async () => {
    const help = await tideCli(['topic', 'create', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--retention-time <duration>\s+keep records this long, with a unit/);
    assert.match(help.stdout.replace(/\s+/g, ' '), /10GiB \(2\^30 bytes each\), 10GB \(10\^9\)/);
  });
});
