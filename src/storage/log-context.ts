import type { Clock } from '../base/clock.ts';
import type { LogConfig } from './config.ts';
import type { StorageFs } from './fs.ts';
import type { SegmentHandleCache } from './handle-cache.ts';

/** Something recovery or a read noticed that an operator should know about. */
export type StorageEvent =
  | { readonly kind: 'unknown-file'; readonly path: string }
  | {
      readonly kind: 'truncated-tail';
      readonly path: string;
      readonly position: number;
      readonly reason: string;
    }
  | { readonly kind: 'index-rebuilt'; readonly path: string; readonly reason: string }
  | { readonly kind: 'checkpoint-invalid'; readonly path: string }
  | { readonly kind: 'segment-dropped'; readonly path: string; readonly reason: string }
  | { readonly kind: 'corrupt-read'; readonly path: string; readonly message: string }
  | { readonly kind: 'background-failure'; readonly task: BackgroundTask | 'tick'; readonly message: string };

/** The log work a LogManager's tick runs without a caller waiting on it. */
export type BackgroundTask = 'flush' | 'checkpoint' | 'retention' | 'compaction';

/** What the parts of one log share: where it lives, its seams and its current settings. */
export interface LogContext {
  readonly dir: string;
  readonly fs: StorageFs;
  readonly cache: SegmentHandleCache;
  readonly clock: Clock;
  readonly config: () => LogConfig;
  readonly report: (event: StorageEvent) => void;
}

/** Bytes read per chunk when scanning a segment. */
export const scanChunkBytes = 1024 * 1024; // bytes
