/**
 * The claim loop against in-memory ports. The fake store mimics the SQL
 * claim (due pending rows, lease end written as the due time) and lets each
 * test decide when a delivery settles, so flow control can be watched step by
 * step. Time stands still on a ManualClock unless a test moves it.
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher, type DispatcherOptions, type DispatcherPorts, type WebhookLimits } from '../../src/delivery/dispatcher.js';
import type { ClaimedDelivery, ClaimRequest } from '../../src/store/queue/claim-due.js';

const t0 = 1_700_000_000_000;
const LEASE_MS = 30_000;
const RETRY_MS = 5_000;

/** How a fake webhook's deliveries behave once handed to `deliver`. */
type Mode = 'settle' | 'hold' | 'throw' | 'retry-once';

interface Row {
  id: string;
  webhookId: string;
  dueAt: number;
  lease: string | null;
  done: boolean;
}

interface Held {
  delivery: ClaimedDelivery;
  settle(): void;
}

class FakeStore implements DispatcherPorts {
  readonly rows = new Map<string, Row>();
  readonly webhooks = new Map<string, WebhookLimits & { mode: Mode }>();
  readonly claims: { requests: ClaimRequest[]; lease: string; got: number }[] = [];
  readonly released: string[][] = [];
  readonly held = new Map<string, Held>();
  /** Current and highest number of deliveries inside `deliver`, per webhook and in all. */
  readonly current = new Map<string, number>();
  readonly highest = new Map<string, number>();
  highestTotal = 0;
  failClaims = 0;
  failDueTimes = 0;
  /** Runs once, when the next claim has read its rows but not yet answered (a race to provoke). */
  afterClaim: (() => void) | null = null;
  readonly retried = new Set<string>();
  #seq = 0;

  constructor(private readonly clock: ManualClock) {}

  webhook(id: string, limits: Partial<WebhookLimits> & { mode?: Mode } = {}): void {
    this.webhooks.set(id, { concurrency: limits.concurrency ?? 10, rateLimit: limits.rateLimit ?? null, mode: limits.mode ?? 'settle' });
  }

  add(webhookId: string, count: number, dueAt = this.clock.now()): void {
    for (let i = 0; i < count; i++) {
      const id = `dlv_${String(++this.#seq).padStart(4, '0')}`;
      this.rows.set(id, { id, webhookId, dueAt, lease: null, done: false });
    }
  }

  done(webhookId: string): number {
    return [...this.rows.values()].filter((r) => r.webhookId === webhookId && r.done).length;
  }

  claimed(webhookId: string): number {
    return [...this.rows.values()].filter((r) => r.webhookId === webhookId && (r.lease !== null || r.done)).length;
  }

  inFlight(webhookId?: string): number {
    if (webhookId === undefined) return [...this.current.values()].reduce((a, b) => a + b, 0);
    return this.current.get(webhookId) ?? 0;
  }

  /** Settles every held delivery (of one webhook, or all). */
  settleHeld(webhookId?: string, count = Infinity): void {
    let left = count;
    for (const held of [...this.held.values()]) {
      if (left <= 0) break;
      if (webhookId !== undefined && held.delivery.webhookId !== webhookId) continue;
      held.settle();
      left -= 1;
    }
  }

  async claim(requests: readonly ClaimRequest[], now: number, lease: string): Promise<ClaimedDelivery[]> {
    if (this.failClaims > 0) {
      this.failClaims -= 1;
      throw new Error('database is locked');
    }
    const claimed: ClaimedDelivery[] = [];
    for (const request of requests) {
      const due = [...this.rows.values()]
        .filter((r) => r.webhookId === request.webhookId && !r.done && r.dueAt <= now)
        .sort((a, b) => a.dueAt - b.dueAt)
        .slice(0, request.limit);
      for (const row of due) {
        row.lease = lease;
        row.dueAt = now + LEASE_MS;
        claimed.push({
          id: row.id,
          eventId: `evt_${row.id}`,
          webhookId: row.webhookId,
          organizationId: 'org_1',
          attemptCount: 0,
          eventTime: now,
          failing: false,
          lease,
          leaseExpiresAt: row.dueAt,
        });
      }
    }
    this.claims.push({ requests: requests.map((r) => ({ ...r })), lease, got: claimed.length });
    const after = this.afterClaim;
    this.afterClaim = null;
    after?.();
    return claimed;
  }

  async dueTimes(webhookIds?: readonly string[]): Promise<Map<string, number>> {
    if (this.failDueTimes > 0) {
      this.failDueTimes -= 1;
      throw new Error('database is locked');
    }
    const due = new Map<string, number>();
    for (const row of this.rows.values()) {
      if (row.done || !this.webhooks.has(row.webhookId)) continue;
      if (webhookIds !== undefined && !webhookIds.includes(row.webhookId)) continue;
      const seen = due.get(row.webhookId);
      if (seen === undefined || row.dueAt < seen) due.set(row.webhookId, row.dueAt);
    }
    return due;
  }

  async limits(webhookId: string): Promise<WebhookLimits | null> {
    const webhook = this.webhooks.get(webhookId);
    return webhook ? { concurrency: webhook.concurrency, rateLimit: webhook.rateLimit } : null;
  }

  deliver(batch: readonly ClaimedDelivery[], onSettled: (delivery: ClaimedDelivery, retryAt: number | null) => void): Promise<void> {
    for (const d of batch) {
      const now = (this.current.get(d.webhookId) ?? 0) + 1;
      this.current.set(d.webhookId, now);
      this.highest.set(d.webhookId, Math.max(now, this.highest.get(d.webhookId) ?? 0));
    }
    this.highestTotal = Math.max(this.highestTotal, this.inFlight());
    return new Promise<void>((resolve, reject) => {
      let open = batch.length;
      const leave = (d: ClaimedDelivery): void => {
        this.current.set(d.webhookId, (this.current.get(d.webhookId) ?? 1) - 1);
        this.held.delete(d.id);
      };
      for (const d of batch) {
        const settle = (): void => {
          const row = this.rows.get(d.id);
          if (!row || row.done) return;
          row.done = true;
          row.lease = null;
          leave(d);
          onSettled(d, null);
          if (--open === 0) resolve();
        };
        const mode = this.webhooks.get(d.webhookId)?.mode ?? 'settle';
        if (mode === 'retry-once' && !this.retried.has(d.id)) {
          setImmediate(() => {
            const row = this.rows.get(d.id);
            if (!row) return;
            this.retried.add(d.id);
            row.lease = null;
            row.dueAt = this.clock.now() + RETRY_MS;
            leave(d);
            onSettled(d, row.dueAt);
            if (--open === 0) resolve();
          });
        } else if (mode === 'settle' || mode === 'retry-once') setImmediate(settle);
        else if (mode === 'hold') this.held.set(d.id, { delivery: d, settle });
      }
      if (batch.some((d) => this.webhooks.get(d.webhookId)?.mode === 'throw')) {
        setImmediate(() => {
          for (const d of batch) leave(d);
          reject(new Error('renderer exploded'));
        });
      }
    });
  }

  async release(leases: readonly string[], now: number): Promise<void> {
    this.released.push([...leases]);
    for (const row of this.rows.values()) {
      if (row.lease !== null && leases.includes(row.lease) && !row.done) {
        row.lease = null;
        row.dueAt = now;
      }
    }
  }
}

interface LogLine {
  level: number;
  msg: string;
  err?: { message: string };
}

const started = new Set<Dispatcher>();

/** Every dispatcher a test starts must be stopped by it: a leftover loop would leak into later tests. */
afterEach(async () => {
  const leftovers = [...started];
  started.clear();
  for (const dispatcher of leftovers) await dispatcher.stop();
  expect(leftovers.length, 'a test left a dispatcher running').toBe(0);
});

function setup(options: Partial<DispatcherOptions> = {}) {
  const clock = new ManualClock(t0);
  const store = new FakeStore(clock);
  const logs: LogLine[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const dispatcher = new Dispatcher(
    store,
    { maxInFlight: 100, batchSize: 100, lookahead: 0, leaseMs: LEASE_MS, pollIntervalMs: 60_000, shutdownGraceMs: 5_000, ...options },
    clock,
    log,
  );
  return {
    clock,
    store,
    logs,
    dispatcher,
    start(): void {
      started.add(dispatcher);
      dispatcher.start();
    },
    async stop(): Promise<void> {
      started.delete(dispatcher);
      await dispatcher.stop();
    },
  };
}

const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 3_000, interval: 2 });
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Dispatcher', () => {
  it('delivers every due delivery of every webhook', async () => {
    const t = setup();
    t.store.webhook('wh_a');
    t.store.webhook('wh_b');
    t.store.add('wh_a', 7);
    t.store.add('wh_b', 3);
    t.start();
    await until(() => expect([t.store.done('wh_a'), t.store.done('wh_b')]).toEqual([7, 3]));
    expect(t.dispatcher.inFlight).toBe(0);
    await t.stop();
  });

  it('leaves deliveries alone until they are due', async () => {
    const t = setup({ pollIntervalMs: 20 });
    t.store.webhook('wh_a');
    t.store.add('wh_a', 2, t0 + 10_000);
    t.start();
    await pause(60);
    expect(t.store.claims).toEqual([]);
    t.clock.advance(10_000);
    await until(() => expect(t.store.done('wh_a')).toBe(2));
    await t.stop();
  });

  it('is fair: a webhook whose deliveries never settle holds only its concurrency cap, other webhooks are still served', async () => {
    const t = setup();
    t.store.webhook('wh_stuck', { concurrency: 3, mode: 'hold' });
    t.store.webhook('wh_healthy', { concurrency: 2 });
    t.store.add('wh_stuck', 50);
    t.store.add('wh_healthy', 5, t0 + 1); // queued behind the whole backlog of wh_stuck
    t.clock.advance(1);
    t.start();
    await until(() => expect(t.store.done('wh_healthy')).toBe(5));
    // Work that arrives later is served too, while wh_stuck still sits at its cap.
    t.store.add('wh_healthy', 4);
    t.dispatcher.notify(['wh_healthy']);
    await until(() => expect(t.store.done('wh_healthy')).toBe(9));
    expect(t.store.claimed('wh_stuck')).toBe(3);
    expect(t.store.inFlight('wh_stuck')).toBe(3);
    expect(t.store.highest.get('wh_stuck')).toBe(3);
    for (const claim of t.store.claims) {
      for (const request of claim.requests) if (request.webhookId === 'wh_stuck') expect(request.limit).toBeLessThanOrEqual(3);
    }
    t.store.settleHeld();
    await t.stop();
  });

  it('never has more deliveries of one webhook in flight than its concurrency cap, and refills freed slots', async () => {
    const t = setup();
    t.store.webhook('wh_a', { concurrency: 4, mode: 'hold' });
    t.store.add('wh_a', 18);
    t.start();
    for (let settled = 0; settled < 18; ) {
      const expected = Math.min(4, 18 - settled);
      await until(() => expect(t.store.inFlight('wh_a')).toBe(expected));
      // Settle some, not all: a partly freed webhook gets exactly its free slots back.
      const now = Math.min(expected, settled % 2 === 0 ? 2 : 4);
      t.store.settleHeld('wh_a', now);
      settled += now;
    }
    await until(() => expect(t.store.done('wh_a')).toBe(18));
    expect(t.store.highest.get('wh_a')).toBe(4);
    await t.stop();
  });

  it('never has more than maxInFlight deliveries in flight across webhooks', async () => {
    const t = setup({ maxInFlight: 5 });
    for (const id of ['wh_a', 'wh_b', 'wh_c']) {
      t.store.webhook(id, { concurrency: 10, mode: 'hold' });
      t.store.add(id, 6);
    }
    t.start();
    await until(() => expect(t.store.inFlight()).toBe(5));
    await pause(30);
    expect(t.store.inFlight()).toBe(5);
    expect(t.dispatcher.inFlight).toBe(5);
    for (let round = 0; round < 20 && t.store.held.size > 0; round++) {
      t.store.settleHeld(undefined, 2);
      await until(() => expect(t.store.inFlight()).toBe(Math.min(5, 18 - [...t.store.rows.values()].filter((r) => r.done).length)));
    }
    await until(() => expect([...t.store.rows.values()].every((r) => r.done)).toBe(true));
    expect(t.store.highestTotal).toBe(5);
    await t.stop();
  });

  it('takes at most batchSize rows of one webhook per claim', async () => {
    const t = setup({ batchSize: 4 });
    t.store.webhook('wh_a', { concurrency: 100 });
    t.store.add('wh_a', 10);
    t.start();
    await until(() => expect(t.store.done('wh_a')).toBe(10));
    for (const claim of t.store.claims) for (const request of claim.requests) expect(request.limit).toBeLessThanOrEqual(4);
    await t.stop();
  });

  it('holds a rate-limited webhook to its rate, and goes on when tokens refill', async () => {
    const t = setup();
    t.store.webhook('wh_a', { rateLimit: 2 });
    t.store.add('wh_a', 5);
    t.start();
    await until(() => expect(t.store.done('wh_a')).toBe(2));
    await pause(30);
    expect(t.store.claimed('wh_a')).toBe(2);
    t.clock.advance(1_000);
    t.dispatcher.notify([]);
    await until(() => expect(t.store.done('wh_a')).toBe(4));
    await t.stop();
  });

  it('sleeps until notified: new work is claimed promptly after notify, not at the next poll', async () => {
    const t = setup({ pollIntervalMs: 60_000 });
    t.store.webhook('wh_a');
    t.start();
    await until(() => expect(t.store.claims.length + t.store.rows.size).toBe(0));
    await pause(20); // the loop has scanned an empty store and sleeps for a minute
    t.store.add('wh_a', 3);
    await pause(50);
    expect(t.store.claimed('wh_a')).toBe(0);
    const notifiedAt = performance.now();
    t.dispatcher.notify(['wh_a']);
    await until(() => expect(t.store.done('wh_a')).toBe(3));
    expect(performance.now() - notifiedAt).toBeLessThan(1_000);
    await t.stop();
  });

  it('finds work it was not told about at the next rescan', async () => {
    const t = setup({ pollIntervalMs: 20 });
    t.store.webhook('wh_a');
    t.start();
    await pause(30);
    t.store.add('wh_a', 2);
    t.clock.advance(20);
    await until(() => expect(t.store.done('wh_a')).toBe(2));
    await t.stop();
  });

  it('does not lose work announced while a claim was reading the store, even when the clock stands still', async () => {
    const t = setup({ pollIntervalMs: 60_000 });
    t.store.webhook('wh_a', { mode: 'hold' });
    t.store.add('wh_a', 1);
    // An ingest commits after the claim read its rows, and announces its delivery at once.
    t.store.afterClaim = () => {
      t.store.add('wh_a', 1);
      t.dispatcher.notify(['wh_a']);
    };
    t.start();
    await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
    t.store.settleHeld();
    await until(() => expect(t.store.done('wh_a')).toBe(2));
    await t.stop();
  });

  it('logs a claim that throws and keeps going', async () => {
    const t = setup({ pollIntervalMs: 10 });
    t.store.webhook('wh_a');
    t.store.add('wh_a', 3);
    t.store.failClaims = 2;
    t.start();
    await until(() => expect(t.store.done('wh_a')).toBe(3));
    const errors = t.logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ msg: 'dispatcher iteration failed; retrying', err: { message: 'database is locked' } });
    await t.stop();
  });

  it('logs a rescan that throws and keeps going', async () => {
    const t = setup({ pollIntervalMs: 10 });
    t.store.webhook('wh_a');
    t.store.add('wh_a', 2);
    t.store.failDueTimes = 1;
    t.start();
    await until(() => expect(t.store.done('wh_a')).toBe(2));
    expect(t.logs.filter((l) => l.level === 50)).toHaveLength(1);
    await t.stop();
  });

  it('logs a batch whose delivery throws, frees its slots, and retries it once its lease ends', async () => {
    const t = setup();
    t.store.webhook('wh_a', { concurrency: 2, mode: 'throw' });
    t.store.add('wh_a', 2);
    t.start();
    await until(() => expect(t.logs.some((l) => l.msg.startsWith('delivering a batch failed'))).toBe(true));
    await until(() => expect(t.dispatcher.inFlight).toBe(0));
    expect(t.store.claims.filter((c) => c.got > 0)).toHaveLength(1);
    t.store.webhook('wh_a', { concurrency: 2, mode: 'settle' });
    t.clock.advance(LEASE_MS);
    t.dispatcher.notify([]);
    await until(() => expect(t.store.done('wh_a')).toBe(2));
    await t.stop();
  });

  it('picks a delivery up again when the retry it settled with falls due, before its lease would have ended', async () => {
    const t = setup();
    t.store.webhook('wh_a', { mode: 'retry-once' });
    t.store.add('wh_a', 1);
    t.start();
    await until(() => expect(t.store.retried.size).toBe(1));
    await pause(20);
    expect(t.store.done('wh_a')).toBe(0);
    t.clock.advance(RETRY_MS);
    t.dispatcher.notify([]);
    await until(() => expect(t.store.done('wh_a')).toBe(1));
    await t.stop();
  });

  it('forgets a webhook that has no limits any more (disabled or deleted)', async () => {
    const t = setup();
    t.store.webhook('wh_a');
    t.store.add('wh_a', 2);
    t.store.webhooks.delete('wh_a');
    t.start();
    t.dispatcher.notify(['wh_a']);
    await pause(30);
    expect(t.store.claims).toEqual([]);
    await t.stop();
  });

  it('stop waits for the deliveries in flight, then releases nothing', async () => {
    const t = setup();
    t.store.webhook('wh_a', { mode: 'hold' });
    t.store.add('wh_a', 2);
    t.start();
    await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
    let stopped = false;
    const stopping = t.stop().then(() => (stopped = true));
    await pause(30);
    expect(stopped).toBe(false);
    t.store.settleHeld();
    await stopping;
    expect(t.store.done('wh_a')).toBe(2);
    expect(t.store.released).toEqual([]);
  });

  it('stop gives up after shutdownGraceMs and releases the leases that are still unsettled', async () => {
    const t = setup({ shutdownGraceMs: 50 });
    t.store.webhook('wh_a', { mode: 'hold' });
    t.store.webhook('wh_b', { mode: 'hold' });
    t.store.add('wh_a', 2);
    t.start();
    await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
    const stuckLease = t.store.claims.find((c) => c.got > 0)?.lease;
    t.store.add('wh_b', 1);
    t.dispatcher.notify(['wh_b']);
    await until(() => expect(t.store.inFlight('wh_b')).toBe(1));
    t.store.settleHeld('wh_b');
    t.store.settleHeld('wh_a', 1);
    const start = performance.now();
    await t.stop();
    const took = performance.now() - start;
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(2_000);
    // Only the lease with an unsettled delivery goes back; its row is due again.
    expect(t.store.released).toEqual([[stuckLease]]);
    const stuck = [...t.store.rows.values()].filter((r) => !r.done);
    expect(stuck).toHaveLength(1);
    expect(stuck[0]).toMatchObject({ lease: null, dueAt: t0 });
  });

  it('claims nothing more once stopped', async () => {
    const t = setup();
    t.store.webhook('wh_a');
    t.start();
    await t.stop();
    t.store.add('wh_a', 2);
    t.dispatcher.notify(['wh_a']);
    await pause(30);
    expect(t.store.claims).toEqual([]);
  });

  it('stop of a dispatcher that never started resolves at once', async () => {
    const t = setup();
    await t.stop();
    expect(t.store.released).toEqual([]);
  });

  describe('lookahead', () => {
    it('claims rows ahead of free slots, never has more in flight than the cap, and sends waiting rows as slots free without another claim', async () => {
      const t = setup({ lookahead: 2 });
      t.store.webhook('wh_a', { concurrency: 2, mode: 'hold' });
      t.store.add('wh_a', 4);
      t.start();
      await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
      expect(t.store.claimed('wh_a')).toBe(4); // 2 in flight + 2 waiting
      const claims = t.store.claims.filter((c) => c.got > 0).length;
      // The two waiting rows take the next two freed slots at once, before any new claim.
      t.store.settleHeld('wh_a', 1);
      await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
      expect(t.store.claims.filter((c) => c.got > 0).length).toBe(claims);
      for (let settled = 1; settled < 4; settled++) {
        t.store.settleHeld('wh_a', 1);
        await until(() => expect(t.store.done('wh_a')).toBe(settled + 1));
      }
      expect(t.store.highest.get('wh_a')).toBe(2);
      await t.stop();
    });

    it('claims no rows ahead for a rate-limited webhook', async () => {
      const t = setup({ lookahead: 10 });
      t.store.webhook('wh_a', { concurrency: 2, rateLimit: 100, mode: 'hold' });
      t.store.add('wh_a', 8);
      t.start();
      await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
      await pause(20);
      expect(t.store.claimed('wh_a')).toBe(2);
      t.store.settleHeld();
      await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
      t.store.settleHeld();
      await t.stop();
    });

    it('does not send a row that waited for a slot too long: it stays leased and is due again when its lease ends', async () => {
      const t = setup({ lookahead: 2 });
      t.store.webhook('wh_a', { concurrency: 2, mode: 'hold' });
      t.store.add('wh_a', 4);
      t.start();
      await until(() => expect(t.store.inFlight('wh_a')).toBe(2));
      expect(t.store.claimed('wh_a')).toBe(4);
      t.clock.advance(5_000);
      t.store.settleHeld('wh_a');
      await pause(30);
      // The two waiting rows were not sent: their slots came too late.
      expect(t.store.done('wh_a')).toBe(2);
      expect(t.store.inFlight('wh_a')).toBe(0);
      t.clock.advance(LEASE_MS);
      t.store.webhook('wh_a', { concurrency: 2 });
      t.dispatcher.notify([]);
      await until(() => expect(t.store.done('wh_a')).toBe(4));
      await t.stop();
    });

    it('at stop, gives back the leases of rows still waiting for a slot', async () => {
      const t = setup({ lookahead: 1 });
      t.store.webhook('wh_a', { concurrency: 1, mode: 'hold' });
      t.store.add('wh_a', 3);
      t.start();
      await until(() => expect(t.store.inFlight('wh_a')).toBe(1));
      expect(t.store.claimed('wh_a')).toBe(2);
      const stopping = t.stop();
      t.store.settleHeld('wh_a');
      await stopping;
      expect(t.store.done('wh_a')).toBe(1);
      expect(t.store.released.flat()).toHaveLength(1);
      const back = [...t.store.rows.values()].filter((r) => !r.done);
      expect(back).toHaveLength(2);
      for (const row of back) expect(row.lease).toBeNull();
    });
  });
});
