/**
 * The deliveries table as a queue, on a real database: claim, lease expiry
 * (tested by backdating the lease, never by sleeping), fenced settles,
 * release, due times, webhook health and retention.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { purgeExpired } from '../../src/delivery/retention.js';
import { createIdGenerator, idLowerBound } from '../../src/domain/ids.js';
import { claimDue } from '../../src/store/queue/claim-due.js';
import { nextDueTimes } from '../../src/store/queue/due-times.js';
import { parkDelivery } from '../../src/store/queue/park.js';
import { releaseLeases } from '../../src/store/queue/release-leases.js';
import {
  disableFailingWebhooks,
  markWebhooksFailing,
  markWebhooksHealthy,
  settleAttempt,
  type AttemptRecord,
  type Settlement,
} from '../../src/store/queue/settle.js';
import { purgeBatch } from '../../src/store/retention.js';
import type { Db } from '../../src/store/schema.js';
import { addDelivery, addEvent, addWebhook, delivery, DIALECTS, ids, ORG, sharedQueueDbs, useStore } from './harness.js';

const t0 = 1_700_000_000_000;
const LEASE_MS = 60_000;
const DAY_MS = 86_400_000;

function attempt(id: string, at = t0): AttemptRecord {
  return {
    id,
    at,
    durationMs: 42,
    requestUrl: 'https://example.com/in',
    requestHeaders: { 'content-type': 'application/json' },
    requestBody: '{"type":"deployment.created"}',
    responseStatus: 500,
    responseHeaders: {},
    responseBody: 'oops',
    error: 'status',
    errorMessage: null,
  };
}

function settle(db: Db, deliveryId: string, lease: string, settlement: Settlement, attemptNumber = 1): Promise<boolean> {
  return settleAttempt(
    db,
    { deliveryId, organizationId: ORG, lease, attemptNumber, attempt: attempt(`att_${deliveryId}_${lease}_${attemptNumber}`), settlement },
    t0 + 500,
  );
}

/** Claims as the dialect's dispatcher does: on PostgreSQL inside a transaction, with row locks and a shared cap. */
const claim = (db: Db, webhookId: string, limit: number, now: number, lease: string) =>
  db
    .transaction()
    .execute((trx) => claimDue(trx, { webhookId, limit, cap: 1000 }, { now, leaseMs: LEASE_MS, lease, shared: sharedQueueDbs.has(db) }));

const sortedIds = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

for (const dialect of DIALECTS) {
  describe(`${dialect}: claimDue`, () => {
    const store = useStore(dialect);

    it('claims only due pending rows of that webhook, oldest due first, up to the limit', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addWebhook(db, 'wh_b');
      await addDelivery(db, 'dlv_1', { webhook_id: 'wh_a', next_attempt_at: t0 - 1_000 });
      await addDelivery(db, 'dlv_2', { webhook_id: 'wh_a', next_attempt_at: t0 - 3_000 });
      await addDelivery(db, 'dlv_3', { webhook_id: 'wh_a', next_attempt_at: t0 - 2_000 });
      await addDelivery(db, 'dlv_4', { webhook_id: 'wh_a', next_attempt_at: t0 });
      await addDelivery(db, 'dlv_5', { webhook_id: 'wh_a', next_attempt_at: t0 + 1 });
      await addDelivery(db, 'dlv_6', { webhook_id: 'wh_a', status: 'failed', next_attempt_at: null });
      await addDelivery(db, 'dlv_7', { webhook_id: 'wh_a', status: 'succeeded', next_attempt_at: null });
      // Not pending: never claimed, even with a due time left behind.
      await addDelivery(db, 'dlv_8', { webhook_id: 'wh_a', status: 'skipped', next_attempt_at: t0 - 9_000 });
      await addDelivery(db, 'dlv_9', { webhook_id: 'wh_b', next_attempt_at: t0 - 9_000 });

      expect(sortedIds(await claim(db, 'wh_a', 3, t0, 'lease-1'))).toEqual(['dlv_1', 'dlv_2', 'dlv_3']);
      expect(sortedIds(await claim(db, 'wh_a', 10, t0, 'lease-2'))).toEqual(['dlv_4']);
      expect(await claim(db, 'wh_a', 10, t0, 'lease-3')).toEqual([]);
      expect((await delivery(db, 'dlv_9')).lease_owner).toBeNull();
      expect((await delivery(db, 'dlv_5')).lease_owner).toBeNull();
    });

    it('writes the lease owner and the lease end as next_attempt_at, and answers what the attempt needs', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addDelivery(db, 'dlv_1', {
        webhook_id: 'wh_a',
        event_id: 'evt_1',
        next_attempt_at: t0 - 5,
        attempt_count: 2,
        failing: 1,
        event_time: t0 - 60_000,
      });
      const claimed = await claim(db, 'wh_a', 5, t0, 'lease-1');
      expect(claimed).toEqual([
        {
          id: 'dlv_1',
          eventId: 'evt_1',
          webhookId: 'wh_a',
          organizationId: ORG,
          attemptCount: 2,
          eventTime: t0 - 60_000,
          failing: true,
          lease: 'lease-1',
          leaseExpiresAt: t0 + LEASE_MS,
        },
      ]);
      expect(await delivery(db, 'dlv_1')).toMatchObject({
        status: 'pending',
        lease_owner: 'lease-1',
        next_attempt_at: t0 + LEASE_MS,
        attempt_count: 2,
        updated_at: t0,
      });
    });

    it('reclaims a delivery whose lease expired with a new lease, leaves live leases alone', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addDelivery(db, 'dlv_stale', { webhook_id: 'wh_a', next_attempt_at: t0 - 2 });
      await addDelivery(db, 'dlv_live', { webhook_id: 'wh_a', next_attempt_at: t0 - 1 });
      expect(sortedIds(await claim(db, 'wh_a', 10, t0, 'lease-old'))).toEqual(['dlv_live', 'dlv_stale']);

      // Both leases are live: nothing to claim.
      expect(await claim(db, 'wh_a', 10, t0 + 1_000, 'lease-new')).toEqual([]);

      // The holder of dlv_stale died: its lease ended a moment ago.
      await db.updateTable('deliveries').set({ next_attempt_at: t0 + 1_000 - 1 }).where('id', '=', 'dlv_stale').execute();
      const reclaimed = await claim(db, 'wh_a', 10, t0 + 1_000, 'lease-new');
      expect(reclaimed.map((d) => [d.id, d.lease, d.leaseExpiresAt])).toEqual([['dlv_stale', 'lease-new', t0 + 1_000 + LEASE_MS]]);
      expect(await delivery(db, 'dlv_stale')).toMatchObject({ lease_owner: 'lease-new', next_attempt_at: t0 + 1_000 + LEASE_MS });
      expect(await delivery(db, 'dlv_live')).toMatchObject({ lease_owner: 'lease-old', next_attempt_at: t0 + LEASE_MS });
    });

    it('on a shared queue, claims no more than the cap minus the leases still live (any holder\'s)', async () => {
      const { db } = store();
      if (!sharedQueueDbs.has(db)) return; // the cap is counted in the database only where processes share it
      await addWebhook(db, 'wh_a');
      for (let i = 0; i < 6; i++) await addDelivery(db, `dlv_${i}`, { webhook_id: 'wh_a', next_attempt_at: t0 - 10 + i });
      const claimCapped = (limit: number, now: number, lease: string) =>
        db.transaction().execute((trx) => claimDue(trx, { webhookId: 'wh_a', limit, cap: 3 }, { now, leaseMs: LEASE_MS, lease, shared: true }));
      expect(await claimCapped(2, t0, 'lease-1')).toHaveLength(2);
      // Two leases live, cap 3: one more, however many are asked for.
      expect(sortedIds(await claimCapped(10, t0, 'lease-2'))).toEqual(['dlv_2']);
      expect(await claimCapped(10, t0, 'lease-3')).toEqual([]);
      // A settled delivery frees its place under the cap.
      expect(await settle(db, 'dlv_0', 'lease-1', { kind: 'succeeded' })).toBe(true);
      expect(sortedIds(await claimCapped(10, t0, 'lease-4'))).toEqual(['dlv_3']);
    });

    it('makes every delivery whose lease ended claimable again without any sweeper', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addDelivery(db, 'dlv_1', { webhook_id: 'wh_a', next_attempt_at: t0 });
      await claim(db, 'wh_a', 10, t0, 'lease-1');
      expect(await claim(db, 'wh_a', 10, t0 + LEASE_MS - 1, 'lease-2')).toEqual([]);
      expect(sortedIds(await claim(db, 'wh_a', 10, t0 + LEASE_MS, 'lease-2'))).toEqual(['dlv_1']);
    });

    it('reads the partial index deliveries_due, not the whole table, and needs no sort', async () => {
      const { db, explain } = store();
      await addWebhook(db, 'wh_a');
      for (let i = 0; i < 50; i++) {
        await addDelivery(db, `dlv_done_${i}`, { webhook_id: 'wh_a', status: 'succeeded', next_attempt_at: null });
        await addDelivery(db, `dlv_due_${i}`, { webhook_id: 'wh_a', next_attempt_at: t0 - i });
      }
      const [statement, ...others] = await explain((logged) => claim(logged, 'wh_a', 10, t0, 'lease-1'));
      expect(others).toEqual([]);
      const plan = statement?.plan.join('\n') ?? '';
      if (dialect === 'sqlite') {
        expect(plan).toMatch(/SEARCH deliveries USING (COVERING )?INDEX deliveries_due \(webhook_id=\? AND next_attempt_at<\?\)/);
        expect(plan).not.toMatch(/SCAN deliveries\b/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
      } else {
        expect(plan).toMatch(/Index (Only )?Scan using deliveries_due on deliveries/);
        expect(plan).not.toMatch(/Seq Scan|Sort/);
      }
    });
  });

  describe(`${dialect}: settleAttempt`, () => {
    const store = useStore(dialect);

    async function claimed(db: Db, fields: { attempt_count?: number } = {}): Promise<void> {
      await addWebhook(db, 'wh_a');
      await addDelivery(db, 'dlv_1', { webhook_id: 'wh_a', next_attempt_at: t0, ...fields });
      await claim(db, 'wh_a', 1, t0, 'lease-1');
    }

    it('records the attempt and marks the delivery succeeded, out of the queue', async () => {
      const { db } = store();
      await claimed(db);
      expect(await settle(db, 'dlv_1', 'lease-1', { kind: 'succeeded' })).toBe(true);
      expect(await delivery(db, 'dlv_1')).toMatchObject({
        status: 'succeeded',
        attempt_count: 1,
        next_attempt_at: null,
        lease_owner: null,
        failing: 0,
        updated_at: t0 + 500,
      });
      const [row] = await db.selectFrom('attempts').selectAll().execute();
      expect(row).toMatchObject({
        delivery_id: 'dlv_1',
        organization_id: ORG,
        attempt_number: 1,
        at: t0,
        duration_ms: 42,
        response_status: 500,
        error: 'status',
      });
      expect(JSON.parse(row?.request_headers ?? '')).toEqual({ 'content-type': 'application/json' });
      expect(await claim(db, 'wh_a', 10, t0 + 10 * LEASE_MS, 'lease-2')).toEqual([]);
    });

    it('schedules a retry: pending again, due at the retry time, lease given up, marked failing', async () => {
      const { db } = store();
      await claimed(db, { attempt_count: 1 });
      expect(await settle(db, 'dlv_1', 'lease-1', { kind: 'retry', at: t0 + 5_000 }, 2)).toBe(true);
      expect(await delivery(db, 'dlv_1')).toMatchObject({
        status: 'pending',
        attempt_count: 2,
        next_attempt_at: t0 + 5_000,
        lease_owner: null,
        failing: 1,
      });
      expect(await claim(db, 'wh_a', 10, t0 + 4_999, 'lease-2')).toEqual([]);
      expect(sortedIds(await claim(db, 'wh_a', 10, t0 + 5_000, 'lease-2'))).toEqual(['dlv_1']);
    });

    it('fails a delivery with no attempts left: out of the queue, marked failing', async () => {
      const { db } = store();
      await claimed(db, { attempt_count: 7 });
      expect(await settle(db, 'dlv_1', 'lease-1', { kind: 'failed' }, 8)).toBe(true);
      expect(await delivery(db, 'dlv_1')).toMatchObject({
        status: 'failed',
        attempt_count: 8,
        next_attempt_at: null,
        lease_owner: null,
        failing: 1,
      });
    });

    it('clears the failing mark when a retried delivery finally succeeds', async () => {
      const { db } = store();
      await claimed(db);
      await settle(db, 'dlv_1', 'lease-1', { kind: 'retry', at: t0 });
      await claim(db, 'wh_a', 1, t0 + 1, 'lease-2');
      expect(await settle(db, 'dlv_1', 'lease-2', { kind: 'succeeded' }, 2)).toBe(true);
      expect(await delivery(db, 'dlv_1')).toMatchObject({ status: 'succeeded', attempt_count: 2, failing: 0 });
    });

    it('is fenced by the lease: a holder whose lease was taken over changes nothing, but its attempt is recorded', async () => {
      const { db } = store();
      await claimed(db);
      // The first holder stalls past its lease; another claim takes the delivery over.
      await db.updateTable('deliveries').set({ next_attempt_at: t0 }).where('id', '=', 'dlv_1').execute();
      await claim(db, 'wh_a', 1, t0 + 1, 'lease-2');
      const before = await delivery(db, 'dlv_1');

      expect(await settle(db, 'dlv_1', 'lease-1', { kind: 'failed' })).toBe(false);
      expect(await delivery(db, 'dlv_1')).toEqual(before);
      expect(before).toMatchObject({ status: 'pending', lease_owner: 'lease-2' });
      expect(await ids(db, 'attempts')).toEqual(['att_dlv_1_lease-1_1']);

      // The new holder settles normally.
      expect(await settle(db, 'dlv_1', 'lease-2', { kind: 'succeeded' })).toBe(true);
      expect((await delivery(db, 'dlv_1')).status).toBe('succeeded');
    });

    it('cannot settle a delivery twice with the same lease', async () => {
      const { db } = store();
      await claimed(db);
      expect(await settle(db, 'dlv_1', 'lease-1', { kind: 'succeeded' })).toBe(true);
      expect(await settle(db, 'dlv_1', 'lease-1', { kind: 'failed' }, 2)).toBe(false);
      expect((await delivery(db, 'dlv_1')).status).toBe('succeeded');
    });
  });

  describe(`${dialect}: parkDelivery`, () => {
    const store = useStore(dialect);

    it('takes a claimed delivery out of the queue without an attempt, fenced by the lease', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addDelivery(db, 'dlv_1', { webhook_id: 'wh_a', next_attempt_at: t0 });
      await addDelivery(db, 'dlv_2', { webhook_id: 'wh_a', next_attempt_at: t0 });
      await claim(db, 'wh_a', 2, t0, 'lease-1');
      expect(await parkDelivery(db, 'dlv_1', 'lease-other', 'skipped', t0 + 1)).toBe(false);
      expect((await delivery(db, 'dlv_1')).status).toBe('pending');
      expect(await parkDelivery(db, 'dlv_1', 'lease-1', 'skipped', t0 + 1)).toBe(true);
      expect(await parkDelivery(db, 'dlv_2', 'lease-1', 'cancelled', t0 + 1)).toBe(true);
      expect(await delivery(db, 'dlv_1')).toMatchObject({ status: 'skipped', next_attempt_at: null, lease_owner: null });
      expect(await delivery(db, 'dlv_2')).toMatchObject({ status: 'cancelled', next_attempt_at: null, lease_owner: null });
      expect(await ids(db, 'attempts')).toEqual([]);
    });
  });

  describe(`${dialect}: releaseLeases`, () => {
    const store = useStore(dialect);

    it('makes the deliveries of released leases due now, and leaves other leases alone', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      for (const id of ['dlv_1', 'dlv_2', 'dlv_3']) await addDelivery(db, id, { webhook_id: 'wh_a', next_attempt_at: t0 });
      await claim(db, 'wh_a', 2, t0, 'lease-mine');
      await claim(db, 'wh_a', 1, t0, 'lease-theirs');
      expect(await releaseLeases(db, ['lease-mine', 'lease-unknown'], t0 + 100)).toBe(2);
      for (const id of ['dlv_1', 'dlv_2']) {
        expect(await delivery(db, id)).toMatchObject({ status: 'pending', lease_owner: null, next_attempt_at: t0 + 100 });
      }
      expect(await delivery(db, 'dlv_3')).toMatchObject({ lease_owner: 'lease-theirs', next_attempt_at: t0 + LEASE_MS });
      expect(sortedIds(await claim(db, 'wh_a', 10, t0 + 100, 'lease-next'))).toEqual(['dlv_1', 'dlv_2']);
    });

    it('does nothing for no leases', async () => {
      const { db } = store();
      expect(await releaseLeases(db, [], t0)).toBe(0);
    });
  });

  describe(`${dialect}: nextDueTimes`, () => {
    const store = useStore(dialect);

    it('answers the earliest due time of the pending deliveries of each enabled webhook', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addWebhook(db, 'wh_b');
      await addWebhook(db, 'wh_idle');
      await addWebhook(db, 'wh_off', { enabled: 0 });
      await addDelivery(db, 'dlv_a1', { webhook_id: 'wh_a', next_attempt_at: t0 + 5_000 });
      await addDelivery(db, 'dlv_a2', { webhook_id: 'wh_a', next_attempt_at: t0 - 5_000 });
      await addDelivery(db, 'dlv_a3', { webhook_id: 'wh_a', status: 'failed', next_attempt_at: null });
      await addDelivery(db, 'dlv_b1', { webhook_id: 'wh_b', next_attempt_at: t0 + 60_000 });
      await addDelivery(db, 'dlv_idle', { webhook_id: 'wh_idle', status: 'succeeded', next_attempt_at: null });
      await addDelivery(db, 'dlv_off', { webhook_id: 'wh_off', next_attempt_at: t0 - 99_000 });
      expect(await nextDueTimes(db)).toEqual(
        new Map([
          ['wh_a', t0 - 5_000],
          ['wh_b', t0 + 60_000],
        ]),
      );
    });

    it('counts a lease’s end as the time its delivery is due again', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addDelivery(db, 'dlv_1', { webhook_id: 'wh_a', next_attempt_at: t0 });
      await claim(db, 'wh_a', 1, t0, 'lease-1');
      expect(await nextDueTimes(db)).toEqual(new Map([['wh_a', t0 + LEASE_MS]]));
    });

    it('answers only for the webhooks asked about, and nothing for an empty list', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_a');
      await addWebhook(db, 'wh_b');
      await addDelivery(db, 'dlv_a', { webhook_id: 'wh_a', next_attempt_at: t0 });
      await addDelivery(db, 'dlv_b', { webhook_id: 'wh_b', next_attempt_at: t0 });
      expect(await nextDueTimes(db, ['wh_b', 'wh_unknown'])).toEqual(new Map([['wh_b', t0]]));
      expect(await nextDueTimes(db, [])).toEqual(new Map());
    });

    it('reads the partial index deliveries_due, one probe per webhook', async () => {
      const { db, explain } = store();
      await addWebhook(db, 'wh_a');
      for (let i = 0; i < 50; i++) {
        await addDelivery(db, `dlv_done_${i}`, { webhook_id: 'wh_a', status: 'failed', next_attempt_at: null });
        await addDelivery(db, `dlv_due_${i}`, { webhook_id: 'wh_a', next_attempt_at: t0 + i });
      }
      for (const run of [(logged: Db) => nextDueTimes(logged), (logged: Db) => nextDueTimes(logged, ['wh_a'])]) {
        const [statement, ...others] = await explain(run);
        expect(others).toEqual([]);
        const plan = statement?.plan.join('\n') ?? '';
        if (dialect === 'sqlite') {
          expect(plan).toMatch(/SEARCH d USING (COVERING )?INDEX deliveries_due \(webhook_id=\?\)/);
          expect(plan).not.toMatch(/SCAN d\b/);
        } else {
          expect(plan).toMatch(/Index (Only )?Scan using deliveries_due on deliveries d/);
        }
      }
    });
  });

  describe(`${dialect}: webhook health`, () => {
    const store = useStore(dialect);
    const webhook = (db: Db, id: string) => db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('markWebhooksFailing starts the failure clock of healthy webhooks and keeps the first failing_since', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_healthy');
      await addWebhook(db, 'wh_failing', { failing_since: t0 - DAY_MS });
      await markWebhooksFailing(db, ['wh_healthy', 'wh_failing'], t0);
      await markWebhooksFailing(db, ['wh_healthy', 'wh_failing'], t0 + 1_000);
      expect((await webhook(db, 'wh_healthy')).failing_since).toBe(t0);
      expect((await webhook(db, 'wh_failing')).failing_since).toBe(t0 - DAY_MS);
    });

    it('markWebhooksHealthy stops the failure clock of the webhooks named only', async () => {
      const { db } = store();
      await addWebhook(db, 'wh_recovered', { failing_since: t0 - DAY_MS });
      await addWebhook(db, 'wh_still_failing', { failing_since: t0 - DAY_MS });
      await markWebhooksHealthy(db, ['wh_recovered'], t0);
      expect((await webhook(db, 'wh_recovered')).failing_since).toBeNull();
      expect((await webhook(db, 'wh_still_failing')).failing_since).toBe(t0 - DAY_MS);
      await markWebhooksHealthy(db, [], t0);
      await markWebhooksFailing(db, [], t0);
    });

    it('disableFailingWebhooks disables only enabled webhooks failing since the cutoff or before', async () => {
      const { db } = store();
      const cutoff = t0 - 5 * DAY_MS;
      await addWebhook(db, 'wh_long', { failing_since: cutoff - 1 });
      await addWebhook(db, 'wh_exact', { failing_since: cutoff });
      await addWebhook(db, 'wh_recent', { failing_since: cutoff + 1 });
      await addWebhook(db, 'wh_healthy');
      await addWebhook(db, 'wh_already_off', { failing_since: cutoff - DAY_MS, enabled: 0 });
      await addWebhook(db, 'wh_not_asked', { failing_since: cutoff - DAY_MS });
      const ids = ['wh_long', 'wh_exact', 'wh_recent', 'wh_healthy', 'wh_already_off'];
      const disabled = await disableFailingWebhooks(db, ids, cutoff, t0);
      expect(disabled.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: 'wh_exact', organizationId: ORG, failingSince: cutoff },
        { id: 'wh_long', organizationId: ORG, failingSince: cutoff - 1 },
      ]);
      for (const id of ['wh_long', 'wh_exact']) {
        expect(await webhook(db, id)).toMatchObject({ enabled: 0, disabled_reason: 'failing', updated_at: t0 });
      }
      for (const id of ['wh_recent', 'wh_healthy', 'wh_not_asked']) {
        expect(await webhook(db, id)).toMatchObject({ enabled: 1, disabled_reason: null });
      }
      expect(await disableFailingWebhooks(db, [], cutoff, t0)).toEqual([]);
    });
  });

  describe(`${dialect}: retention`, () => {
    const store = useStore(dialect);
    const OLD = t0 - 40 * DAY_MS;
    const RECENT = t0 - DAY_MS;
    const idAt = (prefix: string, ms: number) => createIdGenerator({ now: () => ms })(prefix);

    /** An event with one delivery (and an attempt unless pending), all made at `ms`. */
    async function history(db: Db, ms: number, status: string): Promise<{ event: string; delivery: string }> {
      const event = idAt('evt', ms);
      const id = idAt('dlv', ms);
      await addWebhook(db, `wh_${id}`);
      await addEvent(db, event, ms);
      await addDelivery(db, id, { webhook_id: `wh_${id}`, event_id: event, status, next_attempt_at: status === 'pending' ? t0 : null });
      if (status !== 'pending') {
        await db
          .insertInto('attempts')
          .values({
            id: idAt('att', ms),
            delivery_id: id,
            organization_id: ORG,
            attempt_number: 1,
            at: ms,
            duration_ms: 1,
            request_url: 'https://example.com/in',
            request_headers: '{}',
            request_body: '{}',
            response_status: 200,
            response_headers: '{}',
            response_body: null,
            error: null,
            error_message: null,
          })
          .execute();
      }
      return { event, delivery: id };
    }

    const cutoffs = {
      attemptIdBelow: idLowerBound('att', t0 - 30 * DAY_MS),
      deliveryIdBelow: idLowerBound('dlv', t0 - 30 * DAY_MS),
      eventIdBelow: idLowerBound('evt', t0 - 30 * DAY_MS),
      idempotencyCreatedBefore: t0 - DAY_MS,
    };

    it('purgeBatch deletes old finished rows at most a batch per table per call', async () => {
      const { db } = store();
      for (const [i, status] of ['succeeded', 'failed', 'cancelled', 'skipped', 'succeeded'].entries()) await history(db, OLD + i, status);
      const counts = [];
      for (let pass = 0; pass < 4; pass++) {
        const r = await purgeBatch(db, cutoffs, 2);
        counts.push([r.events, r.deliveries, r.attempts]);
      }
      expect(counts).toEqual([
        [2, 2, 2],
        [2, 2, 2],
        [1, 1, 1],
        [0, 0, 0],
      ]);
      expect(await ids(db, 'events')).toEqual([]);
    });

    it('purgeExpired deletes everything past retention in batches, keeps pending deliveries with their events, keeps recent rows', async () => {
      const { db } = store();
      const old = [];
      for (let i = 0; i < 7; i++) old.push(await history(db, OLD + i, i % 2 === 0 ? 'succeeded' : 'failed'));
      const stillQueued = await history(db, OLD + 100, 'pending');
      // An old event with one finished and one pending delivery stays while the pending one does.
      const shared = await history(db, OLD + 200, 'succeeded');
      const sharedPending = idAt('dlv', OLD + 201);
      await addDelivery(db, sharedPending, { webhook_id: `wh_${shared.delivery}`, event_id: shared.event, next_attempt_at: t0 });
      const recent = await history(db, RECENT, 'succeeded');
      await db
        .insertInto('idempotency_keys')
        .values([
          { scope: ORG, key: 'old', request_hash: 'h', status_code: 202, response_body: '{}', created_at: t0 - 2 * DAY_MS },
          { scope: ORG, key: 'fresh', request_hash: 'h', status_code: 202, response_body: '{}', created_at: t0 - 60_000 },
        ])
        .execute();

      const result = await purgeExpired(db, new ManualClock(t0), { retentionDays: 30, batchSize: 3 });

      expect(result).toEqual({ events: 7, deliveries: 8, attempts: 8, idempotencyKeys: 1 });
      expect(await ids(db, 'events')).toEqual([stillQueued.event, shared.event, recent.event]);
      expect(await ids(db, 'deliveries')).toEqual([stillQueued.delivery, sharedPending, recent.delivery]);
      expect(await ids(db, 'attempts')).toHaveLength(1);
      expect((await db.selectFrom('idempotency_keys').select('key').execute()).map((r) => r.key)).toEqual(['fresh']);
      for (const o of old) expect(await db.selectFrom('events').select('id').where('id', '=', o.event).executeTakeFirst()).toBeUndefined();

      // A second pass finds nothing more.
      expect(await purgeExpired(db, new ManualClock(t0), { retentionDays: 30, batchSize: 3 })).toEqual({
        events: 0,
        deliveries: 0,
        attempts: 0,
        idempotencyKeys: 0,
      });
    });
  });
}
