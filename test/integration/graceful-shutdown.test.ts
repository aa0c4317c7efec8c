/**
 * SIGTERM: Herald stops claiming, lets attempts in flight finish within the
 * grace period, gives back the leases of those that do not, and exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireBuiltCli, startChildHerald, type ChildHerald } from '../helpers/child-herald.js';
import { eventually, TEST_DIALECT } from '../helpers/herald.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const TOKEN = 'shutdown-test-token';

interface DeliveryView {
  id: string;
  status: string;
  attemptCount: number;
  attempts?: { responseStatus: number | null }[];
}

describe('graceful shutdown', () => {
  let dataDir = '';
  let database: TestDatabase | null = null;
  let receiver: Receiver;
  let child: ChildHerald | null = null;
  const env: Record<string, string> = {};

  async function call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const response = await request(`${child!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text}`);
    return JSON.parse(text) as T;
  }

  async function setUp(extraEnv: Record<string, string>): Promise<string[]> {
    child = await startChildHerald({ dataDir, adminToken: TOKEN, env: { ...env, ...extraEnv } });
    await call('PUT', '/v1/event-types/job.done', { description: 'A job finished' });
    await call('POST', '/v1/organizations', { id: 'acme' });
    await call('POST', '/v1/organizations/acme/webhooks', { url: `${receiver.url}/hook` });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const accepted = await call<{ deliveries: { id: string }[] }>('POST', '/v1/organizations/acme/events', { type: 'job.done', data: { i } });
      ids.push(accepted.deliveries[0]!.id);
    }
    // All three attempts are in flight at the receiver before the signal.
    await eventually(async () => receiver.active === 3, 15_000, 'three requests in flight');
    return ids;
  }

  beforeEach(async () => {
    requireBuiltCli();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-shutdown-'));
    if (TEST_DIALECT === 'postgres') {
      database = await createTestDatabase();
      env.HERALD_DATABASE_URL = database.url;
    }
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await child?.kill();
    child = null;
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
    database = null;
  });

  it('lets attempts in flight finish, records them, and exits 0', async () => {
    receiver.respond({ kind: 'delay', ms: 1_000, status: 200 });
    const ids = await setUp({ HERALD_SHUTDOWN_GRACE_MS: '10000' });
    child!.process.kill('SIGTERM');
    expect((await child!.exited).code).toBe(0);
    expect(receiver.requests).toHaveLength(3);

    // Restarted on the same store: each delivery succeeded once, nothing is sent again.
    child = await startChildHerald({ dataDir, adminToken: TOKEN, env });
    for (const id of ids) {
      const delivery = await call<DeliveryView>('GET', `/v1/organizations/acme/deliveries/${id}`);
      expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    }
    expect(receiver.requests).toHaveLength(3);
  });

  it('gives back the leases of attempts still running when the grace period ends, so a restart sends them at once', async () => {
    receiver.respond({ kind: 'hang' });
    // A lease of 10 minutes: only the release at shutdown can make these due again soon.
    const ids = await setUp({ HERALD_SHUTDOWN_GRACE_MS: '300', HERALD_LEASE_MS: '600000' });
    child!.process.kill('SIGTERM');
    expect((await child!.exited).code).toBe(0);

    receiver.respond({ kind: 'status', status: 200 });
    child = await startChildHerald({ dataDir, adminToken: TOKEN, env: { ...env, HERALD_LEASE_MS: '600000' } });
    for (const id of ids) {
      await eventually(
        async () => (await call<DeliveryView>('GET', `/v1/organizations/acme/deliveries/${id}`)).status === 'succeeded',
        15_000,
        `delivery ${id} to succeed after the restart`,
      );
    }
  });
});
