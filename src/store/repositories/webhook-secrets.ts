/**
 * The raw (sealed) secret columns of webhooks, for the jobs that re-seal them:
 * sealing plaintext left by an older Herald, and key rotation. Every write is
 * a compare-and-set on the values read, so a concurrent API change wins.
 */
import type { Db } from '../schema.js';

export interface StoredSecrets {
  id: string;
  secret: string;
  previousSecret: string | null;
}

/** Up to `limit` webhooks after `afterId` (by id), with their stored secret columns. */
export async function listStoredSecrets(db: Db, afterId: string | null, limit: number): Promise<StoredSecrets[]> {
  let query = db.selectFrom('webhooks').select(['id', 'secret', 'previous_secret']).orderBy('id').limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  return (await query.execute()).map((r) => ({ id: r.id, secret: r.secret, previousSecret: r.previous_secret }));
}

/** Webhooks with a secret column that is not sealed at all (written before secrets were encrypted). */
export async function listPlaintextSecrets(db: Db, limit: number): Promise<StoredSecrets[]> {
  const rows = await db
    .selectFrom('webhooks')
    .select(['id', 'secret', 'previous_secret'])
    .where((eb) => eb.or([eb('secret', 'not like', 'hs1:%'), eb.and([eb('previous_secret', 'is not', null), eb('previous_secret', 'not like', 'hs1:%')])]))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, secret: r.secret, previousSecret: r.previous_secret }));
}

/** Replaces a webhook's secret columns if they still hold `expected`; false when they changed meanwhile. */
export async function replaceStoredSecrets(db: Db, expected: StoredSecrets, next: { secret: string; previousSecret: string | null }): Promise<boolean> {
  let query = db
    .updateTable('webhooks')
    .set({ secret: next.secret, previous_secret: next.previousSecret })
    .where('id', '=', expected.id)
    .where('secret', '=', expected.secret);
  query = expected.previousSecret === null ? query.where('previous_secret', 'is', null) : query.where('previous_secret', '=', expected.previousSecret);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** How many webhooks hold a sealed secret under none of `keyIds`, and the key id of one of them. */
export async function countSealedOutside(db: Db, keyIds: readonly string[]): Promise<{ count: number; example: string | null }> {
  const base = db.selectFrom('webhooks').where((eb) => {
    const foreign = (column: 'secret' | 'previous_secret') =>
      eb.and([eb(column, 'like', 'hs1:%'), ...keyIds.map((id) => eb(column, 'not like', `hs1:${id}:%`))]);
    return eb.or([foreign('secret'), foreign('previous_secret')]);
  });
  const counted = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  const count = Number(counted?.n ?? 0);
  if (count === 0) return { count, example: null };
  const row = await base.select(['secret', 'previous_secret']).limit(1).executeTakeFirst();
  const known = (value: string | null | undefined) => value == null || !value.startsWith('hs1:') || keyIds.some((id) => value.startsWith(`hs1:${id}:`));
  const foreign = row ? [row.secret, row.previous_secret].find((value) => !known(value)) : undefined;
  return { count, example: foreign?.split(':')[1] ?? null };
}
