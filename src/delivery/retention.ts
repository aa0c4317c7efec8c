import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { idLowerBound } from '../domain/ids.js';
import { coerceError } from '../errors.js';
import { purgeBatch, type PurgeResult } from '../store/retention.js';
import type { Db } from '../store/schema.js';

const DAY_MS = 86_400_000;
/** Advisory lock key of the retention purge on a shared store. */
const PURGE_LOCK = 7_243_022;

export interface RetentionOptions {
  retentionDays: number;
  /**
   * Several processes share the store: one purges at a time (a transaction-
   * scoped advisory lock per batch; a process that cannot take it skips the pass).
   */
  shared?: boolean;
  /** Rows per table per batch. @defaultValue 1000 */
  batchSize?: number;
  /** Pause between passes. @defaultValue 60 s */
  intervalMs?: number;
}

/** Purges one full pass: batches until a batch deletes nothing, yielding between batches. */
export async function purgeExpired(db: Db, clock: Clock, options: RetentionOptions): Promise<PurgeResult> {
  const cutoff = clock.now() - options.retentionDays * DAY_MS;
  const cutoffs = {
    attemptIdBelow: idLowerBound('att', cutoff),
    deliveryIdBelow: idLowerBound('dlv', cutoff),
    eventIdBelow: idLowerBound('evt', cutoff),
    // Idempotency keys are only honoured for a day.
    idempotencyCreatedBefore: clock.now() - DAY_MS,
  };
  const total: PurgeResult = { events: 0, deliveries: 0, attempts: 0, idempotencyKeys: 0 };
  for (;;) {
    const batch = options.shared
      ? await db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${PURGE_LOCK}) as locked`.execute(trx);
          return rows[0]?.locked ? purgeBatch(trx, cutoffs, options.batchSize ?? 1000) : null;
        })
      : await purgeBatch(db, cutoffs, options.batchSize ?? 1000);
    if (batch === null) return total; // another process is purging
    total.events += batch.events;
    total.deliveries += batch.deliveries;
    total.attempts += batch.attempts;
    total.idempotencyKeys += batch.idempotencyKeys;
    if (batch.events + batch.deliveries + batch.attempts + batch.idempotencyKeys === 0) return total;
    // Let ingest and settles in between.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Runs `purgeExpired` in the background every interval until stopped. */
export function startRetention(db: Db, clock: Clock, log: Logger, options: RetentionOptions): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const pass = async (): Promise<void> => {
    try {
      const result = await purgeExpired(db, clock, options);
      if (result.events + result.deliveries + result.attempts > 0) log.info({ purged: result }, 'retention purge');
    } catch (error) {
      log.error({ err: coerceError(error) }, 'retention purge failed; will try again');
    }
    if (!stopped) timer = setTimeout(() => (running = pass()), options.intervalMs ?? 60_000);
  };
  timer = setTimeout(() => (running = pass()), 1_000);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
