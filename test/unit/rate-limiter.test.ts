import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/delivery/rate-limiter.js';

const t0 = 1_700_000_000_000;

describe('RateLimiter', () => {
  it('grants everything asked when the webhook has no rate limit', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('wh', null, 50, t0)).toBe(50);
    expect(limiter.take('wh', 0, 50, t0)).toBe(50);
    expect(limiter.take('wh', -1, 50, t0)).toBe(50);
    expect(limiter.nextTokenAt('wh', null, t0)).toBe(t0);
  });

  it('allows a burst of one second of requests, then nothing until tokens refill', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('wh', 5, 100, t0)).toBe(5);
    expect(limiter.take('wh', 5, 100, t0)).toBe(0);
    expect(limiter.take('wh', 5, 100, t0 + 199)).toBe(0);
    expect(limiter.take('wh', 5, 100, t0 + 200)).toBe(1);
  });

  it('never grants more than asked, and keeps the rest for later', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('wh', 10, 3, t0)).toBe(3);
    expect(limiter.take('wh', 10, 100, t0)).toBe(7);
  });

  it('refills at the rate but never beyond one second of burst', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('wh', 4, 4, t0)).toBe(4);
    // An hour idle refills only the 4-token burst.
    expect(limiter.take('wh', 4, 100, t0 + 3_600_000)).toBe(4);
    expect(limiter.take('wh', 4, 100, t0 + 3_600_000 + 500)).toBe(2);
  });

  it('keeps a separate bucket per webhook', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('wh_a', 2, 10, t0)).toBe(2);
    expect(limiter.take('wh_a', 2, 10, t0)).toBe(0);
    expect(limiter.take('wh_b', 2, 10, t0)).toBe(2);
  });

  it('refund gives back tokens that were taken but not used', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('wh', 5, 5, t0)).toBe(5);
    limiter.refund('wh', 3);
    expect(limiter.take('wh', 5, 10, t0)).toBe(3);
    // Refunds to an unknown key or of nothing change nothing.
    limiter.refund('wh_other', 3);
    limiter.refund('wh', 0);
    expect(limiter.take('wh', 5, 10, t0)).toBe(0);
  });

  it('nextTokenAt is now while a token is left, else when the next whole token arrives', () => {
    const limiter = new RateLimiter();
    // A bucket never used is full.
    expect(limiter.nextTokenAt('wh', 2, t0)).toBe(t0);
    limiter.take('wh', 2, 1, t0);
    expect(limiter.nextTokenAt('wh', 2, t0)).toBe(t0);
    limiter.take('wh', 2, 1, t0);
    expect(limiter.nextTokenAt('wh', 2, t0)).toBe(t0 + 500);
    // Partly refilled: only the missing fraction is waited for.
    limiter.take('wh', 2, 1, t0 + 250);
    expect(limiter.nextTokenAt('wh', 2, t0 + 250)).toBe(t0 + 500);
  });

  it('serves a rate below one request per second (one request every 1/rate seconds)', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('wh', 0.5, 10, t0)).toBe(1);
    expect(limiter.take('wh', 0.5, 10, t0 + 1_000)).toBe(0);
    expect(limiter.nextTokenAt('wh', 0.5, t0 + 1_000)).toBe(t0 + 2_000);
    expect(limiter.take('wh', 0.5, 10, t0 + 2_000)).toBe(1);
    // Idle for long: still only one at a time.
    expect(limiter.take('wh', 0.5, 10, t0 + 60_000)).toBe(1);
    expect(limiter.take('wh', 0.5, 10, t0 + 60_000)).toBe(0);
  });
});
