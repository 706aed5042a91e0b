import { assert } from '../base/assert.ts';

/**
 * Sparse offset index of one segment (`<base>.index`): maps an offset to the byte position of the
 * batch that starts there, about one entry per `indexIntervalBytes` of log. A lookup finds the last
 * entry at or below the wanted offset; the reader then walks batch headers from that position.
 *
 * Byte layout: a sequence of 8-byte entries, no header, big-endian:
 *
 *   offset  size  field
 *        0     4  relativeOffset   batch baseOffset minus the segment's base offset (uint32)
 *        4     4  position         byte position of that batch in `<base>.log` (uint32)
 *
 * Both fields strictly increase from entry to entry. The segment start (position 0) is implicit.
 * The file is written whole when a segment is closed or the log shuts down cleanly; the active
 * segment's index lives in memory and is rebuilt from the log after a crash.
 */
export const offsetIndexEntryBytes = 8;

const initialEntries = 16;

export class OffsetIndex {
  readonly baseOffset: bigint;
  #buffer: Buffer;
  #entries: number;

  constructor(baseOffset: bigint, content?: Buffer) {
    this.baseOffset = baseOffset;
    this.#entries = content === undefined ? 0 : content.length / offsetIndexEntryBytes;
    this.#buffer = Buffer.alloc(Math.max(initialEntries, this.#entries) * offsetIndexEntryBytes);
    content?.copy(this.#buffer);
  }

  get entries(): number {
    return this.#entries;
  }

  /** Position of the last entry (0, the implicit segment start, when there is none). */
  get lastPosition(): number {
    return this.#entries === 0 ? 0 : this.#positionAt(this.#entries - 1);
  }

  /** Adds an entry for a batch starting at `offset`, `position`; both must be above the last entry's. */
  append(offset: bigint, position: number): void {
    const relative = Number(offset - this.baseOffset);
    if (this.#entries > 0) {
      assert(relative > this.#relativeAt(this.#entries - 1), 'offset index entries must increase');
      assert(position > this.#positionAt(this.#entries - 1), 'offset index positions must increase');
    }
    if ((this.#entries + 1) * offsetIndexEntryBytes > this.#buffer.length) this.#grow();
    const at = this.#entries * offsetIndexEntryBytes;
    this.#buffer.writeUInt32BE(relative, at);
    this.#buffer.writeUInt32BE(position, at + 4);
    this.#entries += 1;
  }

  /** The last entry whose offset is at or below `offset`, or the segment start when none is. */
  lookup(offset: bigint): { offset: bigint; position: number } {
    if (offset < this.baseOffset) return { offset: this.baseOffset, position: 0 };
    const wanted = offset - this.baseOffset > 0xffffffffn ? 0xffffffff : Number(offset - this.baseOffset);
    let low = 0;
    let high = this.#entries - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.#relativeAt(middle) <= wanted) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + BigInt(this.#relativeAt(found)), position: this.#positionAt(found) };
  }

  /** The first entry beyond byte `position`, or undefined: where a scan may resume past damage there. */
  firstAfter(position: number): { offset: bigint; position: number } | undefined {
    let low = 0;
    let high = this.#entries;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#positionAt(middle) <= position) low = middle + 1;
      else high = middle;
    }
    if (low === this.#entries) return undefined;
    return { offset: this.baseOffset + BigInt(this.#relativeAt(low)), position: this.#positionAt(low) };
  }

  /** Drops the entries at or beyond `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    while (this.#entries > 0 && this.#positionAt(this.#entries - 1) >= position) this.#entries -= 1;
  }

  /** The entries in file layout (a view; copy before the index changes again if kept). */
  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#entries * offsetIndexEntryBytes);
  }

  /** Bytes held in memory. */
  get memoryBytes(): number {
    return this.#buffer.length;
  }

  #relativeAt(entry: number): number {
    return this.#buffer.readUInt32BE(entry * offsetIndexEntryBytes);
  }

  #positionAt(entry: number): number {
    return this.#buffer.readUInt32BE(entry * offsetIndexEntryBytes + 4);
  }

  #grow(): void {
    const grown = Buffer.alloc(this.#buffer.length * 2);
    this.#buffer.copy(grown);
    this.#buffer = grown;
  }
}

/**
 * Why the content of an index file cannot be trusted for a segment of `segmentBytes`, or undefined
 * when it is structurally sound (whole entries, both fields increasing, positions inside the log).
 */
export function offsetIndexProblem(
  content: Buffer,
  segmentBytes: number,
  entriesMax: number,
): string | undefined {
  if (content.length % offsetIndexEntryBytes !== 0)
    return `size ${content.length} is not a whole number of entries`;
  const entries = content.length / offsetIndexEntryBytes;
  if (entries > entriesMax) return `${entries} entries exceed the limit of ${entriesMax}`;
  let previousRelative = 0;
  let previousPosition = 0;
  for (let entry = 0; entry < entries; entry++) {
    const relative = content.readUInt32BE(entry * offsetIndexEntryBytes);
    const position = content.readUInt32BE(entry * offsetIndexEntryBytes + 4);
    if (relative <= previousRelative || position <= previousPosition || position >= segmentBytes)
      return `entry ${entry} (${relative} -> ${position}) is out of order or beyond the log`;
    previousRelative = relative;
    previousPosition = position;
  }
  return undefined;
}
