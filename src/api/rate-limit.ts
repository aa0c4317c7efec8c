/**
 * The API's rate limit: a token bucket per caller (per API token, the admin
 * token included), `rate` requests per second with room for `burst` at once.
 * Buckets live in the process: N API processes allow N times the rate.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

export interface ApiRateLimitOptions {
  /** Requests per second per caller; 0 turns the limit off. */
  rate: number;
  /** Bucket size. */
  burst: number;
  /** Milliseconds, monotonic. @defaultValue performance.now */
  now?: () => number;
  /** Idle buckets are dropped once there are more than this. @defaultValue 10000 */
  maxBuckets?: number;
}

export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterS: number };

export class ApiRateLimiter {
  readonly rate: number;
  readonly burst: number;
  readonly #now: () => number;
  readonly #maxBuckets: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: ApiRateLimitOptions) {
    this.rate = options.rate;
    this.burst = Math.max(1, options.burst);
    this.#now = options.now ?? (() => performance.now());
    this.#maxBuckets = options.maxBuckets ?? 10_000;
  }

  /** Takes one request from `key`'s bucket. */
  take(key: string): TakeResult {
    if (this.rate <= 0) return { ok: true, remaining: Infinity };
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxBuckets) this.#prune(now);
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate)) };
  }

  /** Drops buckets that have refilled completely: forgetting them changes nothing. */
  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.rate >= this.burst) this.#buckets.delete(key);
    }
  }
}

/** onRequest hook, after authentication: callers without a principal (public routes) are not limited. */
export function rateLimitHook(limiter: ApiRateLimiter) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (limiter.rate <= 0 || request.principal === null) return;
    const taken = limiter.take(`${request.principal.kind}:${request.principal.id}`);
    if (taken.ok) {
      void reply.header('ratelimit-limit', String(limiter.rate)).header('ratelimit-remaining', String(taken.remaining));
      return;
    }
    throw new HeraldError(
      429,
      'rate_limited',
      `this token made more than ${limiter.rate} requests per second (bursts up to ${limiter.burst}); retry after ${taken.retryAfterS} s`,
      [{ retryAfterS: taken.retryAfterS }],
    );
  };
}
