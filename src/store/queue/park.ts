import type { Db } from '../schema.js';

/**
 * Takes a claimed delivery out of the queue without an attempt: `skipped`
 * when its webhook was disabled meanwhile (recover sends it later),
 * `cancelled` when the webhook is gone. Fenced by the lease like a settle.
 */
export async function parkDelivery(db: Db, id: string, lease: string, status: 'skipped' | 'cancelled', now: number): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set({ status, next_attempt_at: null, lease_owner: null, updated_at: now })
    .where('id', '=', id)
    .where('lease_owner', '=', lease)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
