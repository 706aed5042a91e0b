/**
 * The README, followed top to bottom as a new user would: its shell blocks run in order in a fresh
 * HOME against a local cluster started as the set-up says (on free ports), and its TypeScript
 * snippet is type-checked and run where it stands. A block preceded by a
 * `<!-- readme-test: skip (why) -->` line is not run (the set-up itself, chaos, benchmarks, fragments).
 * `npx tide` is served by a stand-in `npx` that runs this checkout's bin/tide.js (no registry), and
 * the README's 127.0.0.1:9092 becomes the cluster's first SPU.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../src/testing/processes.ts';
import { freeBasePort, type TideOutcome } from './helpers/cli-kit.ts';

const root = resolve(import.meta.dirname, '..');
const skipMarker = /^<!--\s*readme-test:\s*skip\b/;
const readmeDefaults = Object.freeze({
  blockTimeoutMs: 180_000, // ms one block may run (a partition move waits for the copy)
  startAttempts: 3, // layouts tried when another test takes a port between the check and the start
});

interface Block {
  readonly language: 'sh' | 'ts';
  readonly line: number;
  readonly text: string;
}

/** The README's ```sh and ```ts blocks in order, without those marked to skip. */
function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let at = 0; at < lines.length; at++) {
    const fence = /^```(sh|ts)\s*$/.exec(lines[at] ?? '');
    if (fence === null) continue;
    const end = lines.findIndex((line, index) => index > at && line.startsWith('```'));
    assert.ok(end > at, `README line ${at + 1}: unclosed block`);
    let before = at - 1;
    while (before >= 0 && lines[before]?.trim() === '') before--;
    if (!skipMarker.test(lines[before] ?? '')) {
      blocks.push({
        language: fence[1] as 'sh' | 'ts',
        line: at + 1,
        text: lines.slice(at + 1, end).join('\n'),
      });
    }
    at = end;
  }
  return blocks;
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<TideOutcome> {
  return new Promise((done) => {
    const child = execFile(
      command,
      args,
      { ...options, timeout: readmeDefaults.blockTimeoutMs, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end('');
  });
}

describe('the README, top to bottom', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let basePort = 0;

  before(async () => {
    temp = await makeTempDir('tide-readme-');
    work = join(temp.path, 'work');
    const bin = join(temp.path, 'bin');
    await Promise.all([mkdir(work), mkdir(bin), mkdir(join(temp.path, 'home'))]);
    // A new project's folder: ES modules, so the snippet's top-level await works.
    await writeFile(join(work, 'package.json'), '{ "type": "module" }\n');
    const npx = join(bin, 'npx');
    await writeFile(
      npx,
      `#!/bin/sh\n[ "$1" = tide ] || { echo "the README test serves only npx tide" >&2; exit 127; }\n` +
        `shift\nexec "${process.execPath}" "${join(root, 'bin', 'tide.js')}" "$@"\n`,
    );
    await chmod(npx, 0o755);
    const { TIDE_HOME: _home, TIDE_CONFIG: _config, ...inherited } = process.env;
    env = { ...inherited, HOME: join(temp.path, 'home'), PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
    // The set-up's `npx tide cluster start`, on a free layout instead of 9092.
    let started: TideOutcome | undefined;
    for (let attempt = 0; attempt < readmeDefaults.startAttempts && started?.code !== 0; attempt++) {
      basePort = await freeBasePort(3);
      started = await run('npx', ['tide', 'cluster', 'start', '--base-port', String(basePort)], {
        cwd: work,
        env,
      });
    }
    assert.equal(started?.code, 0, started?.stderr);
  });
  after(async () => {
    // The README ends by deleting the cluster; this also stops it when a block failed earlier.
    if (env !== undefined) await run('npx', ['tide', 'cluster', 'delete'], { cwd: work, env });
    await temp?.remove();
  });

  it('every shell block succeeds and the TypeScript snippet compiles and runs', async () => {
    const markdown = await readFile(join(root, 'README.md'), 'utf8');
    const blocks = readmeBlocks(markdown);
    assert.ok(
      blocks.some((block) => block.language === 'ts'),
      'the README has a TypeScript snippet',
    );
    for (const block of blocks) {
      const text = block.text.replaceAll('127.0.0.1:9092', `127.0.0.1:${basePort}`);
      const outcome =
        block.language === 'sh'
          ? await run('bash', ['-euo', 'pipefail', '-c', text], { cwd: work, env })
          : await runSnippet(text, { cwd: work, env });
      const shown = `README block at line ${block.line}:\n${text}\nstdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`;
      assert.equal(outcome.code, 0, shown);
      assert.doesNotMatch(outcome.stderr, /already running|^error:/m, shown);
      if (block.language === 'ts') {
        const lines = outcome.stdout.split('\n').filter((line) => line.startsWith('{"'));
        const record = JSON.parse(lines[0] ?? 'null') as { topic: string; offset: number; key: string };
        assert.deepEqual([record.topic, record.offset, record.key], ['payments', 0, 'ada'], shown);
      }
    }
  });
});

/** Type-checks the snippet with the project's compiler settings, then runs it with tsx. */
async function runSnippet(
  text: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<TideOutcome> {
  const { name } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string };
  const source = text.replaceAll(`from '${name}'`, `from '${join(root, 'src', 'index.ts')}'`);
  const file = join(options.cwd, 'snippet.ts');
  await writeFile(file, source);
  const tsconfig = join(options.cwd, 'tsconfig.json');
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { typeRoots: [join(root, 'node_modules', '@types')] },
      include: [],
      files: [file],
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const checked = await run(process.execPath, [tsc, '-p', tsconfig], options);
  if (checked.code !== 0) return { ...checked, stderr: `tsc:\n${checked.stdout}${checked.stderr}` };
  const tsx = fileURLToPath(import.meta.resolve('tsx'));
  return run(process.execPath, ['--import', tsx, file], options);
}
