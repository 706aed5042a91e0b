/**
 * Decompression bombs against a real SPU: four connections at once each send one ~20 KB Produce of
 * eight zstd batches whose records decompress to 48 MiB each, to a topic that recompresses to lz4.
 * The SPU's peak RSS (VmHWM from /proc) may grow by a bounded amount — a few codec buffers, not one
 * per batch (which was ~60 MB per 2 KB batch, over 2 GB here) — and a well-behaved client doing
 * round trips meanwhile is served throughout.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { batchFromSection, recordWithFields } from '../../src/testing/poison-batches.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { WireClient } from '../../src/testing/wire-client.ts';

const valueBytes = 48 * 1024 * 1024; // bytes each batch's one record decompresses to
const batchesPerRequest = 8;
const connections = 4;
/** Generous: two codec slots' buffers and the garbage collector's lag, far below one buffer per batch. */
const peakGrowthBytesMax = 800 * 1024 * 1024; // bytes

let spu: TestSpu;

before(async () => {
  spu = await startSpu();
  const admin = await connect();
  const created = await admin.createTopics([{ name: 'to-lz4', configs: { 'compression.type': 'lz4' } }]);
  assert.equal(created.topics[0]!.errorCode, errorCodes.NONE);
  await admin.close();
});

after(async () => {
  await spu?.destroy();
  await stopAll();
});

function connect(): Promise<WireClient> {
  return WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 120_000 });
}

async function memoryBytes(field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${spu.process.pid}/status`, 'utf8');
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  assert.ok(kib !== undefined, `${field} in /proc/${spu.process.pid}/status`);
  return Number(kib) * 1024;
}

describe('decompression bombs', () => {
  it('hold bounded memory and do not starve other clients', { timeout: 300_000 }, async () => {
    const bomb = batchFromSection(recordWithFields({ value: Buffer.alloc(valueBytes) }), { codec: 'zstd' });
    const request = Buffer.concat(Array.from({ length: batchesPerRequest }, () => bomb));
    assert.ok(request.length < 64 * 1024, `the request is small on the wire (${request.length} bytes)`);
    const baselineBytes = await memoryBytes('VmRSS');
    const bystander = await connect();
    const bombers = await Promise.all(Array.from({ length: connections }, connect));
    let bombsDone = false;
    let roundTrips = 0;
    const bystanding = (async () => {
      while (!bombsDone) {
        assert.equal((await bystander.apiVersions()).errorCode, errorCodes.NONE);
        roundTrips++;
      }
    })();
    try {
      const answers = await Promise.all(bombers.map((client) => client.produce('to-lz4', 0, request)));
      bombsDone = true;
      await bystanding;
      for (const answer of answers) {
        // Valid records: stored, recompressed far below max.message.bytes.
        assert.equal(answer.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
      }
      const growthBytes = (await memoryBytes('VmHWM')) - baselineBytes;
      assert.ok(
        growthBytes < peakGrowthBytesMax,
        `peak RSS grew by ${Math.round(growthBytes / 2 ** 20)} MiB for ${connections * batchesPerRequest} bombs`,
      );
      assert.ok(roundTrips >= 1, 'the bystander was served while the bombs were processed');
      assert.equal(spu.process.child.exitCode, null, 'the SPU is still running');
    } finally {
      bombsDone = true;
      await bystanding.catch(() => undefined);
      await Promise.all([bystander, ...bombers].map((client) => client.close()));
    }
  });
});
