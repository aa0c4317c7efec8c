/**
 * When the next attempt of a delivery happens after a failed one.
 * All times are epoch ms; policy durations are seconds (as written in profiles).
 */
import type { RetryPolicy } from './types.js';

/** Svix-like default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h with ±20 % jitter (8 attempts in all). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  kind: 'schedule',
  delaysS: Object.freeze([5, 300, 1800, 7200, 18000, 36000, 36000]) as number[],
  jitter: 0.2,
}) as RetryPolicy;

export interface RetryContext {
  /** Attempts made so far (all failed), ≥ 1. */
  failedAttempts: number;
  /** When the event happened (epoch ms); bounds the exponential policy's maximum age. */
  eventTime: number;
  /** Current time (epoch ms). */
  now: number;
  /** Uniform in [0, 1); defaults to Math.random. Tests pass a constant. */
  random?: () => number;
}

function jittered(delayMs: number, jitter: number, random: () => number): number {
  if (jitter <= 0) return Math.round(delayMs);
  // random() in [0,1) maps to a factor in [1-j, 1+j).
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.round(delayMs * factor));
}

/**
 * Delay in ms before the next attempt, or null when no attempt is left.
 * - schedule: `delaysS[failedAttempts-1]`, jittered; null past the end of the list.
 * - exponential: `initialS * factor^(failedAttempts-1)`, capped at maxDelayS, then jittered.
 *   The event must not be retried past `eventTime + maxAgeS`: when the computed delay would
 *   overshoot that deadline, the last attempt is placed exactly on the deadline (if it is
 *   still in the future), so the full retry window is used; once the deadline has passed, null.
 * - none: always null.
 */
export function nextRetryDelayMs(policy: RetryPolicy, ctx: RetryContext): number | null {
  const n = ctx.failedAttempts;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`failedAttempts must be an integer >= 1, got ${n}`);
  }
  const random = ctx.random ?? Math.random;
  switch (policy.kind) {
    case 'none':
      return null;
    case 'schedule': {
      const delayS = policy.delaysS[n - 1];
      if (delayS === undefined) return null;
      return jittered(delayS * 1000, policy.jitter, random);
    }
    case 'exponential': {
      const deadline = ctx.eventTime + policy.maxAgeS * 1000;
      if (deadline <= ctx.now) return null;
      const baseS = Math.min(policy.initialS * policy.factor ** (n - 1), policy.maxDelayS);
      const delay = jittered(baseS * 1000, policy.jitter, random);
      return ctx.now + delay > deadline ? deadline - ctx.now : delay;
    }
  }
}

/**
 * Honour a receiver's `Retry-After` within the schedule: never sooner than planned, and never
 * more than twice the planned delay (a receiver cannot park a delivery indefinitely).
 */
export function applyRetryAfter(scheduledMs: number, retryAfterMs: number | null): number {
  if (retryAfterMs === null || !Number.isFinite(retryAfterMs)) return scheduledMs;
  return Math.min(Math.max(retryAfterMs, scheduledMs), 2 * scheduledMs);
}

/**
 * A `Retry-After` header value as a delay in ms: delta-seconds (`120`) or an HTTP date.
 * null when absent, malformed, negative or in the past. With several values, the first counts.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text === '') return null;
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isFinite(seconds) ? seconds * 1000 : null;
  }
  // Anything number-like but not plain digits (`-5`, `1.5`, `+3`) is not valid delta-seconds.
  if (/^[+-]?[\d.]+$/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  const delay = at - now;
  return delay >= 0 ? delay : null;
}

/** Total attempts a policy allows (first one included); null when bounded by time instead (exponential). */
export function maxAttempts(policy: RetryPolicy): number | null {
  switch (policy.kind) {
    case 'schedule':
      return policy.delaysS.length + 1;
    case 'none':
      return 1;
    case 'exponential':
      return null;
  }
}

/** Human-readable problems with a policy (empty when valid); for profile and API validation. */
export function validateRetryPolicy(policy: RetryPolicy): string[] {
  const problems: string[] = [];
  const finiteNonNegative = (v: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const checkJitter = (j: number): void => {
    if (!finiteNonNegative(j) || j > 1) problems.push('jitter must be a number between 0 and 1');
  };
  switch (policy.kind) {
    case 'none':
      break;
    case 'schedule':
      if (!Array.isArray(policy.delaysS)) problems.push('delaysS must be a list of seconds');
      else if (!policy.delaysS.every(finiteNonNegative)) problems.push('delaysS must hold non-negative numbers');
      checkJitter(policy.jitter);
      break;
    case 'exponential':
      if (!finiteNonNegative(policy.initialS) || policy.initialS === 0) problems.push('initialS must be > 0');
      if (!finiteNonNegative(policy.factor) || policy.factor < 1) problems.push('factor must be >= 1');
      if (!finiteNonNegative(policy.maxDelayS) || policy.maxDelayS < policy.initialS) {
        problems.push('maxDelayS must be >= initialS');
      }
      if (!finiteNonNegative(policy.maxAgeS) || policy.maxAgeS === 0) problems.push('maxAgeS must be > 0');
      checkJitter(policy.jitter);
      break;
    default:
      problems.push(`unknown retry policy kind ${JSON.stringify((policy as { kind: unknown }).kind)}`);
  }
  return problems;
}
