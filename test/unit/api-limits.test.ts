import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/api/json-depth.js';
import { ApiRateLimiter } from '../../src/api/rate-limit.js';

describe('API rate limiter: a token bucket per caller', () => {
  it('allows a burst, then the rate, and says when to come back', () => {
    let now = 0;
    const limiter = new ApiRateLimiter({ rate: 2, burst: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    // Another caller has a bucket of its own.
    expect(limiter.take('b').ok).toBe(true);
    now += 500; // one token back at 2/s
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    now += 60_000; // refills to the burst, not beyond
    expect([1, 2, 3, 4].map(() => limiter.take('a').ok)).toEqual([true, true, true, false]);
  });

  it('rounds the wait up to whole seconds, at least one, for slow rates', () => {
    const fast = new ApiRateLimiter({ rate: 1000, burst: 1, now: () => 0 });
    fast.take('a');
    expect(fast.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    const slow = new ApiRateLimiter({ rate: 0.5, burst: 1, now: () => 0 });
    slow.take('a');
    expect(slow.take('a')).toEqual({ ok: false, retryAfterS: 2 });
  });

  it('is off at rate 0', () => {
    const limiter = new ApiRateLimiter({ rate: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take('a').ok).toBe(true);
  });

  it('forgets idle callers when it holds too many', () => {
    let now = 0;
    const limiter = new ApiRateLimiter({ rate: 1000, burst: 1, now: () => now, maxBuckets: 10 });
    for (let i = 0; i < 10; i++) limiter.take(`caller-${i}`);
    now += 10;
    for (let i = 10; i < 1000; i++) expect(limiter.take(`caller-${i}`).ok).toBe(true);
  });
});

describe('JSON depth', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
    return value;
  };

  it('counts levels of objects and arrays, without recursion however deep', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 1)).toBe(true);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), MAX_JSON_DEPTH)).toBe(true);
  });
});
