import { describe, expect, it } from 'vitest';
import {
  applyRetryAfter,
  DEFAULT_RETRY_POLICY,
  maxAttempts,
  nextRetryDelayMs,
  parseRetryAfter,
  validateRetryPolicy,
} from '../../src/domain/retry-policy.js';
import type { RetryPolicy } from '../../src/domain/types.js';

const middle = () => 0.5; // no jitter
const t0 = 1_700_000_000_000;

describe('DEFAULT_RETRY_POLICY', () => {
  it('is the Svix-like schedule with ±20 % jitter and 8 attempts in all', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      kind: 'schedule',
      delaysS: [5, 300, 1800, 7200, 18000, 36000, 36000],
      jitter: 0.2,
    });
    expect(maxAttempts(DEFAULT_RETRY_POLICY)).toBe(8);
  });

  it('cannot be mutated by accident', () => {
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true);
  });
});

describe('nextRetryDelayMs with a schedule', () => {
  const ctx = (failedAttempts: number, random = middle) => ({ failedAttempts, eventTime: t0, now: t0, random });

  it('uses the delay at index failedAttempts - 1', () => {
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(1))).toBe(5_000);
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(2))).toBe(300_000);
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(7))).toBe(36_000_000);
  });

  it('has no attempt left past the end of the schedule', () => {
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(8))).toBeNull();
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(20))).toBeNull();
  });

  it('spreads delays uniformly over ±jitter', () => {
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(2, () => 0))).toBe(240_000);
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(2, () => 0.75))).toBe(330_000);
    const high = nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(2, () => 0.999999)) as number;
    expect(high).toBeGreaterThan(359_000);
    expect(high).toBeLessThanOrEqual(360_000);
  });

  it('stays within the jitter band with the real random source', () => {
    for (let i = 0; i < 200; i++) {
      const d = nextRetryDelayMs(DEFAULT_RETRY_POLICY, { failedAttempts: 3, eventTime: t0, now: t0 }) as number;
      expect(d).toBeGreaterThanOrEqual(1_440_000);
      expect(d).toBeLessThanOrEqual(2_160_000);
    }
  });

  it('applies no jitter when jitter is 0', () => {
    const policy: RetryPolicy = { kind: 'schedule', delaysS: [1], jitter: 0 };
    expect(nextRetryDelayMs(policy, ctx(1, () => 0))).toBe(1_000);
  });

  it('rejects a failedAttempts below 1', () => {
    expect(() => nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(0))).toThrow(RangeError);
    expect(() => nextRetryDelayMs(DEFAULT_RETRY_POLICY, ctx(1.5))).toThrow(RangeError);
  });
});

describe('nextRetryDelayMs with an exponential policy', () => {
  const vercel: RetryPolicy = { kind: 'exponential', initialS: 60, factor: 2, maxDelayS: 3600, maxAgeS: 86_400, jitter: 0 };

  it('grows by the factor after each failed attempt', () => {
    expect(nextRetryDelayMs(vercel, { failedAttempts: 1, eventTime: t0, now: t0 })).toBe(60_000);
    expect(nextRetryDelayMs(vercel, { failedAttempts: 2, eventTime: t0, now: t0 })).toBe(120_000);
    expect(nextRetryDelayMs(vercel, { failedAttempts: 4, eventTime: t0, now: t0 })).toBe(480_000);
  });

  it('caps the delay at maxDelayS', () => {
    expect(nextRetryDelayMs(vercel, { failedAttempts: 10, eventTime: t0, now: t0 })).toBe(3_600_000);
    expect(nextRetryDelayMs(vercel, { failedAttempts: 500, eventTime: t0, now: t0 })).toBe(3_600_000);
  });

  it('jitters the capped delay', () => {
    const policy: RetryPolicy = { ...vercel, jitter: 0.5 };
    expect(nextRetryDelayMs(policy, { failedAttempts: 1, eventTime: t0, now: t0, random: () => 0 })).toBe(30_000);
  });

  it('puts the last attempt exactly at the maximum age when the next delay would overshoot it', () => {
    const now = t0 + 86_400_000 - 600_000; // 10 minutes before the deadline
    expect(nextRetryDelayMs(vercel, { failedAttempts: 10, eventTime: t0, now })).toBe(600_000);
  });

  it('has no attempt left once the event is older than the maximum age', () => {
    expect(nextRetryDelayMs(vercel, { failedAttempts: 3, eventTime: t0, now: t0 + 86_400_000 })).toBeNull();
    expect(nextRetryDelayMs(vercel, { failedAttempts: 3, eventTime: t0, now: t0 + 90_000_000 })).toBeNull();
  });

  it('has a bounded number of attempts over the whole window', () => {
    let now = t0;
    let attempts = 1;
    for (;;) {
      const d = nextRetryDelayMs(vercel, { failedAttempts: attempts, eventTime: t0, now });
      if (d === null) break;
      now += d;
      attempts += 1;
    }
    expect(now).toBe(t0 + 86_400_000);
    expect(attempts).toBeLessThan(40);
  });
});

describe('nextRetryDelayMs with no retries', () => {
  it('never schedules another attempt', () => {
    expect(nextRetryDelayMs({ kind: 'none' }, { failedAttempts: 1, eventTime: t0, now: t0 })).toBeNull();
  });
});

describe('applyRetryAfter', () => {
  it('keeps the schedule when the receiver gives no Retry-After', () => {
    expect(applyRetryAfter(5_000, null)).toBe(5_000);
  });

  it('waits longer when the receiver asks, up to twice the planned delay', () => {
    expect(applyRetryAfter(5_000, 7_000)).toBe(7_000);
    expect(applyRetryAfter(5_000, 60_000)).toBe(10_000);
  });

  it('never retries sooner than planned', () => {
    expect(applyRetryAfter(5_000, 1_000)).toBe(5_000);
    expect(applyRetryAfter(5_000, 0)).toBe(5_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', now)).toBe(90_000);
  });

  it('uses the first of several header values', () => {
    expect(parseRetryAfter(['30', '60'], now)).toBe(30_000);
  });

  it('returns null when absent, malformed, negative or in the past', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter([], now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('1.5', now)).toBeNull();
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBeNull();
  });
});

describe('maxAttempts', () => {
  it('counts the first attempt plus one per scheduled delay', () => {
    expect(maxAttempts({ kind: 'schedule', delaysS: [1, 2], jitter: 0 })).toBe(3);
  });

  it('is 1 without retries and unbounded (null) for time-bounded exponential retries', () => {
    expect(maxAttempts({ kind: 'none' })).toBe(1);
    expect(maxAttempts({ kind: 'exponential', initialS: 1, factor: 2, maxDelayS: 10, maxAgeS: 100, jitter: 0 })).toBeNull();
  });
});

describe('validateRetryPolicy', () => {
  it('accepts the default and sensible policies', () => {
    expect(validateRetryPolicy(DEFAULT_RETRY_POLICY)).toEqual([]);
    expect(validateRetryPolicy({ kind: 'none' })).toEqual([]);
    expect(
      validateRetryPolicy({ kind: 'exponential', initialS: 1, factor: 2, maxDelayS: 10, maxAgeS: 100, jitter: 0.1 }),
    ).toEqual([]);
  });

  it('reports negative delays, out-of-range jitter and inconsistent exponential settings', () => {
    expect(validateRetryPolicy({ kind: 'schedule', delaysS: [-1], jitter: 2 })).toHaveLength(2);
    expect(
      validateRetryPolicy({ kind: 'exponential', initialS: 0, factor: 0.5, maxDelayS: -1, maxAgeS: 0, jitter: 0 }),
    ).toHaveLength(4);
  });
});
