/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball into an empty
 * project (its dependencies from the registry, install scripts not allowed), and from there the
 * CLI through npx, the client from plain Node, the type declarations under `tsc --strict`, and the
 * testing entry's examples under node:test and vitest. Packed and installed once for every check.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  clusterPorts,
  isAlive,
  layoutCluster,
  layoutProblem,
  readCluster,
  takenPorts,
} from '../src/cli/local-cluster.ts';
import { stablePort } from '../src/testing/ports.ts';
import { makeTempDir } from '../src/testing/processes.ts';

const root = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  devDependencies: Record<string, string>;
};
const vitestVersion = '4.1.12'; // the newest vitest that runs on Node.js 20
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return new Promise<Outcome>((done) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: 300_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

async function ok(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
) {
  const outcome = await run(command, args, options);
  assert.equal(outcome.code, 0, `${command} ${args.join(' ')}:\n${outcome.stdout}\n${outcome.stderr}`);
  return outcome;
}

/** A base port whose one-SPU local-cluster layout is entirely free. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const layout = layoutCluster({ basePort: await stablePort(), spus: 1 });
    if (layoutProblem(layout) === undefined && (await takenPorts(clusterPorts(layout))).length === 0)
      return layout.basePort;
  }
  throw new Error('no free port layout found');
}

describe('the packed package installed into an empty project', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let project: string;
  let tideHome: string;

  before(async () => {
    temp = await makeTempDir('tide-packaging-');
    const packed = await ok('npm', ['pack', '--silent', '--pack-destination', temp.path], { cwd: root });
    const tarball = join(temp.path, packed.stdout.trim().split('\n').at(-1)!);
    project = join(temp.path, 'project');
    tideHome = join(temp.path, 'home');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      '{ "name": "tide-user", "private": true, "type": "module" }\n',
    );
    await ok(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        tarball,
        `vitest@${vitestVersion}`,
        `@types/node@${manifest.devDependencies['@types/node']}`,
      ],
      { cwd: project },
    );
  });

  after(async () => {
    // Whatever happened, the cluster `tide cluster start` left in the background goes.
    const record = tideHome === undefined ? undefined : await readCluster(join(tideHome, 'local'));
    for (const pid of [record?.sc.pid, ...(record?.spus ?? []).map((spu) => spu.pid)]) {
      if (pid !== undefined && pid !== null && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await temp?.remove();
  });

  const installed = (): string => join(project, 'node_modules', ...manifest.name.split('/'));

  test('ships compiled JavaScript and declarations, no sources, and no build tools to run', () => {
    for (const file of ['bin/tide.js', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js'])
      assert.ok(existsSync(join(installed(), file)), file);
    for (const absent of ['src', 'tests', 'bench', 'tools', 'dist/index.test.js'])
      assert.equal(existsSync(join(installed(), absent)), false, absent);
    const dependencies = Object.keys(
      (JSON.parse(readFileSync(join(installed(), 'package.json'), 'utf8')) as { dependencies: object })
        .dependencies,
    );
    assert.equal(dependencies.includes('esbuild'), false);
    assert.equal(dependencies.includes('tsx'), false);
  });

  test('npx tide: version with its revision, then a cluster plain Node round-trips a record on', async () => {
    const env = { ...process.env, TIDE_HOME: tideHome, TIDE_CONFIG: join(tideHome, 'config.toml') };
    const version = await ok('npx', ['tide', 'version'], { cwd: project, env });
    assert.match(version.stdout, /^tide \d+\.\d+\.\d+\nrevision [0-9a-f]{12}(-dirty)?\n/);
    const basePort = await freeBasePort();
    const started = await ok('npx', ['tide', 'cluster', 'start', '--base-port', String(basePort)], {
      cwd: project,
      env,
    });
    const bootstrap = started.stdout.trim();
    assert.equal(bootstrap, `127.0.0.1:${basePort}`);
    const script = `
      import { Offset, Tide } from '${manifest.name}';
      const tide = await Tide.connect({ bootstrap: '${bootstrap}' });
      await tide.admin().createTopic('packaged', { partitions: 1 });
      const producer = tide.producer('packaged');
      await producer.send({ key: 'k', value: 'from the tarball' });
      await producer.close();
      for await (const record of tide.consumer('packaged', { offset: Offset.beginning(), until: Offset.end() }))
        console.log(record.key.toString() + '=' + record.value.toString());
      await tide.close();`;
    const roundTrip = await ok(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
      env,
    });
    assert.equal(roundTrip.stdout, 'k=from the tarball\n');
    await ok('npx', ['tide', 'cluster', 'delete'], { cwd: project, env });
  });

  test('a TypeScript consumer compiles against the declarations with tsc --strict', async () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { Offset, Tide, TideClientError, type ProducerRecord } from '${manifest.name}';
import { startCluster, type TideTestCluster } from '${manifest.name}/testing';

const cluster: TideTestCluster = await startCluster({ spus: 1 });
const tide: Tide = cluster.tide;
const record: ProducerRecord = { key: 'k', value: Buffer.from('v') };
const sent: { partition: number; offset: bigint } = await tide.producer('t').send(record);
const offset: Offset = Offset.beginning();
const failed: boolean = new Error() instanceof TideClientError;
export { failed, offset, sent };
await cluster.stop();
`,
    );
    // No "types" entry: the declarations must bring in Node's types themselves.
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', noEmit: true },
        files: ['consumer.ts'],
      }),
    );
    await ok(process.execPath, [tsc, '-p', project], { cwd: project });
    // And the check has teeth: a wrong type is reported.
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { Tide } from '${manifest.name}';\nconst n: number = Tide;\n`,
    );
    const wrong = await run(process.execPath, [tsc, '-p', project], { cwd: project });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stdout, /TS2322/);
  });

  test('startCluster() from the testing entry under node:test and vitest (the examples)', async () => {
    for (const example of ['node-test.test.js', 'vitest.test.ts'])
      copyFileSync(join(root, 'examples', 'testing', example), join(project, example));
    // Not as a subtest of this run: the example reports on its own, as in the user's project.
    const { NODE_TEST_CONTEXT: _, ...ownEnv } = process.env;
    const nodeTest = await ok(process.execPath, ['--test', '--test-reporter=tap', 'node-test.test.js'], {
      cwd: project,
      env: ownEnv,
    });
    assert.match(nodeTest.stdout, /# pass 1\n# fail 0/);
    const vitest = await ok('npx', ['vitest', 'run', 'vitest.test.ts'], {
      cwd: project,
      env: { ...ownEnv, NO_COLOR: '1', CI: '1' },
    });
    assert.match(vitest.stdout, /1 passed/);
  });
});
