/**
 * Crash safety: Herald, run as a real child process, is killed with SIGKILL
 * in the middle of ingest and delivery, then restarted on the same data dir.
 * Every event it accepted (202) must reach every receiver — at least once;
 * duplicates are allowed (and counted), losses are not.
 *
 * Needs the built CLI (`npm run build`; `npm test` builds first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli, startChildHerald, type ChildHerald } from '../helpers/child-herald.js';
import { TEST_DIALECT } from '../helpers/herald.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const EVENTS = 2_000;
const RECEIVERS = 5;
const IN_FLIGHT = 16;
const TOKEN = 'crash-test-admin-token';
/** Kill once this many deliveries have arrived: well after delivery started, well before it ends. */
const KILL_AFTER_DELIVERIES = 1_500;
const CHILD_ENV: Record<string, string> = {
  // A lease held by the killed process comes back after 2 s.
  HERALD_LEASE_MS: '2000',
  HERALD_POLL_INTERVAL_MS: '200',
};
let database: TestDatabase | null = null;

interface Accepted {
  id: string;
  deliveries: { id: string; webhookId: string }[];
}

describe('crash safety', () => {
  let dataDir: string;
  const receivers: Receiver[] = [];
  let child: ChildHerald | null = null;
  const agent = new Agent({ connections: IN_FLIGHT * 2, pipelining: 1 });

  async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await request(`${base}${path}`, {
      method: method as 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: (text === '' ? null : JSON.parse(text)) as T };
  }

  beforeAll(async () => {
    requireBuiltCli();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
    if (TEST_DIALECT === 'postgres') {
      database = await createTestDatabase();
      CHILD_ENV.HERALD_DATABASE_URL = database.url;
    }
    for (let i = 0; i < RECEIVERS; i++) {
      const receiver = await startReceiver();
      // A bit slow, like real endpoints: 5–20 ms per request.
      receiver.respond(() => ({ kind: 'delay', ms: 5 + Math.floor(Math.random() * 16), status: 200 }));
      receivers.push(receiver);
    }
  });
  afterAll(async () => {
    await child?.kill();
    for (const receiver of receivers) await receiver.close();
    await agent.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  });

  /** Unique deliveries each receiver has seen, by `webhook-id`. */
  function delivered(): number {
    let total = 0;
    for (const receiver of receivers) total += new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size;
    return total;
  }

  /**
   * Posts events `indices` with IN_FLIGHT requests at a time until the list is
   * empty or `stop()` says so. Each event carries the operator id `order-<i>`,
   * so posting one again after the crash returns the event if it was stored.
   */
  async function postEvents(base: string, indices: number[], accepted: Map<number, Accepted>, stop: () => boolean): Promise<number[]> {
    const queue = [...indices];
    const notAccepted: number[] = [];
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = queue.shift();
        if (i === undefined) return;
        if (stop()) {
          notAccepted.push(i);
          continue;
        }
        try {
          const res = await call<Accepted>(base, 'POST', '/v1/organizations/crash-org/events', {
            id: `order-${i}`,
            type: 'order.placed',
            data: { seq: i },
          });
          if (res.status === 202) accepted.set(i, res.body);
          else notAccepted.push(i);
        } catch {
          // The process died under this request: it may or may not have been stored.
          notAccepted.push(i);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return notAccepted.sort((a, b) => a - b);
  }

  it('delivers every accepted event to every receiver after a SIGKILL and a restart', async () => {
    const started = Date.now();
    child = await startChildHerald({ dataDir, adminToken: TOKEN, env: CHILD_ENV });
    let base = child.url;

    expect((await call(base, 'PUT', '/v1/event-types/order.placed', { description: 'An order was placed' })).status).toBe(201);
    expect((await call(base, 'POST', '/v1/organizations', { id: 'crash-org' })).status).toBe(201);
    const webhookOf = new Map<string, Receiver>();
    for (const [index, receiver] of receivers.entries()) {
      const res = await call<{ id: string }>(base, 'POST', '/v1/organizations/crash-org/webhooks', { url: `${receiver.url}/hook/${index}`, events: ['order.placed'] });
      expect(res.status).toBe(201);
      webhookOf.set(res.body.id, receiver);
    }

    // Phase 1: post while delivering; SIGKILL once enough deliveries have arrived.
    const accepted = new Map<number, Accepted>();
    let killed = false;
    const killer = (async () => {
      while (delivered() < KILL_AFTER_DELIVERIES) {
        if (Date.now() - started > 30_000) throw new Error(`only ${delivered()} deliveries after 30 s; cannot time the kill`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      killed = true;
      await child!.kill();
    })();
    const all = Array.from({ length: EVENTS }, (_, i) => i);
    const leftAfterCrash = await postEvents(base, all, accepted, () => killed);
    await killer;
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGKILL');
    const atKill = delivered();
    const acceptedBeforeCrash = accepted.size;
    expect(atKill, 'the kill came too late to test anything: every delivery had arrived').toBeLessThan(EVENTS * RECEIVERS);
    expect(acceptedBeforeCrash).toBeGreaterThan(0);

    // Phase 2: restart on the same data dir; post what was not accepted (the operator id makes a re-post of a stored event harmless).
    const killedAt = Date.now();
    child = await startChildHerald({ dataDir, adminToken: TOKEN, env: CHILD_ENV });
    base = child.url;
    const restartedAt = Date.now();
    const beforeRepost = new Map(accepted);
    const stillLeft = await postEvents(base, leftAfterCrash, accepted, () => false);
    const repostedAt = Date.now();
    expect(stillLeft, 'the restarted Herald refused events').toEqual([]);
    expect(accepted.size).toBe(EVENTS);
    // An event accepted before the crash is the same event after it.
    for (const [i, first] of beforeRepost) expect(accepted.get(i)).toBe(first);

    // Every accepted event has one delivery per webhook, and each must arrive.
    const expected = new Map<Receiver, Map<string, number>>(receivers.map((r) => [r, new Map()]));
    for (const [i, event] of accepted) {
      expect(event.deliveries.map((d) => d.webhookId).sort(), `event ${i}`).toEqual([...webhookOf.keys()].sort());
      for (const d of event.deliveries) expected.get(webhookOf.get(d.webhookId)!)!.set(d.id, i);
    }
    const missing = (): number => {
      let count = 0;
      for (const [receiver, ids] of expected) {
        const seen = new Set(receiver.requests.map((r) => r.headers['webhook-id']));
        for (const id of ids.keys()) if (!seen.has(id)) count++;
      }
      return count;
    };
    const pending = async (): Promise<number> =>
      (await call<{ data: unknown[] }>(base, 'GET', '/v1/organizations/crash-org/deliveries?status=pending&limit=1')).body.data.length;
    // Wait for every delivery to arrive and for the log to settle: a delivery the killed process sent but
    // did not record comes back when its lease ends and is sent again (a duplicate, by design).
    const deadline = Date.now() + 50_000;
    let allArrivedAt: number | null = null;
    while ((missing() > 0 || (await pending()) > 0) && Date.now() < deadline) {
      if (allArrivedAt === null && missing() === 0) allArrivedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    allArrivedAt ??= Date.now();
    const settledAt = Date.now();

    // What each receiver got: duplicates (at least once) are counted, never a gap or a stranger.
    let duplicates = 0;
    let strangers = 0;
    for (const [receiver, ids] of expected) {
      const counts = new Map<string, number>();
      for (const r of receiver.requests) {
        const id = String(r.headers['webhook-id']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
        const seq = ids.get(id);
        if (seq === undefined) strangers++;
        else expect((JSON.parse(r.body) as { data: { seq: number } }).data.seq).toBe(seq);
      }
      for (const n of counts.values()) duplicates += n - 1;
    }
    const received = receivers.reduce((n, r) => n + r.requests.length, 0);
    console.log(
      `crash safety: ${EVENTS} events (${acceptedBeforeCrash} accepted before the kill, ${leftAfterCrash.length} posted again after it); ` +
        `${atKill} of ${EVENTS * RECEIVERS} deliveries had arrived at the kill; ${received} requests received, ` +
        `${duplicates} duplicates, ${missing()} missing; ` +
        `killed at ${((killedAt - started) / 1000).toFixed(1)} s, listening again ${((restartedAt - killedAt) / 1000).toFixed(1)} s later, ` +
        `all posted at ${((repostedAt - started) / 1000).toFixed(1)} s, ` +
        `all arrived at ${((allArrivedAt - started) / 1000).toFixed(1)} s, log settled at ${((settledAt - started) / 1000).toFixed(1)} s`,
    );
    expect(missing(), 'accepted events that never reached a receiver').toBe(0);
    expect(strangers, 'requests for deliveries nobody created').toBe(0);

    // And the delivery log agrees: every delivery succeeded.
    expect(await pending(), 'deliveries still pending').toBe(0);
    const failed = await call<{ data: unknown[] }>(base, 'GET', '/v1/organizations/crash-org/deliveries?status=failed&limit=1');
    expect(failed.body.data, 'failed deliveries').toEqual([]);
    let succeeded = 0;
    let cursor: string | null = null;
    do {
      const page: { body: { data: unknown[]; nextCursor: string | null } } = await call(
        base,
        'GET',
        `/v1/organizations/crash-org/deliveries?status=succeeded&limit=250${cursor ? `&cursor=${cursor}` : ''}`,
      );
      succeeded += page.body.data.length;
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(succeeded).toBe(EVENTS * RECEIVERS);

    await child.stop();
    expect((await child.exited).code).toBe(0);
    // Runs in 15–30 s; the margin is for a loaded CI machine.
  }, 90_000);
});
