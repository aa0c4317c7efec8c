import type { EventType } from '../../domain/types.js';
import { toEventType } from '../rows.js';
import type { Db, EventTypesTable } from '../schema.js';
import { toPage, type Page, type PageRequest } from './page.js';

function toRow(type: EventType, source: string, now: number): EventTypesTable {
  return {
    name: type.name,
    description: type.description,
    group_name: type.group,
    schema: type.schema === null ? null : JSON.stringify(type.schema),
    examples: JSON.stringify(type.examples),
    deprecated: type.deprecated ? 1 : 0,
    archived: type.archived ? 1 : 0,
    format: type.format,
    extra: JSON.stringify(type.extra),
    source,
    created_at: now,
    updated_at: now,
  };
}

/** Creates or replaces a type; answers whether it was created. */
export async function putEventType(db: Db, type: EventType, source: 'api' | 'profile' | 'system', now: number): Promise<boolean> {
  const existing = await db.selectFrom('event_types').select('created_at').where('name', '=', type.name).executeTakeFirst();
  const row = toRow(type, source, now);
  if (existing) {
    const { created_at: _created, name: _name, ...rest } = row;
    await db.updateTable('event_types').set(rest).where('name', '=', type.name).execute();
    return false;
  }
  await db.insertInto('event_types').values(row).execute();
  return true;
}

/**
 * Loads the profile's catalog at start. Types the operator changed through the
 * API (source `api`) are theirs and are left alone.
 */
export async function syncCatalog(db: Db, types: readonly EventType[], source: 'profile' | 'system', now: number): Promise<void> {
  const owned = new Set(
    (await db.selectFrom('event_types').select('name').where('source', '=', 'api').execute()).map((r) => r.name),
  );
  for (const type of types) {
    if (!owned.has(type.name)) await putEventType(db, type, source, now);
  }
}

export async function getEventType(db: Db, name: string): Promise<EventType | null> {
  const row = await db.selectFrom('event_types').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toEventType(row) : null;
}

export async function listAllEventTypes(db: Db): Promise<EventType[]> {
  return (await db.selectFrom('event_types').selectAll().orderBy('name').execute()).map(toEventType);
}

export async function listEventTypes(
  db: Db,
  filter: { group?: string; includeDeprecated?: boolean; includeArchived?: boolean },
  page: PageRequest,
): Promise<Page<EventType>> {
  let query = db.selectFrom('event_types').selectAll().orderBy('name').limit(page.limit + 1);
  if (page.after !== null) query = query.where('name', '>', page.after);
  if (filter.group !== undefined) query = query.where('group_name', '=', filter.group);
  if (!filter.includeDeprecated) query = query.where('deprecated', '=', 0);
  if (!filter.includeArchived) query = query.where('archived', '=', 0);
  return toPage(await query.execute(), page.limit, (r) => r.name, toEventType);
}

export async function archiveEventType(db: Db, name: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('event_types')
    .set({ archived: 1, source: 'api', updated_at: now })
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
