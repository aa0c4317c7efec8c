import type { Db } from '../schema.js';
import { num } from '../rows.js';
import { isPending } from './pending.js';

/** A delivery held by a dispatcher until `leaseExpiresAt`. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  webhookId: string;
  organizationId: string;
  /** Attempts recorded before this one. */
  attemptCount: number;
  eventTime: number;
  /** The previous attempt failed (a success now is a recovery). */
  failing: boolean;
  /** Fences every settle: a delivery whose lease was taken over cannot be settled by the old holder. */
  lease: string;
  leaseExpiresAt: number;
}

export interface ClaimRequest {
  webhookId: string;
  limit: number;
}

/**
 * Claims up to `limit` due deliveries of one webhook, oldest due first, in one
 * statement. The lease is written as the new `next_attempt_at`: a delivery
 * whose holder dies becomes due again when the lease ends, so no sweeper is
 * needed to give it back.
 */
export async function claimDue(
  db: Db,
  request: ClaimRequest,
  options: { now: number; leaseMs: number; lease: string },
): Promise<ClaimedDelivery[]> {
  const leaseExpiresAt = options.now + options.leaseMs;
  const rows = await db
    .updateTable('deliveries')
    .set({ lease_owner: options.lease, next_attempt_at: leaseExpiresAt, updated_at: options.now })
    .where(
      'id',
      'in',
      db
        .selectFrom('deliveries')
        .select('id')
        .where('webhook_id', '=', request.webhookId)
        .where(isPending)
        .where('next_attempt_at', '<=', options.now)
        .orderBy('next_attempt_at')
        .limit(request.limit),
    )
    .returning(['id', 'event_id', 'webhook_id', 'organization_id', 'attempt_count', 'event_time', 'failing'])
    .execute();
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    webhookId: r.webhook_id,
    organizationId: r.organization_id,
    attemptCount: num(r.attempt_count),
    eventTime: num(r.event_time),
    failing: num(r.failing) === 1,
    lease: options.lease,
    leaseExpiresAt,
  }));
}
