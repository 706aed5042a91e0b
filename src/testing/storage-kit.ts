import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch } from '../protocol/record-batch.ts';
import { nodeStorageFs, type OpenMode, type StorageFile, type StorageFs } from '../storage/fs.ts';

/**
 * Helpers for the storage tests (used only by *.test.ts files and test helper processes): batch
 * builders, temporary folders, and a file-system adapter that counts handles and injects faults.
 */

export interface TestRecord {
  readonly key?: string | null;
  readonly value?: string | null;
  readonly timestamp?: bigint;
}

/** An uncompressed batch of the given records (offsets 0..n-1, to be reassigned by the leader). */
export function makeBatch(records: readonly TestRecord[], baseOffset = 0n, leaderEpoch = -1): Buffer {
  return encodeRecordBatch({
    baseOffset,
    partitionLeaderEpoch: leaderEpoch,
    records: records.map((record) => ({
      key: record.key === undefined || record.key === null ? null : Buffer.from(record.key),
      value: record.value === null ? null : Buffer.from(record.value ?? 'v'),
      ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
    })),
  });
}

/** A batch of `count` records, each with a value of `valueBytes` bytes. */
export function makeSizedBatch(count: number, valueBytes: number, timestamp = 1_700_000_000_000n): Buffer {
  const value = Buffer.alloc(valueBytes, 0x61);
  return encodeRecordBatch({
    records: Array.from({ length: count }, (_, index) => ({
      key: null,
      value,
      timestamp: timestamp + BigInt(index),
    })),
  });
}

export async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-storage-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type FaultOperation = 'write' | 'sync' | 'truncate' | 'open' | 'read' | 'rename';

/**
 * Wraps the real adapter: counts open handles and fails chosen operations. A fault is a function
 * deciding, per call, whether to throw (and which errno) or to shorten a write (a torn write).
 */
export class FaultyFs implements StorageFs {
  openHandles = 0;
  openHandlesPeak = 0;
  /** Calls of StorageFile.write, per path. */
  readonly writes = new Map<string, number>();
  /** Returns an errno code to fail the call with, or undefined to let it through. */
  fault: (operation: FaultOperation, path: string) => string | undefined = () => undefined;
  /** When set, a write stores only this many bytes, then fails with EIO. */
  tornWriteBytes: number | undefined;
  readonly #inner: StorageFs;

  constructor(inner: StorageFs = nodeStorageFs) {
    this.#inner = inner;
  }

  check(operation: FaultOperation, path: string): void {
    const code = this.fault(operation, path);
    if (code !== undefined)
      throw Object.assign(new Error(`${code}: injected on ${operation} ${path}`), { code });
  }

  async open(path: string, mode: OpenMode): Promise<StorageFile> {
    this.check('open', path);
    const file = await this.#inner.open(path, mode);
    this.openHandles += 1;
    this.openHandlesPeak = Math.max(this.openHandlesPeak, this.openHandles);
    return new FaultyFile(this, path, file);
  }

  readdir(path: string): Promise<string[]> {
    return this.#inner.readdir(path);
  }

  mkdir(path: string): Promise<void> {
    return this.#inner.mkdir(path);
  }

  unlink(path: string): Promise<void> {
    return this.#inner.unlink(path);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', to);
    return this.#inner.rename(from, to);
  }

  removeTree(path: string): Promise<void> {
    return this.#inner.removeTree(path);
  }

  readFile(path: string): Promise<Buffer | undefined> {
    return this.#inner.readFile(path);
  }

  fileSize(path: string): Promise<number | undefined> {
    return this.#inner.fileSize(path);
  }

  isDirectory(path: string): Promise<boolean> {
    return this.#inner.isDirectory(path);
  }

  syncDir(path: string): Promise<void> {
    return this.#inner.syncDir(path);
  }
}

class FaultyFile implements StorageFile {
  readonly #owner: FaultyFs;
  readonly #path: string;
  readonly #inner: StorageFile;

  constructor(owner: FaultyFs, path: string, inner: StorageFile) {
    this.#owner = owner;
    this.#path = path;
    this.#inner = inner;
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.#owner.check('read', this.#path);
    return this.#inner.read(buffer, offset, length, position);
  }

  async write(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    const torn = this.#owner.tornWriteBytes;
    if (torn !== undefined && torn < length) {
      await this.#inner.write(buffer, offset, torn, position);
      throw Object.assign(new Error('EIO: injected torn write'), { code: 'EIO' });
    }
    this.#owner.check('write', this.#path);
    this.#owner.writes.set(this.#path, (this.#owner.writes.get(this.#path) ?? 0) + 1);
    return this.#inner.write(buffer, offset, length, position);
  }

  async writev(buffers: readonly Buffer[], position: number): Promise<number> {
    const torn = this.#owner.tornWriteBytes;
    if (torn !== undefined) {
      await this.#inner.write(Buffer.concat(buffers as Buffer[]), 0, torn, position);
      throw Object.assign(new Error('EIO: injected torn write'), { code: 'EIO' });
    }
    this.#owner.check('write', this.#path);
    this.#owner.writes.set(this.#path, (this.#owner.writes.get(this.#path) ?? 0) + 1);
    return this.#inner.writev(buffers, position);
  }

  sync(): Promise<void> {
    this.#owner.check('sync', this.#path);
    return this.#inner.sync();
  }

  truncate(length: number): Promise<void> {
    this.#owner.check('truncate', this.#path);
    return this.#inner.truncate(length);
  }

  size(): Promise<number> {
    return this.#inner.size();
  }

  async close(): Promise<void> {
    this.#owner.openHandles -= 1;
    await this.#inner.close();
  }
}
