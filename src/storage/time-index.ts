import { assert } from '../base/assert.ts';

/**
 * Sparse time index of one segment (`<base>.timeindex`): lets ListOffsets find the first offset
 * whose timestamp is at or after a given time without reading the whole segment.
 *
 * An entry (T, O) promises: every record of this segment below offset O has a timestamp ≤ T.
 * Entries are added beside offset index entries when the segment's largest timestamp has grown, and
 * one final entry (largest timestamp, next offset) is added when the segment closes, so the last
 * entry of a closed segment gives its largest timestamp. To find timestamp t, take the last entry
 * with T < t and scan from its offset: nothing before it can qualify.
 *
 * Byte layout: a sequence of 12-byte entries, no header, big-endian:
 *
 *   offset  size  field
 *        0     8  timestamp        T, milliseconds since the epoch (int64)
 *        8     4  relativeOffset   O minus the segment's base offset (uint32)
 *
 * Timestamps strictly increase and offsets never decrease from entry to entry.
 */
export const timeIndexEntryBytes = 12;

const initialEntries = 4;

export class TimeIndex {
  readonly baseOffset: bigint;
  #buffer: Buffer;
  #entries: number;

  constructor(baseOffset: bigint, content?: Buffer) {
    this.baseOffset = baseOffset;
    this.#entries = content === undefined ? 0 : content.length / timeIndexEntryBytes;
    this.#buffer = Buffer.alloc(Math.max(initialEntries, this.#entries) * timeIndexEntryBytes);
    content?.copy(this.#buffer);
  }

  get entries(): number {
    return this.#entries;
  }

  /** Largest timestamp recorded, or -1n when there is no entry. */
  get lastTimestamp(): bigint {
    return this.#entries === 0 ? -1n : this.#timestampAt(this.#entries - 1);
  }

  /** Records that every record below `offset` has a timestamp ≤ `timestamp`, if that is news. */
  maybeAppend(timestamp: bigint, offset: bigint): void {
    if (timestamp <= this.lastTimestamp) return;
    const relative = Number(offset - this.baseOffset);
    if (this.#entries > 0)
      assert(relative >= this.#relativeAt(this.#entries - 1), 'time index offsets must not fall');
    if ((this.#entries + 1) * timeIndexEntryBytes > this.#buffer.length) this.#grow();
    const at = this.#entries * timeIndexEntryBytes;
    this.#buffer.writeBigInt64BE(timestamp, at);
    this.#buffer.writeUInt32BE(relative, at + 8);
    this.#entries += 1;
  }

  /** Where to start looking for the first record with timestamp ≥ `timestamp`. */
  lookup(timestamp: bigint): bigint {
    let low = 0;
    let high = this.#entries - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.#timestampAt(middle) < timestamp) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? this.baseOffset : this.baseOffset + BigInt(this.#relativeAt(found));
  }

  /** Drops entries whose offset is above `offset` (the log was truncated to end there). */
  truncateToOffset(offset: bigint): void {
    const relative = Number(offset - this.baseOffset);
    while (this.#entries > 0 && this.#relativeAt(this.#entries - 1) > relative) this.#entries -= 1;
  }

  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#entries * timeIndexEntryBytes);
  }

  #timestampAt(entry: number): bigint {
    return this.#buffer.readBigInt64BE(entry * timeIndexEntryBytes);
  }

  #relativeAt(entry: number): number {
    return this.#buffer.readUInt32BE(entry * timeIndexEntryBytes + 8);
  }

  #grow(): void {
    const grown = Buffer.alloc(this.#buffer.length * 2);
    this.#buffer.copy(grown);
    this.#buffer = grown;
  }
}

/** Why a time index file cannot be trusted, or undefined when it is structurally sound. */
export function timeIndexProblem(content: Buffer, entriesMax: number): string | undefined {
  if (content.length % timeIndexEntryBytes !== 0)
    return `size ${content.length} is not a whole number of entries`;
  const entries = content.length / timeIndexEntryBytes;
  if (entries > entriesMax) return `${entries} entries exceed the limit of ${entriesMax}`;
  for (let entry = 1; entry < entries; entry++) {
    const at = entry * timeIndexEntryBytes;
    const before = at - timeIndexEntryBytes;
    if (content.readBigInt64BE(at) <= content.readBigInt64BE(before))
      return `entry ${entry} timestamp does not increase`;
    if (content.readUInt32BE(at + 8) < content.readUInt32BE(before + 8)) return `entry ${entry} offset falls`;
  }
  return undefined;
}
