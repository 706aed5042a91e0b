import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';

/**
 * The file-system seam of the storage engine: the few operations the log performs, as a thin adapter
 * over node:fs/promises. Tests wrap it to inject ENOSPC, EIO or torn writes, or to count open
 * handles, without replacing the whole world.
 */

/** One open file. Positions are explicit: the log never relies on a file cursor. */
export interface StorageFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes the buffers back to back from `position` in one call (pwritev); returns bytes written. */
  writev(buffers: readonly Buffer[], position: number): Promise<number>;
  /** Makes the file's data durable (fdatasync). */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** `read` opens an existing file read-only, `update` read-write, `create` read-write, truncating. */
export type OpenMode = 'read' | 'update' | 'create';

export interface StorageFs {
  open(path: string, mode: OpenMode): Promise<StorageFile>;
  /** Entry names of a folder. */
  readdir(path: string): Promise<string[]>;
  /** Creates a folder and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** Removes a file; no error when it is already gone. */
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a folder and everything in it. */
  removeTree(path: string): Promise<void>;
  /** Whole content of a small file, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Size of a file, or undefined when it does not exist. */
  fileSize(path: string): Promise<number | undefined>;
  /** True when the path exists and is a folder. */
  isDirectory(path: string): Promise<boolean>;
  /** Makes a folder's entries (creations, renames, removals) durable. */
  syncDir(path: string): Promise<void>;
}

const openFlags: Readonly<Record<OpenMode, string>> = Object.freeze({
  read: 'r',
  update: 'r+',
  create: 'w+',
});

class NodeStorageFile implements StorageFile {
  readonly #handle: FileHandle;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.#handle.read(buffer, offset, length, position)).bytesRead;
  }

  async write(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.#handle.write(buffer, offset, length, position)).bytesWritten;
  }

  async writev(buffers: readonly Buffer[], position: number): Promise<number> {
    return (await this.#handle.writev(buffers as Buffer[], position)).bytesWritten;
  }

  sync(): Promise<void> {
    return this.#handle.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.#handle.truncate(length);
  }

  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

export function isErrorCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** The production adapter over node:fs/promises. */
export const nodeStorageFs: StorageFs = Object.freeze({
  async open(path: string, mode: OpenMode): Promise<StorageFile> {
    return new NodeStorageFile(await fsp.open(path, openFlags[mode]));
  },
  readdir: (path: string) => fsp.readdir(path),
  async mkdir(path: string): Promise<void> {
    await fsp.mkdir(path, { recursive: true });
  },
  async unlink(path: string): Promise<void> {
    await fsp.rm(path, { force: true });
  },
  rename: (from: string, to: string) => fsp.rename(from, to),
  removeTree: (path: string) => fsp.rm(path, { recursive: true, force: true }),
  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await fsp.readFile(path);
    } catch (error) {
      if (isErrorCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  },
  async fileSize(path: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(path)).size;
    } catch (error) {
      if (isErrorCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  },
  async isDirectory(path: string): Promise<boolean> {
    try {
      return (await fsp.stat(path)).isDirectory();
    } catch (error) {
      if (isErrorCode(error, 'ENOENT')) return false;
      throw error;
    }
  },
  async syncDir(path: string): Promise<void> {
    const handle = await fsp.open(path, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
});

/** Reads exactly `length` bytes at `position`, or fewer only at end of file. Returns bytes read. */
export async function readFully(
  file: StorageFile,
  buffer: Buffer,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const bytes = await file.read(buffer, done, length - done, position + done);
    if (bytes === 0) break;
    done += bytes;
  }
  return done;
}

/** Writes all of `buffer` at `position`, continuing after short writes. */
export async function writeFully(file: StorageFile, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const bytes = await file.write(buffer, done, buffer.length - done, position + done);
    if (bytes <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += bytes;
  }
}

/**
 * Writes a whole file and fsyncs it, without the rename dance: for files that are validated on use
 * and rebuilt when wrong (segment indexes). The folder entry becomes durable with the next folder
 * fsync (the clean-shutdown marker's).
 */
export async function writeFileDurable(fs: StorageFs, path: string, data: Buffer): Promise<void> {
  const file = await fs.open(path, 'create');
  try {
    await writeFully(file, data, 0);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Platform limit on buffers per pwritev call (IOV_MAX on Linux). */
const writevBuffersMax = 1024;

/**
 * Writes the buffers back to back from `position` with as few calls as possible (pwritev of up to
 * IOV_MAX buffers), finishing a short write buffer by buffer.
 */
export async function writeAllFully(
  file: StorageFile,
  buffers: readonly Buffer[],
  position: number,
): Promise<void> {
  for (let first = 0; first < buffers.length; first += writevBuffersMax) {
    const group: Buffer[] = [];
    for (let index = first; index < Math.min(buffers.length, first + writevBuffersMax); index++)
      group.push(buffers[index]!);
    const total = group.reduce((sum, buffer) => sum + buffer.length, 0);
    let written = group.length === 1 ? 0 : await file.writev(group, position);
    if (written < total) {
      // Short (or single-buffer) write: finish with plain writes from where it stopped.
      let at = position;
      for (const buffer of group) {
        const skip = Math.min(buffer.length, Math.max(0, written - (at - position)));
        if (skip < buffer.length) await writeFully(file, buffer.subarray(skip), at + skip);
        at += buffer.length;
      }
      written = total;
    }
    position += total;
  }
}

/** Replaces a small file atomically: write a temporary file, fsync it, rename it over, fsync the folder. */
export async function writeFileAtomic(fs: StorageFs, dir: string, name: string, data: Buffer): Promise<void> {
  const temporary = `${dir}/${name}.tmp`;
  const file = await fs.open(temporary, 'create');
  try {
    await writeFully(file, data, 0);
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(temporary, `${dir}/${name}`);
  await fs.syncDir(dir);
}
