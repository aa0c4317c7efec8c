/** Reads the dashboard needs that the API has no repository function for (all read-only). */
import type { Db } from '../store/schema.js';

export interface AttemptPoint {
  at: number;
  durationMs: number;
  ok: boolean;
}

/** A webhook's attempts since `since`, oldest first (capped: a chart needs no more). */
export async function webhookAttemptsSince(db: Db, organizationId: string, webhookId: string, since: number, cap = 20_000): Promise<AttemptPoint[]> {
  const rows = await db
    .selectFrom('attempts')
    .innerJoin('deliveries', 'deliveries.id', 'attempts.delivery_id')
    .select(['attempts.at', 'attempts.duration_ms', 'attempts.response_status', 'attempts.error'])
    .where('deliveries.webhook_id', '=', webhookId)
    .where('attempts.organization_id', '=', organizationId)
    .where('attempts.at', '>=', since)
    .orderBy('attempts.at', 'desc')
    .limit(cap)
    .execute();
  return rows
    .map((r) => ({
      at: Number(r.at),
      durationMs: Number(r.duration_ms),
      ok: r.error === null && r.response_status !== null && Number(r.response_status) >= 200 && Number(r.response_status) < 300,
    }))
    .reverse();
}

export interface WebhookHealth {
  webhookId: string;
  organizationId: string;
  url: string;
  failingSince: number | null;
  enabled: boolean;
}

/** Webhooks that are failing right now (or were disabled for it), longest-failing first. */
export async function failingWebhooks(db: Db, limit = 20): Promise<WebhookHealth[]> {
  const rows = await db
    .selectFrom('webhooks')
    .select(['id', 'organization_id', 'url', 'failing_since', 'enabled'])
    .where((eb) => eb.or([eb('failing_since', 'is not', null), eb('disabled_reason', 'is not', null)]))
    .orderBy('failing_since')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    webhookId: r.id,
    organizationId: r.organization_id,
    url: r.url,
    failingSince: r.failing_since === null ? null : Number(r.failing_since),
    enabled: Number(r.enabled) === 1,
  }));
}

export interface RecentEvent {
  id: string;
  organizationId: string;
  type: string;
  time: number;
  deliveries: { succeeded: number; failed: number; pending: number; other: number };
}

/** The newest events across organizations with the outcome of their fan-out. */
export async function recentEvents(db: Db, limit = 15): Promise<RecentEvent[]> {
  const events = await db.selectFrom('events').select(['id', 'organization_id', 'type', 'time']).orderBy('id', 'desc').limit(limit).execute();
  if (events.length === 0) return [];
  const counts = await db
    .selectFrom('deliveries')
    .select(['event_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where(
      'event_id',
      'in',
      events.map((e) => e.id),
    )
    .groupBy(['event_id', 'status'])
    .execute();
  return events.map((e) => {
    const deliveries = { succeeded: 0, failed: 0, pending: 0, other: 0 };
    for (const c of counts) {
      if (c.event_id !== e.id) continue;
      const key = c.status === 'succeeded' || c.status === 'failed' || c.status === 'pending' ? c.status : 'other';
      deliveries[key] += Number(c.n);
    }
    return { id: e.id, organizationId: e.organization_id, type: e.type, time: Number(e.time), deliveries };
  });
}

/** Delivery status counts per webhook of one organization. */
export async function deliveryCounts(db: Db, organizationId: string): Promise<Map<string, Record<string, number>>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['webhook_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('organization_id', '=', organizationId)
    .groupBy(['webhook_id', 'status'])
    .execute();
  const out = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const entry = out.get(r.webhook_id) ?? {};
    entry[r.status] = Number(r.n);
    out.set(r.webhook_id, entry);
  }
  return out;
}
