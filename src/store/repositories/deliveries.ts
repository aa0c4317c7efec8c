import type { Attempt, Delivery, DeliveryStatus } from '../../domain/types.js';
import { toAttempt, toDelivery } from '../rows.js';
import type { Db } from '../schema.js';
import { toPage, type Page, type PageRequest } from './page.js';

export async function getDelivery(db: Db, organizationId: string, id: string): Promise<Delivery | null> {
  const row = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row ? toDelivery(row) : null;
}

export async function listDeliveriesOfEvent(db: Db, eventId: string): Promise<Delivery[]> {
  return (await db.selectFrom('deliveries').selectAll().where('event_id', '=', eventId).orderBy('id').execute()).map(toDelivery);
}

/** Newest first. */
export async function listDeliveries(
  db: Db,
  organizationId: string,
  filter: { webhookId?: string; eventId?: string; status?: DeliveryStatus },
  page: PageRequest,
): Promise<Page<Delivery>> {
  let query = db
    .selectFrom('deliveries')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (page.after !== null) query = query.where('id', '<', page.after);
  if (filter.webhookId !== undefined) query = query.where('webhook_id', '=', filter.webhookId);
  if (filter.eventId !== undefined) query = query.where('event_id', '=', filter.eventId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  return toPage(await query.execute(), page.limit, (r) => r.id, toDelivery);
}

export async function listAttempts(db: Db, deliveryId: string): Promise<Attempt[]> {
  const rows = await db.selectFrom('attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('id').execute();
  return rows.map(toAttempt);
}

export type RetryOutcome = 'queued' | 'not_found' | 'in_flight';

/**
 * Queues one new attempt now, whatever the status. A delivery whose attempt is
 * running right now is left alone: taking its lease would send it twice.
 */
export async function queueRetry(db: Db, organizationId: string, id: string, now: number): Promise<RetryOutcome> {
  const row = await db
    .selectFrom('deliveries')
    .select(['status', 'lease_owner', 'next_attempt_at'])
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  if (!row) return 'not_found';
  if (row.status === 'pending' && row.lease_owner !== null && Number(row.next_attempt_at) > now) return 'in_flight';
  await db
    .updateTable('deliveries')
    .set({ status: 'pending', next_attempt_at: now, lease_owner: null, updated_at: now })
    .where('id', '=', id)
    .execute();
  return 'queued';
}

/** Re-queues a webhook's failed and skipped deliveries created in [since, until). */
export async function recoverDeliveries(db: Db, webhookId: string, since: number, until: number, now: number): Promise<number> {
  const result = await db
    .updateTable('deliveries')
    .set({ status: 'pending', next_attempt_at: now, lease_owner: null, updated_at: now })
    .where('webhook_id', '=', webhookId)
    .where('status', 'in', ['failed', 'skipped'])
    .where('created_at', '>=', since)
    .where('created_at', '<', until)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A disabled webhook's queued work is parked as `skipped` so `recover` can send it later. */
export async function skipPendingDeliveries(db: Db, webhookId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('deliveries')
    .set({ status: 'skipped', next_attempt_at: null, updated_at: now })
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    // A delivery in flight settles by itself; its lease fences the result.
    .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('next_attempt_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
