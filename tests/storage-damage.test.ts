/**
 * Damage in a closed segment of a real SPU: 64 bytes overwritten in the middle of the second
 * segment. kcat, reading from the beginning with its usual 1 MiB fetches, must get every record
 * stored before the damaged batch and reach the end of the partition (not retry forever), and the
 * SPU must say so: a log line, a counter on /metrics and the partition named in /health.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const run = promisify(execFile);
const topic = 'damaged';
const batchCount = 40;
const recordsPerBatch = 10;

after(stopAll);

function recordValue(offset: number): string {
  return `value-${offset}-${'x'.repeat(48)}`;
}

async function produceBatches(spu: TestSpu): Promise<void> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  try {
    const created = await client.createTopics([
      { name: topic, configs: { 'segment.bytes': '4096', 'retention.ms': '-1' } },
    ]);
    assert.equal(created.topics[0]!.errorCode, errorCodes.NONE);
    for (let batch = 0; batch < batchCount; batch++) {
      const records = Array.from({ length: recordsPerBatch }, (_, index) => ({
        key: null,
        value: Buffer.from(recordValue(batch * recordsPerBatch + index)),
        timestamp: BigInt(Date.now()),
      }));
      const response = await client.produce(topic, 0, encodeRecordBatch({ records }));
      assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
    }
  } finally {
    await client.close();
  }
}

/** Overwrites 64 bytes in the middle of the second segment; returns the first offset it may hit. */
async function damageSecondSegment(dataDir: string): Promise<{ firstDamaged: number; lastBase: number }> {
  const dir = join(dataDir, `${topic}-0`);
  const logs = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
  assert.ok(logs.length >= 4, `several segments (${logs.length})`);
  const content = await readFile(join(dir, logs[1]!));
  const middle = Math.floor(content.length / 2);
  let position = 0;
  let firstDamaged = -1;
  while (position < content.length) {
    const length = content.readInt32BE(position + 8) + 12;
    if (position + length > middle) {
      firstDamaged = Number(content.readBigInt64BE(position));
      break;
    }
    position += length;
  }
  const file = await open(join(dir, logs[1]!), 'r+');
  try {
    await file.write(Buffer.alloc(64, 0xa5), 0, 64, middle);
  } finally {
    await file.close();
  }
  return { firstDamaged, lastBase: Number(logs.at(-1)!.replace('.log', '')) };
}

it('returns the intact records before damage in a closed segment, and reports the damage', async () => {
  const first = await startSpu();
  let spu = first;
  try {
    await produceBatches(first);
    assert.equal(await first.stop('SIGTERM'), 0);
    const { firstDamaged, lastBase } = await damageSecondSegment(first.dataDir);
    spu = await first.restart();
    const { stdout } = await run(
      '/usr/bin/kcat',
      ['-b', spu.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o %s\n'],
      { timeout: 30_000, maxBuffer: 16 << 20 },
    );
    const records = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [offset, value] = line.split(' ');
        return { offset: Number(offset), value: value! };
      });
    for (const record of records) assert.equal(record.value, recordValue(record.offset));
    const offsets = records.map((record) => record.offset);
    assert.deepEqual(
      offsets.filter((offset) => offset < firstDamaged),
      Array.from({ length: firstDamaged }, (_, index) => index),
      'every record before the damaged batch',
    );
    assert.ok(offsets.includes(lastBase), 'the intact segments after the damage are served too');
    assert.ok(offsets.at(-1) === batchCount * recordsPerBatch - 1, 'kcat reached the end');

    const metrics = await (await fetch(`http://127.0.0.1:${spu.httpPort}/metrics`)).text();
    const corrupt = /^tide_storage_corrupt_reads_total (\d+)$/m.exec(metrics);
    assert.ok(corrupt !== null && Number(corrupt[1]) >= 1, 'the damage is counted on /metrics');
    assert.match(metrics, /^tide_damaged_partitions 1$/m);
    const health = (await (await fetch(`http://127.0.0.1:${spu.httpPort}/health`)).json()) as {
      damagedPartitions?: string[];
    };
    assert.deepEqual(health.damagedPartitions, [`${topic}-0`]);
    assert.ok(
      spu.process.logs.some((line) => line.includes('corrupt-read')),
      'the damage is logged',
    );
  } finally {
    await spu.destroy();
    await first.destroy();
  }
});
