import { sql } from 'kysely';
import type { Db } from './schema.js';

export interface PurgeResult {
  events: number;
  deliveries: number;
  attempts: number;
  idempotencyKeys: number;
}

export interface PurgeCutoffs {
  /**
   * Ids are sortable by creation time, so "older than" is "id below the id
   * that time would get": a primary-key range, no extra index.
   */
  attemptIdBelow: string;
  deliveryIdBelow: string;
  eventIdBelow: string;
  idempotencyCreatedBefore: number;
}

/**
 * Deletes one batch of old rows. Small batches keep each write transaction
 * short, so ingest and delivery never wait long behind it. Pending deliveries
 * are kept whatever their age, and so are the events they need.
 */
export async function purgeBatch(db: Db, cutoffs: PurgeCutoffs, batchSize: number): Promise<PurgeResult> {
  const attempts = await db
    .deleteFrom('attempts')
    .where('id', 'in', db.selectFrom('attempts').select('id').where('id', '<', cutoffs.attemptIdBelow).limit(batchSize))
    .executeTakeFirst();
  const deliveries = await db
    .deleteFrom('deliveries')
    .where(
      'id',
      'in',
      db
        .selectFrom('deliveries')
        .select('id')
        .where('id', '<', cutoffs.deliveryIdBelow)
        .where('status', '!=', 'pending')
        .limit(batchSize),
    )
    .executeTakeFirst();
  const events = await db
    .deleteFrom('events')
    .where(
      'id',
      'in',
      db
        .selectFrom('events as e')
        .select('e.id')
        .where('e.id', '<', cutoffs.eventIdBelow)
        .where(sql<boolean>`not exists (select 1 from deliveries d where d.event_id = e.id)`)
        .limit(batchSize),
    )
    .executeTakeFirst();
  // A day's worth of keys at most: no batching needed.
  const keys = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', cutoffs.idempotencyCreatedBefore)
    .executeTakeFirst();
  return {
    attempts: Number(attempts.numDeletedRows),
    deliveries: Number(deliveries.numDeletedRows),
    events: Number(events.numDeletedRows),
    idempotencyKeys: Number(keys.numDeletedRows),
  };
}
