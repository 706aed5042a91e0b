/**
 * Leader epochs of a log: for each epoch, the first offset written in it. Followers use it through
 * OffsetForLeaderEpoch to find where their log diverges from the leader's. Kept in memory and
 * replaced atomically in `leader-epoch-checkpoint` whenever it changes (rare: on leader changes and
 * truncations).
 *
 * File layout (UTF-8 text, one item per line, as Kafka writes it):
 *
 *   0                      format version
 *   N                      number of entries
 *   <epoch> <startOffset>  N lines, epochs and offsets strictly increasing
 */
export const leaderEpochCheckpointName = 'leader-epoch-checkpoint';
const entriesMax = 100_000; // epochs kept; beyond it the file is considered corrupt

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: bigint;
}

export interface EpochEndOffset {
  readonly leaderEpoch: number;
  readonly endOffset: bigint;
}

export class LeaderEpochCache {
  #entries: EpochEntry[] = [];

  get entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  get latestEpoch(): number {
    return this.#entries.at(-1)?.epoch ?? -1;
  }

  /** Records that `epoch` starts at `startOffset`; false when it is not newer than the latest. */
  assign(epoch: number, startOffset: bigint): boolean {
    const latest = this.#entries.at(-1);
    if (latest !== undefined && epoch <= latest.epoch) return false;
    // An epoch with no batch of its own is superseded by a later one starting at the same offset.
    while (this.#entries.length > 0 && this.#entries.at(-1)!.startOffset >= startOffset) this.#entries.pop();
    this.#entries.push({ epoch, startOffset });
    return true;
  }

  /** Removes epochs that start at or beyond `offset`; true when something changed. */
  truncateFromEnd(offset: bigint): boolean {
    const before = this.#entries.length;
    while (this.#entries.length > 0 && this.#entries.at(-1)!.startOffset >= offset) this.#entries.pop();
    return this.#entries.length !== before;
  }

  /** After log start moves to `offset`, the epoch in force there starts there. */
  truncateFromStart(offset: bigint): boolean {
    let changed = false;
    while (this.#entries.length > 1 && this.#entries[1]!.startOffset <= offset) {
      this.#entries.shift();
      changed = true;
    }
    const first = this.#entries[0];
    if (first !== undefined && first.startOffset < offset) {
      this.#entries[0] = { epoch: first.epoch, startOffset: offset };
      changed = true;
    }
    return changed;
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch ≤ `epoch` and the offset where the next epoch begins (or
   * `logEndOffset` when `epoch` is the latest). Unknown epochs give (-1, -1); an epoch older than
   * every entry gives (epoch, start of the first entry).
   */
  endOffsetFor(epoch: number, logEndOffset: bigint): EpochEndOffset {
    const latest = this.#entries.at(-1);
    if (epoch < 0 || latest === undefined || epoch > latest.epoch) return { leaderEpoch: -1, endOffset: -1n };
    if (epoch === latest.epoch) return { leaderEpoch: epoch, endOffset: logEndOffset };
    const higher = this.#entries.findIndex((entry) => entry.epoch > epoch);
    const next = this.#entries[higher]!;
    const floor = this.#entries[higher - 1];
    return { leaderEpoch: floor?.epoch ?? epoch, endOffset: next.startOffset };
  }

  encode(): Buffer {
    const lines = [
      '0',
      String(this.#entries.length),
      ...this.#entries.map((e) => `${e.epoch} ${e.startOffset}`),
    ];
    return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  }

  /** Replaces the entries with a file's; false (and no change) when the content is malformed. */
  decode(content: Buffer): boolean {
    const lines = content.toString('utf8').split('\n');
    if (lines[0] !== '0') return false;
    const count = Number(lines[1]);
    if (!Number.isInteger(count) || count < 0 || count > entriesMax || lines.length < count + 2) return false;
    const entries: EpochEntry[] = [];
    for (let line = 2; line < count + 2; line++) {
      const match = /^(\d{1,10}) (\d{1,19})$/.exec(lines[line]!);
      if (match === null) return false;
      const entry = { epoch: Number(match[1]), startOffset: BigInt(match[2]!) };
      const previous = entries.at(-1);
      if (
        previous !== undefined &&
        (entry.epoch <= previous.epoch || entry.startOffset < previous.startOffset)
      )
        return false;
      entries.push(entry);
    }
    this.#entries = entries;
    return true;
  }
}
