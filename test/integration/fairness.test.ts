/**
 * A slow or dead endpoint never starves the others: it holds at most its own
 * concurrency (default 10) in flight, and other webhooks' deliveries go out
 * meanwhile even when they were queued behind a large backlog. A webhook's
 * `concurrency` caps how many requests its receiver sees at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhook, patchWebhook, postEvent, setupOrganization, waitForDelivery } from '../helpers/deliveries.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

/** Posts `count` events of `type`, `parallel` at a time; answers their delivery ids. */
async function postMany(h: TestHerald, org: string, type: string, count: number, parallel = 20): Promise<string[]> {
  const ids: string[] = [];
  for (let sent = 0; sent < count; sent += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - sent) }, (_, i) => postEvent(h, org, { type, data: { n: sent + i } }));
    for (const posted of await Promise.all(batch)) ids.push(...posted.deliveries.map((d) => d.id));
  }
  return ids;
}

describe('fairness across webhooks', () => {
  let h: TestHerald;

  beforeAll(async () => {
    h = await startHerald();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('delivers a healthy webhook’s events while a dead webhook’s earlier backlog hangs', async () => {
    const org = 'fairness';
    await setupOrganization(h, org, ['dead.ping', 'live.ping']);
    const dead = await startReceiver();
    const healthy = await startReceiver();
    try {
      dead.respond({ kind: 'hang' });
      // Default concurrency (10). The timeout is far longer than this test needs, so no dead attempt
      // ends during it (the test never waits for it: closing the receiver ends them).
      const deadHook = await createWebhook(h, org, { url: `${dead.url}/hook`, events: ['dead.ping'], timeoutMs: 20_000 });
      const liveHook = await createWebhook(h, org, { url: `${healthy.url}/hook`, events: ['live.ping'] });

      // The dead webhook's 200 events are queued first, then the healthy one's 50.
      const deadDeliveries = await postMany(h, org, 'dead.ping', 200);
      expect(deadDeliveries).toHaveLength(200);
      const liveDeliveries = await postMany(h, org, 'live.ping', 50);
      expect(liveDeliveries).toHaveLength(50);

      // All 50 reach the healthy receiver...
      await healthy.waitFor(50);
      // ...while the dead one has only its 10 slots taken, all still hanging: no attempt of it has ended.
      expect(dead.requests.length).toBeLessThanOrEqual(10);
      expect(dead.maxActive).toBeLessThanOrEqual(10);
      const deadPending = await h.call<{ data: { attemptCount: number }[] }>(
        'GET',
        `/v1/organizations/${org}/deliveries?webhookId=${deadHook.id}&status=pending&limit=250`,
      );
      expect(deadPending.body.data).toHaveLength(200);
      expect(deadPending.body.data.every((d) => d.attemptCount === 0)).toBe(true);

      // Each healthy event arrived once, and every healthy delivery is settled as succeeded.
      expect(new Set(healthy.requests.map((r) => r.headers['webhook-id'])).size).toBe(50);
      await eventually(async () => {
        const res = await h.call<{ data: unknown[] }>('GET', `/v1/organizations/${org}/deliveries?webhookId=${liveHook.id}&status=succeeded&limit=250`);
        return res.body.data.length === 50;
      }, 15_000, 'the 50 healthy deliveries to succeed');

      // The dead webhook fills exactly its default concurrency and no more.
      await dead.waitFor(10);
      expect(dead.active).toBe(10);
      expect(dead.maxActive).toBe(10);
      expect(dead.requests).toHaveLength(10);

      // Park the backlog so it does not keep the dispatcher busy after this test.
      await patchWebhook(h, org, deadHook.id, { enabled: false });
    } finally {
      await dead.close();
      await healthy.close();
    }
  });
});

describe('per-webhook concurrency cap', () => {
  let h: TestHerald;
  let receiver: Receiver;

  beforeAll(async () => {
    h = await startHerald();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await h.stop();
  });

  it('never has more than `concurrency` requests in flight to one webhook', async () => {
    const org = 'concurrency';
    await setupOrganization(h, org, ['slow.ping']);
    receiver.respond({ kind: 'delay', ms: 200, status: 200 });
    const webhook = await createWebhook(h, org, { url: `${receiver.url}/hook`, concurrency: 2 });
    expect(webhook.concurrency).toBe(2);

    const ids = await postMany(h, org, 'slow.ping', 10, 10);
    await receiver.waitFor(10);
    for (const id of ids) await waitForDelivery(h, org, id, (d) => d.status === 'succeeded', `delivery ${id} to succeed`);

    expect(receiver.requests).toHaveLength(10);
    // The cap is reached (the deliveries do go out in parallel) and never passed.
    expect(receiver.maxActive).toBe(2);
  });
});
