import type { Webhook, WebhookSecrets } from '../domain/types.js';

export interface CachedWebhook {
  webhook: Webhook;
  secrets: WebhookSecrets;
}

/**
 * Webhooks as the dispatcher sees them, read at most once per `maxAgeMs`.
 * The API invalidates an entry when it changes a webhook in this process;
 * other processes see the change when the entry ages out.
 */
export class WebhookCache {
  readonly #load: (id: string) => Promise<CachedWebhook | null>;
  readonly #maxAgeMs: number;
  readonly #entries = new Map<string, { value: CachedWebhook | null; at: number }>();

  constructor(load: (id: string) => Promise<CachedWebhook | null>, options: { maxAgeMs?: number } = {}) {
    this.#load = load;
    this.#maxAgeMs = options.maxAgeMs ?? 1_000;
  }

  async get(id: string): Promise<CachedWebhook | null> {
    const now = Date.now();
    const entry = this.#entries.get(id);
    if (entry && now - entry.at < this.#maxAgeMs) return entry.value;
    const value = await this.#load(id);
    this.#entries.set(id, { value, at: now });
    return value;
  }

  /** The cached value even if stale, without I/O (for flow control on the hot path). */
  peek(id: string): CachedWebhook | null | undefined {
    return this.#entries.get(id)?.value;
  }

  invalidate(id: string): void {
    this.#entries.delete(id);
  }
}
