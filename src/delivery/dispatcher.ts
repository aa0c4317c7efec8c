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
export interface DispatcherPorts {
  /** Claims due deliveries for several webhooks in one transaction. */
  claim(requests: readonly ClaimRequest[], now: number, lease: string): Promise<ClaimedDelivery[]>;
  /** The earliest due time per webhook (all enabled webhooks, or the ones named). */
  dueTimes(webhookIds?: readonly string[]): Promise<Map<string, number>>;
  limits(webhookId: string): Promise<WebhookLimits | null>;
  /**
   * Makes the attempts for a claimed batch and settles them; resolves per
   * delivery with its next due time when it stays pending (a retry).
   */
  deliver(batch: readonly ClaimedDelivery[], onSettled: (delivery: ClaimedDelivery, retryAt: number | null) => void): Promise<void>;
  /** Gives back leases this process will not settle (shutdown). */
  release(leases: readonly string[], now: number): Promise<void>;
}

export interface DispatcherOptions {
  /** Deliveries in flight at once across all webhooks. @defaultValue 512 */
  maxInFlight: number;
  /** At most this many rows claimed per webhook per claim. @defaultValue 100 */
  batchSize: number;
  leaseMs: number;
  /** Longest idle sleep; also how often due times are rescanned from the store. */
  pollIntervalMs: number;
  /** How long `stop` waits for in-flight attempts before giving their leases back. */
  shutdownGraceMs: number;
}

/**
 * The claim loop. It keeps a per-webhook schedule of due work, asks each ready
 * webhook for up to its free concurrency (fair: a webhook that is slow or
 * dead holds only its own slots), and hands the claimed rows to `deliver`.
 */
/** Claims smaller than this, made while attempts are in flight, are followed by a short pause (COALESCE_MS). */
const COALESCE_BELOW = 16;
const COALESCE_MS = 2;

export class Dispatcher {
  readonly #ports: DispatcherPorts;
  readonly #options: DispatcherOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #schedule = new DueSchedule();
  readonly #rates = new RateLimiter();
  readonly #wake = new WakeSignal();
  readonly #inFlight = new Map<string, number>();
  /** Leases whose batches are not fully settled, with their unsettled count. */
  readonly #openLeases = new Map<string, number>();
  #total = 0;
  #running = false;
  #loop: Promise<void> | null = null;
  #lastScan = -Infinity;
  /** Hints raised while a rescan was running, so the scan does not erase them. */
  #loweredDuringScan: Map<string, number> | null = null;
  readonly #idle = new Set<() => void>();

  constructor(ports: DispatcherPorts, options: DispatcherOptions, clock: Clock, log: Logger) {
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
    if (this.#loweredDuringScan) {
      const seen = this.#loweredDuringScan.get(webhookId);
      if (seen === undefined || at < seen) this.#loweredDuringScan.set(webhookId, at);
    }
  }

  /** Stops claiming, waits for in-flight attempts up to the grace period, releases the rest. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake.notify();
    await this.#loop;
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
        const claimed = this.#total < this.#options.maxInFlight ? await this.#claim() : 0;
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

  async #rescan(): Promise<void> {
    this.#loweredDuringScan = new Map();
    try {
      const scan = await this.#ports.dueTimes();
      this.#schedule.replace(scan, this.#loweredDuringScan);
      this.#lastScan = this.#clock.now();
    } finally {
      this.#loweredDuringScan = null;
    }
  }

  #sleepMs(): number {
    const now = this.#clock.now();
    const next = this.#schedule.nextAfter(now);
    const untilScan = this.#lastScan + this.#options.pollIntervalMs - now;
    return Math.max(1, Math.min(untilScan, next === null ? untilScan : next - now));
  }

  /** One claim round over every ready webhook; answers how many rows it claimed. */
  async #claim(): Promise<number> {
    const now = this.#clock.now();
    let budget = this.#options.maxInFlight - this.#total;
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
        continue;
      }
      const free = limits.concurrency - (this.#inFlight.get(webhookId) ?? 0);
      if (free <= 0) continue;
      const want = Math.min(free, this.#options.batchSize, budget, share);
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
    const claimed = await this.#ports.claim(requests, now, lease);
    const perWebhook = new Map<string, number>();
    for (const d of claimed) perWebhook.set(d.webhookId, (perWebhook.get(d.webhookId) ?? 0) + 1);
    const drained: string[] = [];
    for (const request of requests) {
      const got = perWebhook.get(request.webhookId) ?? 0;
      if (got < request.limit) {
        this.#rates.refund(request.webhookId, request.limit - got);
        drained.push(request.webhookId);
      } else {
        // Served now: it queues behind webhooks that have waited longer (round robin).
        this.#schedule.set(request.webhookId, now);
      }
    }
    // Webhooks that gave fewer rows than asked have nothing more due now: learn when they next do.
    if (drained.length > 0) {
      const due = await this.#ports.dueTimes(drained);
      for (const id of drained) this.#schedule.set(id, due.get(id) ?? null);
    }
    if (claimed.length > 0) this.#dispatch(lease, claimed);
    return claimed.length;
  }

  #dispatch(lease: string, batch: ClaimedDelivery[]): void {
    this.#openLeases.set(lease, batch.length);
    this.#total += batch.length;
    for (const d of batch) this.#inFlight.set(d.webhookId, (this.#inFlight.get(d.webhookId) ?? 0) + 1);
    const settled = new Set<string>();
    const finish = (d: ClaimedDelivery, retryAt: number | null): void => {
      if (settled.has(d.id)) return;
      settled.add(d.id);
      this.#total -= 1;
      const left = (this.#inFlight.get(d.webhookId) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(d.webhookId, left);
      else this.#inFlight.delete(d.webhookId);
      const open = (this.#openLeases.get(lease) ?? 1) - 1;
      if (open > 0) this.#openLeases.set(lease, open);
      else this.#openLeases.delete(lease);
      if (retryAt !== null) this.#lower(d.webhookId, retryAt);
      if (this.#total === 0) for (const resolve of this.#idle) resolve();
      // A freed slot may let this webhook or another one go on.
      if (this.#running) this.#wake.notify();
    };
    this.#ports
      .deliver(batch, finish)
      .catch((error: unknown) => {
        this.#log.error({ err: coerceError(error), lease }, 'delivering a batch failed; its leases will expire and be retried');
      })
      .finally(() => {
        // Anything not settled stays leased in the store and comes back when the lease ends.
        for (const d of batch) {
          if (!settled.has(d.id)) {
            settled.add(d.id);
            this.#total -= 1;
            const left = (this.#inFlight.get(d.webhookId) ?? 1) - 1;
            if (left > 0) this.#inFlight.set(d.webhookId, left);
            else this.#inFlight.delete(d.webhookId);
            this.#lower(d.webhookId, d.leaseExpiresAt);
          }
        }
        this.#openLeases.delete(lease);
        if (this.#total === 0) for (const resolve of this.#idle) resolve();
      });
  }
}
