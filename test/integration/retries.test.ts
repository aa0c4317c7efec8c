/**
 * Retries: a failed attempt is retried on the webhook's schedule with the same
 * delivery id, every attempt is logged, an exhausted schedule ends `failed`,
 * `Retry-After` moves the next attempt only within [1x, 2x] the scheduled delay,
 * and a manual retry makes exactly one new attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import {
  createWebhook,
  fastRetries,
  getDelivery,
  postEvent,
  setupOrganization,
  waitForAttempts,
  waitForDelivery,
} from '../helpers/deliveries.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const TYPE = 'order.placed';

describe('retries', () => {
  let h: TestHerald;
  const receivers: Receiver[] = [];
  let orgs = 0;

  /** Each test gets its own organization and receiver, so events never cross tests. */
  async function setup(retry: unknown): Promise<{ org: string; receiver: Receiver; webhookId: string }> {
    const org = `retries-${++orgs}`;
    await setupOrganization(h, org, [TYPE]);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const webhook = await createWebhook(h, org, { url: `${receiver.url}/hook`, retry });
    return { org, receiver, webhookId: webhook.id };
  }

  beforeAll(async () => {
    h = await startHerald();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await h.stop();
  });

  it('retries a failing receiver until it succeeds, with the same webhook-id on every attempt, and logs each attempt', async () => {
    const { org, receiver } = await setup(fastRetries(3));
    const bigAnswer = 'x'.repeat(10 * 1024);
    receiver.respond((index) => (index < 2 ? { kind: 'status', status: 500, body: bigAnswer } : { kind: 'status', status: 200, body: 'thanks' }));

    const posted = await postEvent(h, org, { type: TYPE, data: { orderId: 'o-1' } });
    const deliveryId = posted.deliveries[0]!.id;

    const delivery = await waitForDelivery(h, org, deliveryId, (d) => d.status === 'succeeded', 'the delivery to succeed');
    expect(delivery.attemptCount).toBe(3);
    expect(delivery.nextAttemptAt).toBeNull();
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([deliveryId, deliveryId, deliveryId]);
    // The same event each time: the payload does not change between attempts.
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);

    expect(delivery.attempts.map((a) => a.attemptNumber)).toEqual([1, 2, 3]);
    expect(delivery.attempts.map((a) => a.responseStatus)).toEqual([500, 500, 200]);
    expect(delivery.attempts.map((a) => a.error)).toEqual(['status', 'status', null]);
    for (const attempt of delivery.attempts) {
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
      expect(attempt.requestHeaders['webhook-id']).toBe(deliveryId);
    }
    // A 10 KiB answer is kept as its first 4 KiB.
    expect(Buffer.byteLength(delivery.attempts[0]!.responseBody ?? '')).toBe(4096);
    expect(delivery.attempts[0]!.responseBody).toBe(bigAnswer.slice(0, 4096));
    expect(delivery.attempts[2]!.responseBody).toBe('thanks');
  });

  it('keeps at most 4 KiB of an answer, cut at a character boundary so it stays a prefix of what was sent', async () => {
    const { org, receiver } = await setup(fastRetries(1));
    // 3-byte characters: 4096 is not a multiple of 3, so a byte cut would split one.
    const answer = '€'.repeat(3500);
    receiver.respond({ kind: 'status', status: 200, body: answer });
    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const delivery = await waitForDelivery(h, org, posted.deliveries[0]!.id, (d) => d.status === 'succeeded', 'the delivery');
    const kept = delivery.attempts[0]!.responseBody ?? '';
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(kept)).toBeGreaterThan(4096 - 4);
    expect(answer.startsWith(kept)).toBe(true);
  });

  it('ends a delivery `failed` with no next attempt once the schedule is exhausted', async () => {
    const { org, receiver } = await setup(fastRetries(2));
    receiver.respond({ kind: 'status', status: 503, body: 'down' });

    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const deliveryId = posted.deliveries[0]!.id;

    const delivery = await waitForDelivery(h, org, deliveryId, (d) => d.status === 'failed', 'the delivery to fail');
    // One first attempt plus one per scheduled delay.
    expect(delivery.attemptCount).toBe(3);
    expect(delivery.attempts).toHaveLength(3);
    expect(delivery.nextAttemptAt).toBeNull();
    expect(delivery.attempts.every((a) => a.responseStatus === 503 && a.error === 'status')).toBe(true);
    expect(receiver.requests).toHaveLength(3);
  });

  it('makes exactly one new attempt on a manual retry of a failed delivery', async () => {
    const { org, receiver } = await setup(fastRetries(1));
    receiver.respond({ kind: 'status', status: 500 });

    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const deliveryId = posted.deliveries[0]!.id;
    await waitForDelivery(h, org, deliveryId, (d) => d.status === 'failed' && d.attemptCount === 2, 'the delivery to fail');
    expect(receiver.requests).toHaveLength(2);

    // Still failing: one more attempt, and the delivery is failed again (the schedule does not restart).
    const retried = await h.call<{ id: string; status: string }>('POST', `/v1/organizations/${org}/deliveries/${deliveryId}/retry`);
    expect(retried.status).toBe(202);
    const again = await waitForDelivery(h, org, deliveryId, (d) => d.status === 'failed' && d.attemptCount === 3, 'the manual attempt');
    expect(again.attempts).toHaveLength(3);
    expect(again.nextAttemptAt).toBeNull();
    expect(receiver.requests).toHaveLength(3);

    // Now the receiver is back: the next manual retry succeeds.
    receiver.respond({ kind: 'status', status: 204 });
    expect((await h.call('POST', `/v1/organizations/${org}/deliveries/${deliveryId}/retry`)).status).toBe(202);
    const done = await waitForDelivery(h, org, deliveryId, (d) => d.status === 'succeeded', 'the delivery to succeed');
    expect(done.attemptCount).toBe(4);
    expect(done.attempts.map((a) => a.responseStatus)).toEqual([500, 500, 500, 204]);
    expect(receiver.requests).toHaveLength(4);
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([deliveryId]));
  });

  it('answers 404 to a manual retry of an unknown delivery', async () => {
    const { org } = await setup(fastRetries(1));
    const res = await h.call('POST', `/v1/organizations/${org}/deliveries/dlv_doesnotexist/retry`);
    expect(res.status).toBe(404);
  });
});

describe('Retry-After', () => {
  // A clock that does not move makes the stored next attempt time exact: attempt time + delay.
  const start = Math.floor(Date.now() / 1000) * 1000;
  const clock = new ManualClock(start);
  let h: TestHerald;
  let receiver: Receiver;
  const ORG = 'retry-after';

  beforeAll(async () => {
    h = await startHerald({ clock });
    receiver = await startReceiver();
    await setupOrganization(h, ORG, [TYPE]);
  });
  afterAll(async () => {
    await receiver.close();
    await h.stop();
  });

  const cases: { name: string; status: number; retryAfter: string | null; expectedDelayMs: number }[] = [
    { name: 'no Retry-After: the scheduled delay', status: 429, retryAfter: null, expectedDelayMs: 10_000 },
    { name: 'Retry-After within the window is honoured', status: 429, retryAfter: '15', expectedDelayMs: 15_000 },
    { name: 'Retry-After longer than 2x is capped at 2x', status: 429, retryAfter: '3600', expectedDelayMs: 20_000 },
    { name: 'Retry-After shorter than the schedule does not rush it', status: 429, retryAfter: '1', expectedDelayMs: 10_000 },
    { name: 'Retry-After on 503 counts too', status: 503, retryAfter: '12', expectedDelayMs: 12_000 },
    { name: 'Retry-After as an HTTP date', status: 429, retryAfter: new Date(start + 17_000).toUTCString(), expectedDelayMs: 17_000 },
    { name: 'Retry-After on a 500 is ignored', status: 500, retryAfter: '15', expectedDelayMs: 10_000 },
  ];

  it.each(cases)('$name', async ({ status, retryAfter, expectedDelayMs }) => {
    const path = `/hook-${status}-${encodeURIComponent(retryAfter ?? 'none')}`;
    const headers: Record<string, string> = retryAfter === null ? {} : { 'retry-after': retryAfter };
    receiver.respond((_, request) => (request.path === path ? { kind: 'status', status, headers } : { kind: 'status', status: 200 }));
    const webhook = await createWebhook(h, ORG, {
      url: `${receiver.url}${path}`,
      retry: { kind: 'schedule', delaysS: [10], jitter: 0 },
      // Only this test's event type instance goes to it: filter on an attribute naming the case.
      filters: { case: [path] },
    });

    const posted = await postEvent(h, ORG, { type: TYPE, data: {}, attributes: { case: path } });
    expect(posted.deliveries.map((d) => d.webhookId)).toEqual([webhook.id]);
    const deliveryId = posted.deliveries[0]!.id;

    const delivery = await waitForAttempts(h, ORG, deliveryId, 1);
    expect(delivery.status).toBe('pending');
    expect(delivery.attempts[0]!.responseStatus).toBe(status);
    expect(delivery.nextAttemptAt).not.toBeNull();
    const attemptAt = Date.parse(delivery.attempts[0]!.at);
    const delay = Date.parse(delivery.nextAttemptAt!) - attemptAt;
    // Always within [1x, 2x] of the scheduled 10 s, and exactly what the rule says.
    expect(delay).toBeGreaterThanOrEqual(10_000);
    expect(delay).toBeLessThanOrEqual(20_000);
    expect(delay).toBe(expectedDelayMs);
    // The clock stands still, so the retry is not due: no second request.
    expect(receiver.requests.filter((r) => r.path === path)).toHaveLength(1);
    const again = await getDelivery(h, ORG, deliveryId);
    expect(again.attemptCount).toBe(1);
  });
});
