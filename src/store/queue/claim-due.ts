import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database, Db } from '../schema.js';
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
  /** The webhook's concurrency cap, enforced against leases held by every process when the queue is shared. */
  cap: number;
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
  options: { now: number; leaseMs: number; lease: string; shared: boolean },
): Promise<ClaimedDelivery[]> {
  const limit = request.limit;
  let candidates = db
    .selectFrom('deliveries')
    .select('id')
    .where('webhook_id', '=', request.webhookId)
    .where(isPending)
    .where('next_attempt_at', '<=', options.now)
    .orderBy('next_attempt_at');
  if (options.shared) {
    // Workers claiming for the same webhook take turns (a transaction-scoped
    // lock per webhook), so the count of live leases is exact and the cap
    // holds across processes; different webhooks never wait on each other.
    // The lock is its own statement: the claim below then reads a snapshot
    // taken after it, which sees every lease committed before the lock.
    await sql`select pg_advisory_xact_lock(hashtextextended(${request.webhookId}, 0))`.execute(db);
    const held = db
      .selectFrom('deliveries')
      .select(sql<number>`count(*)`.as('n'))
      .where('webhook_id', '=', request.webhookId)
      .where(isPending)
      .where('lease_owner', 'is not', null)
      .where('next_attempt_at', '>', options.now);
    // Counted in the claim statement itself (one round trip less); rows another
    // transaction is claiming are skipped, not waited for.
    candidates = candidates.forUpdate().skipLocked();
    return claimRows(db, request, candidates.limit(sql<number>`greatest(0, least(${limit}, ${request.cap} - (${held})))`), options);
  }
  return claimRows(db, request, candidates.limit(limit), options);
}

/** Leases the rows `picked` selects, re-checking in the update that each is still pending. */
async function claimRows(
  db: Db,
  request: ClaimRequest,
  picked: SelectQueryBuilder<Database, 'deliveries', { id: string }>,
  options: { now: number; leaseMs: number; lease: string },
): Promise<ClaimedDelivery[]> {
  const leaseExpiresAt = options.now + options.leaseMs;
  const rows = await db
    .updateTable('deliveries')
    .set({ lease_owner: options.lease, next_attempt_at: leaseExpiresAt, updated_at: options.now })
    .where('id', 'in', picked)
    // Re-checked in the update itself: a row settled since it was selected is left alone.
    .where(isPending)
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

/**
 * Claims for several webhooks in one transaction. On a shared queue each
 * webhook's lock is held until the transaction ends, so the locks are taken in
 * webhook id order, the same in every process: two workers taking overlapping
 * sets in different orders deadlock (PostgreSQL aborts one of them after
 * `deadlock_timeout`, and both lose that second).
 */
export async function claimDueMany(
  db: Db,
  requests: readonly ClaimRequest[],
  options: { now: number; leaseMs: number; lease: string; shared: boolean },
): Promise<ClaimedDelivery[]> {
  const ordered = [...requests].sort((a, b) => (a.webhookId < b.webhookId ? -1 : a.webhookId > b.webhookId ? 1 : 0));
  const claimed: ClaimedDelivery[] = [];
  for (const request of ordered) claimed.push(...(await claimDue(db, request, options)));
  return claimed;
}
