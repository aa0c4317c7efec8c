import type { JsonObject, Organization } from '../../domain/types.js';
import { toOrganization } from '../rows.js';
import type { Db } from '../schema.js';
import { toPage, type Page, type PageRequest } from './page.js';

export async function insertOrganization(
  db: Db,
  org: { id: string; name: string | null; metadata: JsonObject },
  now: number,
): Promise<Organization | null> {
  const row = await db
    .insertInto('organizations')
    .values({ id: org.id, name: org.name, metadata: JSON.stringify(org.metadata), created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? toOrganization(row) : null;
}

/** Creates the organization when it does not exist yet (events may name a new one). */
export async function ensureOrganization(db: Db, id: string, now: number): Promise<void> {
  await db
    .insertInto('organizations')
    .values({ id, name: null, metadata: '{}', created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function getOrganization(db: Db, id: string): Promise<Organization | null> {
  const row = await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toOrganization(row) : null;
}

export async function listOrganizations(db: Db, page: PageRequest): Promise<Page<Organization>> {
  let query = db.selectFrom('organizations').selectAll().orderBy('id').limit(page.limit + 1);
  if (page.after !== null) query = query.where('id', '>', page.after);
  return toPage(await query.execute(), page.limit, (r) => r.id, toOrganization);
}

export async function updateOrganization(
  db: Db,
  id: string,
  patch: { name?: string | null; metadata?: JsonObject },
  now: number,
): Promise<Organization | null> {
  const row = await db
    .updateTable('organizations')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.metadata !== undefined ? { metadata: JSON.stringify(patch.metadata) } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? toOrganization(row) : null;
}

/** Deletes the organization with everything it owns. */
export async function deleteOrganization(db: Db, id: string): Promise<boolean> {
  await db.deleteFrom('attempts').where('organization_id', '=', id).execute();
  await db.deleteFrom('deliveries').where('organization_id', '=', id).execute();
  await db.deleteFrom('events').where('organization_id', '=', id).execute();
  await db.deleteFrom('webhooks').where('organization_id', '=', id).execute();
  await db.deleteFrom('api_tokens').where('organization_id', '=', id).execute();
  const result = await db.deleteFrom('organizations').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
