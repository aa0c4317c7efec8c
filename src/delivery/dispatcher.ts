import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { ClaimRequest, ClaimedDelivery } from '../store/queue/claim-due.js';
import { DueSchedule } from './due-schedule.js';
import { RateLimiter } from './rate-limiter.js';
import { WakeSignal } from './wake-signal.js';

/** Flow-control settings of one webhook. */
export interface WebhookLimits {
  concurrency: number;
  rateLimit: number | null;
}

/** What the dispatcher needs from the rest of Herald; each is I/O it does not own. */
export interface DispatcherPorts<D extends ClaimedDelivery = ClaimedDelivery> {
  /** Claims due deliveries for several webhooks in one transaction. */
  claim(requests: readonly ClaimRequest[], now: number, lease: string): Promise<D[]>;
  /** The earliest due time per webhook (all enabled webhooks, or the ones named). */
  dueTimes(webhookIds?: readonly string[]): Promise<Map<string, number>>;
  limits(webhookId: string): Promise<WebhookLimits | null>;
  /**
   * Makes the attempts for a claimed batch and settles them; resolves per
   * delivery with its next due time when it stays pending (a retry).
   */
  deliver(batch: readonly D[], onSettled: (delivery: D, retryAt: number | null) => void): Promise<void>;
  /** Gives back leases this process will not settle (shutdown). */
  release(leases: readonly string[], now: number): Promise<void>;
}

export interface DispatcherOptions {
  /** Deliveries held at once across all webhooks: in flight, or claimed and waiting for a slot. @defaultValue 512 */
  maxInFlight: number;
  /** At most this many rows claimed per webhook per claim. @defaultValue 100 */
  batchSize: number;
  /**
   * Rows per webhook claimed beyond its free slots, waiting in memory to be
   * sent the moment a slot frees: claims become few and large instead of one
   * small claim per freed slot. Capped at the webhook's concurrency; none for
   * rate-limited or slow webhooks, and none on a shared queue, where the cap
   * counts every process's leases (waiting rows included). 0 turns it off.
   * @defaultValue 64
   */
  lookahead: number;
  leaseMs: number;
  /** Longest idle sleep; also how often due times are rescanned from the store. */
  pollIntervalMs: number;
  /** How long `stop` waits for in-flight attempts before giving their leases back. */
  shutdownGraceMs: number;
  /**
   * Other processes claim from the same queue: a claim that returns fewer rows
   * than asked may have met the webhook's shared cap rather than its last due row.
   */
  sharedQueue?: boolean;
}

/** Claims smaller than this, made while attempts are in flight, are followed by a short pause (COALESCE_MS). */
const COALESCE_BELOW = 16;
const COALESCE_MS = 2;

interface WebhookState<D> {
  cap: number;
  inFlight: number;
  /** Claimed, leased to this process, not sent yet. */
  waiting: D[];
  /** Rows that may wait for a slot: none for rate-limited or slow webhooks. */
  lookahead: number;
  /** Moving average of attempt time, ms (null until one finished). */
  averageMs: number | null;
  /** A pump continues at the next turn of the event loop. */
  resumeQueued: boolean;
}

/** Only webhooks that answer faster than this on average get rows claimed ahead. */
const LOOKAHEAD_BELOW_MS = 1_000;
/** How soon to claim again for a webhook whose due rows were all held by other processes. */
const HELD_ELSEWHERE_RETRY_MS = 5;
/** Deliveries started in one go; more wait for the next turn of the event loop (renders and signs are synchronous work). */
const PUMP_CHUNK = 16;
/** A claimed row that waited longer than this for a slot is not sent (its lease keeps it; it is due again when the lease ends). */
const MAX_WAIT_MS = 2_000;

/**
 * The claim loop. It keeps a per-webhook schedule of due work, asks each ready
 * webhook for up to its free concurrency plus a lookahead (fair: a webhook
 * that is slow or dead holds only its own slots), and sends claimed rows as
 * slots free, each webhook's in claim order.
 */
export class Dispatcher<D extends ClaimedDelivery = ClaimedDelivery> {
  readonly #ports: DispatcherPorts<D>;
  readonly #options: DispatcherOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #schedule = new DueSchedule();
  readonly #rates = new RateLimiter();
  readonly #wake = new WakeSignal();
  readonly #webhooks = new Map<string, WebhookState<D>>();
  /** Leases with rows not settled yet (in flight or waiting), with their count. */
  readonly #openLeases = new Map<string, number>();
  /** Rows in flight. */
  #total = 0;
  /** Rows claimed and waiting for a slot. */
  #waiting = 0;
  #running = false;
  #loop: Promise<void> | null = null;
  #lastScan = -Infinity;
  /** Hints lowered while a rescan or a claim was reading the store, so what it read does not erase them. */
  #loweredMeanwhile: Map<string, number> | null = null;
  readonly #idle = new Set<() => void>();
  readonly #toPump = new Set<string>();
  #pumpQueued = false;

  constructor(ports: DispatcherPorts<D>, options: DispatcherOptions, clock: Clock, log: Logger) {
    this.#ports = ports;
    this.#options = options;
    this.#clock = clock;
    this.#log = log;
  }

  get inFlight(): number {
    return this.#total;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Rescans due times from the store at the next turn (another process may have queued work). */
  rescanSoon(): void {
    this.#lastScan = -Infinity;
    this.#wake.notify();
  }

  /** New work for these webhooks is due now (called after an ingest commits). */
  notify(webhookIds: Iterable<string>, at: number = this.#clock.now()): void {
    for (const id of webhookIds) this.#lower(id, at);
    this.#wake.notify();
  }

  #lower(webhookId: string, at: number): void {
    this.#schedule.lower(webhookId, at);
    if (this.#loweredMeanwhile) {
      const seen = this.#loweredMeanwhile.get(webhookId);
      if (seen === undefined || at < seen) this.#loweredMeanwhile.set(webhookId, at);
    }
  }

  /** Stops claiming, waits for in-flight attempts up to the grace period, releases the rest. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake.notify();
    await this.#loop;
    // Rows waiting for a slot are not sent any more: their leases go back below.
    for (const state of this.#webhooks.values()) {
      this.#waiting -= state.waiting.splice(0).length;
    }
    if (this.#total > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.add(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, this.#options.shutdownGraceMs).unref()),
      ]);
    }
    const unsettled = [...this.#openLeases.keys()];
    if (unsettled.length > 0) {
      this.#log.warn({ leases: unsettled.length, inFlight: this.#total }, 'releasing deliveries still in flight at shutdown');
      await this.#ports.release(unsettled, this.#clock.now());
    }
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const now = this.#clock.now();
        if (now - this.#lastScan >= this.#options.pollIntervalMs) await this.#rescan();
        const claimed = this.#held < this.#options.maxInFlight ? await this.#claim() : 0;
        if (claimed === 0 && this.#running) await this.#wake.wait(this.#sleepMs());
        // A small claim while attempts are in flight: let a few more slots free up first, so
        // one claim (one write transaction) serves many of them, not one each.
        else if (claimed < COALESCE_BELOW && this.#total > 0 && this.#running) await new Promise((r) => setTimeout(r, COALESCE_MS));
      } catch (error) {
        this.#log.error({ err: coerceError(error) }, 'dispatcher iteration failed; retrying');
        await this.#wake.wait(Math.min(1000, this.#options.pollIntervalMs));
      }
    }
  }

  get #held(): number {
    return this.#total + this.#waiting;
  }

  async #rescan(): Promise<void> {
    this.#loweredMeanwhile = new Map();
    try {
      const scan = await this.#ports.dueTimes();
      this.#schedule.replace(scan, this.#loweredMeanwhile);
      this.#lastScan = this.#clock.now();
    } finally {
      this.#loweredMeanwhile = null;
    }
  }

  #sleepMs(): number {
    const now = this.#clock.now();
    const next = this.#schedule.nextAfter(now);
    const untilScan = this.#lastScan + this.#options.pollIntervalMs - now;
    return Math.max(1, Math.min(untilScan, next === null ? untilScan : next - now));
  }

  #state(webhookId: string): WebhookState<D> {
    let state = this.#webhooks.get(webhookId);
    if (!state) {
      state = { cap: 1, inFlight: 0, waiting: [], lookahead: 0, averageMs: null, resumeQueued: false };
      this.#webhooks.set(webhookId, state);
    }
    return state;
  }

  /** One claim round over every ready webhook; answers how many rows it claimed. */
  async #claim(): Promise<number> {
    const now = this.#clock.now();
    let budget = this.#options.maxInFlight - this.#held;
    const requests: ClaimRequest[] = [];
    const ready = this.#schedule.ready(now);
    // When the global budget binds, each ready webhook gets an equal share of it,
    // so one webhook with a high cap and a backlog cannot take every free slot.
    const share = Math.max(1, Math.floor(budget / Math.max(1, ready.length)));
    for (const webhookId of ready) {
      if (budget <= 0) break;
      const limits = await this.#ports.limits(webhookId);
      if (!limits) {
        this.#schedule.set(webhookId, null);
        const gone = this.#webhooks.get(webhookId);
        if (gone && gone.inFlight === 0 && gone.waiting.length === 0) this.#webhooks.delete(webhookId);
        continue;
      }
      const state = this.#state(webhookId);
      state.cap = limits.concurrency;
      // Rows wait only behind fast attempts: a slow webhook's rows would sit leased for nothing.
      const fast = state.averageMs === null || state.averageMs < LOOKAHEAD_BELOW_MS;
      // (On a shared queue the cap counts every process's leases, waiting rows included: no lookahead.)
      state.lookahead = limits.rateLimit === null && fast && !this.#options.sharedQueue ? Math.min(this.#options.lookahead, limits.concurrency) : 0;
      const room = state.cap + state.lookahead - state.inFlight - state.waiting.length;
      // Rows are still waiting: claim again only once a good part of the lookahead is free.
      if (room <= 0 || (state.waiting.length > 0 && room < Math.ceil(state.lookahead / 2))) continue;
      const want = Math.min(room, this.#options.batchSize, budget, share);
      const granted = this.#rates.take(webhookId, limits.rateLimit, want, now);
      if (granted === 0) {
        this.#schedule.set(webhookId, this.#rates.nextTokenAt(webhookId, limits.rateLimit, now));
        continue;
      }
      requests.push({ webhookId, limit: granted, cap: limits.concurrency });
      budget -= granted;
    }
    if (requests.length === 0) return 0;

    const lease = randomBytes(12).toString('base64url');
    this.#loweredMeanwhile = new Map();
    try {
      return await this.#claimAndSchedule(requests, now, lease);
    } finally {
      this.#loweredMeanwhile = null;
    }
  }

  async #claimAndSchedule(requests: ClaimRequest[], now: number, lease: string): Promise<number> {
    const claimed = await this.#ports.claim(requests, now, lease);
    const perWebhook = new Map<string, number>();
    for (const d of claimed) perWebhook.set(d.webhookId, (perWebhook.get(d.webhookId) ?? 0) + 1);
    const drained: string[] = [];
    for (const request of requests) {
      const got = perWebhook.get(request.webhookId) ?? 0;
      if (got < request.limit) {
        this.#rates.refund(request.webhookId, request.limit - got);
        // On a shared queue a short claim usually means the cap is shared out: try again soon
        // instead of asking the store for due times after every claim. An empty one does ask.
        if (this.#options.sharedQueue && got > 0) this.#schedule.set(request.webhookId, now + HELD_ELSEWHERE_RETRY_MS);
        else drained.push(request.webhookId);
      } else {
        // Served now: it queues behind webhooks that have waited longer (round robin).
        this.#schedule.set(request.webhookId, now);
      }
    }
    // Webhooks that gave fewer rows than asked have nothing more due now: learn when they next do.
    if (drained.length > 0) {
      const due = await this.#ports.dueTimes(drained);
      for (const id of drained) {
        const at = due.get(id) ?? null;
        // Fewer rows than asked, yet some are due now: other processes hold them or the rest of
        // the webhook's shared cap. Asking again at once would only repeat an empty claim.
        this.#schedule.set(id, at !== null && at <= now ? now + HELD_ELSEWHERE_RETRY_MS : at);
      }
    }
    // Work announced while the claim ran (an ingest that committed after the claim's snapshot)
    // must not be lost to what the claim and the due times read before it.
    for (const [id, at] of this.#loweredMeanwhile ?? []) this.#schedule.lower(id, at);
    if (claimed.length > 0) {
      this.#openLeases.set(lease, claimed.length);
      for (const d of claimed) this.#state(d.webhookId).waiting.push(d);
      this.#waiting += claimed.length;
      for (const id of perWebhook.keys()) this.#pump(id);
    }
    return claimed.length;
  }

  /** Sends waiting rows of one webhook into its free slots. */
  #pump(webhookId: string): void {
    const state = this.#webhooks.get(webhookId);
    if (!state || state.waiting.length === 0 || !this.#running) return;
    const now = this.#clock.now();
    const batch: D[] = [];
    while (state.inFlight + batch.length < state.cap && state.waiting.length > 0 && batch.length < PUMP_CHUNK) {
      const d = state.waiting.shift()!;
      this.#waiting -= 1;
      // A row that waited long is not sent: the lease it has left must cover a whole attempt
      // (HERALD_LEASE_MS is sized for the longest attempt). It is due again when the lease ends.
      if (now - (d.leaseExpiresAt - this.#options.leaseMs) > Math.min(MAX_WAIT_MS, this.#options.leaseMs / 4)) {
        this.#settled(d, d.leaseExpiresAt);
        continue;
      }
      batch.push(d);
    }
    if (batch.length > 0) this.#dispatch(state, batch);
    // More to send: after a turn of the event loop, so API requests are not kept waiting.
    if (state.inFlight < state.cap && state.waiting.length > 0 && !state.resumeQueued) {
      state.resumeQueued = true;
      setImmediate(() => {
        state.resumeQueued = false;
        this.#pump(webhookId);
      });
    }
  }

  /** Pumps these webhooks once the current synchronous work is done (settles arrive in bursts). */
  #pumpSoon(webhookId: string): void {
    this.#toPump.add(webhookId);
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      const ids = [...this.#toPump];
      this.#toPump.clear();
      for (const id of ids) this.#pump(id);
    });
  }

  /** A row this process holds no more (settled, or left to its lease): its lease count drops. */
  #settled(d: D, lowerTo: number | null): void {
    const open = (this.#openLeases.get(d.lease) ?? 1) - 1;
    if (open > 0) this.#openLeases.set(d.lease, open);
    else this.#openLeases.delete(d.lease);
    if (lowerTo !== null) this.#lower(d.webhookId, lowerTo);
  }

  #dispatch(state: WebhookState<D>, batch: D[]): void {
    this.#total += batch.length;
    state.inFlight += batch.length;
    const sentAt = this.#clock.now();
    const done = new Set<string>();
    const leave = (d: D, lowerTo: number | null): void => {
      done.add(d.id);
      const took = this.#clock.now() - sentAt;
      state.averageMs = state.averageMs === null ? took : state.averageMs * 0.8 + took * 0.2;
      this.#total -= 1;
      state.inFlight -= 1;
      this.#settled(d, lowerTo);
      if (this.#total === 0) for (const resolve of this.#idle) resolve();
    };
    const finish = (d: D, retryAt: number | null): void => {
      if (done.has(d.id)) return;
      leave(d, retryAt);
      // The freed slot goes to this webhook's next waiting row at once, no claim needed;
      // and the loop may claim more, for this webhook or another.
      this.#pumpSoon(d.webhookId);
      if (this.#running) this.#wake.notify();
    };
    this.#ports
      .deliver(batch, finish)
      .catch((error: unknown) => {
        this.#log.error({ err: coerceError(error) }, 'delivering a batch failed; its leases will expire and be retried');
      })
      .finally(() => {
        // Anything not settled stays leased in the store and comes back when the lease ends.
        for (const d of batch) if (!done.has(d.id)) leave(d, d.leaseExpiresAt);
        this.#pumpSoon(batch[0]!.webhookId);
      });
  }
}
