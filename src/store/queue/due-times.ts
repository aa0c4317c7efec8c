import { sql } from 'kysely';
import type { Db } from '../schema.js';
import { numOrNull } from '../rows.js';

/**
 * When each webhook next has work: the earliest `next_attempt_at` of its
 * pending deliveries (a lease's end counts too). One index probe per webhook,
 * so the cost follows the number of webhooks, not the backlog.
 */
export async function nextDueTimes(db: Db, webhookIds?: readonly string[]): Promise<Map<string, number>> {
  let query = db
    .selectFrom('webhooks as w')
    .select([
      'w.id',
      sql<number | string | null>`(select min(d.next_attempt_at) from deliveries d where d.webhook_id = w.id and d.status = 'pending')`.as(
        'due',
      ),
    ])
    .where('w.enabled', '=', 1);
  if (webhookIds !== undefined) {
    if (webhookIds.length === 0) return new Map();
    query = query.where('w.id', 'in', webhookIds);
  }
  const due = new Map<string, number>();
  for (const row of await query.execute()) {
    const at = numOrNull(row.due);
    if (at !== null) due.set(row.id, at);
  }
  return due;
}
