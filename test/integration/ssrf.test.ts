/**
 * The SSRF guard in a running Herald: a webhook URL whose host is (or
 * resolves to) a refused address is a 422 at create and patch; a name that
 * turns to one after it was checked is refused at send, recorded as a
 * `blocked` attempt, and not retried. Names resolve through a test resolver;
 * the only traffic is to receivers on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { createHerald } from '../../src/main.js';
import type { LookupAll, ResolvedAddress } from '../../src/ssrf/target-guard.js';
import { expectApiError, rowCounts } from '../helpers/api.js';
import { TEST_DIALECT, TEST_ENCRYPTION_KEY, eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface Delivery {
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  attempts: { error: string | null; errorMessage: string | null; responseStatus: number | null }[];
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
/** Resolved to at create time, never connected to. */
const PUBLIC = v4('93.184.216.34');

/** Answers by name; a function gets the call number of that name. Counts calls. */
function resolver(table: Record<string, (call: number) => ResolvedAddress[]>) {
  const calls = new Map<string, number>();
  const lookup: LookupAll = async (hostname) => {
    const n = (calls.get(hostname) ?? 0) + 1;
    calls.set(hostname, n);
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer(n);
  };
  return { lookup, calls };
}

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

async function setup(h: TestHerald): Promise<void> {
  await h.call('PUT', '/v1/event-types/order.created', { description: 'An order' });
  await h.call('POST', '/v1/organizations', { id: 'acme' });
}

describe('SSRF guard, allow-list off', () => {
  let h: TestHerald;
  const { lookup, calls } = resolver({
    'metadata.test': () => [v4('169.254.169.254')],
    'intranet.test': () => [v4('10.20.30.40')],
    'public.test': () => [PUBLIC],
    // Public when the API checks it, loopback when the dispatcher connects: DNS rebinding.
    'rebind.test': (call) => (call === 1 ? [PUBLIC] : [v4('127.0.0.1')]),
  });

  beforeAll(async () => {
    h = await startHerald({ env: { HERALD_ALLOW_PRIVATE_NETWORKS: '' }, lookup });
    await setup(h);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('refuses webhook URLs whose host is or resolves to a refused address (422 blocked_url), writing nothing', async () => {
    const targets = [
      `${receiver.url}/hook`,
      'http://localhost:3000/hook',
      'http://0x7f.1/hook',
      'http://2130706433/hook',
      'http://[::1]/hook',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      'http://169.254.169.254/latest/meta-data/',
      'http://metadata.test/latest/meta-data/',
      'https://intranet.test/hook',
      'http://192.168.1.1/',
      'http://[fd00::1]/',
      'http://100.100.100.200/',
    ];
    const before = await rowCounts(h);
    for (const url of targets) {
      const error = expectApiError(await h.call('POST', '/v1/organizations/acme/webhooks', { url }), 422, 'blocked_url');
      expect(error.message, url).toMatch(/^url: .* is (in|the) .*HERALD_ALLOW_PRIVATE_NETWORKS/);
      expect(error.details[0], url).toMatchObject({ path: '/url', address: expect.any(String), range: expect.any(String) });
    }
    expect(await rowCounts(h)).toEqual(before);
  });

  it('checks a new URL on PATCH, and leaves other changes alone', async () => {
    const created = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', { url: 'https://public.test/hook', events: ['none.*'] });
    expect(created.status).toBe(201);
    const path = `/v1/organizations/acme/webhooks/${created.body.id}`;
    const error = expectApiError(await h.call('PATCH', path, { url: 'http://metadata.test/' }), 422, 'blocked_url');
    expect(error.message).toBe(
      'url: metadata.test resolves to 169.254.169.254, which is in 169.254.0.0/16, link-local (cloud metadata services live here); Herald does not deliver to such addresses unless the operator allows them (HERALD_ALLOW_PRIVATE_NETWORKS)',
    );
    expect((await h.call<{ url: string }>('GET', path)).body.url).toBe('https://public.test/hook');
    expect((await h.call('PATCH', path, { description: 'still fine' })).status).toBe(200);
  });

  it('accepts a name that does not resolve now; the send checks it again', async () => {
    expect((await h.call('POST', '/v1/organizations/acme/webhooks', { url: 'https://not-yet.test/hook', events: ['none.*'] })).status).toBe(201);
  });

  it('refuses at send a name that turned private after the check (DNS rebinding): one blocked attempt, no retry', async () => {
    const created = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', {
      url: `http://rebind.test:${receiver.port}/hook`,
      events: ['order.created'],
      retry: { kind: 'schedule', delaysS: [0.05, 0.05, 0.05], jitter: 0 },
    });
    expect(created.status).toBe(201);
    expect(calls.get('rebind.test')).toBe(1);
    const posted = await h.call<{ deliveries: { id: string }[] }>('POST', '/v1/organizations/acme/events', { type: 'order.created', data: {} });
    const id = posted.body.deliveries[0]!.id;
    const delivery = await eventually(async () => {
      const res = await h.call<Delivery>('GET', `/v1/organizations/acme/deliveries/${id}`);
      return res.body.status === 'failed' ? res.body : undefined;
    });
    expect(delivery).toMatchObject({ status: 'failed', attemptCount: 1, nextAttemptAt: null });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ error: 'blocked', responseStatus: null });
    expect(delivery.attempts[0]!.errorMessage).toBe('rebind.test resolves to 127.0.0.1, which is in 127.0.0.0/8, loopback');
    // No retry storm: nothing more happens, and nothing reached the receiver.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await h.call<Delivery>('GET', `/v1/organizations/acme/deliveries/${id}`)).body.attemptCount).toBe(1);
    expect(calls.get('rebind.test')).toBe(2);
    expect(receiver.requests.filter((r) => r.path === '/hook')).toHaveLength(0);
  });
});

describe('SSRF guard, allow-list on', () => {
  let h: TestHerald | null = null;
  afterEach(async () => {
    await h?.stop();
    h = null;
  });

  it('lets 127.0.0.1 through, connecting to the address it vetted without a second lookup', async () => {
    const { lookup, calls } = resolver({ 'receiver.test': (call) => (call <= 2 ? [v4('127.0.0.1')] : [v4('127.0.0.2')]) });
    h = await startHerald({ env: { HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.1' }, lookup });
    await setup(h);
    const created = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', { url: `http://receiver.test:${receiver.port}/allowed`, events: ['order.created'] });
    expect(created.status).toBe(201);
    const posted = await h.call<{ deliveries: { id: string }[] }>('POST', '/v1/organizations/acme/events', { type: 'order.created', data: {} });
    await eventually(async () => (await h!.call<Delivery>('GET', `/v1/organizations/acme/deliveries/${posted.body.deliveries[0]!.id}`)).body.status === 'succeeded');
    const [request] = receiver.requests.filter((r) => r.path === '/allowed');
    expect(request!.headers.host).toBe(`receiver.test:${receiver.port}`);
    // One lookup when the URL was set, one when the connection was made.
    expect(calls.get('receiver.test')).toBe(2);
    // 127.0.0.2 is not in the allow-list.
    expectApiError(await h.call('POST', '/v1/organizations/acme/webhooks', { url: 'http://127.0.0.2/' }), 422, 'blocked_url');
  });

  it('warns at start that private networks are reachable', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const database = TEST_DIALECT === 'postgres' ? await createTestDatabase() : null;
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-warn-'));
    const config = resolveConfig({
      file: null,
      env: {
        HERALD_DATA_DIR: dataDir,
        HERALD_PORT: '0',
        HERALD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1',
        ...(database ? { HERALD_DATABASE_URL: database.url } : {}),
      },
    });
    const herald = await createHerald({ config, logger: pino({ level: 'warn' }, stream) });
    await herald.start();
    try {
      const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; allowPrivateNetworks?: string[] }).find((l) => l.level === 40);
      expect(warning).toMatchObject({ allowPrivateNetworks: ['127.0.0.0/8', '::1/128'] });
      expect(warning!.msg).toMatch(/private networks/);
    } finally {
      await herald.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
