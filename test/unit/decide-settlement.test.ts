import { describe, expect, it } from 'vitest';
import { decideSettlement, isSuccess } from '../../src/delivery/decide-settlement.js';
import type { SendResult } from '../../src/delivery/sender.js';
import type { RetryPolicy, SuccessRule } from '../../src/domain/types.js';

const t0 = 1_700_000_000_000;
const ANY_2XX: SuccessRule = { kind: '2xx' };
const ONLY_200: SuccessRule = { kind: 'statuses', statuses: [200] };
/** 5 s then 60 s, no jitter: three attempts in all. */
const TWO_RETRIES: RetryPolicy = { kind: 'schedule', delaysS: [5, 60], jitter: 0 };

function answered(status: number, headers: Record<string, string> = {}): SendResult {
  return { status, headers, body: '', durationMs: 12, error: null, errorMessage: null };
}

function settle(result: SendResult, options: { success?: SuccessRule; retry?: RetryPolicy; attemptNumber?: number; eventTime?: number } = {}) {
  return decideSettlement({
    result,
    success: options.success ?? ANY_2XX,
    retry: options.retry ?? TWO_RETRIES,
    attemptNumber: options.attemptNumber ?? 1,
    eventTime: options.eventTime ?? t0,
    now: t0,
    random: () => 0.5,
  });
}

describe('isSuccess', () => {
  it('with the 2xx rule, accepts exactly 200–299', () => {
    for (const status of [200, 201, 202, 204, 299]) expect(isSuccess(ANY_2XX, status), String(status)).toBe(true);
    for (const status of [100, 199, 300, 301, 302, 304, 307, 400, 404, 429, 500, 503]) {
      expect(isSuccess(ANY_2XX, status), String(status)).toBe(false);
    }
  });

  it('with a status list, accepts only the statuses listed', () => {
    expect(isSuccess(ONLY_200, 200)).toBe(true);
    for (const status of [201, 202, 204, 299]) expect(isSuccess(ONLY_200, status), String(status)).toBe(false);
  });

  it('never counts a missing status (no answer) as success', () => {
    expect(isSuccess(ANY_2XX, null)).toBe(false);
    expect(isSuccess(ONLY_200, null)).toBe(false);
  });
});

describe('decideSettlement', () => {
  it('settles any 2xx as succeeded under the 2xx rule', () => {
    expect(settle(answered(200))).toEqual({ kind: 'succeeded' });
    expect(settle(answered(204))).toEqual({ kind: 'succeeded' });
  });

  it('retries a 201 when the rule accepts only 200 (Convocore)', () => {
    expect(settle(answered(200), { success: ONLY_200 })).toEqual({ kind: 'succeeded' });
    expect(settle(answered(201), { success: ONLY_200 })).toEqual({ kind: 'retry', at: t0 + 5_000 });
  });

  it('treats a redirect as a failure, not as success to follow', () => {
    for (const status of [301, 302, 307, 308]) {
      expect(settle(answered(status, { location: 'https://elsewhere.example/' })), String(status)).toEqual({
        kind: 'retry',
        at: t0 + 5_000,
      });
    }
  });

  it('does not count a 2xx as success when the attempt still ended in an error', () => {
    const cut: SendResult = { ...answered(200), error: 'timeout', errorMessage: 'body timeout' };
    expect(settle(cut)).toEqual({ kind: 'retry', at: t0 + 5_000 });
  });

  it('retries a request that got no answer at all', () => {
    const refused: SendResult = { status: null, headers: {}, body: null, durationMs: 1, error: 'connect', errorMessage: 'ECONNREFUSED' };
    expect(settle(refused)).toEqual({ kind: 'retry', at: t0 + 5_000 });
  });

  it('fails at once when the SSRF guard refused the target: no retry storm', () => {
    const blocked: SendResult = { status: null, headers: {}, body: null, durationMs: 0, error: 'blocked', errorMessage: '10.0.0.1 is in 10.0.0.0/8' };
    expect(settle(blocked)).toEqual({ kind: 'failed' });
    expect(settle(blocked, { retry: { kind: 'schedule', delaysS: [1, 1, 1, 1, 1], jitter: 0 } })).toEqual({ kind: 'failed' });
  });

  it('schedules the retry after the delay that follows this attempt', () => {
    expect(settle(answered(500), { attemptNumber: 1 })).toEqual({ kind: 'retry', at: t0 + 5_000 });
    expect(settle(answered(500), { attemptNumber: 2 })).toEqual({ kind: 'retry', at: t0 + 60_000 });
  });

  it('fails the delivery once the schedule is exhausted', () => {
    expect(settle(answered(500), { attemptNumber: 3 })).toEqual({ kind: 'failed' });
    expect(settle(answered(500), { attemptNumber: 10 })).toEqual({ kind: 'failed' });
  });

  it('fails at once under the retry policy none', () => {
    expect(settle(answered(500), { retry: { kind: 'none' } })).toEqual({ kind: 'failed' });
  });

  it('fails when an exponential policy has passed the event’s maximum age', () => {
    const retry: RetryPolicy = { kind: 'exponential', initialS: 10, factor: 2, maxDelayS: 3600, maxAgeS: 86_400, jitter: 0 };
    expect(settle(answered(500), { retry, eventTime: t0 - 1_000 })).toEqual({ kind: 'retry', at: t0 + 10_000 });
    expect(settle(answered(500), { retry, eventTime: t0 - 86_400_000 })).toEqual({ kind: 'failed' });
  });

  it('applies the jitter from the random source it is given', () => {
    const result = decideSettlement({
      result: answered(500),
      success: ANY_2XX,
      retry: { kind: 'schedule', delaysS: [10], jitter: 0.2 },
      attemptNumber: 1,
      eventTime: t0,
      now: t0,
      random: () => 0,
    });
    expect(result).toEqual({ kind: 'retry', at: t0 + 8_000 });
  });

  describe('Retry-After', () => {
    it('moves a 429’s retry to the time the receiver asked for, within twice the planned delay', () => {
      expect(settle(answered(429, { 'retry-after': '7' }))).toEqual({ kind: 'retry', at: t0 + 7_000 });
    });

    it('is honoured on 503 too', () => {
      expect(settle(answered(503, { 'retry-after': '8' }))).toEqual({ kind: 'retry', at: t0 + 8_000 });
    });

    it('understands an HTTP date', () => {
      const at = new Date(t0 + 9_000).toUTCString();
      expect(settle(answered(503, { 'retry-after': at }))).toEqual({ kind: 'retry', at: t0 + 9_000 });
    });

    it('never retries sooner than the schedule', () => {
      expect(settle(answered(429, { 'retry-after': '1' }))).toEqual({ kind: 'retry', at: t0 + 5_000 });
      expect(settle(answered(429, { 'retry-after': '0' }))).toEqual({ kind: 'retry', at: t0 + 5_000 });
    });

    it('never parks a delivery for more than twice the planned delay', () => {
      expect(settle(answered(429, { 'retry-after': '86400' }))).toEqual({ kind: 'retry', at: t0 + 10_000 });
      expect(settle(answered(503, { 'retry-after': '3600' }), { attemptNumber: 2 })).toEqual({ kind: 'retry', at: t0 + 120_000 });
    });

    it('is ignored on statuses other than 429 and 503', () => {
      for (const status of [500, 502, 504, 400, 302]) {
        expect(settle(answered(status, { 'retry-after': '8' })), String(status)).toEqual({ kind: 'retry', at: t0 + 5_000 });
      }
    });

    it('is ignored when malformed', () => {
      expect(settle(answered(429, { 'retry-after': 'soon' }))).toEqual({ kind: 'retry', at: t0 + 5_000 });
      expect(settle(answered(429, { 'retry-after': '-3' }))).toEqual({ kind: 'retry', at: t0 + 5_000 });
    });

    it('cannot buy another attempt once the schedule is exhausted', () => {
      expect(settle(answered(429, { 'retry-after': '7' }), { attemptNumber: 3 })).toEqual({ kind: 'failed' });
    });
  });
});
