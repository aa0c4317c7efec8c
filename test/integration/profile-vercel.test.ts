/**
 * The vercel profile (seed 004) end to end: every current example posted and received as
 * {type, id, createdAt, region, payload}, verified with the seed's own sha1 code over the raw
 * body; retries with exponential backoff on a 500 until 24 h after the event, then `failed`
 * (moved through a ManualClock); legacy types refused for new subscriptions but still delivered,
 * in the legacy body, to a webhook that subscribed before the type was deprecated.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { JsonObject } from '../../src/domain/types.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';
import { createOrganization, createWebhook, getDelivery, header, iso, postEvent, waitForDelivery } from '../helpers/seed-profiles.js';

/** The seed's validator ("Securing webhooks"), word for word. */
function sha1(data: Buffer, secret: string): string {
  return crypto.createHmac('sha1', secret).update(data).digest('hex');
}

/** What a Vercel receiver does: sha1 of the raw body against x-vercel-signature, then parse. */
function receive(request: ReceivedRequest, secret: string): JsonObject {
  const rawBody = Buffer.from(request.body, 'utf8');
  const bodySignature = sha1(rawBody, secret);
  expect(bodySignature).toBe(request.headers['x-vercel-signature']);
  return JSON.parse(rawBody.toString('utf-8')) as JsonObject;
}

const HOUR = 3_600_000;
const PAYLOAD_KEYS = ['type', 'id', 'createdAt', 'region', 'payload'];
const LEGACY_KEYS = ['type', 'id', 'createdAt', 'region', 'clientId', 'ownerId', 'teamId', 'userId', 'webhookId', 'payload'];

describe('vercel profile', () => {
  // One Herald on a hand-moved clock (it starts at the real time; only the retry test moves it).
  const clock = new ManualClock(Date.now());
  let h: TestHerald;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    h = await startHerald({ profile: 'vercel', clock, env: { HERALD_POLL_INTERVAL_MS: '10' } });
  });
  afterAll(async () => {
    await h.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

    it('delivers every current example signed with x-vercel-signature, in the documented payload', async () => {
      const r = await receiver();
      await createOrganization(h, 'team_acme');
      const webhook = await createWebhook(h, 'team_acme', { url: `${r.url}/api/webhook` });
      const catalog = h.herald.profile.catalog;
      const current = catalog.filter((t) => !t.deprecated);
      expect(current).toHaveLength(60);
      expect(catalog.filter((t) => t.deprecated && t.format === 'legacy')).toHaveLength(13);

      const createdAt = Date.parse('2024-06-10T16:00:00.000Z');
      const sent = await Promise.all(
        current.flatMap((type, i) =>
          type.examples.map(async (data) => {
            // `region` is an event attribute; an event without it gets region: null.
            const attributes = i % 2 === 0 ? { region: 'iad1' } : {};
            const posted = await postEvent(h, 'team_acme', { type: type.name, data, time: iso(createdAt + i), attributes });
            expect(posted.deliveries).toHaveLength(1);
            return { type: type.name, data, deliveryId: posted.deliveries[0]!.id, createdAt: createdAt + i, region: attributes.region ?? null };
          }),
        ),
      );
      expect(sent.length).toBeGreaterThanOrEqual(60);
      const requests = await r.waitFor(sent.length);
      const bodies = requests.map((request) => receive(request, webhook.secret));
      for (const event of sent) {
        const body = bodies.find((b) => b.id === event.deliveryId);
        expect(body, event.type).toEqual({ type: event.type, id: event.deliveryId, createdAt: event.createdAt, region: event.region, payload: event.data });
        expect(Object.keys(body!)).toEqual(PAYLOAD_KEYS);
      }
    });

    it('refuses new subscriptions to a legacy type, and still delivers it, in the legacy payload, to a webhook that had it', async () => {
      const r = await receiver();
      const org = 'team_legacy';
      await createOrganization(h, org, { clientId: 'oac_9Xc7Vb5Nm3Qa1Ws', teamId: 'team_legacy' });
      const legacy = h.herald.profile.catalog.find((t) => t.name === 'deployment')!;

      // The profile's legacy types take no new subscriptions.
      const refused = await h.call<{ error: { code: string } }>('POST', `/v1/organizations/${org}/webhooks`, { url: `${r.url}/new`, events: ['deployment-ready'] });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('deprecated_event_type');

      // A webhook that subscribed while `deployment` was current…
      const current = { description: legacy.description, group: 'legacy', schema: legacy.schema, examples: legacy.examples, format: 'legacy' };
      expect((await h.call('PUT', '/v1/event-types/deployment', { ...current, deprecated: false })).status).toBe(200);
      const existing = await createWebhook(h, org, { url: `${r.url}/existing`, events: ['deployment', 'deployment.created'] });
      const everything = await createWebhook(h, org, { url: `${r.url}/everything` });
      // …then the type is deprecated: no new subscription to it…
      expect((await h.call('PUT', '/v1/event-types/deployment', { ...current, deprecated: true })).status).toBe(200);
      const late = await h.call<{ error: { code: string; message: string } }>('POST', `/v1/organizations/${org}/webhooks`, { url: `${r.url}/late`, events: ['deployment'] });
      expect(late.status).toBe(422);
      expect(late.body.error.code).toBe('deprecated_event_type');

      // …but the webhook that had it still gets it, in the legacy body.
      const createdAt = Date.parse('2024-06-10T16:00:00.000Z');
      const posted = await postEvent(h, org, {
        type: 'deployment',
        data: legacy.examples[0],
        time: iso(createdAt),
        attributes: { region: 'sfo1', userId: '2n8rEdmTBGJs3L4YkbmuP7Rn' },
      });
      expect(posted.deliveries.map((d) => d.webhookId)).toEqual([existing.id]);
      // A webhook subscribed to everything never picks up a deprecated type.
      expect(posted.deliveries.map((d) => d.webhookId)).not.toContain(everything.id);
      const [request] = await r.waitFor(1);
      expect(request!.path).toBe('/existing');
      const body = receive(request!, existing.secret);
      expect(body).toEqual({
        type: 'deployment',
        id: posted.deliveries[0]!.id,
        createdAt,
        region: 'sfo1',
        clientId: 'oac_9Xc7Vb5Nm3Qa1Ws',
        ownerId: org,
        teamId: 'team_legacy',
        userId: '2n8rEdmTBGJs3L4YkbmuP7Rn',
        webhookId: existing.id,
        payload: legacy.examples[0],
      });
      expect(Object.keys(body)).toEqual(LEGACY_KEYS);
    });

  it('retries a 500 with exponential backoff for 24 hours after the event, then gives up', async () => {
    const r = await receiver();
    r.respond({ kind: 'status', status: 500, body: 'boom' });
    await createOrganization(h, 'team_retry');
    const webhook = await createWebhook(h, 'team_retry', { url: `${r.url}/api/webhook`, events: ['project.created'] });
    const eventTime = clock.now();
    const posted = await postEvent(h, 'team_retry', { type: 'project.created', data: h.herald.profile.testEvent.data });
    const id = posted.deliveries[0]!.id;

    const attemptTimes: number[] = [];
    let delivery = await waitForDelivery(h, 'team_retry', id, (d) => d.attemptCount === 1, 'the first attempt');
    for (let guard = 0; delivery.status === 'pending' && guard < 100; guard++) {
      attemptTimes.push(clock.now());
      expect(delivery.nextAttemptAt).not.toBeNull();
      const next = Date.parse(delivery.nextAttemptAt!);
      expect(next).toBeGreaterThan(clock.now());
      expect(next).toBeLessThanOrEqual(eventTime + 24 * HOUR);
      clock.set(next);
      const count = delivery.attemptCount;
      delivery = await waitForDelivery(h, 'team_retry', id, (d) => d.attemptCount > count, `attempt ${count + 1}`);
    }
    attemptTimes.push(clock.now());

    expect(delivery.status).toBe('failed');
    expect(delivery.nextAttemptAt).toBeNull();
    expect(delivery.attemptCount).toBe(attemptTimes.length);
    // 1, 2, 4 … minutes, then hourly: some 25-30 attempts, the last one on the 24 h mark.
    expect(delivery.attemptCount).toBeGreaterThan(20);
    expect(attemptTimes.at(-1)).toBe(eventTime + 24 * HOUR);
    const gaps = attemptTimes.slice(1).map((t, i) => t - attemptTimes[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(48_000); // 60 s ± 20 %
    expect(gaps[0]).toBeLessThanOrEqual(72_000);
    expect(gaps[4]).toBeGreaterThan(gaps[0]! * 8); // 16 min vs 1 min, with jitter
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1.2 * HOUR);
    // Every attempt was the same delivery, signed the same way.
    expect(r.requests).toHaveLength(delivery.attemptCount);
    for (const request of r.requests) expect(receive(request, webhook.secret).id).toBe(id);

    // Nothing more after the 24 hours.
    clock.advance(48 * HOUR);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await getDelivery(h, 'team_retry', id)).attemptCount).toBe(attemptTimes.length);
    expect(r.requests).toHaveLength(attemptTimes.length);
    expect(header(r.requests[0]!.headers, 'content-type')).toBe('application/json');
  });
});
