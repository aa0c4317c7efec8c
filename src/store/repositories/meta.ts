import type { Db } from '../schema.js';

export async function getMeta(db: Db, key: string): Promise<string | null> {
  const row = await db.selectFrom('herald_meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value ?? null;
}

export async function setMeta(db: Db, key: string, value: string): Promise<void> {
  await db
    .insertInto('herald_meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}
