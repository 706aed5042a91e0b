import type { Logger } from '../base/logger.ts';
import { type Counter, MetricsRegistry } from '../base/metrics.ts';
import type { StorageEvent } from '../storage/log-context.ts';
import type { TopicPartition } from '../storage/log-manager.ts';

/**
 * What the SPU tells operators about its storage: every storage event is logged, and the ones that
 * mean data is damaged or work failed are counted on /metrics, so an alert can fire on a counter
 * rather than on someone reading the log.
 */
export class StorageHealth {
  readonly #logger: Logger;
  readonly #corruptReads: Counter;
  readonly #metrics: MetricsRegistry;
  readonly #failures = new Map<string, Counter>();

  constructor(options: { logger: Logger; metrics?: MetricsRegistry }) {
    this.#logger = options.logger;
    this.#metrics = options.metrics ?? new MetricsRegistry();
    this.#corruptReads = this.#metrics.counter(
      'tide_storage_corrupt_reads_total',
      'reads that met stored data failing validation (damaged segments)',
    );
  }

  /** A storage event of one log: logged, and counted when it is damage or a failure. */
  onEvent(log: TopicPartition | undefined, event: StorageEvent): void {
    const fields = { ...(log === undefined ? {} : { topic: log.topic, partition: log.partition }), event };
    if (event.kind === 'background-failure') {
      this.#failureCounter(event.task).add();
      this.#logger.error('storage background task failed', fields);
      return;
    }
    if (event.kind === 'corrupt-read') this.#corruptReads.add();
    this.#logger.warn('storage event', fields);
  }

  get corruptReads(): number {
    return this.#corruptReads.value;
  }

  #failureCounter(task: string): Counter {
    let counter = this.#failures.get(task);
    if (counter === undefined) {
      counter = this.#metrics.counter(
        'tide_storage_background_failures_total',
        'background storage tasks (flush, checkpoint, retention, compaction) that failed',
        { task },
      );
      this.#failures.set(task, counter);
    }
    return counter;
  }
}
