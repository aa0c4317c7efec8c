/**
 * Idempotent creates: `Idempotency-Key` on POST events / organizations /
 * webhooks replays the first answer and creates nothing; the same key with
 * another body is 409; an event's operator `id` makes posting it idempotent
 * on its own.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectApiError, rowCounts } from '../helpers/api.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface Accepted {
  id: string;
  deliveries: { id: string; webhookId: string }[];
}

describe('idempotency', () => {
  let h: TestHerald;
  let receivers: Receiver[];
  let webhookIds: string[];
  let seq = 0;
  /** A fresh key per test: keys live for 24 h and tests share one Herald. */
  const newKey = (): string => `key-${Date.now()}-${++seq}`;

  beforeAll(async () => {
    h = await startHerald();
    receivers = [await startReceiver(), await startReceiver()];
    expect((await h.call('PUT', '/v1/event-types/invoice.paid', { description: 'An invoice was paid' })).status).toBe(201);
    expect((await h.call('POST', '/v1/organizations', { id: 'acme' })).status).toBe(201);
    webhookIds = [];
    for (const receiver of receivers) {
      const created = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', { url: `${receiver.url}/hook` });
      expect(created.status).toBe(201);
      webhookIds.push(created.body.id);
    }
  });
  afterAll(async () => {
    await h?.stop();
    for (const receiver of receivers ?? []) await receiver.close();
  });
  beforeEach(async () => {
    // Each test starts with the queue drained and the receivers' logs empty.
    await settled();
    for (const receiver of receivers) receiver.requests.length = 0;
  });

  /** Waits until nothing is pending, so that row counts are stable. */
  async function settled(): Promise<void> {
    await eventually(async () => {
      const pending = await h.call<{ data: unknown[] }>('GET', '/v1/organizations/acme/deliveries?status=pending&limit=1');
      return pending.body.data.length === 0;
    });
  }

  describe('Idempotency-Key on POST /v1/organizations/:org/events', () => {
    it('replays the first answer and creates no second event or delivery', async () => {
      const key = newKey();
      const body = { type: 'invoice.paid', data: { invoice: 'in_1', amount: 1200 } };
      const first = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': key });
      expect(first.status).toBe(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(first.body.deliveries).toHaveLength(2);
      for (const receiver of receivers) await receiver.waitFor(1);
      await settled();
      const before = await rowCounts(h);

      for (let i = 0; i < 3; i++) {
        const again = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': key });
        expect(again.status).toBe(202);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.body).toEqual(first.body);
      }

      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await rowCounts(h)).toEqual(before);
      // Each receiver got the event once: the replays queued nothing.
      for (const receiver of receivers) expect(receiver.requests).toHaveLength(1);
      const listed = await h.call<{ data: { id: string }[] }>('GET', '/v1/organizations/acme/events?limit=250');
      expect(listed.body.data.filter((e) => e.id === first.body.id)).toHaveLength(1);
    });

    it('treats the same JSON with its keys in another order as the same body', async () => {
      const key = newKey();
      const first = await h.call<Accepted>('POST', '/v1/organizations/acme/events', '{"type":"invoice.paid","data":{"a":1,"b":2}}', { 'idempotency-key': key });
      expect(first.status).toBe(202);
      const again = await h.call<Accepted>('POST', '/v1/organizations/acme/events', '{"data":{"b":2,"a":1},"type":"invoice.paid"}', { 'idempotency-key': key });
      expect(again.status).toBe(202);
      expect(again.body.id).toBe(first.body.id);
      expect(again.headers['idempotent-replayed']).toBe('true');
    });

    it('answers 409 to the same key with another body, and creates nothing', async () => {
      const key = newKey();
      const first = await h.call<Accepted>('POST', '/v1/organizations/acme/events', { type: 'invoice.paid', data: { invoice: 'in_2' } }, { 'idempotency-key': key });
      expect(first.status).toBe(202);
      await settled();
      const before = await rowCounts(h);
      const conflict = await h.call('POST', '/v1/organizations/acme/events', { type: 'invoice.paid', data: { invoice: 'in_3' } }, { 'idempotency-key': key });
      expectApiError(conflict, 409, 'idempotency_conflict');
      expect(await rowCounts(h)).toEqual(before);
      // The first answer is still what the key stands for.
      const replay = await h.call<Accepted>('POST', '/v1/organizations/acme/events', { type: 'invoice.paid', data: { invoice: 'in_2' } }, { 'idempotency-key': key });
      expect(replay.body).toEqual(first.body);
    });

    it('lets a refused request be retried, corrected, under the same key', async () => {
      const key = newKey();
      const refused = await h.call('POST', '/v1/organizations/acme/events', { type: 'invoice.lost', data: {} }, { 'idempotency-key': key });
      expectApiError(refused, 422, 'unknown_event_type');
      const corrected = await h.call<Accepted>('POST', '/v1/organizations/acme/events', { type: 'invoice.paid', data: {} }, { 'idempotency-key': key });
      expect(corrected.status).toBe(202);
      expect(corrected.headers['idempotent-replayed']).toBeUndefined();
    });

    it('scopes keys to the route: the same key for another organization creates that event', async () => {
      const key = newKey();
      const body = { type: 'invoice.paid', data: { invoice: 'in_4' } };
      const a = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': key });
      const b = await h.call<Accepted>('POST', '/v1/organizations/globex/events', body, { 'idempotency-key': key });
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(b.body.id).not.toBe(a.body.id);
      expect(b.headers['idempotent-replayed']).toBeUndefined();
    });

    it('creates one event when the same key arrives many times at once', async () => {
      // Several rounds: a check-then-insert race shows up in some rounds and not others.
      for (let round = 0; round < 5; round++) {
        await settled();
        const before = await rowCounts(h);
        const key = newKey();
        const body = { type: 'invoice.paid', data: { invoice: `in_5_${round}` } };
        const answers = await Promise.all(
          Array.from({ length: 8 }, () => h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': key })),
        );
        // Twins that lost the race wait for the winner and replay its answer: never a second event.
        for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(202);
        expect(new Set(answers.map((a) => a.body.id)).size, `round ${round}`).toBe(1);
        expect(answers.filter((a) => a.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
        const created = answers;
        await settled();
        const after = await rowCounts(h);
        expect(after.events - before.events, `round ${round}`).toBe(1);
        expect(after.deliveries - before.deliveries).toBe(2);
        const replay = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': key });
        expect(replay.status).toBe(202);
        expect(replay.body.id).toBe(created[0]!.body.id);
        expect(replay.headers['idempotent-replayed']).toBe('true');
      }
    });

    it('refuses a key that is not 1–255 printable ASCII characters', async () => {
      const before = await rowCounts(h);
      const long = await h.call('POST', '/v1/organizations/acme/events', { type: 'invoice.paid', data: {} }, { 'idempotency-key': 'k'.repeat(256) });
      expectApiError(long, 400, 'invalid_idempotency_key');
      const spaced = await h.call('POST', '/v1/organizations/acme/events', { type: 'invoice.paid', data: {} }, { 'idempotency-key': 'two words' });
      expectApiError(spaced, 400, 'invalid_idempotency_key');
      expect(await rowCounts(h)).toEqual(before);
    });
  });

  describe('Idempotency-Key on POST /v1/organizations', () => {
    it('replays the 201 instead of answering 409 already_exists', async () => {
      const key = newKey();
      const body = { id: 'initech', name: 'Initech', metadata: { plan: 'pro' } };
      const first = await h.call<{ id: string; createdAt: string }>('POST', '/v1/organizations', body, { 'idempotency-key': key });
      expect(first.status).toBe(201);
      const before = await rowCounts(h);
      const again = await h.call('POST', '/v1/organizations', body, { 'idempotency-key': key });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await rowCounts(h)).toEqual(before);
      // Without the key, the same create is the 409 of an existing organization.
      expectApiError(await h.call('POST', '/v1/organizations', body), 409, 'already_exists');
    });

    it('answers 409 idempotency_conflict to the same key with another body', async () => {
      const key = newKey();
      expect((await h.call('POST', '/v1/organizations', { id: 'hooli' }, { 'idempotency-key': key })).status).toBe(201);
      const before = await rowCounts(h);
      expectApiError(await h.call('POST', '/v1/organizations', { id: 'piedpiper' }, { 'idempotency-key': key }), 409, 'idempotency_conflict');
      expect(await rowCounts(h)).toEqual(before);
      expect((await h.call('GET', '/v1/organizations/piedpiper')).status).toBe(404);
    });
  });

  describe('Idempotency-Key on POST /v1/organizations/:org/webhooks', () => {
    it('replays the first webhook (same id) and creates no second one', async () => {
      expect((await h.call('POST', '/v1/organizations', { id: 'umbrella' })).status).toBe(201);
      const key = newKey();
      const body = { url: 'http://127.0.0.1:9/hook', description: 'once', events: ['invoice.paid'] };
      const first = await h.call<{ id: string }>('POST', '/v1/organizations/umbrella/webhooks', body, { 'idempotency-key': key });
      expect(first.status).toBe(201);
      expect(first.body).not.toHaveProperty('secret');
      const before = await rowCounts(h);
      const again = await h.call<{ id: string }>('POST', '/v1/organizations/umbrella/webhooks', body, { 'idempotency-key': key });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await rowCounts(h)).toEqual(before);
      const list = await h.call<{ data: { id: string }[] }>('GET', '/v1/organizations/umbrella/webhooks');
      expect(list.body.data.map((w) => w.id)).toEqual([first.body.id]);

      expectApiError(
        await h.call('POST', '/v1/organizations/umbrella/webhooks', { ...body, description: 'twice' }, { 'idempotency-key': key }),
        409,
        'idempotency_conflict',
      );
      expect(await rowCounts(h)).toEqual(before);
      // Without a key, the same body is a second webhook: the key is what makes it idempotent.
      expect((await h.call('POST', '/v1/organizations/umbrella/webhooks', body)).status).toBe(201);
      expect((await h.call<{ data: unknown[] }>('GET', '/v1/organizations/umbrella/webhooks')).body.data).toHaveLength(2);
    });
  });

  describe("the event's operator id", () => {
    it('returns the first event and its deliveries, and creates no new ones', async () => {
      const body = { id: 'order-7781', type: 'invoice.paid', data: { invoice: 'in_9' } };
      const first = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body);
      expect(first.status).toBe(202);
      expect(first.body.deliveries).toHaveLength(2);
      for (const receiver of receivers) await receiver.waitFor(1);
      await settled();
      const before = await rowCounts(h);

      // A webhook created since then does not receive the event when it is posted again.
      const late = await startReceiver();
      try {
        const lateHook = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', { url: `${late.url}/hook` });
        expect(lateHook.status).toBe(201);
        const countsWithLateHook = await rowCounts(h);
        expect(countsWithLateHook.webhooks).toBe(before.webhooks + 1);

        const again = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body);
        expect(again.status).toBe(202);
        expect(again.body.id).toBe(first.body.id);
        expect(again.body.deliveries).toEqual(expect.arrayContaining(first.body.deliveries));
        expect(again.body.deliveries).toHaveLength(first.body.deliveries.length);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await rowCounts(h)).toEqual(countsWithLateHook);
        expect(late.requests).toHaveLength(0);
        for (const receiver of receivers) expect(receiver.requests).toHaveLength(1);

        const event = await h.call<{ id: string; externalId: string | null; deliveries: unknown[] }>('GET', `/v1/organizations/acme/events/${first.body.id}`);
        expect(event.body.externalId).toBe('order-7781');
        expect(event.body.deliveries).toHaveLength(2);
        expect((await h.call('DELETE', `/v1/organizations/acme/webhooks/${lateHook.body.id}`)).status).toBe(204);
      } finally {
        await late.close();
      }
    });

    it('is scoped to the organization', async () => {
      const body = { id: 'shared-id', type: 'invoice.paid', data: {} };
      const a = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body);
      const b = await h.call<Accepted>('POST', '/v1/organizations/globex/events', body);
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(b.body.id).not.toBe(a.body.id);
    });

    it('creates one event when the same id is posted many times at once', async () => {
      await settled();
      const before = await rowCounts(h);
      const body = { id: 'order-burst', type: 'invoice.paid', data: { n: 1 } };
      const answers = await Promise.all(Array.from({ length: 8 }, () => h.call<Accepted>('POST', '/v1/organizations/acme/events', body)));
      for (const answer of answers) expect(answer.status).toBe(202);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      await settled();
      const after = await rowCounts(h);
      expect(after.events - before.events).toBe(1);
      expect(after.deliveries - before.deliveries).toBe(webhookIds.length);
    });

    it('works together with Idempotency-Key', async () => {
      const key = newKey();
      const body = { id: 'order-both', type: 'invoice.paid', data: {} };
      const first = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': key });
      const byKey = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': key });
      const byId = await h.call<Accepted>('POST', '/v1/organizations/acme/events', body, { 'idempotency-key': newKey() });
      expect(byKey.body).toEqual(first.body);
      expect(byId.body.id).toBe(first.body.id);
    });
  });
});
