import type { CommittedOffset } from './group-types.ts';
import { offsetKey } from './group-types.ts';
import {
  decodeGroupValue,
  decodeKey,
  decodeOffsetValue,
  type GroupValue,
  OffsetsRecordError,
} from './records.ts';

/** What replaying an offsets partition found for one group: its last metadata and live offsets. */
export interface ReplayedGroup {
  /** The latest group record; undefined when none, or the last one was a tombstone. */
  value: GroupValue | undefined;
  readonly offsets: Map<string, CommittedOffset>;
}

/**
 * Rebuilds groups from the records of one `__consumer_offsets` partition, applied in log order: a
 * later record for a key replaces an earlier one, a tombstone removes it (what compaction would
 * leave). A record Tide cannot read is counted and skipped, so one bad record cannot stop a
 * coordinator from loading the rest.
 */
export class OffsetsReplay {
  readonly groups = new Map<string, ReplayedGroup>();
  skippedRecords = 0;

  apply(key: Buffer | null, value: Buffer | null): void {
    if (key === null) {
      this.skippedRecords += 1;
      return;
    }
    try {
      this.#applyDecoded(key, value);
    } catch (error) {
      if (!(error instanceof OffsetsRecordError)) throw error;
      this.skippedRecords += 1;
    }
  }

  #applyDecoded(key: Buffer, value: Buffer | null): void {
    const decoded = decodeKey(key);
    if (decoded.type === 'group') {
      const parsed = value === null ? undefined : decodeGroupValue(value);
      if (parsed === undefined && !this.groups.has(decoded.group)) return;
      this.#group(decoded.group).value = parsed;
      return;
    }
    const slot = offsetKey(decoded.topic, decoded.partition);
    if (value === null) {
      this.groups.get(decoded.group)?.offsets.delete(slot);
      return;
    }
    const offset = decodeOffsetValue(value);
    this.#group(decoded.group).offsets.set(slot, {
      topic: decoded.topic,
      partition: decoded.partition,
      offset: offset.offset,
      leaderEpoch: offset.leaderEpoch,
      metadata: offset.metadata,
      commitTimestampMs: Number(offset.commitTimestampMs),
    });
  }

  #group(groupId: string): ReplayedGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = { value: undefined, offsets: new Map() };
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** The groups worth keeping: those with metadata or at least one committed offset. */
  live(): Array<[string, ReplayedGroup]> {
    return [...this.groups].filter(([, group]) => group.value !== undefined || group.offsets.size > 0);
  }
}
