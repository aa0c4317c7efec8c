import pg from 'pg';
import type { Logger } from 'pino';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

/**
 * LISTEN on a dedicated connection that outlives database restarts: when it
 * drops, it reconnects with exponential backoff. Notifications are only a
 * wake-up; the dispatcher's periodic rescan covers any that are lost.
 */
export async function listenForDue(
  config: pg.ClientConfig,
  channel: string,
  onDue: (webhookIds: string[]) => void,
  log: Logger,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let backoff = MIN_BACKOFF_MS;
  let timer: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = new pg.Client(config);
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload) onDue(message.payload.split(','));
    });
    next.on('error', (error) => {
      log.warn({ err: error }, 'LISTEN connection failed; reconnecting');
      retry(next);
    });
    next.on('end', () => retry(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      client = next;
      if (backoff > MIN_BACKOFF_MS) log.info('LISTEN connection restored');
      backoff = MIN_BACKOFF_MS;
      // Work announced while we were away: wake the dispatcher to rescan.
      onDue([]);
    } catch (error) {
      log.warn({ err: error, retryInMs: backoff }, 'cannot LISTEN yet; retrying');
      retry(next);
    }
  };

  const retry = (failed: pg.Client): void => {
    if (stopped || timer !== null) return;
    if (client === failed) client = null;
    failed.removeAllListeners('end');
    failed.end().catch(() => {});
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, backoff);
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  };

  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const current = client;
    client = null;
    if (current) {
      current.removeAllListeners('end');
      await current.end().catch(() => {});
    }
  };
}
