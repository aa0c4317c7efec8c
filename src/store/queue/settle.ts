import type { AttemptErrorClass } from '../../domain/types.js';
import { insertRows } from '../insert-rows.js';
import type { Db } from '../schema.js';

/** What became of one attempt, decided by the dispatcher from the retry policy. */
export type Settlement =
  | { kind: 'succeeded' }
  | { kind: 'retry'; at: number }
  | { kind: 'failed' };

export interface AttemptRecord {
  id: string;
  at: number;
  durationMs: number;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
  error: AttemptErrorClass | null;
  errorMessage: string | null;
}

export interface SettleInput {
  deliveryId: string;
  organizationId: string;
  lease: string;
  /** The number of this attempt (1 for the first). */
  attemptNumber: number;
  attempt: AttemptRecord;
  settlement: Settlement;
}

/** The delivery's columns after an attempt: out of the queue, or due again at the retry time, lease given up. */
function movedOn(input: SettleInput, now: number) {
  const s = input.settlement;
  return {
    status: s.kind === 'retry' ? 'pending' : s.kind,
    next_attempt_at: s.kind === 'retry' ? s.at : null,
    lease_owner: null,
    attempt_count: input.attemptNumber,
    failing: s.kind === 'succeeded' ? 0 : 1,
    updated_at: now,
  };
}

/**
 * Records one attempt and moves its delivery on, fenced by the lease: answers
 * false when the lease was lost (another holder owns the delivery now), in
 * which case the attempt is still recorded, as it did happen, but the
 * delivery is left to its new holder.
 */
export async function settleAttempt(db: Db, input: SettleInput, now: number): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set(movedOn(input, now))
    .where('id', '=', input.deliveryId)
    .where('lease_owner', '=', input.lease)
    .executeTakeFirst();
  const kept = Number(result.numUpdatedRows) > 0;
  // A delivery deleted while its attempt ran (its organization was deleted) leaves no orphan attempt behind.
  if (!kept && !(await db.selectFrom('deliveries').select('id').where('id', '=', input.deliveryId).executeTakeFirst())) return false;
  await insertRows(db, 'attempts', ATTEMPT_COLUMNS, [attemptRow(input)]);
  return kept;
}

// Ids per `in (...)` list.
const SETTLE_CHUNK = 500;

const ATTEMPT_COLUMNS = [
  'id',
  'delivery_id',
  'organization_id',
  'attempt_number',
  'at',
  'duration_ms',
  'request_url',
  'request_headers',
  'request_body',
  'response_status',
  'response_headers',
  'response_body',
  'error',
  'error_message',
] as const;

/** An attempts row, values in ATTEMPT_COLUMNS order. */
function attemptRow(input: SettleInput): unknown[] {
  const a = input.attempt;
  return [
    a.id,
    input.deliveryId,
    input.organizationId,
    input.attemptNumber,
    a.at,
    a.durationMs,
    a.requestUrl,
    JSON.stringify(a.requestHeaders),
    a.requestBody,
    a.responseStatus,
    JSON.stringify(a.responseHeaders),
    a.responseBody,
    a.error,
    a.errorMessage,
  ];
}

/**
 * `settleAttempt` for many attempts at once, with the same outcome for each:
 * deliveries that move on alike (same outcome, attempt number and lease; a
 * batch of successes is one group) are updated by one statement, and the
 * attempts are written by one multi-row insert. Answers, per input, whether
 * the lease was still held.
 */
export async function settleAttempts(db: Db, inputs: readonly SettleInput[], now: number): Promise<boolean[]> {
  const ids = new Set(inputs.map((i) => i.deliveryId));
  if (ids.size !== inputs.length) {
    // The same delivery twice: only the one-at-a-time order gives the right answer.
    const out: boolean[] = [];
    for (const input of inputs) out.push(await settleAttempt(db, input, now));
    return out;
  }
  const groups = new Map<string, SettleInput[]>();
  for (const input of inputs) {
    const s = input.settlement;
    const key = `${s.kind}|${s.kind === 'retry' ? s.at : ''}|${input.attemptNumber}|${input.lease}`;
    const group = groups.get(key);
    if (group) group.push(input);
    else groups.set(key, [input]);
  }
  const kept = new Set<string>();
  for (const group of groups.values()) {
    const first = group[0]!;
    for (let i = 0; i < group.length; i += SETTLE_CHUNK) {
      const rows = await db
        .updateTable('deliveries')
        .set(movedOn(first, now))
        .where('id', 'in', group.slice(i, i + SETTLE_CHUNK).map((g) => g.deliveryId))
        .where('lease_owner', '=', first.lease)
        .returning('id')
        .execute();
      for (const r of rows) kept.add(r.id);
    }
  }
  // Lost leases: the attempt is recorded unless the delivery itself is gone (its organization was deleted).
  const lost = inputs.filter((i) => !kept.has(i.deliveryId)).map((i) => i.deliveryId);
  const existing = new Set<string>();
  for (let i = 0; i < lost.length; i += SETTLE_CHUNK) {
    const rows = await db.selectFrom('deliveries').select('id').where('id', 'in', lost.slice(i, i + SETTLE_CHUNK)).execute();
    for (const r of rows) existing.add(r.id);
  }
  await insertRows(db, 'attempts', ATTEMPT_COLUMNS, inputs.filter((i) => kept.has(i.deliveryId) || existing.has(i.deliveryId)).map(attemptRow));
  return inputs.map((i) => kept.has(i.deliveryId));
}

/** A webhook that had a success is healthy again: its failure clock stops. */
export async function markWebhooksHealthy(db: Db, webhookIds: readonly string[], now: number): Promise<void> {
  if (webhookIds.length === 0) return;
  await db
    .updateTable('webhooks')
    .set({ failing_since: null, updated_at: now })
    .where('id', 'in', webhookIds)
    .where('failing_since', 'is not', null)
    .execute();
}

/** Starts the failure clock of webhooks that were healthy; running clocks keep their start. */
export async function markWebhooksFailing(db: Db, webhookIds: readonly string[], now: number): Promise<void> {
  if (webhookIds.length === 0) return;
  await db
    .updateTable('webhooks')
    .set({ failing_since: now, updated_at: now })
    .where('id', 'in', webhookIds)
    .where('failing_since', 'is', null)
    .execute();
}

/**
 * Disables the enabled webhooks among `webhookIds` whose failure clock started
 * at or before `failingBefore`; answers those it disabled, with their start.
 */
export async function disableFailingWebhooks(
  db: Db,
  webhookIds: readonly string[],
  failingBefore: number,
  now: number,
): Promise<{ id: string; organizationId: string; failingSince: number }[]> {
  if (webhookIds.length === 0) return [];
  const rows = await db
    .updateTable('webhooks')
    .set({ enabled: 0, disabled_reason: 'failing', updated_at: now })
    .where('id', 'in', webhookIds)
    .where('enabled', '=', 1)
    .where('failing_since', '<=', failingBefore)
    .returning(['id', 'organization_id', 'failing_since'])
    .execute();
  return rows.map((r) => ({ id: r.id, organizationId: r.organization_id, failingSince: Number(r.failing_since) }));
}

/**
 * A retry settled for a webhook that was disabled while its attempt ran is
 * parked as `skipped`, like the rest of that webhook's queue (for `recover`).
 */
export async function skipRetriesOfDisabledWebhooks(db: Db, deliveryIds: readonly string[], now: number): Promise<void> {
  if (deliveryIds.length === 0) return;
  await db
    .updateTable('deliveries')
    .set({ status: 'skipped', next_attempt_at: null, updated_at: now })
    .where('id', 'in', deliveryIds)
    .where('status', '=', 'pending')
    .where('lease_owner', 'is', null)
    .where('webhook_id', 'in', db.selectFrom('webhooks').select('id').where('enabled', '=', 0))
    .execute();
}
