/**
 * CRUD round trips of every resource through the HTTP API — event types,
 * organizations, webhooks, events, deliveries — and cursor pagination on
 * every list.
 */
import { sql } from 'kysely';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectApiError, rowCounts, walkPages } from '../helpers/api.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface EventTypeView {
  name: string;
  description: string;
  group: string | null;
  schema: Record<string, unknown> | null;
  examples: unknown[];
  deprecated: boolean;
  archived: boolean;
  format: string | null;
}
interface OrganizationView {
  id: string;
  name: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}
interface WebhookView {
  id: string;
  organizationId: string;
  url: string;
  kind: string;
  description: string;
  enabled: boolean;
  events: string[];
  filters: Record<string, string[]>;
  format: string | null;
  headers: Record<string, string>;
  rateLimit: number | null;
  timeoutMs: number | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
interface DeliveryView {
  id: string;
  eventId: string;
  webhookId: string;
  organizationId: string;
  status: string;
  attemptCount: number;
}
interface EventView {
  id: string;
  organizationId: string;
  type: string;
  data: unknown;
  attributes: Record<string, string>;
  externalId: string | null;
  time: string;
  createdAt: string;
}
interface Accepted {
  id: string;
  deliveries: { id: string; webhookId: string }[];
}
interface List<T> {
  data: T[];
  nextCursor: string | null;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('resources', () => {
  let h: TestHerald;
  let receiver: Receiver;

  beforeAll(async () => {
    h = await startHerald();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  async function putType(name: string, body: Record<string, unknown> = {}): Promise<EventTypeView> {
    const res = await h.call<EventTypeView>('PUT', `/v1/event-types/${name}`, { description: `${name} happened`, ...body });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
    return res.body;
  }
  async function createOrg(id: string): Promise<void> {
    const res = await h.call('POST', '/v1/organizations', { id });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  async function createWebhook(org: string, body: Record<string, unknown>): Promise<WebhookView> {
    const res = await h.call<WebhookView>('POST', `/v1/organizations/${org}/webhooks`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }
  async function postEvent(org: string, body: Record<string, unknown>): Promise<Accepted> {
    const res = await h.call<Accepted>('POST', `/v1/organizations/${org}/events`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body;
  }
  async function drained(org: string): Promise<void> {
    await eventually(async () => (await h.call<List<unknown>>('GET', `/v1/organizations/${org}/deliveries?status=pending&limit=1`)).body.data.length === 0);
  }
  async function rowsOf(org: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of ['webhooks', 'events', 'deliveries', 'attempts'] as const) {
      const row = await h.herald.db
        .selectFrom(table)
        .select(sql<number>`count(*)`.as('n'))
        .where('organization_id', '=', org)
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return counts;
  }

  describe('event types', () => {
    it('PUT creates (201), PUT again replaces (200), GET reads it back', async () => {
      const schema = { type: 'object', properties: { invoiceId: { type: 'string' } }, required: ['invoiceId'] };
      const created = await h.call<EventTypeView>('PUT', '/v1/event-types/billing.invoice.paid', {
        description: 'An invoice was paid',
        schema,
        examples: [{ invoiceId: 'in_1' }],
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'billing.invoice.paid',
        description: 'An invoice was paid',
        group: 'billing.invoice',
        schema,
        examples: [{ invoiceId: 'in_1' }],
        deprecated: false,
        archived: false,
      });

      const replaced = await h.call<EventTypeView>('PUT', '/v1/event-types/billing.invoice.paid', { description: 'Paid in full', group: 'billing' });
      expect(replaced.status).toBe(200);
      // PUT replaces: what the new body leaves out is gone.
      expect(replaced.body).toMatchObject({ name: 'billing.invoice.paid', description: 'Paid in full', group: 'billing', schema: null, examples: [] });

      const read = await h.call<EventTypeView>('GET', '/v1/event-types/billing.invoice.paid');
      expect(read.status).toBe(200);
      expect(read.body).toEqual(replaced.body);
    });

    it('a replaced schema applies to the next event at once', async () => {
      await putType('billing.refund', { schema: { type: 'object', required: ['amount'] } });
      expectApiError(await h.call('POST', '/v1/organizations/types-org/events', { type: 'billing.refund', data: {} }), 422, 'schema_violation');
      await putType('billing.refund', { schema: { type: 'object' } });
      expect((await h.call('POST', '/v1/organizations/types-org/events', { type: 'billing.refund', data: {} })).status).toBe(202);
    });

    it('lists by group, hiding deprecated types unless includeDeprecated=true', async () => {
      await putType('catalog.one', { group: 'catalog' });
      await putType('catalog.two', { group: 'catalog' });
      await putType('catalog.old', { group: 'catalog', deprecated: true });
      await putType('elsewhere.one', { group: 'elsewhere' });

      const active = await h.call<List<EventTypeView>>('GET', '/v1/event-types?group=catalog');
      expect(active.status).toBe(200);
      expect(active.body.data.map((t) => t.name)).toEqual(['catalog.one', 'catalog.two']);
      expect(active.body.nextCursor).toBeNull();

      const all = await h.call<List<EventTypeView>>('GET', '/v1/event-types?group=catalog&includeDeprecated=true');
      expect(all.body.data.map((t) => t.name)).toEqual(['catalog.old', 'catalog.one', 'catalog.two']);
      expect(all.body.data.find((t) => t.name === 'catalog.old')?.deprecated).toBe(true);

      const everything = await h.call<List<EventTypeView>>('GET', '/v1/event-types?limit=250');
      const names = everything.body.data.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['catalog.one', 'elsewhere.one', 'webhook.test']));
      expect(names).not.toContain('catalog.old');
    });

    it('DELETE archives: 204, no new events (422) or subscriptions, history stays', async () => {
      await putType('legacy.thing');
      await createOrg('archive-org');
      const hook = await createWebhook('archive-org', { url: `${receiver.url}/archive`, events: ['legacy.thing'] });
      const before = await postEvent('archive-org', { type: 'legacy.thing', data: { n: 1 } });
      expect(before.deliveries).toHaveLength(1);

      const deleted = await h.call('DELETE', '/v1/event-types/legacy.thing');
      expect(deleted.status).toBe(204);

      const read = await h.call<EventTypeView>('GET', '/v1/event-types/legacy.thing');
      expect(read.status).toBe(200);
      expect(read.body.archived).toBe(true);
      const listed = await h.call<List<EventTypeView>>('GET', '/v1/event-types?includeDeprecated=true&limit=250');
      expect(listed.body.data.map((t) => t.name)).not.toContain('legacy.thing');

      const counts = await rowCounts(h);
      expectApiError(await h.call('POST', '/v1/organizations/archive-org/events', { type: 'legacy.thing', data: { n: 2 } }), 422, 'unknown_event_type');
      expectApiError(
        await h.call('POST', '/v1/organizations/archive-org/webhooks', { url: `${receiver.url}/x`, events: ['legacy.thing'] }),
        422,
        'unknown_event_type',
      );
      await drained('archive-org');
      expect((await rowCounts(h)).events).toBe(counts.events);

      // The event posted before the archive is still there, with its delivery.
      const old = await h.call<EventView & { deliveries: DeliveryView[] }>('GET', `/v1/organizations/archive-org/events/${before.id}`);
      expect(old.status).toBe(200);
      expect(old.body.deliveries.map((d) => d.webhookId)).toEqual([hook.id]);

      // PUT brings it back.
      expect((await h.call<EventTypeView>('PUT', '/v1/event-types/legacy.thing', { description: 'back' })).body.archived).toBe(false);
      expect((await h.call('POST', '/v1/organizations/archive-org/events', { type: 'legacy.thing', data: { n: 3 } })).status).toBe(202);
      await drained('archive-org');
    });
  });

  describe('organizations', () => {
    it('create 201, duplicate 409, get, patch, list', async () => {
      const created = await h.call<OrganizationView>('POST', '/v1/organizations', { id: 'LVkmPy8AE2', name: 'Vercel Team', metadata: { plan: 'pro' } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: 'LVkmPy8AE2', name: 'Vercel Team', metadata: { plan: 'pro' }, createdAt: expect.stringMatching(ISO) });

      const before = await rowCounts(h);
      expectApiError(await h.call('POST', '/v1/organizations', { id: 'LVkmPy8AE2', name: 'Impostor' }), 409, 'already_exists');
      expect(await rowCounts(h)).toEqual(before);

      const read = await h.call<OrganizationView>('GET', '/v1/organizations/LVkmPy8AE2');
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);

      const patched = await h.call<OrganizationView>('PATCH', '/v1/organizations/LVkmPy8AE2', { name: 'Renamed' });
      expect(patched.status).toBe(200);
      // Partial: metadata stays.
      expect(patched.body).toEqual({ ...created.body, name: 'Renamed' });
      const patched2 = await h.call<OrganizationView>('PATCH', '/v1/organizations/LVkmPy8AE2', { metadata: { plan: 'enterprise' }, name: null });
      expect(patched2.body).toEqual({ ...created.body, name: null, metadata: { plan: 'enterprise' } });
      expect((await h.call<OrganizationView>('GET', '/v1/organizations/LVkmPy8AE2')).body).toEqual(patched2.body);

      const list = await h.call<List<OrganizationView>>('GET', '/v1/organizations?limit=250');
      expect(list.status).toBe(200);
      expect(list.body.data).toContainEqual(patched2.body);
    });

    it('posting an event to an unknown organization creates it', async () => {
      expect((await h.call('GET', '/v1/organizations/walk-in')).status).toBe(404);
      await putType('walkin.arrived');
      const accepted = await postEvent('walk-in', { type: 'walkin.arrived', data: {} });
      expect(accepted.deliveries).toEqual([]);
      const org = await h.call<OrganizationView>('GET', '/v1/organizations/walk-in');
      expect(org.status).toBe(200);
      expect(org.body).toMatchObject({ id: 'walk-in', name: null, metadata: {} });
      // It exists now: creating it explicitly is the 409 of any existing organization.
      expectApiError(await h.call('POST', '/v1/organizations', { id: 'walk-in' }), 409, 'already_exists');
    });

    it('DELETE removes the organization with its webhooks, events, deliveries and attempts, and nothing else', async () => {
      await putType('doom.tick');
      for (const org of ['doomed', 'survivor']) {
        await createOrg(org);
        await createWebhook(org, { url: `${receiver.url}/${org}/a` });
        await createWebhook(org, { url: `${receiver.url}/${org}/b` });
        for (let i = 0; i < 3; i++) await postEvent(org, { type: 'doom.tick', data: { i } });
        await drained(org);
      }
      expect(await rowsOf('doomed')).toEqual({ webhooks: 2, events: 3, deliveries: 6, attempts: 6 });
      const survivorBefore = await rowsOf('survivor');

      const deleted = await h.call('DELETE', '/v1/organizations/doomed');
      expect(deleted.status).toBe(204);
      expect(await rowsOf('doomed')).toEqual({ webhooks: 0, events: 0, deliveries: 0, attempts: 0 });
      expect(await rowsOf('survivor')).toEqual(survivorBefore);
      expect((await h.call('GET', '/v1/organizations/doomed')).status).toBe(404);
      const list = await h.call<List<OrganizationView>>('GET', '/v1/organizations?limit=250');
      expect(list.body.data.map((o) => o.id)).not.toContain('doomed');
      expectApiError(await h.call('DELETE', '/v1/organizations/doomed'), 404, 'not_found');
    });

    it('DELETE while deliveries are in flight leaves no rows behind', async () => {
      await putType('doom.slow');
      const slow = await startReceiver();
      try {
        slow.respond({ kind: 'delay', ms: 400 });
        await createOrg('doomed-busy');
        await createWebhook('doomed-busy', { url: `${slow.url}/hook` });
        for (let i = 0; i < 5; i++) await postEvent('doomed-busy', { type: 'doom.slow', data: { i } });
        await slow.waitFor(1);
        expect((await h.call('DELETE', '/v1/organizations/doomed-busy')).status).toBe(204);
        // Attempts that were running finish after the delete: they must not write rows for a deleted organization.
        await sleep(1_500);
        expect(await rowsOf('doomed-busy')).toEqual({ webhooks: 0, events: 0, deliveries: 0, attempts: 0 });
        const sent = slow.requests.length;
        await sleep(500);
        expect(slow.requests.length).toBe(sent);
      } finally {
        await slow.close();
      }
    });
  });

  describe('webhooks', () => {
    beforeAll(async () => {
      await putType('hook.created');
      await putType('hook.deleted');
      await createOrg('hooks-org');
    });

    it('create 201 without the secret; GET, list, PATCH, DELETE', async () => {
      const body = {
        url: `${receiver.url}/crud`,
        description: 'deploy notifications',
        events: ['hook.created'],
        filters: { projectName: ['front*', 'API'] },
        headers: { 'X-Team': 'a' },
        rateLimit: 50,
        timeoutMs: 5000,
        metadata: { owner: 'ops' },
      };
      const created = await h.call<WebhookView>('POST', '/v1/organizations/hooks-org/webhooks', body);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ ...body, organizationId: 'hooks-org', kind: 'standard', enabled: true, format: null });
      expect(created.body.id).toMatch(/^whk_/);
      expect(created.body.createdAt).toMatch(ISO);
      expect(created.body).not.toHaveProperty('secret');
      expect(JSON.stringify(created.body)).not.toContain('whsec_');
      const id = created.body.id;

      const read = await h.call<WebhookView>('GET', `/v1/organizations/hooks-org/webhooks/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
      expect(JSON.stringify(read.body)).not.toContain('whsec_');

      const list = await h.call<List<WebhookView>>('GET', '/v1/organizations/hooks-org/webhooks');
      expect(list.status).toBe(200);
      expect(list.body.data).toContainEqual(created.body);
      expect(JSON.stringify(list.body)).not.toContain('whsec_');

      await sleep(5);
      const patched = await h.call<WebhookView>('PATCH', `/v1/organizations/hooks-org/webhooks/${id}`, {
        description: 'changed',
        events: ['hook.created', 'hook.deleted'],
        enabled: false,
      });
      expect(patched.status).toBe(200);
      // Partial: what the patch leaves out stays as it was.
      expect(patched.body).toMatchObject({ ...body, description: 'changed', events: ['hook.created', 'hook.deleted'], enabled: false });
      expect(Date.parse(patched.body.updatedAt)).toBeGreaterThan(Date.parse(created.body.updatedAt));
      expect(patched.body.createdAt).toBe(created.body.createdAt);
      expect((await h.call<WebhookView>('GET', `/v1/organizations/hooks-org/webhooks/${id}`)).body).toEqual(patched.body);

      const cleared = await h.call<WebhookView>('PATCH', `/v1/organizations/hooks-org/webhooks/${id}`, { rateLimit: null, timeoutMs: null, events: [] });
      expect(cleared.body).toMatchObject({ rateLimit: null, timeoutMs: null, events: [], description: 'changed' });

      expect((await h.call('DELETE', `/v1/organizations/hooks-org/webhooks/${id}`)).status).toBe(204);
      expectApiError(await h.call('GET', `/v1/organizations/hooks-org/webhooks/${id}`), 404, 'not_found');
      expectApiError(await h.call('GET', `/v1/organizations/hooks-org/webhooks/${id}/secret`), 404, 'not_found');
      const after = await h.call<List<WebhookView>>('GET', '/v1/organizations/hooks-org/webhooks');
      expect(after.body.data.map((w) => w.id)).not.toContain(id);
    });

    it('a deleted webhook gets no new deliveries', async () => {
      const gone = await startReceiver();
      try {
        const hook = await createWebhook('hooks-org', { url: `${gone.url}/gone`, events: ['hook.deleted'] });
        expect((await h.call('DELETE', `/v1/organizations/hooks-org/webhooks/${hook.id}`)).status).toBe(204);
        const accepted = await postEvent('hooks-org', { type: 'hook.deleted', data: {} });
        expect(accepted.deliveries.map((d) => d.webhookId)).not.toContain(hook.id);
        await sleep(300);
        expect(gone.requests).toHaveLength(0);
      } finally {
        await gone.close();
      }
    });

    it('GET secret answers the signing secret; a secret given at create is kept', async () => {
      const generated = await createWebhook('hooks-org', { url: `${receiver.url}/gen` });
      const secret = await h.call<{ secret: string }>('GET', `/v1/organizations/hooks-org/webhooks/${generated.id}/secret`);
      expect(secret.status).toBe(200);
      expect(secret.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32,}$/);

      const given = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      const chosen = await createWebhook('hooks-org', { url: `${receiver.url}/chosen`, secret: given });
      expect(JSON.stringify(chosen)).not.toContain(given);
      expect((await h.call<{ secret: string }>('GET', `/v1/organizations/hooks-org/webhooks/${chosen.id}/secret`)).body.secret).toBe(given);
    });

    it('rotate-secret answers a new secret that signs from then on', async () => {
      const rotating = await startReceiver();
      try {
        const hook = await createWebhook('hooks-org', { url: `${rotating.url}/rot`, events: ['hook.created'] });
        const old = (await h.call<{ secret: string }>('GET', `/v1/organizations/hooks-org/webhooks/${hook.id}/secret`)).body.secret;

        const rotated = await h.call<{ secret: string }>('POST', `/v1/organizations/hooks-org/webhooks/${hook.id}/rotate-secret`, {});
        expect(rotated.status).toBe(200);
        expect(rotated.body.secret).toMatch(/^whsec_/);
        expect(rotated.body.secret).not.toBe(old);
        expect((await h.call<{ secret: string }>('GET', `/v1/organizations/hooks-org/webhooks/${hook.id}/secret`)).body.secret).toBe(rotated.body.secret);

        await postEvent('hooks-org', { type: 'hook.created', data: { n: 1 } });
        const [request] = await rotating.waitFor(1);
        new StandardWebhook(rotated.body.secret).verify(request!.body, request!.headers as Record<string, string>);

        const chosen = 'whsec_dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVzIQ==';
        const second = await h.call<{ secret: string }>('POST', `/v1/organizations/hooks-org/webhooks/${hook.id}/rotate-secret`, { secret: chosen });
        expect(second.status).toBe(200);
        expect(second.body.secret).toBe(chosen);
        expectApiError(
          await h.call('POST', `/v1/organizations/hooks-org/webhooks/${hook.id}/rotate-secret`, { secret: 'not-a-whsec' }),
          422,
          'invalid_secret',
        );
        expect((await h.call<{ secret: string }>('GET', `/v1/organizations/hooks-org/webhooks/${hook.id}/secret`)).body.secret).toBe(chosen);
      } finally {
        await rotating.close();
      }
    });

    it("test answers 202 {deliveryId} and the receiver gets the profile's test event", async () => {
      const tested = await startReceiver();
      try {
        // Subscribed to something else entirely: the test event goes to this webhook anyway.
        const hook = await createWebhook('hooks-org', { url: `${tested.url}/test`, events: ['hook.deleted'] });
        const secret = (await h.call<{ secret: string }>('GET', `/v1/organizations/hooks-org/webhooks/${hook.id}/secret`)).body.secret;
        const res = await h.call<{ deliveryId: string }>('POST', `/v1/organizations/hooks-org/webhooks/${hook.id}/test`);
        expect(res.status).toBe(202);
        expect(res.body.deliveryId).toMatch(/^dlv_/);

        const [request] = await tested.waitFor(1);
        expect(request!.path).toBe('/test');
        expect(request!.headers['webhook-id']).toBe(res.body.deliveryId);
        const payload = new StandardWebhook(secret).verify(request!.body, request!.headers as Record<string, string>);
        expect(payload).toMatchObject({ type: 'webhook.test', data: { message: 'This is a test event from Herald' } });

        const delivery = await eventually(async () => {
          const d = await h.call<DeliveryView>('GET', `/v1/organizations/hooks-org/deliveries/${res.body.deliveryId}`);
          return d.body.status === 'succeeded' ? d.body : undefined;
        });
        expect(delivery.webhookId).toBe(hook.id);
        // No other webhook of the organization got it.
        const event = await h.call<{ type: string; deliveries: DeliveryView[] }>('GET', `/v1/organizations/hooks-org/events/${delivery.eventId}`);
        expect(event.body.type).toBe('webhook.test');
        expect(event.body.deliveries.map((d) => d.webhookId)).toEqual([hook.id]);
      } finally {
        await tested.close();
      }
    });
  });

  describe('events', () => {
    let hookA: WebhookView;
    let hookB: WebhookView;

    beforeAll(async () => {
      await putType('shop.order.created');
      await putType('shop.order.shipped');
      await createOrg('shop');
      hookA = await createWebhook('shop', { url: `${receiver.url}/shop/a`, events: ['shop.order.*'] });
      hookB = await createWebhook('shop', { url: `${receiver.url}/shop/b`, events: ['shop.order.shipped'] });
    });

    it('GET answers the event with its deliveries', async () => {
      const time = '2024-05-01T12:00:00.000Z';
      const accepted = await postEvent('shop', {
        type: 'shop.order.shipped',
        data: { orderId: 'o_1', lines: [{ sku: 'A', qty: 2 }] },
        attributes: { projectName: 'front' },
        time,
      });
      expect(accepted.id).toMatch(/^evt_/);
      expect(accepted.deliveries.map((d) => d.webhookId).sort()).toEqual([hookA.id, hookB.id].sort());
      for (const d of accepted.deliveries) expect(d.id).toMatch(/^dlv_/);

      const read = await h.call<EventView & { deliveries: DeliveryView[] }>('GET', `/v1/organizations/shop/events/${accepted.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        id: accepted.id,
        organizationId: 'shop',
        type: 'shop.order.shipped',
        data: { orderId: 'o_1', lines: [{ sku: 'A', qty: 2 }] },
        attributes: { projectName: 'front' },
        externalId: null,
        time,
      });
      expect(read.body.createdAt).toMatch(ISO);
      expect(read.body.deliveries.map((d) => d.id).sort()).toEqual(accepted.deliveries.map((d) => d.id).sort());
      for (const d of read.body.deliveries) expect(d).toMatchObject({ eventId: accepted.id, organizationId: 'shop' });
      // Another organization cannot see it.
      expectApiError(await h.call('GET', `/v1/organizations/hooks-org/events/${accepted.id}`), 404, 'not_found');
    });

    it('lists newest first and filters by type', async () => {
      const posted: { id: string; type: string }[] = [];
      for (let i = 0; i < 6; i++) {
        const type = i % 2 === 0 ? 'shop.order.created' : 'shop.order.shipped';
        posted.push({ id: (await postEvent('shop', { type, data: { i } })).id, type });
      }
      const listed = await h.call<List<EventView>>('GET', '/v1/organizations/shop/events?limit=6');
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((e) => e.id)).toEqual(posted.map((p) => p.id).reverse());

      const created = await h.call<List<EventView>>('GET', '/v1/organizations/shop/events?type=shop.order.created&limit=250');
      expect(created.body.data.every((e) => e.type === 'shop.order.created')).toBe(true);
      expect(created.body.data.map((e) => e.id).slice(0, 3)).toEqual(
        posted
          .filter((p) => p.type === 'shop.order.created')
          .map((p) => p.id)
          .reverse(),
      );
      const none = await h.call<List<EventView>>('GET', '/v1/organizations/shop/events?type=shop.nothing');
      expect(none.body).toEqual({ data: [], nextCursor: null });
    });
  });

  describe('deliveries', () => {
    it('filters by webhookId, eventId and status', async () => {
      await putType('filter.ping');
      await createOrg('filters');
      const failing = await startReceiver();
      failing.respond({ kind: 'status', status: 500, body: 'nope' });
      try {
        const ok = await createWebhook('filters', { url: `${receiver.url}/filters/ok` });
        const bad = await createWebhook('filters', { url: `${failing.url}/filters/bad`, retry: { kind: 'none' } });
        const off = await createWebhook('filters', { url: `${receiver.url}/filters/off`, enabled: false });
        const e1 = await postEvent('filters', { type: 'filter.ping', data: { n: 1 } });
        const e2 = await postEvent('filters', { type: 'filter.ping', data: { n: 2 } });
        expect(e1.deliveries).toHaveLength(3);
        await drained('filters');

        const get = async (query: string) => {
          const res = await h.call<List<DeliveryView>>('GET', `/v1/organizations/filters/deliveries?limit=250${query}`);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          return res.body.data;
        };
        const all = await get('');
        expect(all).toHaveLength(6);
        // Newest first.
        expect(all.map((d) => d.id)).toEqual([...all.map((d) => d.id)].sort().reverse());

        const byWebhook = await get(`&webhookId=${ok.id}`);
        expect(byWebhook).toHaveLength(2);
        expect(byWebhook.every((d) => d.webhookId === ok.id)).toBe(true);

        const byEvent = await get(`&eventId=${e2.id}`);
        expect(byEvent.map((d) => d.id).sort()).toEqual(e2.deliveries.map((d) => d.id).sort());

        const statusOf = (hook: WebhookView) => all.filter((d) => d.webhookId === hook.id).map((d) => d.status);
        expect(statusOf(ok)).toEqual(['succeeded', 'succeeded']);
        expect(statusOf(bad)).toEqual(['failed', 'failed']);
        expect(statusOf(off)).toEqual(['skipped', 'skipped']);
        for (const status of ['succeeded', 'failed', 'skipped'] as const) {
          const some = await get(`&status=${status}`);
          expect(some).toHaveLength(2);
          expect(some.every((d) => d.status === status)).toBe(true);
        }
        expect(await get('&status=pending')).toEqual([]);
        expect(await get(`&status=failed&webhookId=${ok.id}`)).toEqual([]);
        const combined = await get(`&status=failed&eventId=${e1.id}`);
        expect(combined.map((d) => d.webhookId)).toEqual([bad.id]);

        // The webhook's own delivery list agrees.
        const own = await h.call<List<DeliveryView>>('GET', `/v1/organizations/filters/webhooks/${bad.id}/deliveries`);
        expect(own.body.data.map((d) => d.id)).toEqual((await get(`&webhookId=${bad.id}`)).map((d) => d.id));
      } finally {
        await failing.close();
      }
    });
  });

  describe('cursor pagination', () => {
    /** Walks with limit=3 and checks the pages against one big page: same items, same order, no duplicates or gaps. */
    async function checkPaging<T>(path: string, key: (item: T) => string, expectedSizes?: number[]): Promise<string[]> {
      const pages = await walkPages<T>(h, path, 3);
      const ids = pages.flat().map(key);
      if (expectedSizes) expect(pages.map((p) => p.length)).toEqual(expectedSizes);
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(3);
      expect(new Set(ids).size).toBe(ids.length);
      const separator = path.includes('?') ? '&' : '?';
      const whole = await h.call<List<T>>('GET', `${path}${separator}limit=250`);
      expect(whole.body.nextCursor).toBeNull();
      expect(ids).toEqual(whole.body.data.map(key));
      return ids;
    }

    beforeAll(async () => {
      await putType('page.tick');
      await createOrg('pager');
      await createOrg('pager-deliveries');
      await createWebhook('pager-deliveries', { url: `${receiver.url}/pager` });
    });

    it('event types: 7 in a group page as 3, 3, 1', async () => {
      for (let i = 1; i <= 7; i++) await putType(`paged.type${i}`, { group: 'paged' });
      const names = await checkPaging<EventTypeView>('/v1/event-types?group=paged', (t) => t.name, [3, 3, 1]);
      expect(names).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `paged.type${i}`));
    });

    it('organizations: 7 more page without duplicates or gaps', async () => {
      for (let i = 1; i <= 7; i++) await createOrg(`page-org-${i}`);
      const ids = await checkPaging<OrganizationView>('/v1/organizations', (o) => o.id);
      for (let i = 1; i <= 7; i++) expect(ids).toContain(`page-org-${i}`);
    });

    it('webhooks: 7 page as 3, 3, 1', async () => {
      const created: string[] = [];
      for (let i = 0; i < 7; i++) created.push((await createWebhook('pager', { url: `${receiver.url}/pager/${i}`, events: ['hook.none.*'] })).id);
      const ids = await checkPaging<WebhookView>('/v1/organizations/pager/webhooks', (w) => w.id, [3, 3, 1]);
      expect([...ids].sort()).toEqual([...created].sort());
    });

    it('events: 7 page as 3, 3, 1, newest first; also with a type filter', async () => {
      const posted: string[] = [];
      for (let i = 0; i < 7; i++) posted.push((await postEvent('pager-deliveries', { type: 'page.tick', data: { i } })).id);
      const ids = await checkPaging<EventView>('/v1/organizations/pager-deliveries/events', (e) => e.id, [3, 3, 1]);
      expect(ids).toEqual([...posted].reverse());
      await checkPaging<EventView>('/v1/organizations/pager-deliveries/events?type=page.tick', (e) => e.id, [3, 3, 1]);
    });

    it('deliveries: 7 page as 3, 3, 1; also with filters', async () => {
      await drained('pager-deliveries');
      await checkPaging<DeliveryView>('/v1/organizations/pager-deliveries/deliveries', (d) => d.id, [3, 3, 1]);
      await checkPaging<DeliveryView>('/v1/organizations/pager-deliveries/deliveries?status=succeeded', (d) => d.id, [3, 3, 1]);
    });

    it('a page exactly filled ends with nextCursor null, not an empty extra page', async () => {
      const res = await h.call<List<EventTypeView>>('GET', '/v1/event-types?group=paged&limit=7');
      expect(res.body.data).toHaveLength(7);
      expect(res.body.nextCursor).toBeNull();
      const six = await h.call<List<EventTypeView>>('GET', '/v1/event-types?group=paged&limit=6');
      expect(six.body.nextCursor).not.toBeNull();
      const rest = await h.call<List<EventTypeView>>('GET', `/v1/event-types?group=paged&limit=6&cursor=${encodeURIComponent(six.body.nextCursor!)}`);
      expect(rest.body.data.map((t) => t.name)).toEqual(['paged.type7']);
      expect(rest.body.nextCursor).toBeNull();
    });

    it('a cursor stays valid when items are added in front of it', async () => {
      const first = await h.call<List<EventView>>('GET', '/v1/organizations/pager-deliveries/events?limit=3');
      await postEvent('pager-deliveries', { type: 'page.tick', data: { late: true } });
      const second = await h.call<List<EventView>>('GET', `/v1/organizations/pager-deliveries/events?limit=3&cursor=${encodeURIComponent(first.body.nextCursor!)}`);
      const seen = new Set(first.body.data.map((e) => e.id));
      for (const e of second.body.data) expect(seen.has(e.id)).toBe(false);
      expect(second.body.data).toHaveLength(3);
    });
  });
});
