import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../base/atomic-file.ts';

/**
 * The topics a standalone SPU serves, persisted in `<data>/topics.json` (replaced atomically on every
 * change). A standalone SPU owns every partition of every topic; with a controller, topic metadata
 * comes from the SC instead and this store is not used.
 *
 * File layout: `{ "version": 1, "topics": [ { name, topicId (32 hex digits), partitions,
 * replicationFactor, configs: { key: value }, createdAtMs } ] }`.
 */
export interface TopicRecord {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
}

interface TopicFile {
  version: 1;
  topics: TopicRecord[];
}

export class TopicStore {
  readonly #path: string;
  readonly #topics = new Map<string, TopicRecord>();

  private constructor(path: string, topics: readonly TopicRecord[]) {
    this.#path = path;
    for (const topic of topics) this.#topics.set(topic.name, topic);
  }

  static async open(dataDir: string): Promise<TopicStore> {
    const path = join(dataDir, 'topics.json');
    let topics: TopicRecord[] = [];
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as TopicFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.topics)) throw new Error(`unknown format in ${path}`);
      topics = parsed.topics;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new TopicStore(path, topics);
  }

  list(): TopicRecord[] {
    return [...this.#topics.values()];
  }

  get(name: string): TopicRecord | undefined {
    return this.#topics.get(name);
  }

  async create(spec: Omit<TopicRecord, 'topicId' | 'createdAtMs'>, nowMs: number): Promise<TopicRecord> {
    const record: TopicRecord = { ...spec, topicId: randomBytes(16).toString('hex'), createdAtMs: nowMs };
    await this.#commit((topics) => topics.set(record.name, record));
    return record;
  }

  async update(
    name: string,
    change: Partial<Pick<TopicRecord, 'partitions' | 'configs'>>,
  ): Promise<TopicRecord> {
    const current = this.#topics.get(name);
    if (current === undefined) throw new Error(`no topic ${name}`);
    const updated = { ...current, ...change };
    await this.#commit((topics) => topics.set(name, updated));
    return updated;
  }

  async delete(name: string): Promise<void> {
    await this.#commit((topics) => topics.delete(name));
  }

  /**
   * Applies `change` to a copy, writes the copy, and only then makes it current: a failed write
   * leaves memory and disk agreeing on the old state. Callers serialise their changes.
   */
  async #commit(change: (topics: Map<string, TopicRecord>) => unknown): Promise<void> {
    const next = new Map(this.#topics);
    change(next);
    const content = `${JSON.stringify({ version: 1, topics: [...next.values()] } satisfies TopicFile, null, 2)}\n`;
    await writeFileAtomic(this.#path, content);
    this.#topics.clear();
    for (const [name, record] of next) this.#topics.set(name, record);
  }
}
