/**
 * Every way an attempt can fail is recorded with its class (`status`,
 * `timeout`, `connect`, `dns`), redirects are never followed, and every
 * failure class leads to a retry on the schedule.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhook, postEvent, setupOrganization, waitForAttempts, type DeliveryView } from '../helpers/deliveries.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { closedPort, startReceiver, type Receiver } from '../helpers/receiver.js';

const TYPE = 'invoice.paid';
/** One retry a minute away: after the first attempt the delivery must wait for it, pending. */
const ONE_SLOW_RETRY = { kind: 'schedule', delaysS: [60], jitter: 0 };

describe('attempt error classes', () => {
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

  /** Sends one event to a new webhook at `url` and waits for its first attempt to be settled. */
  async function firstAttempt(url: string, settings: Record<string, unknown> = {}): Promise<DeliveryView> {
    const org = `errors-${++orgs}`;
    await setupOrganization(h, org, [TYPE]);
    await createWebhook(h, org, { url, retry: ONE_SLOW_RETRY, ...settings });
    const posted = await postEvent(h, org, { type: TYPE, data: { invoice: 'i-1' } });
    return waitForAttempts(h, org, posted.deliveries[0]!.id, 1);
  }

  /** The delivery is waiting for its retry: pending, one attempt made, the next one scheduled after it. */
  function expectRetryScheduled(delivery: DeliveryView): void {
    expect(delivery.status).toBe('pending');
    expect(delivery.attemptCount).toBe(1);
    expect(delivery.nextAttemptAt).not.toBeNull();
    expect(Date.parse(delivery.nextAttemptAt!)).toBeGreaterThan(Date.parse(delivery.attempts[0]!.at));
  }

  it('records a 301 as a `status` failure and does not follow the redirect', async () => {
    const r = await receiver();
    r.respond((_, request) =>
      request.path === '/moved-here'
        ? { kind: 'status', status: 200 }
        : { kind: 'status', status: 301, headers: { location: `${r.url}/moved-here` }, body: 'moved' },
    );
    const delivery = await firstAttempt(`${r.url}/hook`);

    const [attempt] = delivery.attempts;
    expect(attempt!.error).toBe('status');
    expect(attempt!.responseStatus).toBe(301);
    expect(attempt!.responseHeaders.location).toBe(`${r.url}/moved-here`);
    // One request for the one attempt, and the Location target was never asked for.
    expect(r.requests.map((req) => req.path)).toEqual(['/hook']);
    expectRetryScheduled(delivery);
  });

  it('records a receiver slower than the webhook timeout as `timeout`', async () => {
    const r = await receiver();
    r.respond({ kind: 'hang' });
    const delivery = await firstAttempt(`${r.url}/hook`, { timeoutMs: 150 });

    const [attempt] = delivery.attempts;
    expect(attempt!.error).toBe('timeout');
    expect(attempt!.responseStatus).toBeNull();
    expect(r.requests).toHaveLength(1);
    expectRetryScheduled(delivery);
  });

  it('records an answer whose body stalls past the timeout as `timeout`', async () => {
    // Status line and headers at once, then the body never ends.
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const delivery = await firstAttempt(`http://127.0.0.1:${port}/hook`, { timeoutMs: 150 });
      expect(delivery.attempts[0]!.error).toBe('timeout');
      expectRetryScheduled(delivery);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('records a connection reset as `connect`', async () => {
    const r = await receiver();
    r.respond({ kind: 'reset' });
    const delivery = await firstAttempt(`${r.url}/hook`);

    const [attempt] = delivery.attempts;
    expect(attempt!.error).toBe('connect');
    expect(attempt!.responseStatus).toBeNull();
    expect(attempt!.errorMessage).toBeTruthy();
    expectRetryScheduled(delivery);
  });

  it('records a refused connection (nothing listening) as `connect`', async () => {
    const port = await closedPort();
    const delivery = await firstAttempt(`http://127.0.0.1:${port}/hook`);

    const [attempt] = delivery.attempts;
    expect(attempt!.error).toBe('connect');
    expect(attempt!.responseStatus).toBeNull();
    expect(attempt!.errorMessage).toBeTruthy();
    expectRetryScheduled(delivery);
  });

  it('records a host that does not resolve as `dns`', async () => {
    // `.invalid` never resolves (RFC 6761): the lookup fails without any traffic to a server.
    const delivery = await firstAttempt('http://nonexistent.invalid/hook');

    const [attempt] = delivery.attempts;
    expect(attempt!.error).toBe('dns');
    expect(attempt!.responseStatus).toBeNull();
    expectRetryScheduled(delivery);
  });

  it('keeps retrying after each kind of failure until the receiver answers', async () => {
    const r = await receiver();
    const answers = ['reset', '301', '500', 'ok'] as const;
    r.respond((index) => {
      switch (answers[index]) {
        case 'reset':
          return { kind: 'reset' };
        case '301':
          return { kind: 'status', status: 301, headers: { location: `${r.url}/elsewhere` } };
        case '500':
          return { kind: 'status', status: 500 };
        default:
          return { kind: 'status', status: 200 };
      }
    });
    const org = `errors-${++orgs}`;
    await setupOrganization(h, org, [TYPE]);
    await createWebhook(h, org, { url: `${r.url}/hook`, retry: { kind: 'schedule', delaysS: [0.05, 0.05, 0.05], jitter: 0 } });
    const posted = await postEvent(h, org, { type: TYPE, data: {} });
    const delivery = await waitForAttempts(h, org, posted.deliveries[0]!.id, 4);

    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts.map((a) => a.error)).toEqual(['connect', 'status', 'status', null]);
    expect(r.requests.map((req) => req.path)).toEqual(['/hook', '/hook', '/hook', '/hook']);
  });
});
