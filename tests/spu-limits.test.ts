/**
 * The SPU's connection limits against a real process: connections beyond `--connections-max` are
 * closed while existing ones keep working, and a client that pipelines requests without ever reading
 * the answers meets backpressure (the SPU stops reading from it) instead of growing the SPU's memory.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { createApiVersionsRequest } from '../src/protocol/messages/api-versions.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { encodeRequestFrame, WireClient } from '../src/testing/wire-client.ts';

after(stopAll);

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  assert.ok(match, 'VmRSS in /proc status');
  return Number(match[1]) * 1024;
}

async function requestsTotal(spu: TestSpu): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${spu.httpPort}/metrics`)).text();
  const match = /^tide_requests_total (\d+)/m.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** Polls `check` until it returns true or the deadline passes. */
async function waitFor(check: () => Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function client(spu: TestSpu): Promise<WireClient> {
  return WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 10_000 });
}

describe('SPU connection limit', () => {
  it('closes connections beyond --connections-max and keeps serving the others', async () => {
    const spu = await startSpu({ args: ['--connections-max', '3'] });
    try {
      const clients = await Promise.all([client(spu), client(spu), client(spu)]);
      for (const each of clients) assert.equal((await each.apiVersions()).errorCode, 0);

      const extra = await client(spu);
      await assert.rejects(extra.apiVersions(), { code: 'CONNECTION_CLOSED' });
      await extra.closed;

      // The three admitted connections are unaffected.
      for (const each of clients) assert.equal((await each.apiVersions()).errorCode, 0);
      assert.ok(spu.process.logs.some((line) => line.includes('connection refused: limit reached')));

      // Once one leaves, a newcomer is admitted (the SPU notices the close asynchronously).
      await clients[0]!.close();
      await waitFor(async () => {
        const next = await client(spu);
        const answered = await next.apiVersions().then(
          (response) => response.errorCode === 0,
          () => false,
        );
        if (answered) clients[0] = next;
        else await next.close();
        return answered;
      }, 'a free connection slot');
      for (const each of clients) assert.equal((await each.apiVersions()).errorCode, 0);
      await Promise.all(clients.map((each) => each.close()));
    } finally {
      await spu.destroy();
    }
  });
});

/** Writes pipelined ApiVersions requests into a socket that never reads, up to `totalBytes`. */
function floodWithoutReading(socket: Socket, totalBytes: number): number {
  const frames: Buffer[] = [];
  for (let index = 0; index < 1024; index++) {
    frames.push(
      encodeRequestFrame(
        { apiKey: 18, apiVersion: 3, correlationId: index, clientId: 'flood' },
        createApiVersionsRequest({ clientSoftwareName: 'flood', clientSoftwareVersion: '1' }),
      ),
    );
  }
  const chunk = Buffer.concat(frames);
  let written = 0;
  while (written < totalBytes) {
    socket.write(chunk);
    written += chunk.length;
  }
  return (written / chunk.length) * frames.length;
}

describe('SPU backpressure', () => {
  it('stops reading from a client that never reads its answers, and serves others', async () => {
    const spu = await startSpu({ args: ['--inflight-requests-max', '16'] });
    const flood = connect({ host: '127.0.0.1', port: spu.port });
    try {
      await new Promise<void>((resolve, reject) => {
        flood.once('connect', resolve);
        flood.once('error', reject);
      });
      flood.pause(); // Never read: answers pile up in the kernel, then in the SPU.
      const baselineRssBytes = await rssBytes(spu.process.pid);
      // About 100 MB of requests whose answers would take about 400 MB if the SPU kept reading.
      const requests = floodWithoutReading(flood, 100 * 1024 * 1024);

      // Wait until the SPU has stopped taking requests from the flooding connection.
      let peakRssBytes = baselineRssBytes;
      let previous = -1;
      await waitFor(async () => {
        peakRssBytes = Math.max(peakRssBytes, await rssBytes(spu.process.pid));
        const total = await requestsTotal(spu);
        const settled = total === previous;
        previous = total;
        return settled && total > 0;
      }, 'the flood to stall');
      assert.ok(previous < requests, `the SPU read only part of the flood (${previous} of ${requests})`);
      assert.ok(flood.writableLength > 0, 'requests remain unsent in the client');

      // Other clients are still served, and the SPU's memory stayed bounded.
      const other = await client(spu);
      for (let round = 0; round < 10; round++) assert.equal((await other.apiVersions()).errorCode, 0);
      await other.close();
      peakRssBytes = Math.max(peakRssBytes, await rssBytes(spu.process.pid));
      const growthBytes = peakRssBytes - baselineRssBytes;
      assert.ok(growthBytes < 200 * 1024 * 1024, `SPU RSS grew by ${growthBytes} bytes`);
    } finally {
      flood.destroy();
      await spu.destroy();
    }
  });
});

describe('SPU in-flight limit', () => {
  it('starts at most --inflight-requests-max requests of one connection at once', async () => {
    const spu = await startSpu({ args: ['--inflight-requests-max', '16'] });
    const flood = await client(spu);
    try {
      assert.equal((await flood.createTopics([{ name: 'parked' }])).topics[0]!.errorCode, 0);
      const before = await requestsTotal(spu);
      // Fetches of an empty partition park until data arrives or their wait ends (far away here).
      const fetches = Array.from({ length: 500 }, () =>
        flood.fetch('parked', 0, 0n, { maxWaitMs: 25_000 }).then(
          (response) => response.responses[0]!.partitions[0]!.errorCode,
          () => -1,
        ),
      );
      await waitFor(async () => (await requestsTotal(spu)) - before >= 16, '16 parked fetches');
      assert.equal((await requestsTotal(spu)) - before, 16, 'the 17th request waits for a free slot');

      // Another client is served meanwhile; its produce wakes the parked fetches, and the rest follow.
      const other = await client(spu);
      const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('wake up') }] });
      const produced = await other.produce('parked', 0, batch);
      assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, 0);
      assert.deepEqual(new Set(await Promise.all(fetches)), new Set([0]));
      await other.close();
    } finally {
      await flood.close();
      await spu.destroy();
    }
  });
});
