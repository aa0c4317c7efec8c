import { applyRetryAfter, nextRetryDelayMs, parseRetryAfter } from '../domain/retry-policy.js';
import type { RetryPolicy, SuccessRule } from '../domain/types.js';
import type { Settlement } from '../store/queue/settle.js';
import type { SendResult } from './sender.js';

export function isSuccess(rule: SuccessRule, status: number | null): boolean {
  if (status === null) return false;
  return rule.kind === '2xx' ? status >= 200 && status < 300 : rule.statuses.includes(status);
}

/**
 * What follows an attempt: done, another attempt at a time, or no attempts
 * left. `Retry-After` on 429/503 moves the next attempt, but only within
 * [1x, 2x] the scheduled delay so a receiver cannot stall or rush the schedule.
 * A target refused by the SSRF guard (`blocked`) is not retried.
 */
export function decideSettlement(input: {
  result: SendResult;
  success: SuccessRule;
  retry: RetryPolicy;
  attemptNumber: number;
  eventTime: number;
  now: number;
  random?: () => number;
}): Settlement {
  const { result } = input;
  if (result.error === null && isSuccess(input.success, result.status)) return { kind: 'succeeded' };
  // The SSRF guard refused the target: every retry would be refused again and only
  // fill the attempt log. The delivery fails at once; fix the URL (or the allow-list),
  // then `retry` or `recover` it.
  if (result.error === 'blocked') return { kind: 'failed' };
  const delay = nextRetryDelayMs(input.retry, {
    failedAttempts: input.attemptNumber,
    eventTime: input.eventTime,
    now: input.now,
    ...(input.random ? { random: input.random } : {}),
  });
  if (delay === null) return { kind: 'failed' };
  const throttled = result.status === 429 || result.status === 503;
  const retryAfter = throttled ? parseRetryAfter(result.headers['retry-after'], input.now) : null;
  return { kind: 'retry', at: input.now + applyRetryAfter(delay, retryAfter) };
}
