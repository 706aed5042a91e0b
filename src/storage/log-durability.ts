import { dirname } from 'node:path';
import { StorageError, storageErrorCodes, storageIoError } from './errors.ts';
import type { DurabilityWaiter, LogState, QueuedAppend } from './log-state.ts';

/**
 * Durability of a partition log: fsyncs on demand (flush.messages, waitDurable) and by time
 * (flush.ms), shared by every waiter that arrives during one fsync (group commit). A failed fsync
 * takes the log offline: what the page cache held may be lost, so nothing more is acknowledged.
 */

export async function flushAfterAppend(log: LogState, result: QueuedAppend): Promise<void> {
  log.unflushedRecords += result.records;
  if (log.unflushedRecords < log.settings.config.flushMessages) return;
  log.unflushedRecords = 0;
  await waitDurable(log, result.endOffset);
}

/**
 * Resolves once every batch below `offset` is fsynced, starting an fsync if none is running; all
 * waiters arriving during one fsync share the next (group commit). `offset` must be ≤ log end.
 */
export function waitDurable(log: LogState, offset: bigint): Promise<void> {
  if (offset > log.logEndOffset)
    return Promise.reject(
      new StorageError(
        storageErrorCodes.offsetOutOfRange,
        `offset ${offset} is beyond log end ${log.logEndOffset}`,
      ),
    );
  if (offset <= log.durableOffset) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    log.flushWaiters.push({ offset, resolve, reject });
    if (!log.flushing) void flushLoop(log);
  });
}

/** The flush.ms policy: fsyncs when unflushed data is older than flush.ms. Called by a tick. */
export async function flushIfDue(log: LogState): Promise<void> {
  if (log.closed || log.durableOffset >= log.logEndOffset) return;
  if (log.context.clock.monotonicMs() - log.lastFlushMs < log.settings.config.flushMs) return;
  await waitDurable(log, log.logEndOffset);
}

export async function flushLoop(log: LogState): Promise<void> {
  log.flushing = true;
  try {
    while (log.flushWaiters.some((waiter) => waiter.offset > log.durableOffset)) {
      // Group commit: let the appends already queued finish their writes, so this fsync covers
      // them too instead of leaving them for the next one.
      if (log.queue.pending > 0) await log.queue.run(() => Promise.resolve());
      const target = log.logEndOffset;
      const generation = log.generation;
      const active = log.segments.at(-1)!;
      await syncFolderIfPending(log);
      await log.context.cache.with(active.logPath, (file) => file.sync());
      // A truncation during the fsync may have replaced what it covered: do not count it.
      if (generation === log.generation) markDurable(log, target);
    }
  } catch (error) {
    log.failure = storageIoError(error, `fsync of ${log.context.dir}`);
    const waiters = log.flushWaiters;
    log.flushWaiters = [];
    for (const waiter of waiters) waiter.reject(log.failure);
  } finally {
    log.flushing = false;
  }
}

/** Makes new segment files' folder entries (and a new log folder's) durable before their data. */
export async function syncFolderIfPending(log: LogState): Promise<void> {
  if (!log.folderSyncPending) return;
  log.folderSyncPending = false;
  try {
    await log.context.fs.syncDir(log.context.dir);
    await log.context.fs.syncDir(dirname(log.context.dir));
  } catch (error) {
    log.folderSyncPending = true;
    throw error;
  }
}

export function markDurable(log: LogState, offset: bigint): void {
  if (offset > log.durableOffset) log.durableOffset = offset;
  log.lastFlushMs = log.context.clock.monotonicMs();
  const waiting: DurabilityWaiter[] = [];
  for (const waiter of log.flushWaiters) {
    if (waiter.offset <= log.durableOffset) waiter.resolve();
    else waiting.push(waiter);
  }
  log.flushWaiters = waiting;
}
