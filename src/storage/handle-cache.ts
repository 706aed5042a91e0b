import { assert } from '../base/assert.ts';
import type { OpenMode, StorageFile, StorageFs } from './fs.ts';

/**
 * Open segment files shared by every log of a LogManager, so that thousands of partitions fit in a
 * bounded number of file descriptors. Segments open lazily when read or written and the least
 * recently used idle handle closes when the bound is reached. A handle in use is pinned; when every
 * handle is pinned, callers queue until one is released, so the bound is never exceeded. Short-lived
 * files (checkpoints, index files, new segments) open through `boundedFs()` and count against the
 * same bound. Callers hold at most one handle at a time, which rules out deadlock.
 */
export const handleCacheDefaults = Object.freeze({
  openHandlesMax: 1024, // file handles open at once across all logs
});

interface CacheEntry {
  readonly path: string;
  file: Promise<StorageFile>;
  pins: number;
  /** Removed from the cache while pinned: close at the last release. */
  discarded: boolean;
}

export class SegmentHandleCache {
  readonly openHandlesMax: number;
  readonly #fs: StorageFs;
  /** Insertion order is recency order: a use re-inserts the entry at the end. */
  readonly #entries = new Map<string, CacheEntry>();
  readonly #waiters: Array<() => void> = [];
  #open = 0;

  constructor(fs: StorageFs, openHandlesMax: number = handleCacheDefaults.openHandlesMax) {
    assert(Number.isInteger(openHandlesMax) && openHandlesMax >= 1, 'openHandlesMax must be at least 1');
    this.#fs = fs;
    this.openHandlesMax = openHandlesMax;
  }

  /** Handles open now (including ones being closed). */
  get openCount(): number {
    return this.#open;
  }

  /** The file system with `open` counted against this cache's bound (for short-lived files). */
  boundedFs(): StorageFs {
    const inner = this.#fs;
    const open = async (path: string, mode: OpenMode): Promise<StorageFile> => {
      await this.#reserveSlot();
      let file: StorageFile;
      try {
        file = await inner.open(path, mode);
      } catch (error) {
        this.#freeSlot();
        throw error;
      }
      return new SlotFile(file, () => this.#freeSlot());
    };
    return Object.freeze({
      open,
      readdir: (path: string) => inner.readdir(path),
      mkdir: (path: string) => inner.mkdir(path),
      unlink: (path: string) => inner.unlink(path),
      rename: (from: string, to: string) => inner.rename(from, to),
      removeTree: (path: string) => inner.removeTree(path),
      readFile: (path: string) => inner.readFile(path),
      fileSize: (path: string) => inner.fileSize(path),
      isDirectory: (path: string) => inner.isDirectory(path),
      syncDir: (path: string) => inner.syncDir(path),
    });
  }

  async #reserveSlot(): Promise<void> {
    for (;;) {
      if (this.#open < this.openHandlesMax) {
        this.#open += 1;
        return;
      }
      const idle = this.#takeIdle();
      if (idle !== undefined) await this.#close(idle);
      else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #freeSlot(): void {
    this.#open -= 1;
    this.#wakeOne();
  }

  /**
   * Runs `use` with the read-write handle of the file at `path`, opening it if needed (with `mode`:
   * `create` makes a new segment file and keeps its handle for the appends that follow).
   */
  async with<T>(path: string, use: (file: StorageFile) => Promise<T>, mode: OpenMode = 'update'): Promise<T> {
    const entry = await this.#acquire(path, mode);
    try {
      return await use(await entry.file);
    } finally {
      this.#release(entry);
    }
  }

  /** Closes the handle of `path` (the file is being deleted, replaced or truncated elsewhere). */
  async discard(path: string): Promise<void> {
    const entry = this.#entries.get(path);
    if (entry === undefined) return;
    this.#entries.delete(path);
    entry.discarded = true;
    if (entry.pins === 0) await this.#close(entry);
  }

  /** Closes every idle handle whose path starts with `prefix` (a log folder being closed). */
  async discardUnder(prefix: string): Promise<void> {
    const paths = [...this.#entries.keys()].filter((path) => path.startsWith(prefix));
    await Promise.all(paths.map((path) => this.discard(path)));
  }

  async #acquire(path: string, mode: OpenMode): Promise<CacheEntry> {
    for (;;) {
      const existing = this.#entries.get(path);
      if (existing !== undefined) {
        this.#entries.delete(path);
        this.#entries.set(path, existing);
        existing.pins += 1;
        return existing;
      }
      if (this.#open < this.openHandlesMax) return this.#openEntry(path, mode);
      const idle = this.#takeIdle();
      if (idle !== undefined) await this.#close(idle);
      else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #openEntry(path: string, mode: OpenMode): CacheEntry {
    this.#open += 1;
    const entry: CacheEntry = { path, file: this.#fs.open(path, mode), pins: 1, discarded: false };
    entry.file.catch(() => {
      if (this.#entries.get(path) === entry) this.#entries.delete(path);
      this.#open -= 1;
      entry.discarded = true;
      this.#wakeOne();
    });
    this.#entries.set(path, entry);
    return entry;
  }

  /** Removes the least recently used idle entry from the cache, for the caller to close. */
  #takeIdle(): CacheEntry | undefined {
    for (const [path, entry] of this.#entries) {
      if (entry.pins > 0) continue;
      this.#entries.delete(path);
      entry.discarded = true;
      return entry;
    }
    return undefined;
  }

  #release(entry: CacheEntry): void {
    entry.pins -= 1;
    if (entry.pins === 0 && entry.discarded) void this.#close(entry);
    else if (entry.pins === 0) this.#wakeOne();
  }

  async #close(entry: CacheEntry): Promise<void> {
    let file: StorageFile;
    try {
      file = await entry.file;
    } catch {
      return; // never opened; the failed open already gave back its slot
    }
    try {
      await file.close();
    } catch {
      // A failed close leaves nothing to do: the descriptor is gone either way.
    } finally {
      this.#open -= 1;
      this.#wakeOne();
    }
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }
}

/** A short-lived file whose close gives its slot back to the cache. */
class SlotFile implements StorageFile {
  readonly #inner: StorageFile;
  #onClose: (() => void) | undefined;

  constructor(inner: StorageFile, onClose: () => void) {
    this.#inner = inner;
    this.#onClose = onClose;
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.#inner.read(buffer, offset, length, position);
  }

  write(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.#inner.write(buffer, offset, length, position);
  }

  writev(buffers: readonly Buffer[], position: number): Promise<number> {
    return this.#inner.writev(buffers, position);
  }

  sync(): Promise<void> {
    return this.#inner.sync();
  }

  truncate(length: number): Promise<void> {
    return this.#inner.truncate(length);
  }

  size(): Promise<number> {
    return this.#inner.size();
  }

  async close(): Promise<void> {
    try {
      await this.#inner.close();
    } finally {
      const onClose = this.#onClose;
      this.#onClose = undefined;
      onClose?.();
    }
  }
}
