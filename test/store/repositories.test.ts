/**
 * Repositories on a real database: organization scoping, keyset pages, and
 * the delivery operations the API offers (retry, recover, skip, delete).
 */
import { describe, expect, it } from 'vitest';
import type { EventType, HeraldEvent } from '../../src/domain/types.js';
import {
  getDelivery,
  listAttempts,
  listDeliveries,
  queueRetry,
  recoverDeliveries,
  skipPendingDeliveries,
} from '../../src/store/repositories/deliveries.js';
import { archiveEventType, getEventType, listEventTypes, putEventType, syncCatalog } from '../../src/store/repositories/event-types.js';
import { findEventByExternalId, getEvent, getEventsByIds, insertEventWithDeliveries, listEvents } from '../../src/store/repositories/events.js';
import { getMeta, setMeta } from '../../src/store/repositories/meta.js';
import {
  deleteOrganization,
  ensureOrganization,
  getOrganization,
  insertOrganization,
  updateOrganization,
} from '../../src/store/repositories/organizations.js';
import {
  deleteWebhook,
  getWebhook,
  getWebhookForDelivery,
  getWebhookSecrets,
  insertWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookFields,
} from '../../src/store/repositories/webhooks.js';
import type { Db } from '../../src/store/schema.js';
import { addDelivery, addWebhook, delivery, DIALECTS, ids, ORG, useStore } from './harness.js';

const t0 = 1_700_000_000_000;

function event(id: string, fields: Partial<HeraldEvent> = {}): HeraldEvent {
  return {
    id,
    organizationId: ORG,
    type: 'deployment.created',
    data: { deploymentId: 'dpl_1', nested: [1, 'two', null] },
    attributes: { projectName: 'web' },
    time: t0 - 1_000,
    externalId: null,
    createdAt: t0,
    ...fields,
  };
}

const FIELDS: WebhookFields = {
  url: 'https://example.com/in',
  kind: 'standard',
  description: 'prod hook',
  enabled: true,
  events: ['deployment.*'],
  filters: { environmentType: ['production'] },
  format: null,
  headers: { 'X-Team': 'blue' },
  rateLimit: 2.5,
  timeoutMs: 10_000,
  concurrency: 4,
  retry: { kind: 'schedule', delaysS: [1, 2], jitter: 0 },
  signing: 'hmac',
  metadata: { owner: 'ops' },
};

function type(name: string, flags: Partial<EventType> = {}): EventType {
  return { name, description: `${name} happened`, group: null, schema: null, examples: [], deprecated: false, archived: false, format: null, extra: {}, ...flags };
}

const page = (limit: number, after: string | null = null) => ({ limit, after });

for (const dialect of DIALECTS) {
  describe(`${dialect}: organizations`, () => {
    const store = useStore(dialect);

    it('ensureOrganization creates an organization once and keeps an existing one as it is', async () => {
      const { db } = store();
      await insertOrganization(db, { id: 'org_a', name: 'Acme', metadata: { tier: 'pro' } }, t0);
      await ensureOrganization(db, 'org_a', t0 + 1);
      await ensureOrganization(db, 'org_b', t0 + 1);
      await ensureOrganization(db, 'org_b', t0 + 2);
      expect(await getOrganization(db, 'org_a')).toEqual({ id: 'org_a', name: 'Acme', metadata: { tier: 'pro' }, createdAt: t0 });
      expect(await getOrganization(db, 'org_b')).toEqual({ id: 'org_b', name: null, metadata: {}, createdAt: t0 + 1 });
    });

    it('insertOrganization answers null for an id that exists', async () => {
      const { db } = store();
      expect(await insertOrganization(db, { id: 'org_a', name: 'A', metadata: {} }, t0)).not.toBeNull();
      expect(await insertOrganization(db, { id: 'org_a', name: 'B', metadata: {} }, t0)).toBeNull();
      expect((await getOrganization(db, 'org_a'))?.name).toBe('A');
    });

    it('updateOrganization changes only the fields given', async () => {
      const { db } = store();
      await insertOrganization(db, { id: 'org_a', name: 'A', metadata: { x: 1 } }, t0);
      expect(await updateOrganization(db, 'org_a', { metadata: { y: 2 } }, t0 + 1)).toMatchObject({ name: 'A', metadata: { y: 2 } });
      expect(await updateOrganization(db, 'org_missing', { name: 'Z' }, t0 + 1)).toBeNull();
    });

    it('deleteOrganization removes everything it owns and nothing of other organizations', async () => {
      const { db } = store();
      await ensureOrganization(db, ORG, t0);
      await ensureOrganization(db, 'org_other', t0);
      await addWebhook(db, 'wh_mine');
      await addWebhook(db, 'wh_theirs', { organization_id: 'org_other' });
      await insertEventWithDeliveries(db, event('evt_mine'), [{ id: 'dlv_mine', webhook_id: 'wh_mine', status: 'pending', next_attempt_at: t0 }]);
      await insertEventWithDeliveries(db, event('evt_theirs', { organizationId: 'org_other' }), [
        { id: 'dlv_theirs', webhook_id: 'wh_theirs', status: 'pending', next_attempt_at: t0 },
      ]);
      expect(await deleteOrganization(db, ORG)).toBe(true);
      expect(await getOrganization(db, ORG)).toBeNull();
      expect(await ids(db, 'events')).toEqual(['evt_theirs']);
      expect(await ids(db, 'deliveries')).toEqual(['dlv_theirs']);
      expect((await db.selectFrom('webhooks').select('id').execute()).map((r) => r.id)).toEqual(['wh_theirs']);
      expect(await deleteOrganization(db, ORG)).toBe(false);
    });
  });

  describe(`${dialect}: webhooks`, () => {
    const store = useStore(dialect);
    const insert = (db: Db, id: string, organizationId = ORG, fields: Partial<WebhookFields> = {}) =>
      insertWebhook(db, { id, organizationId, secret: `whsec_${id}`, ...FIELDS, ...fields }, t0);

    it('stores every field and reads it back as it was written', async () => {
      const { db } = store();
      const created = await insert(db, 'wh_1');
      expect(created).toEqual({
        id: 'wh_1',
        organizationId: ORG,
        ...FIELDS,
        failingSince: null,
        disabledReason: null,
        createdAt: t0,
        updatedAt: t0,
      });
      expect(await getWebhook(db, ORG, 'wh_1')).toEqual(created);
      expect(await getWebhookForDelivery(db, 'wh_1')).toEqual({
        webhook: created,
        secrets: { current: 'whsec_wh_1', previous: null, previousExpiresAt: null },
      });
    });

    it('hides a webhook from every other organization', async () => {
      const { db } = store();
      await insert(db, 'wh_1');
      expect(await getWebhook(db, 'org_other', 'wh_1')).toBeNull();
      expect(await getWebhookSecrets(db, 'org_other', 'wh_1')).toBeNull();
      expect(await updateWebhook(db, 'org_other', 'wh_1', { url: 'https://evil.example/' }, t0 + 1)).toBeNull();
      expect(await rotateWebhookSecret(db, 'org_other', 'wh_1', 'whsec_new', t0 + 1, t0 + 1)).toBe(false);
      expect(await deleteWebhook(db, 'org_other', 'wh_1', t0 + 1)).toBe(false);
      expect((await getWebhook(db, ORG, 'wh_1'))?.url).toBe(FIELDS.url);
    });

    it('lists an organization’s webhooks in id order, a page at a time', async () => {
      const { db } = store();
      for (const id of ['wh_3', 'wh_1', 'wh_2', 'wh_4']) await insert(db, id);
      await insert(db, 'wh_0', 'org_other');
      const first = await listWebhooks(db, ORG, page(3));
      expect(first.items.map((w) => w.id)).toEqual(['wh_1', 'wh_2', 'wh_3']);
      expect(first.next).toBe('wh_3');
      const second = await listWebhooks(db, ORG, page(3, first.next));
      expect(second.items.map((w) => w.id)).toEqual(['wh_4']);
      expect(second.next).toBeNull();
    });

    it('updates only the fields patched; re-enabling clears the auto-disable bookkeeping', async () => {
      const { db } = store();
      await insert(db, 'wh_1');
      await db.updateTable('webhooks').set({ enabled: 0, failing_since: t0 - 1, disabled_reason: 'failing' }).execute();
      const patched = await updateWebhook(db, ORG, 'wh_1', { description: 'renamed' }, t0 + 1);
      expect(patched).toMatchObject({ description: 'renamed', url: FIELDS.url, enabled: false, failingSince: t0 - 1, disabledReason: 'failing' });
      const enabled = await updateWebhook(db, ORG, 'wh_1', { enabled: true, rateLimit: null }, t0 + 2);
      expect(enabled).toMatchObject({ enabled: true, rateLimit: null, failingSince: null, disabledReason: null, updatedAt: t0 + 2 });
    });

    it('rotating the secret keeps the previous one until the grace period ends', async () => {
      const { db } = store();
      await insert(db, 'wh_1');
      expect(await rotateWebhookSecret(db, ORG, 'wh_1', 'whsec_new', t0 + 86_400_000, t0)).toBe(true);
      expect(await getWebhookSecrets(db, ORG, 'wh_1')).toEqual({ current: 'whsec_new', previous: 'whsec_wh_1', previousExpiresAt: t0 + 86_400_000 });
    });

    it('deleting a webhook cancels its queued and skipped deliveries, and keeps finished ones as history', async () => {
      const { db } = store();
      await insert(db, 'wh_1');
      await addDelivery(db, 'dlv_pending', { webhook_id: 'wh_1', next_attempt_at: t0 });
      await addDelivery(db, 'dlv_leased', { webhook_id: 'wh_1', next_attempt_at: t0 + 60_000, lease_owner: 'lease-1' });
      await addDelivery(db, 'dlv_skipped', { webhook_id: 'wh_1', status: 'skipped', next_attempt_at: null });
      await addDelivery(db, 'dlv_done', { webhook_id: 'wh_1', status: 'succeeded', next_attempt_at: null });
      await addDelivery(db, 'dlv_other', { webhook_id: 'wh_other', next_attempt_at: t0 });
      expect(await deleteWebhook(db, ORG, 'wh_1', t0 + 1)).toBe(true);
      expect(await getWebhook(db, ORG, 'wh_1')).toBeNull();
      for (const id of ['dlv_pending', 'dlv_leased', 'dlv_skipped']) {
        expect(await delivery(db, id), id).toMatchObject({ status: 'cancelled', next_attempt_at: null, lease_owner: null });
      }
      expect((await delivery(db, 'dlv_done')).status).toBe('succeeded');
      expect((await delivery(db, 'dlv_other')).status).toBe('pending');
    });
  });

  describe(`${dialect}: events`, () => {
    const store = useStore(dialect);

    it('writes an event with its deliveries, which copy the event’s organization, time and creation', async () => {
      const { db } = store();
      const e = event('evt_1', { externalId: 'op-1' });
      await insertEventWithDeliveries(db, e, [
        { id: 'dlv_1', webhook_id: 'wh_a', status: 'pending', next_attempt_at: t0 },
        { id: 'dlv_2', webhook_id: 'wh_b', status: 'skipped', next_attempt_at: null },
      ]);
      expect(await getEvent(db, ORG, 'evt_1')).toEqual(e);
      expect(await getEvent(db, 'org_other', 'evt_1')).toBeNull();
      expect(await findEventByExternalId(db, ORG, 'op-1')).toEqual(e);
      expect(await findEventByExternalId(db, 'org_other', 'op-1')).toBeNull();
      expect(await delivery(db, 'dlv_1')).toMatchObject({
        event_id: 'evt_1',
        organization_id: ORG,
        status: 'pending',
        attempt_count: 0,
        lease_owner: null,
        event_time: t0 - 1_000,
        failing: 0,
        created_at: t0,
      });
      expect((await delivery(db, 'dlv_2')).status).toBe('skipped');
    });

    it('writes more deliveries than fit in one statement', async () => {
      const { db } = store();
      const many = Array.from({ length: 1_234 }, (_, i) => ({
        id: `dlv_${String(i).padStart(5, '0')}`,
        webhook_id: `wh_${i}`,
        status: 'pending',
        next_attempt_at: t0,
      }));
      await insertEventWithDeliveries(db, event('evt_1'), many);
      expect(await ids(db, 'deliveries')).toHaveLength(1_234);
    });

    it('refuses a second event with the same external id in one organization, allows it in another', async () => {
      const { db } = store();
      await insertEventWithDeliveries(db, event('evt_1', { externalId: 'op-1' }), []);
      await expect(insertEventWithDeliveries(db, event('evt_2', { externalId: 'op-1' }), [])).rejects.toThrow(/UNIQUE|duplicate key/);
      await insertEventWithDeliveries(db, event('evt_3', { externalId: 'op-1', organizationId: 'org_other' }), []);
      await insertEventWithDeliveries(db, event('evt_4'), []);
      await insertEventWithDeliveries(db, event('evt_5'), []);
      expect(await ids(db, 'events')).toEqual(['evt_1', 'evt_3', 'evt_4', 'evt_5']);
    });

    it('lists events newest first by type, a page at a time, and loads events by id', async () => {
      const { db } = store();
      for (const id of ['evt_1', 'evt_2', 'evt_3']) await insertEventWithDeliveries(db, event(id), []);
      await insertEventWithDeliveries(db, event('evt_4', { type: 'project.created' }), []);
      const first = await listEvents(db, ORG, { type: 'deployment.created' }, page(2));
      expect(first.items.map((e) => e.id)).toEqual(['evt_3', 'evt_2']);
      const second = await listEvents(db, ORG, { type: 'deployment.created' }, page(2, first.next));
      expect(second).toMatchObject({ items: [{ id: 'evt_1' }], next: null });
      expect((await getEventsByIds(db, ['evt_4', 'evt_1', 'evt_missing'])).map((e) => e.id).sort()).toEqual(['evt_1', 'evt_4']);
      expect(await getEventsByIds(db, [])).toEqual([]);
    });
  });

  describe(`${dialect}: deliveries`, () => {
    const store = useStore(dialect);

    it('lists an organization’s deliveries newest first, filtered, a page at a time', async () => {
      const { db } = store();
      await addDelivery(db, 'dlv_1', { webhook_id: 'wh_a', status: 'failed' });
      await addDelivery(db, 'dlv_2', { webhook_id: 'wh_b', status: 'failed' });
      await addDelivery(db, 'dlv_3', { webhook_id: 'wh_a', status: 'succeeded' });
      await addDelivery(db, 'dlv_4', { webhook_id: 'wh_a', status: 'failed' });
      await addDelivery(db, 'dlv_5', { webhook_id: 'wh_a', status: 'failed', organization_id: 'org_other' });
      const first = await listDeliveries(db, ORG, { webhookId: 'wh_a', status: 'failed' }, page(1));
      expect(first).toMatchObject({ items: [{ id: 'dlv_4' }], next: 'dlv_4' });
      const second = await listDeliveries(db, ORG, { webhookId: 'wh_a', status: 'failed' }, page(1, first.next));
      expect(second).toMatchObject({ items: [{ id: 'dlv_1' }], next: null });
      expect((await listDeliveries(db, ORG, {}, page(10))).items.map((d) => d.id)).toEqual(['dlv_4', 'dlv_3', 'dlv_2', 'dlv_1']);
      expect(await getDelivery(db, 'org_other', 'dlv_1')).toBeNull();
      expect(await getDelivery(db, ORG, 'dlv_1')).toMatchObject({ id: 'dlv_1', status: 'failed', nextAttemptAt: null });
    });

    it('lists a delivery’s attempts in the order they were made', async () => {
      const { db } = store();
      for (const [id, n] of [['att_2', 2], ['att_1', 1]] as const) {
        await db
          .insertInto('attempts')
          .values({
            id,
            delivery_id: 'dlv_1',
            organization_id: ORG,
            attempt_number: n,
            at: t0 + n,
            duration_ms: 5,
            request_url: 'https://example.com/in',
            request_headers: '{"a":"b"}',
            request_body: '{}',
            response_status: null,
            response_headers: '{}',
            response_body: null,
            error: 'timeout',
            error_message: 'UND_ERR_HEADERS_TIMEOUT',
          })
          .execute();
      }
      const attempts = await listAttempts(db, 'dlv_1');
      expect(attempts.map((a) => [a.id, a.attemptNumber, a.error])).toEqual([
        ['att_1', 1, 'timeout'],
        ['att_2', 2, 'timeout'],
      ]);
      expect(attempts[0]?.requestHeaders).toEqual({ a: 'b' });
    });

    it('queueRetry queues a finished delivery now, but leaves one whose attempt is running', async () => {
      const { db } = store();
      await addDelivery(db, 'dlv_failed', { webhook_id: 'wh_a', status: 'failed', next_attempt_at: null, attempt_count: 8 });
      await addDelivery(db, 'dlv_running', { webhook_id: 'wh_a', next_attempt_at: t0 + 1, lease_owner: 'lease-1' });
      await addDelivery(db, 'dlv_abandoned', { webhook_id: 'wh_a', next_attempt_at: t0, lease_owner: 'lease-dead' });
      expect(await queueRetry(db, ORG, 'dlv_failed', t0)).toBe('queued');
      expect(await delivery(db, 'dlv_failed')).toMatchObject({ status: 'pending', next_attempt_at: t0, lease_owner: null, attempt_count: 8 });
      expect(await queueRetry(db, ORG, 'dlv_running', t0)).toBe('in_flight');
      expect(await delivery(db, 'dlv_running')).toMatchObject({ lease_owner: 'lease-1', next_attempt_at: t0 + 1 });
      expect(await queueRetry(db, ORG, 'dlv_abandoned', t0)).toBe('queued');
      expect(await queueRetry(db, 'org_other', 'dlv_failed', t0)).toBe('not_found');
      expect(await queueRetry(db, ORG, 'dlv_missing', t0)).toBe('not_found');
    });

    it('recoverDeliveries re-queues a webhook’s failed and skipped deliveries created in [since, until)', async () => {
      const { db } = store();
      await addDelivery(db, 'dlv_before', { webhook_id: 'wh_a', status: 'failed', next_attempt_at: null, created_at: t0 - 1 });
      await addDelivery(db, 'dlv_failed', { webhook_id: 'wh_a', status: 'failed', next_attempt_at: null, created_at: t0 });
      await addDelivery(db, 'dlv_skipped', { webhook_id: 'wh_a', status: 'skipped', next_attempt_at: null, created_at: t0 + 5 });
      await addDelivery(db, 'dlv_ok', { webhook_id: 'wh_a', status: 'succeeded', next_attempt_at: null, created_at: t0 + 5 });
      await addDelivery(db, 'dlv_cancelled', { webhook_id: 'wh_a', status: 'cancelled', next_attempt_at: null, created_at: t0 + 5 });
      await addDelivery(db, 'dlv_until', { webhook_id: 'wh_a', status: 'failed', next_attempt_at: null, created_at: t0 + 10 });
      await addDelivery(db, 'dlv_other', { webhook_id: 'wh_b', status: 'failed', next_attempt_at: null, created_at: t0 + 5 });
      expect(await recoverDeliveries(db, 'wh_a', t0, t0 + 10, t0 + 100)).toBe(2);
      for (const id of ['dlv_failed', 'dlv_skipped']) {
        expect(await delivery(db, id)).toMatchObject({ status: 'pending', next_attempt_at: t0 + 100, lease_owner: null });
      }
      for (const [id, status] of [
        ['dlv_before', 'failed'],
        ['dlv_ok', 'succeeded'],
        ['dlv_cancelled', 'cancelled'],
        ['dlv_until', 'failed'],
        ['dlv_other', 'failed'],
      ]) {
        expect((await delivery(db, id as string)).status, id).toBe(status);
      }
    });

    it('skipPendingDeliveries parks a disabled webhook’s queue, but not the attempts running now', async () => {
      const { db } = store();
      await addDelivery(db, 'dlv_queued', { webhook_id: 'wh_a', next_attempt_at: t0 + 5_000 });
      await addDelivery(db, 'dlv_running', { webhook_id: 'wh_a', next_attempt_at: t0 + 60_000, lease_owner: 'lease-live' });
      await addDelivery(db, 'dlv_abandoned', { webhook_id: 'wh_a', next_attempt_at: t0 - 1, lease_owner: 'lease-dead' });
      await addDelivery(db, 'dlv_done', { webhook_id: 'wh_a', status: 'succeeded', next_attempt_at: null });
      await addDelivery(db, 'dlv_other', { webhook_id: 'wh_b', next_attempt_at: t0 });
      expect(await skipPendingDeliveries(db, 'wh_a', t0)).toBe(2);
      expect(await delivery(db, 'dlv_queued')).toMatchObject({ status: 'skipped', next_attempt_at: null });
      expect(await delivery(db, 'dlv_abandoned')).toMatchObject({ status: 'skipped', next_attempt_at: null });
      expect(await delivery(db, 'dlv_running')).toMatchObject({ status: 'pending', lease_owner: 'lease-live' });
      expect((await delivery(db, 'dlv_done')).status).toBe('succeeded');
      expect((await delivery(db, 'dlv_other')).status).toBe('pending');
    });
  });

  describe(`${dialect}: event types and meta`, () => {
    const store = useStore(dialect);

    it('putEventType creates, then replaces while keeping the creation time', async () => {
      const { db } = store();
      expect(await putEventType(db, type('deployment.created', { group: 'deployment', examples: [{ a: 1 }] }), 'profile', t0)).toBe(true);
      expect(await putEventType(db, type('deployment.created', { description: 'changed' }), 'api', t0 + 1)).toBe(false);
      expect(await getEventType(db, 'deployment.created')).toEqual(type('deployment.created', { description: 'changed' }));
      const row = await db.selectFrom('event_types').selectAll().executeTakeFirstOrThrow();
      expect([row.created_at, row.updated_at, row.source]).toEqual([t0, t0 + 1, 'api']);
    });

    it('syncCatalog rewrites profile types but leaves the ones the operator changed through the API', async () => {
      const { db } = store();
      await syncCatalog(db, [type('a.one'), type('a.two')], 'profile', t0);
      await putEventType(db, type('a.two', { description: 'operator text' }), 'api', t0 + 1);
      await syncCatalog(db, [type('a.one', { description: 'new profile text' }), type('a.two', { description: 'profile text' })], 'profile', t0 + 2);
      expect((await getEventType(db, 'a.one'))?.description).toBe('new profile text');
      expect((await getEventType(db, 'a.two'))?.description).toBe('operator text');
    });

    it('lists types without deprecated and archived ones unless asked, filtered by group', async () => {
      const { db } = store();
      await syncCatalog(
        db,
        [
          type('deployment.created', { group: 'deployment' }),
          type('deployment', { group: 'deployment', deprecated: true }),
          type('deployment.old', { group: 'deployment' }),
          type('project.created', { group: 'project' }),
        ],
        'profile',
        t0,
      );
      expect(await archiveEventType(db, 'deployment.old', t0 + 1)).toBe(true);
      expect(await archiveEventType(db, 'nope', t0 + 1)).toBe(false);
      const names = async (filter: Parameters<typeof listEventTypes>[1]) => (await listEventTypes(db, filter, page(10))).items.map((t) => t.name);
      expect(await names({})).toEqual(['deployment.created', 'project.created']);
      expect(await names({ group: 'deployment', includeDeprecated: true })).toEqual(['deployment', 'deployment.created']);
      expect(await names({ group: 'deployment', includeDeprecated: true, includeArchived: true })).toEqual([
        'deployment',
        'deployment.created',
        'deployment.old',
      ]);
    });

    it('meta keeps one value per key', async () => {
      const { db } = store();
      expect(await getMeta(db, 'k')).toBeNull();
      await setMeta(db, 'k', 'v1');
      await setMeta(db, 'k', 'v2');
      expect(await getMeta(db, 'k')).toBe('v2');
    });
  });
}
