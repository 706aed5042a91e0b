/**
 * The machine's ceilings, measured in the same run as the systems so the fractions compare like
 * with like: sequential write bandwidth to the temp folder's disk (fio when installed, else a Node
 * writer of 1 MiB blocks with one fsync at the end) and one loopback TCP connection between two
 * Node sockets (the most a single client connection can carry, before any broker work).
 */
import { execFile } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from '../../src/testing/processes.ts';
import type { Ceilings } from './schema.ts';

const execFileAsync = promisify(execFile);
const blockBytes = 1024 * 1024; // bytes per write

async function fioWrite(directory: string, totalBytes: number): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync('fio', [
      '--name=seqwrite',
      '--rw=write',
      `--bs=${blockBytes}`,
      `--size=${totalBytes}`,
      `--directory=${directory}`,
      '--ioengine=psync',
      '--end_fsync=1',
      '--output-format=json',
    ]);
    const report = JSON.parse(stdout) as { jobs?: { write?: { bw_bytes?: number } }[] };
    return report.jobs?.[0]?.write?.bw_bytes;
  } catch {
    return undefined;
  }
}

async function nodeWrite(directory: string, totalBytes: number): Promise<number> {
  const path = join(directory, 'seqwrite');
  const block = Buffer.alloc(blockBytes, 0x5a);
  const started = process.hrtime.bigint();
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < totalBytes; written += blockBytes) await file.write(block);
    await file.sync();
  } finally {
    await file.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await rm(path, { force: true });
  return totalBytes / seconds;
}

/** Bytes/s one connection carries from a Node socket to another on 127.0.0.1 over `seconds`. */
export async function loopbackBandwidth(seconds: number): Promise<number> {
  let received = 0;
  const server = createServer((socket) => socket.on('data', (chunk: Buffer) => (received += chunk.length)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const chunk = Buffer.alloc(256 * 1024, 0x41);
  const deadline = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  while (Date.now() < deadline) {
    if (!client.write(chunk)) await new Promise((resolve) => client.once('drain', resolve));
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  return received / elapsed;
}

export async function measureCeilings(options: { quick: boolean }): Promise<Ceilings> {
  const temp = await makeTempDir('tide-bench-ceiling-');
  try {
    const totalBytes = (options.quick ? 128 : 1024) * 1024 * 1024;
    const fio = await fioWrite(temp.path, totalBytes);
    const sequential = fio ?? (await nodeWrite(temp.path, totalBytes));
    const method = `${fio === undefined ? 'Node writer' : 'fio psync'}, ${totalBytes / 2 ** 20} MiB in 1 MiB blocks, fsync at end, ${temp.path.replace(/\/[^/]*$/, '')}`;
    return {
      sequentialWriteBytesPerSecond: Math.round(sequential),
      sequentialWriteMethod: method,
      loopbackBytesPerSecond: Math.round(await loopbackBandwidth(options.quick ? 1 : 3)),
    };
  } finally {
    await temp.remove();
  }
}
