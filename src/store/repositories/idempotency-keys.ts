import type { Db } from '../schema.js';
import { num } from '../rows.js';

export interface StoredAnswer {
  requestHash: string;
  statusCode: number;
  body: string;
  createdAt: number;
}

export async function findAnswer(db: Db, scope: string, key: string, notBefore: number): Promise<StoredAnswer | null> {
  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('created_at', '>=', notBefore)
    .executeTakeFirst();
  return row
    ? { requestHash: row.request_hash, statusCode: num(row.status_code), body: row.response_body, createdAt: num(row.created_at) }
    : null;
}

/** `status_code` of a key whose first request is still running. */
export const IN_FLIGHT = 0;

/**
 * Claims a key before its request runs, so that concurrent twins cannot both
 * create: true when this caller holds it. An expired key, or a claim left by
 * a request that never finished (crash) before `staleBefore`, is taken over.
 */
export async function reserveKey(
  db: Db,
  scope: string,
  key: string,
  requestHash: string,
  now: number,
  expiredBefore: number,
  staleBefore: number,
): Promise<boolean> {
  const row = await db
    .insertInto('idempotency_keys')
    .values({ scope, key, request_hash: requestHash, status_code: IN_FLIGHT, response_body: '', created_at: now })
    .onConflict((oc) =>
      oc
        .columns(['scope', 'key'])
        .doUpdateSet({ request_hash: requestHash, status_code: IN_FLIGHT, response_body: '', created_at: now })
        .where((eb) =>
          eb.or([
            eb('idempotency_keys.created_at', '<', expiredBefore),
            eb.and([eb('idempotency_keys.status_code', '=', IN_FLIGHT), eb('idempotency_keys.created_at', '<', staleBefore)]),
          ]),
        ),
    )
    .returning('scope')
    .executeTakeFirst();
  return row !== undefined;
}

/** Frees a claimed key whose request did not succeed: it may be retried. */
export async function releaseKey(db: Db, scope: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).where('status_code', '=', IN_FLIGHT).execute();
}

/** Stores the answer of a claimed key's request. */
export async function completeKey(db: Db, scope: string, key: string, answer: { statusCode: number; body: string }): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: answer.statusCode, response_body: answer.body })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
}
