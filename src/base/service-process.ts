import type { Logger } from './logger.ts';

/** A long-running service that a process hosts: an SPU or the SC. */
export interface HostedService {
  readonly logger: Logger;
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Runs `service` as this process's reason to live: starts it, stops it cleanly on SIGINT or SIGTERM
 * and then exits (0, or 1 when stopping failed), and logs then exits 70 on an uncaught exception so a
 * supervisor restarts a clean process. A failed start is logged, undone, and rethrown.
 */
export async function runUntilSignalled(service: HostedService, name: string): Promise<void> {
  process.on('uncaughtException', (error) => {
    service.logger.error('uncaught exception', { error, stack: error.stack });
    process.exit(70);
  });
  const shutdown = (signal: string): void => {
    service.logger.info('signal received', { signal });
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        service.logger.error('unclean shutdown', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  try {
    await service.start();
  } catch (error) {
    service.logger.error(`${name} failed to start`, { error });
    await service.stop().catch(() => undefined);
    throw error;
  }
}
