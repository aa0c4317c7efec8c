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

/** Keeps the first answer: a concurrent twin's later write changes nothing. */
export async function saveAnswer(db: Db, scope: string, key: string, answer: StoredAnswer): Promise<void> {
  await db
    .insertInto('idempotency_keys')
    .values({
      scope,
      key,
      request_hash: answer.requestHash,
      status_code: answer.statusCode,
      response_body: answer.body,
      created_at: answer.createdAt,
    })
    .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({
      request_hash: answer.requestHash,
      status_code: answer.statusCode,
      response_body: answer.body,
      created_at: answer.createdAt,
    }).where('idempotency_keys.created_at', '<', answer.createdAt - 86_400_000))
    .execute();
}
