import type { HeraldConfig } from '../config.js';
import { coerceError } from '../errors.js';
import { createHerald, createLogger } from '../main.js';

/** Runs Herald until SIGTERM or SIGINT, then shuts down gracefully. */
export async function runServe(config: HeraldConfig): Promise<void> {
  const log = createLogger(config.logLevel);
  const herald = await createHerald({ config, logger: log });
  await herald.start();
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: no new claims, waiting for attempts in flight');
    herald.stop().then(
      () => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: coerceError(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
