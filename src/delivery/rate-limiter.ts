/**
 * Token buckets per webhook: `rate` requests per second with a burst of one
 * second's worth (at least one request). Held in memory by the process that sends.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** How many requests may start now (at most `want`), taking them from the bucket. */
  take(key: string, rate: number | null, want: number, now: number): number {
    if (rate === null || rate <= 0) return want;
    // At least one whole token of burst, or a rate below 1/s would never grant a request.
    const burst = Math.max(1, rate);
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    const granted = Math.max(0, Math.min(want, Math.floor(bucket.tokens)));
    bucket.tokens -= granted;
    this.#buckets.set(key, bucket);
    return granted;
  }

  /** Gives back tokens that were taken but not used (fewer rows were due than asked). */
  refund(key: string, count: number): void {
    const bucket = this.#buckets.get(key);
    if (bucket && count > 0) bucket.tokens += count;
  }

  /** When the next token arrives, for the dispatcher's sleep. */
  nextTokenAt(key: string, rate: number | null, now: number): number {
    const bucket = this.#buckets.get(key);
    if (rate === null || rate <= 0 || !bucket || bucket.tokens >= 1) return now;
    return now + Math.ceil(((1 - bucket.tokens) / rate) * 1000);
  }
}
