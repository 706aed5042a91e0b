/**
 * Tables on a terminal fit its width (cells cut with `…`, widest columns first), `--wide` keeps full
 * lines, and a pipe always gets full lines. The terminal is a real pseudo-terminal (`script`), set
 * to 60 columns with `stty`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { tideCli } from './helpers/cli-kit.ts';
import { createTopic } from './helpers/client-kit.ts';

const tideBin = resolve(import.meta.dirname, '..', 'bin', 'tide.js');
const terminalColumns = 60;
const longName = `orders-${'x'.repeat(70)}`;

after(stopAll);

/** Runs `tide ARGS` in a pseudo-terminal of `terminalColumns` columns; resolves with its lines. */
function inTerminal(args: readonly string[]): Promise<string[]> {
  const command = `stty cols ${terminalColumns}; "${process.execPath}" "${tideBin}" ${args.join(' ')}`;
  return new Promise((done, fail) => {
    execFile(
      '/usr/bin/script',
      ['-qfec', command, '/dev/null'],
      { env: { ...process.env, NO_COLOR: '1', TIDE_CONFIG: '/nonexistent/tide-test.toml' }, timeout: 60_000 },
      (error, stdout) => {
        if (error !== null) fail(error);
        else done(stdout.split(/\r?\n/).filter((line) => line.trim() !== ''));
      },
    );
  });
}

describe('table width', () => {
  let spu: TestSpu;

  before(async () => {
    spu = await startSpu();
    await createTopic(spu, longName, 1);
  });
  after(async () => {
    await spu?.destroy();
  });

  it('fits the terminal, cutting cells with …', async () => {
    const lines = await inTerminal(['topic', 'list', '--bootstrap', spu.bootstrap]);
    assert.ok(lines.length >= 2, lines.join('\n'));
    for (const line of lines) assert.ok([...line].length <= terminalColumns, `${[...line].length}: ${line}`);
    assert.match(lines[1] ?? '', /^orders-x+…\s+1\s+1/);
  });

  it('--wide and a pipe keep full lines', async () => {
    const wide = await inTerminal(['topic', 'list', '--wide', '--bootstrap', spu.bootstrap]);
    assert.ok(
      wide.some((line) => line.includes(longName)),
      wide.join('\n'),
    );
    const piped = await tideCli(['topic', 'list', '--bootstrap', spu.bootstrap]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(piped.stdout.includes(longName));
  });
});
