import type { HeraldEvent } from '../../domain/types.js';
import { insertRows } from '../insert-rows.js';
import { toEvent } from '../rows.js';
import type { DeliveriesTable, Db } from '../schema.js';
import { toPage, type Page, type PageRequest } from './page.js';

export type NewDelivery = Pick<DeliveriesTable, 'id' | 'webhook_id' | 'status' | 'next_attempt_at'>;

/** Writes an event and its deliveries. Call inside a transaction: both or neither. */
export async function insertEventWithDeliveries(db: Db, event: HeraldEvent, deliveries: readonly NewDelivery[]): Promise<void> {
  await insertEventsWithDeliveries(db, [{ event, deliveries }]);
}

/**
 * Writes many events and their deliveries in a few multi-row statements (an
 * ingest batch). Call inside a transaction: all or none.
 */
export async function insertEventsWithDeliveries(
  db: Db,
  items: readonly { event: HeraldEvent; deliveries: readonly NewDelivery[] }[],
): Promise<void> {
  await insertRows(
    db,
    'events',
    ['id', 'organization_id', 'type', 'data', 'attributes', 'time', 'external_id', 'created_at'],
    items.map(({ event: e }) => [e.id, e.organizationId, e.type, JSON.stringify(e.data), JSON.stringify(e.attributes), e.time, e.externalId, e.createdAt]),
  );
  const deliveries: unknown[][] = [];
  for (const { event: e, deliveries: planned } of items) {
    for (const d of planned) {
      deliveries.push([d.id, d.webhook_id, d.status, d.next_attempt_at, e.id, e.organizationId, 0, null, e.time, 0, e.createdAt, e.createdAt]);
    }
  }
  await insertRows(
    db,
    'deliveries',
    ['id', 'webhook_id', 'status', 'next_attempt_at', 'event_id', 'organization_id', 'attempt_count', 'lease_owner', 'event_time', 'failing', 'created_at', 'updated_at'],
    deliveries,
  );
}

export async function getEvent(db: Db, organizationId: string, id: string): Promise<HeraldEvent | null> {
  const row = await db
    .selectFrom('events')
    .selectAll()
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row ? toEvent(row) : null;
}

export async function getEventsByIds(db: Db, ids: readonly string[]): Promise<HeraldEvent[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('events').selectAll().where('id', 'in', ids).execute()).map(toEvent);
}

export async function findEventByExternalId(db: Db, organizationId: string, externalId: string): Promise<HeraldEvent | null> {
  const row = await db
    .selectFrom('events')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row ? toEvent(row) : null;
}

/** Newest first. */
export async function listEvents(
  db: Db,
  organizationId: string,
  filter: { type?: string },
  page: PageRequest,
): Promise<Page<HeraldEvent>> {
  let query = db
    .selectFrom('events')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (page.after !== null) query = query.where('id', '<', page.after);
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  return toPage(await query.execute(), page.limit, (r) => r.id, toEvent);
}
