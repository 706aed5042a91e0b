/**
 * `tide cluster start|status|shutdown|delete` end to end: a real 3-SPU local cluster started in the
 * background by the CLI, used through kcat, stopped and resumed on the same data, then deleted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '../src/testing/processes.ts';
import { freeBasePort } from './helpers/cli-kit.ts';

const tideBin = resolve(import.meta.dirname, '..', 'bin', 'tide.js');

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface ClusterJson {
  readonly sc: { readonly pid: number | null };
  readonly spus: readonly { readonly id: number; readonly pid: number | null; readonly port: number }[];
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<Outcome> {
  return new Promise((done) => {
    const child = execFile(command, args, { env, timeout: 40_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function waitGone(pids: readonly number[]): Promise<void> {
  for (let attempt = 0; attempt < 200 && pids.some(alive); attempt++) {
    await new Promise((done) => setTimeout(done, 50));
  }
}

describe('tide cluster', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let dataDir: string;
  let profilesPath: string;
  let basePort: number;
  const pidsSeen = new Set<number>();

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, TIDE_CONFIG: profilesPath, NO_COLOR: '1' });
  const tide = (...args: string[]): Promise<Outcome> => run(process.execPath, [tideBin, ...args], env());
  async function ok(...args: string[]): Promise<string> {
    const outcome = await tide(...args);
    assert.equal(outcome.code, 0, `tide ${args.join(' ')} failed: ${outcome.stderr}`);
    return outcome.stdout;
  }
  function readClusterJson(): ClusterJson {
    const record = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as ClusterJson;
    for (const pid of [record.sc.pid, ...record.spus.map((spu) => spu.pid)])
      if (pid !== null) pidsSeen.add(pid);
    return record;
  }
  const bootstrap = (): string => [0, 1, 2].map((n) => `127.0.0.1:${basePort + n}`).join(',');
  async function consumeAll(broker: string): Promise<string[]> {
    const outcome = await run('kcat', ['-C', '-b', broker, '-t', 't', '-e', '-q', '-f', '%k=%s\n'], env());
    assert.equal(outcome.code, 0, outcome.stderr);
    return outcome.stdout
      .split('\n')
      .filter((line) => line !== '')
      .sort();
  }

  before(async () => {
    temp = await makeTempDir('tide-cli-cluster-');
    dataDir = join(temp.path, 'local');
    profilesPath = join(temp.path, 'config.toml');
    basePort = await freeBasePort(3);
  });

  after(async () => {
    // Whatever happened, no process of this test outlives it.
    if (existsSync(join(dataDir, 'cluster.json'))) readClusterJson();
    for (const pid of pidsSeen) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await waitGone([...pidsSeen]);
    await temp.remove();
  });

  it('starts 3 SPUs, writes the local profile and prints the bootstrap', async () => {
    const args = ['cluster', 'start', '--spus', '3', '--data-dir', dataDir, '--base-port', String(basePort)];
    const outcome = await tide(...args);
    if (existsSync(join(dataDir, 'cluster.json'))) readClusterJson();
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout.trim(), bootstrap());
    const profiles = readFileSync(profilesPath, 'utf8');
    assert.match(profiles, /current_profile = "local"/);
    assert.ok(profiles.includes(`"127.0.0.1:${basePort + 2}"`), profiles);
  });

  it('status shows the SC and 3 healthy SPUs', async () => {
    const status = JSON.parse(await ok('cluster', 'status', '--data-dir', dataDir, '-O', 'json')) as {
      processes: { name: string; running: boolean; health: string; ports: Record<string, number> }[];
    };
    assert.deepEqual(
      status.processes.map((p) => [p.name, p.running, p.health]),
      [
        ['sc', true, 'healthy'],
        ['spu-1', true, 'healthy'],
        ['spu-2', true, 'healthy'],
        ['spu-3', true, 'healthy'],
      ],
    );
    assert.equal(status.processes[1]?.ports.kafka, basePort);
    const table = await ok('cluster', 'status', '--data-dir', dataDir);
    assert.match(table, /spu-3\s+\d+\s+running/);
  });

  it('refuses to start a running cluster', async () => {
    const outcome = await tide('cluster', 'start', '--data-dir', dataDir);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /already running/);
  });

  it('refuses when the ports are taken, starting nothing', async () => {
    const other = join(temp.path, 'other');
    const outcome = await tide('cluster', 'start', '--data-dir', other, '--base-port', String(basePort));
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, new RegExp(`${basePort}.*already in use`));
    assert.equal(existsSync(join(other, 'cluster.json')), false);
  });

  it('serves topics to kcat through the bootstrap', async () => {
    assert.match(await ok('topic', 'create', 't', '-p', '6'), /6 partitions/);
    const records = Array.from({ length: 12 }, (_, index) => `key-${index}:value-${index}`);
    const produce = await run(
      'kcat',
      ['-P', '-b', bootstrap(), '-t', 't', '-K', ':'],
      env(),
      `${records.join('\n')}\n`,
    );
    assert.equal(produce.code, 0, produce.stderr);
    const expected = records.map((record) => record.replace(':', '=')).sort();
    assert.deepEqual(await consumeAll(`127.0.0.1:${basePort + 1}`), expected);
  });

  it('start after an SPU crashed starts only the missing SPU; the rest keep running', async () => {
    const before = readClusterJson();
    const crashed = before.spus[1]!.pid!;
    process.kill(crashed, 'SIGKILL');
    await waitGone([crashed]);
    const status = await tide('cluster', 'status', '--data-dir', dataDir);
    assert.equal(status.code, 1, 'status exits 1 while a process is stopped');
    assert.match(status.stdout, /spu-2\s+-\s+stopped/);
    assert.match(status.stderr, /not healthy: spu-2 stopped/);
    const relayout = await tide('cluster', 'start', '--data-dir', dataDir, '--spus', '4');
    assert.equal(relayout.code, 1);
    assert.match(relayout.stderr, /part of the local cluster .* is running/);
    const outcome = await tide('cluster', 'start', '--data-dir', dataDir);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stderr, /started spu-2; the rest was running/);
    const after = readClusterJson();
    assert.deepEqual(
      [after.sc.pid, after.spus[0]!.pid, after.spus[2]!.pid],
      [before.sc.pid, before.spus[0]!.pid, before.spus[2]!.pid],
    );
    assert.ok(after.spus[1]!.pid !== null && after.spus[1]!.pid !== crashed && alive(after.spus[1]!.pid));
    const expected = Array.from({ length: 12 }, (_, index) => `key-${index}=value-${index}`).sort();
    assert.deepEqual(await consumeAll(`127.0.0.1:${basePort + 1}`), expected);
  });

  it('shutdown stops every process; start resumes with the topic and its data', async () => {
    const before = readClusterJson();
    const pids = [before.sc.pid, ...before.spus.map((spu) => spu.pid)].filter((pid) => pid !== null);
    assert.equal(pids.length, 4);
    await ok('cluster', 'shutdown', '--data-dir', dataDir);
    assert.deepEqual(pids.filter(alive), []);
    assert.equal((await ok('cluster', 'start', '--data-dir', dataDir)).trim(), bootstrap());
    readClusterJson();
    const topic = JSON.parse(await ok('topic', 'describe', 't', '-O', 'json')) as {
      partitionDetails: unknown[];
    };
    assert.equal(topic.partitionDetails.length, 6);
    const expected = Array.from({ length: 12 }, (_, index) => `key-${index}=value-${index}`).sort();
    assert.deepEqual(await consumeAll(`127.0.0.1:${basePort + 2}`), expected);
  });

  it('delete stops everything and removes the data and the profile', async () => {
    const record = readClusterJson();
    const pids = [record.sc.pid, ...record.spus.map((spu) => spu.pid)].filter((pid) => pid !== null);
    await ok('cluster', 'delete', '--data-dir', dataDir);
    assert.equal(existsSync(dataDir), false);
    assert.deepEqual(pids.filter(alive), []);
    assert.doesNotMatch(readFileSync(profilesPath, 'utf8'), /local/);
  });
});
