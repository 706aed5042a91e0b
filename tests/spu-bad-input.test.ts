/**
 * Bad input against a real SPU process. First exact answers for specific malformed requests, then a
 * seeded mutation run: well over 100,000 frames (valid requests of several APIs and versions, then
 * bit-flipped, truncated, with length fields edited, with wrong API keys and versions, with oversized
 * or negative length prefixes, or plain garbage) sent pipelined over many connections, reconnecting
 * whenever the SPU closes one. Meanwhile one well-behaved client does ApiVersions round trips and
 * another produces known records. Afterwards the SPU is alive and healthy, every well-behaved request
 * succeeded, and kcat reads back exactly the well-behaved records plus its own.
 *
 * Set TIDE_FUZZ_SEED to replay a run; the seed is printed in every failure message.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { splitBatches } from '../src/protocol/batch-header.ts';
import { FrameDecoder } from '../src/protocol/frame-decoder.ts';
import { decodeApiVersionsResponse } from '../src/protocol/messages/api-versions.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { decodeResponseHeader } from '../src/protocol/messages/response-header.ts';
import { Reader } from '../src/protocol/reader.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { Writer } from '../src/protocol/writer.ts';
import { type FuzzStats, fuzzCorpus, runFuzzWorker } from '../src/testing/frame-fuzzer.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const execFileAsync = promisify(execFile);
const seed = Number(process.env.TIDE_FUZZ_SEED ?? 0x5eed_2024);
const framesMin = 100_000; // mutated frames the run must send
const workers = 6; // concurrent fuzzing connections
const cleanTopic = 'clean'; // never named in fuzzed frames, so no mutation can reach it
const fuzzTopic = 'fuzz';

after(stopAll);

let spu: TestSpu;

before(async () => {
  spu = await startSpu();
  const admin = await connectClient();
  const created = await admin.createTopics([{ name: cleanTopic }, { name: fuzzTopic }]);
  for (const topic of created.topics) assert.equal(topic.errorCode, 0, `create ${topic.name}`);
  await admin.close();
});

after(async () => {
  await spu?.destroy();
});

function connectClient(): Promise<WireClient> {
  return WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 20_000 });
}

/** A request frame written by hand: header v1 with the given key, version and body. */
function handFrame(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const w = new Writer();
  const size = w.reserve(4);
  w.int16(apiKey).int16(apiVersion).int32(correlationId).nullableString('hand');
  w.raw(body);
  size.buffer.writeInt32BE(w.length - 4, size.offset);
  return w.toBuffer();
}

/** Writes bytes on a fresh connection and resolves when the SPU closes it (with anything it answered). */
function sendAndAwaitClose(bytes: Buffer): Promise<{ answeredFrames: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: spu.port });
    const decoder = new FrameDecoder();
    let answeredFrames = 0;
    socket.on('data', (chunk: Buffer) => {
      answeredFrames += decoder.push(chunk).length;
    });
    socket.on('error', () => undefined); // a reset is one way of being closed
    socket.once('close', () => resolve({ answeredFrames }));
    socket.once('connect', () => socket.write(bytes));
    setTimeout(() => reject(new Error('the SPU did not close the connection')), 10_000).unref();
  });
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

async function requestsTotal(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${spu.httpPort}/metrics`)).text();
  return Number(/^tide_requests_total (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('SPU answers to specific bad requests', () => {
  it('answers ApiVersions v99 with UNSUPPORTED_VERSION in a v0 response listing its ranges', async () => {
    const client = await connectClient();
    const response = await client.requestFrame(handFrame(18, 99, 4242, Buffer.alloc(0)), {
      apiKey: 18,
      apiVersion: 99,
      correlationId: 4242,
    });
    const reader = new Reader(response);
    assert.equal(decodeResponseHeader(reader, 0).correlationId, 4242);
    const body = decodeApiVersionsResponse(reader, 0);
    assert.equal(reader.remaining, 0, 'a v0 body exactly');
    assert.equal(body.errorCode, errorCodes.UNSUPPORTED_VERSION);
    const ranges = new Map(body.apiKeys.map((api) => [api.apiKey, [api.minVersion, api.maxVersion]]));
    assert.deepEqual(ranges.get(18), [0, 3]);
    assert.deepEqual(ranges.get(0), [0, 9]);
    assert.deepEqual(ranges.get(1), [4, 12]);
    // The same connection still works: the client can pick a version and retry.
    assert.equal((await client.apiVersions(3)).errorCode, 0);
    await client.close();
  });

  it('closes the connection on an unknown API key', async () => {
    for (const apiKey of [999, -1, 7, 32767]) {
      const { answeredFrames } = await sendAndAwaitClose(handFrame(apiKey, 0, 1, Buffer.alloc(16)));
      assert.equal(answeredFrames, 0, `api key ${apiKey}`);
    }
  });

  it('closes the connection on a negative or oversized length prefix without allocating it', async () => {
    const before = await rssBytes(spu.process.pid);
    for (const length of [-1, 200 * 1024 * 1024, 0x7fffffff, -0x80000000]) {
      const bytes = Buffer.alloc(4 + 64, 0x41);
      bytes.writeInt32BE(length, 0);
      const { answeredFrames } = await sendAndAwaitClose(bytes);
      assert.equal(answeredFrames, 0, `length ${length}`);
    }
    const grownBytes = (await rssBytes(spu.process.pid)) - before;
    assert.ok(grownBytes < 100 * 1024 * 1024, `SPU RSS grew by ${grownBytes} bytes`);
  });

  it('refuses a Produce whose batch fails its CRC with CORRUPT_MESSAGE and appends nothing', async () => {
    const client = await connectClient();
    const endBefore = (await client.fetch(fuzzTopic, 0, 0n)).responses[0]!.partitions[0]!.highWatermark;
    const batch = encodeRecordBatch({
      records: [{ key: null, value: Buffer.from('corrupt me') }],
    });
    batch[batch.length - 3]! ^= 0x10; // inside the records, which the CRC covers
    const produced = await client.produce(fuzzTopic, 0, batch, { version: 9 });
    assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.CORRUPT_MESSAGE);
    const fetched = await client.fetch(fuzzTopic, 0, endBefore);
    const partition = fetched.responses[0]!.partitions[0]!;
    assert.equal(partition.errorCode, 0);
    assert.equal(partition.highWatermark, endBefore);
    assert.equal(partition.records?.length ?? 0, 0);
    await client.close();
  });
});

/** Does ApiVersions round trips until `stop` is set; counts successes and failures. */
async function pingUntil(stop: { done: boolean }): Promise<{ ok: number; failed: string[] }> {
  const client = await connectClient();
  const result = { ok: 0, failed: [] as string[] };
  while (!stop.done) {
    try {
      const response = await client.apiVersions();
      if (response.errorCode === 0) result.ok++;
      else result.failed.push(`errorCode ${response.errorCode}`);
    } catch (error) {
      result.failed.push(String(error));
      break;
    }
  }
  await client.close();
  return result;
}

/** Produces numbered records to the clean topic until `stop` is set; returns their values in order. */
async function produceUntil(stop: { done: boolean }): Promise<{ values: string[]; failed: string[] }> {
  const client = await connectClient();
  const result = { values: [] as string[], failed: [] as string[] };
  while (!stop.done && result.failed.length === 0) {
    const values = Array.from({ length: 5 }, (_, index) => `clean-${result.values.length + index}`);
    const batch = encodeRecordBatch({
      records: values.map((value) => ({ key: null, value: Buffer.from(value) })),
    });
    try {
      const response = await client.produce(cleanTopic, 0, batch, { acks: 1 });
      const errorCode = response.responses[0]?.partitionResponses[0]?.errorCode;
      if (errorCode === 0) result.values.push(...values);
      else result.failed.push(`errorCode ${errorCode}`);
    } catch (error) {
      result.failed.push(String(error));
    }
  }
  await client.close();
  return result;
}

/** Reads a partition from offset 0 to its end, decoding every batch; throws on any bad one. */
async function decodeWholeLog(topic: string): Promise<{ records: number }> {
  const client = await connectClient();
  let next = 0n;
  let records = 0;
  try {
    for (;;) {
      const response = await client.fetch(topic, 0, next, { maxBytes: 1024 * 1024 });
      const partition = response.responses[0]!.partitions[0]!;
      assert.equal(partition.errorCode, errorCodes.NONE, `fetch ${topic} at ${next}`);
      const { batches } = splitBatches(partition.records ?? Buffer.alloc(0));
      if (batches.length === 0) return { records };
      for (const batch of batches) {
        const decoded = decodeRecordBatch(batch);
        assert.equal(decoded.baseOffset, next, `batches of ${topic} are dense`);
        records += decoded.records.length;
        next = decoded.baseOffset + BigInt(decoded.lastOffsetDelta) + 1n;
      }
    }
  } finally {
    await client.close();
  }
}

async function kcat(args: readonly string[], input?: string): Promise<string> {
  const child = execFileAsync('/usr/bin/kcat', ['-b', spu.bootstrap, ...args], {
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

describe('SPU under a storm of mutated frames', () => {
  it(`survives at least ${framesMin} random and mutated frames`, { timeout: 120_000 }, async (t) => {
    const message = (text: string): string => `${text} (TIDE_FUZZ_SEED=${seed})`;
    const requestsBefore = await requestsTotal();
    const stop = { done: false };
    const pinging = pingUntil(stop);
    const producing = produceUntil(stop);
    const corpus = fuzzCorpus(fuzzTopic);
    const framesPerWorker = Math.ceil(framesMin / workers);
    const stats: FuzzStats[] = await Promise.all(
      Array.from({ length: workers }, (_, worker) =>
        runFuzzWorker({
          port: spu.port,
          corpus,
          seed: seed + worker,
          frames: framesPerWorker,
          recordsTopic: fuzzTopic,
        }),
      ),
    );
    stop.done = true;
    const [pings, produced] = await Promise.all([pinging, producing]);

    const framesSent = stats.reduce((sum, each) => sum + each.framesSent, 0);
    const framesMutated = stats.reduce((sum, each) => sum + each.framesMutated, 0);
    const outOfOrder = stats.reduce((sum, each) => sum + each.outOfOrderResponses, 0);
    const connections = stats.reduce((sum, each) => sum + each.connections, 0);
    const requestsRead = (await requestsTotal()) - requestsBefore;
    const responses = stats.reduce((sum, each) => sum + each.responses, 0);
    t.diagnostic(
      `seed ${seed}: ${framesSent} frames sent (${framesMutated} mutated), ${requestsRead} read by the SPU, ${responses} answered, ` +
        `${connections} connections; ${pings.ok} pings, ${produced.values.length} clean records`,
    );
    assert.ok(framesMutated >= framesMin, message(`sent ${framesMutated} mutated frames`));
    assert.ok(requestsRead >= framesMin, message(`the SPU read ${requestsRead} requests`));
    assert.ok(responses >= framesSent / 10, message(`the SPU answered ${responses} requests`));
    assert.equal(outOfOrder, 0, message('responses out of request order'));
    assert.ok(connections > workers, message('the SPU closed connections on bad frames'));
    const recordFrames = stats.reduce((sum, each) => sum + each.recordFramesSent, 0);
    assert.ok(recordFrames >= framesMin / 4, message(`sent ${recordFrames} batches of mutated records`));
    // Whatever of the mutated records the SPU stored is whole: every batch decodes, offsets dense.
    const stored = await decodeWholeLog(fuzzTopic);
    assert.ok(stored.records > 0, message('some fuzzed batches were valid and stored'));

    // The SPU is alive and healthy, and the well-behaved clients saw no failure.
    assert.equal(spu.process.child.exitCode, null, message('SPU still running'));
    const health = await fetch(`http://127.0.0.1:${spu.httpPort}/health`);
    assert.equal(health.status, 200, message('health'));
    assert.deepEqual(pings.failed, [], message('ApiVersions round trips'));
    assert.ok(pings.ok > 0);
    assert.deepEqual(produced.failed, [], message('well-behaved produces'));
    assert.ok(produced.values.length > 0);

    // Every request the SPU gave up on was malformed: none failed inside a handler.
    const failures = spu.process.logs
      .filter((line) => line.includes('"request failed"'))
      .map((line) => JSON.parse(line) as { errorType?: string; error?: unknown });
    const faults = failures.filter((event) => event.errorType !== 'ProtocolError');
    assert.deepEqual(faults.slice(0, 5), [], message(`${faults.length} requests failed in handlers`));
    assert.ok(failures.length > 0, 'malformed requests were refused');
    assert.ok(!spu.process.logs.some((line) => line.includes('"level":"error"')), message('error logged'));

    // kcat round trip; the clean topic holds exactly what the well-behaved side wrote.
    const kcatValues = Array.from({ length: 50 }, (_, index) => `kcat-${index}`);
    await kcat(['-P', '-t', cleanTopic, '-X', 'acks=1'], `${kcatValues.join('\n')}\n`);
    const consumed = await kcat(['-C', '-t', cleanTopic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n']);
    assert.deepEqual(consumed.split('\n').slice(0, -1), [...produced.values, ...kcatValues], message('log'));
  });
});
