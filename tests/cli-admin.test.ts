/**
 * The `tide` CLI end to end (spawned processes, two real SPUs): profiles switching between clusters,
 * topic create/list/describe/alter/delete, partition and SPU listings, JSON/YAML output, completions,
 * and exit codes (0 success, 1 failure, 2 usage error).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';

const tideBin = resolve(import.meta.dirname, '..', 'bin', 'tide.js');

after(stopAll);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('tide CLI', () => {
  let first: TestSpu;
  let second: TestSpu;
  let temp: { path: string; remove: () => Promise<void> };
  let profilesPath: string;

  function tide(...args: string[]): Promise<Outcome> {
    return new Promise((done) => {
      execFile(
        process.execPath,
        [tideBin, ...args],
        { env: { ...process.env, TIDE_CONFIG: profilesPath, NO_COLOR: '1' }, timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          done({ code, stdout, stderr });
        },
      );
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const outcome = await tide(...args);
    assert.equal(outcome.code, 0, `tide ${args.join(' ')} failed: ${outcome.stderr}`);
    return outcome.stdout;
  }

  async function json<T>(...args: string[]): Promise<T> {
    return JSON.parse(await ok(...args, '-O', 'json')) as T;
  }

  before(async () => {
    [first, second] = await Promise.all([startSpu(), startSpu()]);
    temp = await makeTempDir('tide-cli-');
    profilesPath = join(temp.path, 'config.toml');
  });

  after(async () => {
    await Promise.all([first?.destroy(), second?.destroy()]);
    await temp?.remove();
  });

  it('switches profiles between two clusters', async () => {
    assert.equal(
      await ok('profile', 'add', 'one', '--bootstrap', first.bootstrap),
      `profile "one" added (${first.bootstrap}); it is the current profile\n`,
    );
    assert.equal(
      await ok('profile', 'add', 'two', '--bootstrap', second.bootstrap),
      `profile "two" added (${second.bootstrap}); the current profile is still "one" (\`tide profile switch two\` to use it)\n`,
    );
    assert.equal(await ok('profile', 'current'), 'one\n');
    assert.match(
      await ok('topic', 'create', 'alpha', '-p', '2', '--retention-time', '1d'),
      /"alpha" created/,
    );
    assert.equal(await ok('profile', 'switch', 'two'), 'switched to profile "two"\n');
    assert.equal(await ok('profile', 'current'), 'two\n');
    await ok('topic', 'create', 'beta');
    const onTwo = await json<{ name: string }[]>('topic', 'list');
    assert.deepEqual(
      onTwo.map((t) => t.name),
      ['beta'],
    );
    const onOne = await json<{ name: string; partitions: number }[]>('topic', 'list', '--profile', 'one');
    assert.deepEqual(
      onOne.map((t) => [t.name, t.partitions]),
      [['alpha', 2]],
    );
    const byAddress = await json<{ name: string }[]>('topic', 'list', '--bootstrap', first.bootstrap);
    assert.deepEqual(
      byAddress.map((t) => t.name),
      ['alpha'],
    );
    const listed = await ok('profile', 'list');
    assert.match(listed, /^\s+one\s+127\.0\.0\.1:\d+$/m);
    assert.match(listed, /^\*\s+two\s+127\.0\.0\.1:\d+$/m);
    assert.equal(await ok('profile', 'rename', 'two', 'second'), 'profile "two" renamed to "second"\n');
    assert.equal(await ok('profile', 'current'), 'second\n');
    await ok('profile', 'add', 'spare', '--bootstrap', '127.0.0.1:1', '--switch');
    assert.equal(
      await ok('profile', 'delete', 'spare'),
      'profile "spare" deleted; no profile is current now\n',
    );
    await ok('profile', 'switch', 'one');
  });

  it('describes, alters and grows a topic', async () => {
    const table = await ok('topic', 'describe', 'alpha');
    assert.match(table, /^partitions:\s+2$/m);
    assert.match(table, /^PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+STATUS$/m);
    assert.match(table, /^1\s+1\s+\d+\s+1\s+1\s+online$/m);
    assert.match(table, /^retention\.ms\s+86400000\s+topic$/m);
    await ok(
      'topic',
      'alter-config',
      'alpha',
      '--config',
      'retention.ms=1000',
      '--config',
      'segment.bytes=1048576',
    );
    const described = await json<{ configs: { name: string; value: string }[] }>(
      'topic',
      'describe',
      'alpha',
    );
    const values = Object.fromEntries(described.configs.map((c) => [c.name, c.value]));
    assert.equal(values['retention.ms'], '1000');
    assert.equal(values['segment.bytes'], '1048576');
    assert.match(await ok('topic', 'add-partition', 'alpha', '-c', '2'), /now 4/);
    const partitions = await json<
      { topic: string; partition: number; leaderId: number; highWatermark: number }[]
    >('partition', 'list', '--topic', 'alpha');
    assert.deepEqual(
      partitions.map((p) => [p.topic, p.partition, p.leaderId, p.highWatermark]),
      [0, 1, 2, 3].map((p) => ['alpha', p, 1, 0]),
    );
    const yaml = await ok('topic', 'list', '-O', 'yaml');
    assert.match(yaml, /^- name: alpha\n {2}topicId: \S+\n {2}partitions: 4\n/);
  });

  it('lists SPUs', async () => {
    const spus = await json<{ id: number; port: number; status: string }[]>('spu', 'list');
    assert.deepEqual(
      spus.map((s) => [s.id, s.port, s.status]),
      [[1, first.port, 'online']],
    );
    assert.match(
      await ok('spu', 'list'),
      /^ID\s+STATUS\s+ADDRESS\s+RACK\s+LEADERS\n1\s+online\s+127\.0\.0\.1:\d+\s+-\s+4$/m,
    );
  });

  it('validates without creating on --dry-run', async () => {
    assert.match(await ok('topic', 'create', 'dry', '--dry-run', '--cleanup-policy', 'compact'), /dry run/);
    assert.equal((await json<unknown[]>('topic', 'list')).length, 1);
  });

  it('creates from a replica assignment file', async () => {
    const file = join(temp.path, 'assignment.json');
    await writeFile(file, JSON.stringify([[1], [1], [1]]));
    assert.match(await ok('topic', 'create', 'placed', '--replica-assignment', file), /3 partitions/);
    await writeFile(file, '[[1], "x"]');
    const bad = await tide('topic', 'create', 'placed2', '--replica-assignment', file);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /entry 1 is not a partition's SPU ids/);
  });

  it('deletes topics and reports unknown ones with exit code 1', async () => {
    assert.equal(await ok('topic', 'delete', 'placed'), 'topic "placed" deleted\n');
    const missing = await tide('topic', 'describe', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /topic "nope" does not exist \(UNKNOWN_TOPIC_OR_PARTITION\)/);
    const partly = await tide('topic', 'delete', 'alpha', 'nope');
    assert.equal(partly.code, 1);
    assert.equal(partly.stdout, 'topic "alpha" deleted\n');
    assert.match(partly.stderr, /"nope" does not exist/);
    const exists = await tide('topic', 'create', 'beta', '--profile', 'second');
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /TOPIC_ALREADY_EXISTS/);
    const badConfig = await tide('topic', 'create', 'gamma', '--config', 'retention.ms=soon');
    assert.equal(badConfig.code, 1);
    assert.match(badConfig.stderr, /retention\.ms.*INVALID_CONFIG/);
  });

  it('exits 2 on usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [['topic', 'create', 'x', '-p', '0'], /expected a whole number ≥ 1/],
      [['topic', 'create'], /missing required argument 'name'/],
      [['topic', 'list', '--bogus'], /unknown option '--bogus'/],
      [['topic', 'list', '-O', 'xml'], /Allowed choices are table, json, yaml/],
      [['topic', 'lst'], /unknown command 'lst'/],
      [['topic', 'create', 'x', '--config', 'novalue'], /--config expects key=value/],
      [
        ['topic', 'create', 'x', '--retention-time', 'forever'],
        /--retention-time: "forever" is not a duration/,
      ],
      [['topic', 'alter-config', 'x'], /nothing to change/],
      [['profile', 'add', 'x'], /required option '--bootstrap <addresses>' not specified/],
      [['completions', 'tcsh'], /Allowed choices are bash, zsh, fish/],
    ];
    const outcomes = await Promise.all(cases.map(([args]) => tide(...args)));
    outcomes.forEach((outcome, index) => {
      const [args, message] = cases[index]!;
      assert.equal(outcome.code, 2, `tide ${args.join(' ')}: ${outcome.stderr}`);
      assert.match(outcome.stderr, message, args.join(' '));
    });
    assert.match(await ok('topic', '--help'), /add-partition/);
  });

  it('fails clearly when the cluster or profile is unusable', async () => {
    const [unreachable, unknownProfile] = await Promise.all([
      tide('topic', 'list', '--bootstrap', '127.0.0.1:1'),
      tide('topic', 'list', '--profile', 'ghost'),
    ]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot connect to 127\.0\.0\.1:1/);
    assert.equal(unknownProfile.code, 1);
    assert.match(unknownProfile.stderr, /no profile named "ghost"/);
    const broken = join(temp.path, 'broken.toml');
    await writeFile(broken, 'version = 1\n[profiles.a\n');
    const damaged = await new Promise<Outcome>((done) => {
      execFile(
        process.execPath,
        [tideBin, 'profile', 'list'],
        { env: { ...process.env, TIDE_CONFIG: broken } },
        (error, stdout, stderr) => done({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
      );
    });
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /broken\.toml is not valid TOML/);
  });

  it('generates completion scripts from the command tree', async () => {
    const bash = await ok('completions', 'bash');
    const script = join(temp.path, 'tide.bash');
    await writeFile(script, bash);
    const complete = (line: string): Promise<string> =>
      new Promise((done, fail) => {
        const words = line.split(' ');
        const program = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tide; echo "\${COMPREPLY[*]}"`;
        execFile('/usr/bin/bash', ['-c', program], (error, stdout) =>
          error ? fail(error) : done(stdout.trim()),
        );
      });
    assert.equal(await complete('tide top'), 'topic');
    assert.equal(await complete('tide topic cr'), 'create');
    assert.equal(await complete('tide topic create name --rep'), '--replication --replica-assignment');
    assert.equal(await complete('tide --profile x spu l'), 'list');
    assert.match(await ok('completions', 'zsh'), /^#compdef tide\n[\s\S]*'topic create'\) candidates=\(/);
    assert.match(
      await ok('completions', 'fish'),
      /complete -c tide -f -n '__tide_path_is '\\''topic'\\''' -a 'create'/,
    );
  });
});
