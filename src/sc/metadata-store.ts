import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../base/atomic-file.ts';
import { TideError } from '../base/errors.ts';

/**
 * The SC's declared state: objects of a few kinds (SPUs, topics, partitions, pending deletions, the
 * controller's counters), each under a key with a revision. Every write names the revision it read
 * (0 = "the object must not exist yet"); a write based on a stale read is refused with
 * STALE_REVISION, so two writers cannot silently overwrite each other. A batch of writes is applied
 * all or nothing.
 *
 * The `local` backend keeps everything in memory and replaces `<dir>/metadata.json` atomically (temp
 * file, fsync, rename, fsync of the folder) at every write. File layout (JSON, UTF-8):
 *
 *   { "format": 1,
 *     "revision": <last revision given out, integer>,
 *     "objects": { "<kind>": { "<key>": { "revision": <integer>, "value": <kind-specific JSON> } } } }
 *
 * Revisions come from one counter over the whole store (like etcd's), so they never repeat, even for
 * a key deleted and created again. A write whose file replacement fails is still applied in memory
 * (the caller sees the error); the next successful write persists it.
 */

export const metadataKinds = ['cluster', 'spus', 'topics', 'partitions', 'deletions'] as const;
export type MetadataKind = (typeof metadataKinds)[number];

export interface StoredObject<T = unknown> {
  readonly key: string;
  readonly revision: number;
  readonly value: T;
}

/** One write: `value` null deletes. `expectedRevision` is the revision read, 0 when absent. */
export interface MetadataWrite {
  readonly kind: MetadataKind;
  readonly key: string;
  readonly value: unknown;
  readonly expectedRevision: number;
}

export const metadataErrorCodes = Object.freeze({
  staleRevision: 'STALE_REVISION',
  corrupt: 'METADATA_CORRUPT',
});

export interface MetadataStore {
  get<T>(kind: MetadataKind, key: string): StoredObject<T> | undefined;
  list<T>(kind: MetadataKind): Array<StoredObject<T>>;
  /** Writes one object; resolves with its new revision. */
  put(kind: MetadataKind, key: string, value: unknown, expectedRevision: number): Promise<number>;
  delete(kind: MetadataKind, key: string, expectedRevision: number): Promise<void>;
  /** Applies every write or none; resolves with the revision given to them. */
  commit(writes: readonly MetadataWrite[]): Promise<number>;
}

interface FileShape {
  format: 1;
  revision: number;
  objects: Record<string, Record<string, { revision: number; value: unknown }>>;
}

const fileName = 'metadata.json';

export class LocalMetadataStore implements MetadataStore {
  readonly path: string;
  #revision = 0;
  readonly #objects = new Map<MetadataKind, Map<string, StoredObject>>();
  /** Writes go to disk one at a time, in the order they were committed in memory. */
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string) {
    this.path = path;
    for (const kind of metadataKinds) this.#objects.set(kind, new Map());
  }

  /** Opens (or creates) the store in `dir`; a file that cannot be read fails with METADATA_CORRUPT. */
  static async open(dir: string): Promise<LocalMetadataStore> {
    await mkdir(dir, { recursive: true });
    const store = new LocalMetadataStore(join(dir, fileName));
    let text: string;
    try {
      text = await readFile(store.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw error;
    }
    store.#load(text);
    return store;
  }

  get revision(): number {
    return this.#revision;
  }

  get<T>(kind: MetadataKind, key: string): StoredObject<T> | undefined {
    return this.#kind(kind).get(key) as StoredObject<T> | undefined;
  }

  list<T>(kind: MetadataKind): Array<StoredObject<T>> {
    return [...this.#kind(kind).values()] as Array<StoredObject<T>>;
  }

  put(kind: MetadataKind, key: string, value: unknown, expectedRevision: number): Promise<number> {
    return this.commit([{ kind, key, value, expectedRevision }]);
  }

  async delete(kind: MetadataKind, key: string, expectedRevision: number): Promise<void> {
    await this.commit([{ kind, key, value: null, expectedRevision }]);
  }

  async commit(writes: readonly MetadataWrite[]): Promise<number> {
    for (const write of writes) {
      const current = this.#kind(write.kind).get(write.key)?.revision ?? 0;
      if (current !== write.expectedRevision) {
        throw new TideError(
          metadataErrorCodes.staleRevision,
          `${write.kind}/${write.key} is at revision ${current}, the write expected ${write.expectedRevision}`,
          { retriable: true },
        );
      }
    }
    const revision = ++this.#revision;
    for (const { kind, key, value } of writes) {
      // A JSON round trip keeps stored values plain data that callers cannot change afterwards.
      if (value === null) this.#kind(kind).delete(key);
      else this.#kind(kind).set(key, { key, revision, value: JSON.parse(JSON.stringify(value)) });
    }
    const snapshot = this.#serialize();
    const written = this.#writing.then(() => writeFileAtomic(this.path, snapshot));
    this.#writing = written.catch(() => undefined);
    await written;
    return revision;
  }

  #kind(kind: MetadataKind): Map<string, StoredObject> {
    const objects = this.#objects.get(kind);
    if (objects === undefined) throw new TideError(metadataErrorCodes.corrupt, `unknown kind ${kind}`);
    return objects;
  }

  #serialize(): string {
    const objects: FileShape['objects'] = {};
    for (const [kind, entries] of this.#objects) {
      objects[kind] = {};
      for (const [key, { revision, value }] of entries) objects[kind][key] = { revision, value };
    }
    const shape: FileShape = { format: 1, revision: this.#revision, objects };
    return `${JSON.stringify(shape, null, 1)}\n`;
  }

  #load(text: string): void {
    let shape: FileShape;
    try {
      shape = JSON.parse(text) as FileShape;
    } catch (error) {
      throw new TideError(metadataErrorCodes.corrupt, `${this.path} is not JSON`, { cause: error });
    }
    if (shape?.format !== 1 || !Number.isSafeInteger(shape.revision) || typeof shape.objects !== 'object')
      throw new TideError(metadataErrorCodes.corrupt, `${this.path} is not a Tide metadata file`);
    this.#revision = shape.revision;
    for (const kind of metadataKinds) {
      const entries = shape.objects[kind] ?? {};
      for (const [key, entry] of Object.entries(entries)) {
        if (!Number.isSafeInteger(entry?.revision) || entry.revision > shape.revision)
          throw new TideError(metadataErrorCodes.corrupt, `${this.path}: bad revision of ${kind}/${key}`);
        this.#kind(kind).set(key, { key, revision: entry.revision, value: entry.value });
      }
    }
  }
}
