/**
 * A long fuzzing run against a real SPU, by hand (CI runs a short one in tests/spu-bad-input.test.ts):
 * `npx tsx tools/fuzz-spu.ts [inputs] [seed]` sends that many mutated inputs (default 1,000,000) —
 * mutated request frames and Produce requests with mutated records inside valid batches, to one topic
 * that keeps the producer's codec and one that recompresses to lz4 — over several connections, while
 * it samples the SPU's RSS from /proc and checks its liveness with ApiVersions round trips on a
 * separate connection. It prints inputs, duration, peak RSS and the outcome, and exits non-zero if
 * the SPU died, a liveness round trip failed, or any stored batch does not decode.
 */
import { readFile } from 'node:fs/promises';
import { splitBatches } from '../src/protocol/batch-header.ts';
import { decodeRecordBatch } from '../src/protocol/record-batch.ts';
import { type FuzzStats, fuzzCorpus, runFuzzWorker } from '../src/testing/frame-fuzzer.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const inputs = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 0x5eed_1000);
const workers = 6; // concurrent fuzzing connections
const sampleMs = 250; // RSS sampling and liveness period
const topics = ['fuzz', 'fuzz-lz4'];

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

function connect(spu: TestSpu): Promise<WireClient> {
  return WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 10_000 });
}

/** Samples RSS and does ApiVersions round trips until `stop.done`. */
async function watch(spu: TestSpu, stop: { done: boolean }) {
  const client = await connect(spu);
  const result = { rssMaxBytes: 0, roundTrips: 0, failures: [] as string[] };
  try {
    while (!stop.done) {
      result.rssMaxBytes = Math.max(result.rssMaxBytes, await rssBytes(spu.process.pid));
      try {
        await client.apiVersions();
        result.roundTrips++;
      } catch (error) {
        result.failures.push(String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, sampleMs));
    }
  } finally {
    await client.close();
  }
  return result;
}

/** Decodes every stored batch of a topic's partition 0; returns the record count. */
async function decodeWholeLog(spu: TestSpu, topic: string): Promise<number> {
  const client = await connect(spu);
  let next = 0n;
  let records = 0;
  try {
    for (;;) {
      const response = await client.fetch(topic, 0, next, { maxBytes: 1024 * 1024 });
      const { batches } = splitBatches(response.responses[0]!.partitions[0]!.records ?? Buffer.alloc(0));
      if (batches.length === 0) return records;
      for (const batch of batches) {
        const decoded = decodeRecordBatch(batch);
        if (decoded.baseOffset !== next)
          throw new Error(`${topic}: batch at ${decoded.baseOffset}, expected ${next}`);
        records += decoded.records.length;
        next = decoded.baseOffset + BigInt(decoded.lastOffsetDelta) + 1n;
      }
    }
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const spu = await startSpu();
  try {
    const admin = await connect(spu);
    await admin.createTopics([
      { name: 'fuzz' },
      { name: 'fuzz-lz4', configs: { 'compression.type': 'lz4' } },
    ]);
    await admin.close();
    const rssStartBytes = await rssBytes(spu.process.pid);
    const stop = { done: false };
    const watching = watch(spu, stop);
    const startedMs = performance.now();
    const stats: FuzzStats[] = await Promise.all(
      Array.from({ length: workers }, (_, worker) => {
        const topic = topics[worker % topics.length]!;
        const corpus = fuzzCorpus(topic);
        const frames = Math.ceil(inputs / workers);
        return runFuzzWorker({ port: spu.port, corpus, seed: seed + worker, frames, recordsTopic: topic });
      }),
    );
    const durationS = (performance.now() - startedMs) / 1000;
    stop.done = true;
    const watched = await watching;
    const sum = (field: keyof FuzzStats): number => stats.reduce((total, each) => total + each[field], 0);
    const stored = await Promise.all(topics.map((topic) => decodeWholeLog(spu, topic)));
    const alive = spu.process.child.exitCode === null;
    const report = {
      seed,
      inputsMutated: sum('framesMutated'),
      recordBatchesMutated: sum('recordFramesSent'),
      framesSent: sum('framesSent'),
      responses: sum('responses'),
      connections: sum('connections'),
      outOfOrderResponses: sum('outOfOrderResponses'),
      durationS: Math.round(durationS),
      rssStartMiB: Math.round(rssStartBytes / 2 ** 20),
      rssMaxMiB: Math.round(watched.rssMaxBytes / 2 ** 20),
      livenessRoundTrips: watched.roundTrips,
      livenessFailures: watched.failures.length,
      storedRecordsDecoded: stored,
      spuAlive: alive,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const failed = !alive || watched.failures.length > 0 || report.outOfOrderResponses > 0;
    process.exitCode = failed ? 1 : 0;
  } finally {
    await spu.destroy();
    await stopAll();
  }
}

await main();
