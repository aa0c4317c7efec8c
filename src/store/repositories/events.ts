import type { HeraldEvent } from '../../domain/types.js';
import { toEvent } from '../rows.js';
import type { DeliveriesTable, Db } from '../schema.js';
import { toPage, type Page, type PageRequest } from './page.js';

export type NewDelivery = Pick<DeliveriesTable, 'id' | 'webhook_id' | 'status' | 'next_attempt_at'>;

// SQLite limits bound parameters per statement; 12 columns x 500 rows stays well under it.
const INSERT_CHUNK = 500;

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
  const events = items.map(({ event }) => ({
    id: event.id,
    organization_id: event.organizationId,
    type: event.type,
    data: JSON.stringify(event.data),
    attributes: JSON.stringify(event.attributes),
    time: event.time,
    external_id: event.externalId,
    created_at: event.createdAt,
  }));
  for (let i = 0; i < events.length; i += INSERT_CHUNK) {
    await db.insertInto('events').values(events.slice(i, i + INSERT_CHUNK)).execute();
  }
  const deliveries = items.flatMap(({ event, deliveries: planned }) =>
    planned.map((d) => ({
      ...d,
      event_id: event.id,
      organization_id: event.organizationId,
      attempt_count: 0,
      lease_owner: null,
      event_time: event.time,
      failing: 0,
      created_at: event.createdAt,
      updated_at: event.createdAt,
    })),
  );
  for (let i = 0; i < deliveries.length; i += INSERT_CHUNK) {
    await db.insertInto('deliveries').values(deliveries.slice(i, i + INSERT_CHUNK)).execute();
  }
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
