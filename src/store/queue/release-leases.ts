import type { Db } from '../schema.js';
import { isPending } from './pending.js';

/** Gives back deliveries this process holds but will not attempt (shutdown): due again at once. */
export async function releaseLeases(db: Db, leases: readonly string[], now: number): Promise<number> {
  if (leases.length === 0) return 0;
  const result = await db
    .updateTable('deliveries')
    .set({ lease_owner: null, next_attempt_at: now, updated_at: now })
    .where('lease_owner', 'in', leases)
    .where(isPending)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
