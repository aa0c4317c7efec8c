import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { JsonObject } from '../domain/types.js';
import { coerceError } from '../errors.js';
import { recordEvent } from '../ingest/ingest.js';
import { skipPendingDeliveries } from '../store/repositories/deliveries.js';
import { parkDelivery } from '../store/queue/park.js';
import {
  disableFailingWebhooks,
  markWebhooksFailing,
  markWebhooksHealthy,
  settleAttempts,
  skipRetriesOfDisabledWebhooks,
  type SettleInput,
} from '../store/queue/settle.js';
import type { Db } from '../store/schema.js';
import { FAILING_AFTER_ATTEMPTS, OPERATIONAL_EVENT_TYPES, SYSTEM_ORGANIZATION_ID } from './operational-events.js';

export type SettleItem =
  | {
      kind: 'attempt';
      input: SettleInput;
      webhookId: string;
      /** The previous attempt had failed. */
      wasFailing: boolean;
      eventId: string;
      /** Auto-disable period of this webhook, ms. */
      autoDisableAfterMs: number;
    }
  | { kind: 'park'; deliveryId: string; lease: string; status: 'skipped' | 'cancelled' };

export interface SettlerEvents {
  /** Webhooks disabled by this flush (caches must forget them). */
  onDisabled(webhookIds: string[]): void;
  /** Operational events were queued for these webhooks. */
  onQueued(webhookIds: string[]): void;
  /** One attempt's settle committed; outcome for metrics. */
  onSettled(item: SettleItem): void;
}

interface Waiting {
  item: SettleItem;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Writes attempt outcomes in batches: many settles share one transaction,
 * which is what lets SQLite keep up with thousands of attempts a second.
 * Webhook health (failure clock, auto-disable) and operational events are
 * written in the same transaction as the attempts that caused them.
 */
/** Runs a write transaction (the store's relaxed one: a settle lost to a power failure is sent again). */
export type RunTransaction = <T>(fn: (trx: Db) => Promise<T>) => Promise<T>;

export class Settler {
  readonly #transaction: RunTransaction;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #events: SettlerEvents;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  #queue: Waiting[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(transaction: RunTransaction, clock: Clock, log: Logger, events: SettlerEvents, options: { maxBatch?: number; maxDelayMs?: number } = {}) {
    this.#transaction = transaction;
    this.#clock = clock;
    this.#log = log;
    this.#events = events;
    this.#maxBatch = options.maxBatch ?? 256;
    this.#maxDelayMs = options.maxDelayMs ?? 2;
  }

  /** Resolves once the item is committed. */
  settle(item: SettleItem): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length >= this.#maxBatch) this.#schedule(0);
      else this.#schedule(this.#maxDelayMs);
    });
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== null && delayMs > 0) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, delayMs);
  }

  /** Writes everything queued so far. */
  async drain(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#flushing = this.#flushing.then(() => this.#flush());
    await this.#flushing;
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const { disabled, queued } = await this.#transaction((trx) => this.#write(trx, batch.map((w) => w.item)));
        if (disabled.length > 0) this.#events.onDisabled(disabled);
        if (queued.length > 0) this.#events.onQueued(queued);
        for (const w of batch) {
          this.#events.onSettled(w.item);
          w.resolve();
        }
      } catch (error) {
        const err = coerceError(error);
        this.#log.error({ err, count: batch.length }, 'settling attempts failed; their leases will expire and they will be retried');
        for (const w of batch) w.reject(err);
      }
    }
  }

  async #write(trx: Db, items: SettleItem[]): Promise<{ disabled: string[]; queued: string[] }> {
    const now = this.#clock.now();
    const healthy = new Set<string>();
    const failing = new Map<string, number>();
    const retried: string[] = [];
    const operational: { type: string; data: JsonObject }[] = [];

    const attempts: Extract<SettleItem, { kind: 'attempt' }>[] = [];
    for (const item of items) {
      if (item.kind === 'park') await parkDelivery(trx, item.deliveryId, item.lease, item.status, now);
      else attempts.push(item);
    }
    // All the batch's attempts in a few statements, not two per attempt.
    const keptFlags = await settleAttempts(
      trx,
      attempts.map((a) => a.input),
      now,
    );
    for (const [index, item] of attempts.entries()) {
      const { input } = item;
      if (!keptFlags[index]) continue;
      const outcome = input.settlement.kind;
      if (outcome === 'retry') retried.push(input.deliveryId);
      if (outcome === 'succeeded') {
        healthy.add(item.webhookId);
        failing.delete(item.webhookId);
      } else {
        if (!healthy.has(item.webhookId)) failing.set(item.webhookId, item.autoDisableAfterMs);
      }
      if (input.organizationId === SYSTEM_ORGANIZATION_ID) continue; // never report on the reports
      const about = {
        deliveryId: input.deliveryId,
        eventId: item.eventId,
        webhookId: item.webhookId,
        organizationId: input.organizationId,
        attempts: input.attemptNumber,
        lastError: input.attempt.error,
        lastStatus: input.attempt.responseStatus,
      };
      if (outcome === 'succeeded' && item.wasFailing) operational.push({ type: 'herald.delivery.recovered', data: about });
      if (outcome === 'failed') operational.push({ type: 'herald.delivery.exhausted', data: about });
      if (outcome === 'retry' && input.attemptNumber === FAILING_AFTER_ATTEMPTS) {
        operational.push({ type: 'herald.delivery.failing', data: { ...about, nextAttemptAt: new Date(input.settlement.at).toISOString() } });
      }
    }

    await markWebhooksHealthy(trx, [...healthy], now);
    await markWebhooksFailing(trx, [...failing.keys()], now);
    const disabled: string[] = [];
    // Group by period so each distinct auto-disable setting is one statement.
    const byPeriod = new Map<number, string[]>();
    for (const [id, period] of failing) byPeriod.set(period, [...(byPeriod.get(period) ?? []), id]);
    for (const [period, ids] of byPeriod) {
      for (const w of await disableFailingWebhooks(trx, ids, now - period, now)) {
        disabled.push(w.id);
        await skipPendingDeliveries(trx, w.id, now);
        if (w.organizationId !== SYSTEM_ORGANIZATION_ID) {
          operational.push({
            type: 'herald.webhook.disabled',
            data: { webhookId: w.id, organizationId: w.organizationId, failingSince: new Date(w.failingSince).toISOString() },
          });
        }
      }
    }

    // Disabled while the attempt was in flight (API or auto-disable): park the retry as skipped.
    await skipRetriesOfDisabledWebhooks(trx, retried, now);

    const queued: string[] = [];
    for (const op of operational) {
      const type = OPERATIONAL_EVENT_TYPES.find((t) => t.name === op.type);
      if (!type) continue;
      const result = await recordEvent(trx, { organizationId: SYSTEM_ORGANIZATION_ID, type: op.type, data: op.data }, type, now);
      queued.push(...result.deliveries.map((d) => d.webhookId));
    }
    return { disabled, queued };
  }
}
