/**
 * The package's `/testing` entry from the sources: `startCluster` forms a real cluster that kcat
 * and Tide's client use, `stop()` leaves nothing behind, a failing test that stops it in `after`
 * cleans up, and a test process that exits without stop(), or is ended by a signal, still takes the
 * processes and data with it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { Offset } from '../src/client/offset.ts';
import { startCluster, type TideTestCluster } from '../src/testing/index.ts';

const fixtures = resolve(import.meta.dirname, 'fixtures', 'testing-entry');

/** Pids of the processes whose command line names `dataDir` (the cluster's processes). */
function processesUsing(dataDir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(join('/proc', name, 'cmdline'), 'utf8').includes(dataDir)) pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function kcat(args: readonly string[], input?: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (error, stdout, stderr) =>
      error === null ? done(stdout) : fail(new Error(`kcat ${args.join(' ')}: ${stderr}`, { cause: error })),
    );
    child.stdin?.end(input ?? '');
  });
}

/** Resolves with the data folder the child prints, and its exit, once it has exited. */
function watchChild(child: ChildProcess): { dataDir: Promise<string>; exited: Promise<unknown> } {
  let output = '';
  const dataDir = new Promise<string>((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /DATA_DIR=(\S+)/.exec(output);
      if (match?.[1] !== undefined) done(match[1]);
    });
    child.once('exit', () => fail(new Error(`exited before starting a cluster:\n${output}`)));
  });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  return { dataDir, exited };
}

describe('startCluster from the testing entry', () => {
  let cluster: TideTestCluster | undefined;
  after(() => cluster?.stop());

  test('three SPUs that kcat and the Tide client both use', async () => {
    cluster = await startCluster({ spus: 3 });
    assert.equal(cluster.brokers.length, 3);
    const metadata = await kcat(['-b', cluster.bootstrap, '-L', '-J']);
    assert.equal((JSON.parse(metadata) as { brokers: unknown[] }).brokers.length, 3);
    await cluster.admin.createTopic('greetings', { partitions: 3, replicationFactor: 3 });
    await kcat(['-b', cluster.bootstrap, '-P', '-t', 'greetings', '-p', '1'], 'hello\n');
    const values = [];
    const consumer = cluster.tide.consumer('greetings', {
      offset: Offset.beginning(),
      until: Offset.end(),
      partitions: [1],
    });
    for await (const record of consumer) values.push(record.value?.toString());
    assert.deepEqual(values, ['hello']);
  });

  test('stop() ends every process and removes the data, once however often it is called', async () => {
    assert.ok(cluster !== undefined, 'the cluster of the first test');
    const { dataDir } = cluster;
    assert.equal(processesUsing(dataDir).length, 4, 'one SC and three SPUs');
    await Promise.all([cluster.stop(), cluster.stop()]);
    assert.deepEqual(processesUsing(dataDir), []);
    assert.equal(existsSync(dataDir), false);
  });

  test('rejects a number of SPUs it cannot start', async () => {
    await assert.rejects(startCluster({ spus: 0 }), RangeError);
    await assert.rejects(startCluster({ spus: 1.5 }), RangeError);
  });
});

describe('clean-up without stop()', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  const run = (args: string[]): ReturnType<typeof watchChild> => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    return watchChild(child);
  };

  test('a failing node:test file that stops its cluster in `after` leaves nothing behind', async () => {
    const child = run([join(fixtures, 'fails.test.ts')]);
    const dataDir = await child.dataDir;
    assert.equal(await child.exited, 1, 'the test failed');
    assert.deepEqual(processesUsing(dataDir), []);
    assert.equal(existsSync(dataDir), false);
  });

  test('a process that exits without stop() takes its cluster with it', async () => {
    const child = run([join(fixtures, 'exits.ts')]);
    const dataDir = await child.dataDir;
    assert.equal(await child.exited, 3);
    assert.deepEqual(processesUsing(dataDir), []);
    assert.equal(existsSync(dataDir), false);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`a test process ended by ${signal} takes its cluster with it`, async () => {
      const child = run([join(fixtures, 'waits.ts')]);
      const dataDir = await child.dataDir;
      assert.equal(processesUsing(dataDir).length, 2, 'the SC and the SPU run');
      children.at(-1)?.kill(signal);
      assert.equal(await child.exited, signal, 'the process still ends by the signal');
      assert.deepEqual(processesUsing(dataDir), []);
      assert.equal(existsSync(dataDir), false);
    });
  }
});
