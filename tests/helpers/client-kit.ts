import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type BatchHeader, readBatchHeader, splitBatches } from '../../src/protocol/batch-header.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import type { TestSpu } from '../../src/testing/spu.ts';
import { WireClient } from '../../src/testing/wire-client.ts';

/** Helpers shared by the client library and CLI tests: topics and raw reads through a wire client. */

export const runFile = promisify(execFile);
export const kcatPath = '/usr/bin/kcat';
export const pythonPath = '/usr/bin/python3';

export async function createTopic(spu: TestSpu, name: string, partitions = 1): Promise<void> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  try {
    const response = await client.createTopics([{ name, partitions }]);
    assert.equal(response.topics[0]!.errorCode, errorCodes.NONE, response.topics[0]!.errorMessage ?? '');
  } finally {
    await client.close();
  }
}

/** Every stored batch header of one partition, read with plain Fetch requests. */
export async function storedBatches(spu: TestSpu, topic: string, partition: number): Promise<BatchHeader[]> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  try {
    const headers: BatchHeader[] = [];
    let offset = 0n;
    for (;;) {
      const response = await client.fetch(topic, partition, offset);
      const answer = response.responses[0]!.partitions[0]!;
      assert.equal(answer.errorCode, errorCodes.NONE);
      const { batches } = splitBatches(answer.records ?? Buffer.alloc(0));
      if (batches.length === 0) return headers;
      for (const batch of batches) {
        const header = readBatchHeader(batch);
        headers.push(header);
        offset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      }
    }
  } finally {
    await client.close();
  }
}

export async function kcat(spu: TestSpu, args: readonly string[], input?: string): Promise<string> {
  const child = runFile(kcatPath, ['-b', spu.bootstrap, ...args], { timeout: 30_000, maxBuffer: 64 << 20 });
  if (input !== undefined) {
    child.child.stdin!.end(input);
  }
  return (await child).stdout;
}

const tideBin = new URL('../../bin/tide.js', import.meta.url).pathname;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tide ARGS` with `input` on stdin; resolves with its exit code and output (never rejects). */
export function runTide(args: readonly string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [tideBin, ...args],
      {
        timeout: 30_000,
        maxBuffer: 64 << 20,
        env: { ...process.env, TIDE_CONFIG: '/nonexistent/tide-test.toml' },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (code === -1) reject(error);
        else resolve({ code, stdout, stderr });
      },
    );
    child.stdin!.end(input);
  });
}
