/**
 * A disabled webhook receives nothing but loses nothing: events that match it
 * are logged as `skipped` deliveries, disabling parks its queued retries as
 * `skipped`, and once enabled again `recover {since}` sends them all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWebhook,
  getDelivery,
  patchWebhook,
  postEvent,
  setupOrganization,
  waitForAttempts,
  waitForDelivery,
} from '../helpers/deliveries.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const TYPE = 'ticket.opened';

describe('disabled webhooks and recover', () => {
  let h: TestHerald;
  const receivers: Receiver[] = [];
  let orgs = 0;

  beforeAll(async () => {
    h = await startHerald();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await h.stop();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  async function organization(): Promise<string> {
    const org = `disabled-${++orgs}`;
    await setupOrganization(h, org, [TYPE]);
    return org;
  }

  it('records a skipped delivery for a disabled webhook, sends nothing, and sends it after enable + recover', async () => {
    const org = await organization();
    const disabledReceiver = await receiver();
    const controlReceiver = await receiver();
    const disabled = await createWebhook(h, org, { url: `${disabledReceiver.url}/hook`, enabled: false });
    expect(disabled.enabled).toBe(false);
    // An enabled webhook in the same organization shows when the event has been dispatched.
    const control = await createWebhook(h, org, { url: `${controlReceiver.url}/hook` });

    const since = new Date(Date.now() - 1000).toISOString();
    const posted = await postEvent(h, org, { type: TYPE, data: { ticket: 't-1' } });
    expect(posted.deliveries.map((d) => d.webhookId).sort()).toEqual([control.id, disabled.id].sort());
    const skippedId = posted.deliveries.find((d) => d.webhookId === disabled.id)!.id;
    const controlId = posted.deliveries.find((d) => d.webhookId === control.id)!.id;

    await waitForDelivery(h, org, controlId, (d) => d.status === 'succeeded', 'the enabled webhook to get the event');
    const skipped = await getDelivery(h, org, skippedId);
    expect(skipped.status).toBe('skipped');
    expect(skipped.attemptCount).toBe(0);
    expect(skipped.attempts).toEqual([]);
    expect(skipped.nextAttemptAt).toBeNull();
    expect(disabledReceiver.requests).toHaveLength(0);

    // The log lists it under the webhook and under status=skipped.
    const listed = await h.call<{ data: { id: string }[] }>('GET', `/v1/organizations/${org}/deliveries?status=skipped&webhookId=${disabled.id}`);
    expect(listed.body.data.map((d) => d.id)).toEqual([skippedId]);

    // Recover refuses while the webhook is still disabled.
    expect((await h.call('POST', `/v1/organizations/${org}/webhooks/${disabled.id}/recover`, { since })).status).toBe(409);

    await patchWebhook(h, org, disabled.id, { enabled: true });
    // Enabling alone does not send skipped work.
    expect((await getDelivery(h, org, skippedId)).status).toBe('skipped');

    const recovered = await h.call<{ count: number }>('POST', `/v1/organizations/${org}/webhooks/${disabled.id}/recover`, { since });
    expect(recovered.status).toBe(202);
    expect(recovered.body.count).toBe(1);

    const [request] = await disabledReceiver.waitFor(1);
    expect(request!.headers['webhook-id']).toBe(skippedId);
    expect(JSON.parse(request!.body)).toMatchObject({ type: TYPE, data: { ticket: 't-1' } });
    const sent = await waitForDelivery(h, org, skippedId, (d) => d.status === 'succeeded', 'the recovered delivery to succeed');
    expect(sent.attemptCount).toBe(1);
    // The control webhook got its event once, and recover did not send it again.
    expect(controlReceiver.requests).toHaveLength(1);
  });

  it('recovers only the deliveries created inside the window', async () => {
    const org = await organization();
    const r = await receiver();
    const webhook = await createWebhook(h, org, { url: `${r.url}/hook`, enabled: false });

    const first = await postEvent(h, org, { type: TYPE, data: { n: 1 } });
    const firstDelivery = await getDelivery(h, org, first.deliveries[0]!.id);
    // `since` after the first delivery was created: only the second is in the window.
    const since = new Date(Date.parse(firstDelivery.createdAt) + 1).toISOString();
    await waitUntilAfter(Date.parse(since));
    const second = await postEvent(h, org, { type: TYPE, data: { n: 2 } });

    await patchWebhook(h, org, webhook.id, { enabled: true });
    const recovered = await h.call<{ count: number }>('POST', `/v1/organizations/${org}/webhooks/${webhook.id}/recover`, { since });
    expect(recovered.body.count).toBe(1);

    await waitForDelivery(h, org, second.deliveries[0]!.id, (d) => d.status === 'succeeded', 'the recovered delivery');
    expect((await getDelivery(h, org, first.deliveries[0]!.id)).status).toBe('skipped');
    expect(r.requests.map((req) => req.headers['webhook-id'])).toEqual([second.deliveries[0]!.id]);
  });

  it('parks pending retries as skipped when the webhook is disabled, and recover sends them', async () => {
    const org = await organization();
    const r = await receiver();
    r.respond({ kind: 'status', status: 500 });
    // The retry is a minute away: after the first attempt the delivery waits, pending.
    const webhook = await createWebhook(h, org, { url: `${r.url}/hook`, retry: { kind: 'schedule', delaysS: [60], jitter: 0 } });

    const since = new Date(Date.now() - 1000).toISOString();
    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const deliveryId = posted.deliveries[0]!.id;
    const waiting = await waitForAttempts(h, org, deliveryId, 1);
    expect(waiting.status).toBe('pending');
    expect(waiting.nextAttemptAt).not.toBeNull();

    await patchWebhook(h, org, webhook.id, { enabled: false });
    const parked = await getDelivery(h, org, deliveryId);
    expect(parked.status).toBe('skipped');
    expect(parked.nextAttemptAt).toBeNull();
    expect(parked.attemptCount).toBe(1);

    // Back on, and the receiver healthy: recover sends the parked delivery now, not in a minute.
    r.respond({ kind: 'status', status: 200 });
    await patchWebhook(h, org, webhook.id, { enabled: true });
    const recovered = await h.call<{ count: number }>('POST', `/v1/organizations/${org}/webhooks/${webhook.id}/recover`, { since });
    expect(recovered.body.count).toBe(1);
    const done = await waitForDelivery(h, org, deliveryId, (d) => d.status === 'succeeded', 'the recovered delivery');
    expect(done.attemptCount).toBe(2);
    expect(done.attempts.map((a) => a.responseStatus)).toEqual([500, 200]);
    expect(r.requests).toHaveLength(2);
  });

  it('parks as skipped a delivery whose attempt was in flight when the webhook was disabled', async () => {
    const org = await organization();
    // Its own receiver: it holds the request open until the test drops the connection.
    const r = await startReceiver();
    r.respond({ kind: 'hang' });
    const webhook = await createWebhook(h, org, { url: `${r.url}/hook`, retry: { kind: 'schedule', delaysS: [60], jitter: 0 } });

    const since = new Date(Date.now() - 1000).toISOString();
    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const deliveryId = posted.deliveries[0]!.id;
    await r.waitFor(1);

    // Disabled while the attempt is running; then the attempt fails.
    await patchWebhook(h, org, webhook.id, { enabled: false });
    await r.close();
    const parked = await waitForAttempts(h, org, deliveryId, 1);
    expect(parked.attempts[0]!.error).toBe('connect');
    expect(parked.status).toBe('skipped');
    expect(parked.nextAttemptAt).toBeNull();

    // So recover finds it.
    await patchWebhook(h, org, webhook.id, { enabled: true });
    const recovered = await h.call<{ count: number }>('POST', `/v1/organizations/${org}/webhooks/${webhook.id}/recover`, { since });
    expect(recovered.body.count).toBe(1);
  });

  it('recover also re-sends failed (exhausted) deliveries', async () => {
    const org = await organization();
    const r = await receiver();
    r.respond({ kind: 'status', status: 500 });
    const webhook = await createWebhook(h, org, { url: `${r.url}/hook`, retry: { kind: 'none' } });

    const since = new Date(Date.now() - 1000).toISOString();
    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const deliveryId = posted.deliveries[0]!.id;
    await waitForDelivery(h, org, deliveryId, (d) => d.status === 'failed', 'the delivery to fail');

    r.respond({ kind: 'status', status: 200 });
    const recovered = await h.call<{ count: number }>('POST', `/v1/organizations/${org}/webhooks/${webhook.id}/recover`, { since });
    expect(recovered.body.count).toBe(1);
    const done = await waitForDelivery(h, org, deliveryId, (d) => d.status === 'succeeded', 'the recovered delivery');
    expect(done.attemptCount).toBe(2);
  });
});

/** Waits (on the wall clock) until `time` has passed, so a new row's creation time is after it. */
async function waitUntilAfter(time: number): Promise<void> {
  while (Date.now() <= time) await new Promise((resolve) => setTimeout(resolve, 2));
}
