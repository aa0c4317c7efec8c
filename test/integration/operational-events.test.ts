/**
 * Herald tells the operator about delivery health through its own webhook
 * (HERALD_OPERATOR_WEBHOOK_URL), signed with Standard Webhooks:
 * `herald.delivery.failing` after the 4th failed attempt, `herald.delivery.exhausted`
 * when no attempt is left, `herald.delivery.recovered` when a delivery succeeds
 * after failing, and `herald.webhook.disabled` when a webhook has failed for the
 * whole auto-disable period (its queue is then parked as skipped). A success
 * stops the failure clock.
 */
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { generateWebhookSecret } from '../../src/domain/secrets.js';
import {
  createWebhook,
  fastRetries,
  getDelivery,
  getWebhook,
  postEvent,
  setupOrganization,
  waitForAttempts,
  waitForDelivery,
} from '../helpers/deliveries.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const TYPE = 'payment.captured';

interface OperationalEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The operator's receiver, verifying every request it got with the operator secret. */
function operatorEvents(receiver: Receiver, secret: string): OperationalEvent[] {
  const verifier = new StandardWebhook(secret);
  return receiver.requests.map((r) => verifier.verify(r.body, r.headers as Record<string, string>) as OperationalEvent);
}

function waitForOperatorEvent(receiver: Receiver, secret: string, type: string, about: Record<string, unknown>): Promise<OperationalEvent> {
  return eventually(
    async () => operatorEvents(receiver, secret).find((e) => e.type === type && Object.entries(about).every(([k, v]) => e.data[k] === v)),
    15_000,
    `${type} about ${JSON.stringify(about)}`,
  );
}

/** Operational events recorded about one delivery (they are written in the same transaction as its attempt). */
async function recordedAbout(h: TestHerald, deliveryId: string): Promise<string[]> {
  const res = await h.call<{ data: { type: string; data: Record<string, unknown> }[] }>('GET', '/v1/organizations/_herald/events?limit=250');
  expect(res.status).toBe(200);
  return res.body.data
    .filter((e) => e.data.deliveryId === deliveryId)
    .map((e) => e.type)
    .sort();
}

describe('operational events about deliveries', () => {
  const secret = generateWebhookSecret();
  let h: TestHerald;
  let operator: Receiver;
  let customer: Receiver;
  let orgs = 0;

  beforeAll(async () => {
    operator = await startReceiver();
    customer = await startReceiver();
    h = await startHerald({ env: { HERALD_OPERATOR_WEBHOOK_URL: `${operator.url}/herald`, HERALD_OPERATOR_WEBHOOK_SECRET: secret } });
  });
  afterAll(async () => {
    await h.stop();
    await operator.close();
    await customer.close();
  });

  async function customerWebhook(path: string, retry: unknown): Promise<{ org: string; webhookId: string }> {
    const org = `ops-${++orgs}`;
    await setupOrganization(h, org, [TYPE]);
    const webhook = await createWebhook(h, org, { url: `${customer.url}${path}`, retry });
    return { org, webhookId: webhook.id };
  }

  it('sends herald.delivery.failing after the 4th failure and herald.delivery.exhausted at the end, signed', async () => {
    customer.respond((_, r) => (r.path === '/always-fails' ? { kind: 'status', status: 500 } : { kind: 'status', status: 200 }));
    const { org, webhookId } = await customerWebhook('/always-fails', fastRetries(4));
    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const deliveryId = posted.deliveries[0]!.id;
    await waitForDelivery(h, org, deliveryId, (d) => d.status === 'failed', 'the delivery to be exhausted');

    const failing = await waitForOperatorEvent(operator, secret, 'herald.delivery.failing', { deliveryId });
    expect(failing.data).toMatchObject({ deliveryId, webhookId, organizationId: org, eventId: posted.id, attempts: 4, lastStatus: 500, lastError: 'status' });
    expect(typeof failing.data.nextAttemptAt).toBe('string');

    const exhausted = await waitForOperatorEvent(operator, secret, 'herald.delivery.exhausted', { deliveryId });
    expect(exhausted.data).toMatchObject({ deliveryId, webhookId, organizationId: org, attempts: 5, lastStatus: 500 });

    // Exactly these two, once each, and the operator's requests carry Standard Webhooks headers.
    expect(await recordedAbout(h, deliveryId)).toEqual(['herald.delivery.exhausted', 'herald.delivery.failing']);
    const request = operator.requests.find((r) => r.body.includes(deliveryId))!;
    expect(request.path).toBe('/herald');
    expect(request.headers['webhook-id']).toMatch(/^dlv_/);
    expect(request.headers['webhook-signature']).toMatch(/^v1,/);
    expect(() => new StandardWebhook(generateWebhookSecret()).verify(request.body, request.headers as Record<string, string>)).toThrow();
  });

  it('sends herald.delivery.recovered when a delivery succeeds after failing, and nothing for a first-time success', async () => {
    customer.respond((index, r) => {
      if (r.path !== '/flaky') return { kind: 'status', status: 200 };
      const flakyIndex = customer.requests.filter((q) => q.path === '/flaky').indexOf(r);
      return flakyIndex < 2 ? { kind: 'status', status: 502 } : { kind: 'status', status: 200 };
    });
    const { org, webhookId } = await customerWebhook('/flaky', fastRetries(5));
    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const deliveryId = posted.deliveries[0]!.id;
    const delivery = await waitForDelivery(h, org, deliveryId, (d) => d.status === 'succeeded', 'the delivery to recover');
    expect(delivery.attemptCount).toBe(3);

    const recovered = await waitForOperatorEvent(operator, secret, 'herald.delivery.recovered', { deliveryId });
    expect(recovered.data).toMatchObject({ deliveryId, webhookId, organizationId: org, attempts: 3, lastStatus: 200, lastError: null });
    // Two failures are not "failing" (that takes four).
    expect(await recordedAbout(h, deliveryId)).toEqual(['herald.delivery.recovered']);

    // A delivery that succeeds at once is no news.
    const healthy = await customerWebhook('/fine', fastRetries(1));
    const ok = await postEvent(h, healthy.org, { type: TYPE, data: {} });
    await waitForDelivery(h, healthy.org, ok.deliveries[0]!.id, (d) => d.status === 'succeeded', 'the healthy delivery');
    expect(await recordedAbout(h, ok.deliveries[0]!.id)).toEqual([]);
  });
});

describe('auto-disable', () => {
  const secret = generateWebhookSecret();
  // Whole seconds, near real time: the operator's Standard Webhooks timestamps stay verifiable.
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  let h: TestHerald;
  let operator: Receiver;
  let customer: Receiver;

  beforeAll(async () => {
    operator = await startReceiver();
    customer = await startReceiver();
    h = await startHerald({
      clock,
      env: {
        HERALD_OPERATOR_WEBHOOK_URL: `${operator.url}/herald`,
        HERALD_OPERATOR_WEBHOOK_SECRET: secret,
        HERALD_AUTO_DISABLE_AFTER_S: '1',
      },
    });
  });
  afterAll(async () => {
    await h.stop();
    await operator.close();
    await customer.close();
  });

  it('disables a webhook that keeps failing past the period, parks its queue as skipped, and tells the operator', async () => {
    const org = 'autodisable';
    await setupOrganization(h, org, [TYPE]);
    customer.respond({ kind: 'status', status: 500 });
    // Retries 5 s away on the manual clock: they only happen when the test moves it.
    const webhook = await createWebhook(h, org, { url: `${customer.url}/down`, retry: { kind: 'schedule', delaysS: [5, 5], jitter: 0 } });

    const failedAt = clock.now();
    const first = await postEvent(h, org, { type: TYPE, data: { n: 1 } });
    await waitForAttempts(h, org, first.deliveries[0]!.id, 1);
    // The failure clock started with the first failure; one failure is not enough to disable.
    let state = await getWebhook(h, org, webhook.id);
    expect(state.enabled).toBe(true);
    expect(state.failingSince).toBe(new Date(failedAt).toISOString());

    // Past the 1 s period, with no success since: the next failure disables the webhook.
    clock.advance(2000);
    const second = await postEvent(h, org, { type: TYPE, data: { n: 2 } });
    const disabledEvent = await waitForOperatorEvent(operator, secret, 'herald.webhook.disabled', { webhookId: webhook.id });
    expect(disabledEvent.data).toEqual({ webhookId: webhook.id, organizationId: org, failingSince: new Date(failedAt).toISOString() });

    state = await getWebhook(h, org, webhook.id);
    expect(state.enabled).toBe(false);
    expect(state.disabledReason).toBe('failing');
    // Both deliveries (the one waiting for its retry and the one that just failed) are parked.
    for (const id of [first.deliveries[0]!.id, second.deliveries[0]!.id]) {
      const parked = await getDelivery(h, org, id);
      expect(parked.status, id).toBe('skipped');
      expect(parked.nextAttemptAt, id).toBeNull();
    }
    expect(customer.requests.filter((r) => r.path === '/down')).toHaveLength(2);

    // New events for it are logged as skipped, and the retries' time passing sends nothing.
    const third = await postEvent(h, org, { type: TYPE, data: { n: 3 } });
    expect((await getDelivery(h, org, third.deliveries[0]!.id)).status).toBe('skipped');
    clock.advance(10_000);
    // A healthy webhook's delivery after that shows the dispatcher has run past the retry times.
    customer.respond((_, r) => (r.path === '/marker' ? { kind: 'status', status: 200 } : { kind: 'status', status: 500 }));
    const marker = await createWebhook(h, org, { url: `${customer.url}/marker`, events: [TYPE], filters: { marker: ['yes'] } });
    const markerEvent = await postEvent(h, org, { type: TYPE, data: {}, attributes: { marker: 'yes' } });
    expect(markerEvent.deliveries.map((d) => d.webhookId).sort()).toEqual([marker.id, webhook.id].sort());
    const markerId = markerEvent.deliveries.find((d) => d.webhookId === marker.id)!.id;
    await waitForDelivery(h, org, markerId, (d) => d.status === 'succeeded', 'the marker delivery');
    expect(customer.requests.filter((r) => r.path === '/down')).toHaveLength(2);
    // Reported once.
    expect(operatorEvents(operator, secret).filter((e) => e.type === 'herald.webhook.disabled' && e.data.webhookId === webhook.id)).toHaveLength(1);
  });

  it('stops the failure clock on a success, so earlier failures do not count toward disabling', async () => {
    const org = 'autodisable-reset';
    await setupOrganization(h, org, [TYPE]);
    let answer = 500;
    customer.respond((_, r) => (r.path === '/flaky' ? { kind: 'status', status: answer } : { kind: 'status', status: 500 }));
    const webhook = await createWebhook(h, org, { url: `${customer.url}/flaky`, retry: { kind: 'schedule', delaysS: [0.5, 0.5], jitter: 0 } });

    const firstFailure = clock.now();
    const first = await postEvent(h, org, { type: TYPE, data: { n: 1 } });
    await waitForAttempts(h, org, first.deliveries[0]!.id, 1);
    expect((await getWebhook(h, org, webhook.id)).failingSince).toBe(new Date(firstFailure).toISOString());

    // The retry succeeds: the failure clock stops.
    answer = 200;
    clock.advance(500);
    await waitForDelivery(h, org, first.deliveries[0]!.id, (d) => d.status === 'succeeded', 'the retry to succeed');
    let state = await getWebhook(h, org, webhook.id);
    expect(state.failingSince).toBeNull();
    expect(state.enabled).toBe(true);

    // A new failure well past the period after the first one starts a new clock instead of disabling.
    answer = 500;
    clock.advance(1500);
    const secondFailure = clock.now();
    const second = await postEvent(h, org, { type: TYPE, data: { n: 2 } });
    const failed = await waitForAttempts(h, org, second.deliveries[0]!.id, 1);
    expect(failed.status).toBe('pending');
    state = await getWebhook(h, org, webhook.id);
    expect(state.enabled).toBe(true);
    expect(state.failingSince).toBe(new Date(secondFailure).toISOString());
    expect(await recordedAbout(h, first.deliveries[0]!.id)).toEqual(['herald.delivery.recovered']);
  });
});
