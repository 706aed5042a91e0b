import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../src/client/cluster-client.ts';
import { Producer } from '../src/client/producer.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { createTopic, runTide } from './helpers/client-kit.ts';

/** `tide consume` as a spawned process against a real SPU holding two partitions of known records. */

const timestampMs = 1_700_000_000_000;

describe('tide consume', () => {
  let spu: TestSpu;
  const consume = async (...args: string[]): Promise<string[]> => {
    const result = await runTide(['consume', 'events', '--bootstrap', spu.bootstrap, ...args]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.split('\n').filter((line) => line !== '');
  };

  before(async () => {
    spu = await startSpu();
    await createTopic(spu, 'events', 2);
    const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
    const producer = new Producer(cluster, 'events');
    // Partition 0: a0…a9, partition 1: b0…b4; keys k-a0…, header src=test, fixed timestamps.
    await producer.sendBatch([
      ...Array.from({ length: 10 }, (_, i) => ({
        partition: 0,
        key: `k-a${i}`,
        value: `a${i}`,
        timestamp: timestampMs + i,
      })),
      ...Array.from({ length: 5 }, (_, i) => ({
        partition: 1,
        key: `k-b${i}`,
        value: `b${i}`,
        timestamp: timestampMs + i,
        headers: { src: 'test' },
      })),
    ]);
    await producer.close();
    await cluster.close();
  });
  after(async () => {
    await spu?.destroy();
    await stopAll();
  });

  test('-B -d reads every partition; -p chooses; -k shows keys', async () => {
    const all = await consume('-B', '-d');
    assert.deepEqual(
      [...all].sort(),
      [
        ...Array.from({ length: 10 }, (_, i) => `a${i}`),
        ...Array.from({ length: 5 }, (_, i) => `b${i}`),
      ].sort(),
    );
    assert.deepEqual(
      await consume('-B', '-d', '-p', '1', '-k'),
      Array.from({ length: 5 }, (_, i) => `[k-b${i}] b${i}`),
    );
  });

  test('-T N, -H N, --start and --end select ranges', async () => {
    assert.deepEqual(await consume('-T', '2', '-d', '-p', '0'), ['a8', 'a9']);
    assert.deepEqual(await consume('-H', '3', '-p', '0'), ['a0', 'a1', 'a2']);
    assert.deepEqual(await consume('--start', '4', '--end', '6', '-p', '0'), ['a4', 'a5', 'a6']);
    assert.deepEqual(await consume('--start', '3', '-d', '-p', '1'), ['b3', 'b4']);
  });

  test('-F templates and -O json, raw and table', async () => {
    assert.deepEqual(
      await consume(
        '-B',
        '-d',
        '-p',
        '1',
        '-F',
        '{{partition}}:{{offset}} {{key}}={{value}} {{timestamp}} {{headers}}',
      ),
      [...Array.from({ length: 5 }, (_, i) => `1:${i} k-b${i}=b${i} ${timestampMs + i} src=test`)],
    );
    const json = (await consume('-H', '1', '-p', '1', '-O', 'json')).map((line) => JSON.parse(line));
    assert.deepEqual(json, [
      {
        topic: 'events',
        partition: 1,
        offset: 0,
        timestamp: timestampMs,
        key: 'k-b0',
        value: 'b0',
        headers: [{ key: 'src', value: 'test' }],
      },
    ]);
    const raw = await runTide([
      'consume',
      'events',
      '--bootstrap',
      spu.bootstrap,
      '-H',
      '3',
      '-p',
      '0',
      '-O',
      'raw',
    ]);
    assert.equal(raw.stdout, 'a0\na1\na2\n', 'values end with the separator, a newline by default');
    const table = await consume('-H', '2', '-p', '0', '-O', 'table');
    assert.match(table[0]!, /^PARTITION\s+OFFSET\s+TIME\s+KEY\s+VALUE$/);
    assert.match(table[1]!, /^0\s+0\s+2023-11-14T22:13:20.000Z\s+k-a0\s+a0$/);
    assert.equal(table.length, 3);
  });

  test('-O yaml, --encoding base64|hex for binary data, repeated header keys, --separator', async () => {
    const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
    await createTopic(spu, 'binary', 1);
    const producer = new Producer(cluster, 'binary');
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    await producer.send({
      key: bytes,
      value: bytes,
      headers: [
        { key: 'hop', value: Buffer.from('a') },
        { key: 'hop', value: Buffer.from('b') },
      ],
    });
    await producer.send({ value: 'second' });
    await producer.close();
    await cluster.close();
    const read = async (...args: string[]) => {
      const result = await runTide(['consume', 'binary', '--bootstrap', spu.bootstrap, '-d', ...args]);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout;
    };
    const [base64] = (await read('-B', '-O', 'json', '--encoding', 'base64'))
      .split('\n')
      .map((line) => JSON.parse(line || 'null'));
    assert.deepEqual([base64.key, base64.value], ['/wD+', '/wD+']);
    assert.deepEqual(base64.headers, [
      { key: 'hop', value: 'YQ==' },
      { key: 'hop', value: 'Yg==' },
    ]);
    assert.equal((await read('--encoding', 'hex', '-k', '-H', '1')).trim(), '[ff00fe] ff00fe');
    const yaml = await read('-B', '-O', 'yaml');
    assert.equal(yaml.match(/^---$/gm)?.length, 2, yaml);
    assert.match(yaml, /^offset: 1$/m);
    assert.match(yaml, /^value: second$/m);
    assert.match(yaml, /^headers:\n {2}- key: hop\n {4}value: a\n {2}- key: hop\n {4}value: b$/m);
    assert.equal(await read('-O', 'raw', '--separator', '', '-T', '1'), 'second');
    assert.equal(await read('-O', 'raw', '--separator', '\\0', '-T', '1'), 'second\0');
  });

  test('--isolation read_committed reads the same (no transactions here)', async () => {
    assert.deepEqual(await consume('-H', '2', '-p', '0', '--isolation', 'read_committed'), ['a0', 'a1']);
  });

  test('by default it waits at the end for new records and prints them as they come', async () => {
    const child = spawn(
      process.execPath,
      ['bin/tide.js', 'consume', 'events', '--bootstrap', spu.bootstrap, '-p', '0', '--max-wait', '100'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
      const producer = new Producer(cluster, 'events', { lingerMs: 0 });
      // The consumer starts at the end once it is connected: send until a record shows up.
      const first = lines.next();
      let sent = 0;
      let printed: IteratorResult<string> | undefined;
      while (printed === undefined && sent < 500) {
        await producer.send({ partition: 0, value: `live-${sent++}` });
        printed = await Promise.race([
          first,
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50)),
        ]);
      }
      assert.match(printed!.value, /^live-\d+$/);
      await producer.close();
      await cluster.close();
    } finally {
      child.kill('SIGINT');
    }
    const code = await new Promise((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    assert.equal(code, 0);
  });

  test('bad options exit with 2', async () => {
    const bad = [
      ['-B', '-T', '3'],
      ['-H', '2', '--end', '5'],
      ['--start', 'x'],
      ['--start', '5', '--end', '2'],
      ['-p', 'one'],
      ['-O', 'xml'],
      ['--isolation', 'serializable'],
      ['-T', '-1'],
    ];
    for (const args of bad) {
      const result = await runTide(['consume', 'events', '--bootstrap', spu.bootstrap, ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
  });

  test('a reader that stops early (| head) ends it quietly with exit code 0', async () => {
    const child = spawn(
      process.execPath,
      [
        'bin/tide.js',
        'consume',
        'events',
        '--bootstrap',
        spu.bootstrap,
        '-B',
        '-p',
        '0',
        '--max-wait',
        '100',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Read the first line, then close the pipe as `head -1` does; the consumer keeps writing.
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    assert.equal((await lines.next()).value, 'a0');
    child.stdout!.destroy();
    const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
    const producer = new Producer(cluster, 'events', { lingerMs: 0 });
    try {
      let code: number | null | undefined;
      for (let sent = 0; code === undefined && sent < 200; sent++) {
        await producer.send({ partition: 0, value: `after-close-${sent}` });
        code = await Promise.race([
          exited,
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50)),
        ]);
      }
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /EPIPE/);
    } finally {
      child.kill('SIGKILL');
      await producer.close();
      await cluster.close();
    }
  });
});
