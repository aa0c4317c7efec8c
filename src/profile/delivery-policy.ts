/**
 * Turns the optional, file-friendly spelling of a delivery policy (profile `delivery:` or a
 * webhook's retry override) into the complete domain types, filling the documented defaults.
 */
import { DEFAULT_RETRY_POLICY } from '../domain/retry-policy.js';
import type { DeliveryPolicy, RetryPolicy, SuccessRule } from '../domain/types.js';
import type { DeliveryPolicyInput, RetryPolicyInput, SuccessRuleInput } from './profile-schema.js';

/** Defaults of `delivery:` keys other than `retry` (whose default is DEFAULT_RETRY_POLICY). */
export const DELIVERY_POLICY_DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  success: Object.freeze({ kind: '2xx' }) as Readonly<SuccessRule>,
  rotationGraceS: 86_400,
  autoDisableAfterS: 432_000,
  concurrency: 10,
});

/** Jitter when a retry policy does not give one: ±20 %. */
export const DEFAULT_RETRY_JITTER = 0.2;

/** Defaults of an `exponential` retry policy's optional fields: 1 min doubling, capped at 1 h, for 24 h (Vercel). */
export const EXPONENTIAL_RETRY_DEFAULTS = Object.freeze({ initialS: 60, factor: 2, maxDelayS: 3600, maxAgeS: 86_400 });

export function normalizeRetryPolicy(input: RetryPolicyInput): RetryPolicy {
  switch (input.kind) {
    case 'schedule':
      return { kind: 'schedule', delaysS: [...input.delaysS], jitter: input.jitter ?? DEFAULT_RETRY_JITTER };
    case 'exponential':
      return {
        kind: 'exponential',
        initialS: input.initialS ?? EXPONENTIAL_RETRY_DEFAULTS.initialS,
        factor: input.factor ?? EXPONENTIAL_RETRY_DEFAULTS.factor,
        maxDelayS: input.maxDelayS ?? EXPONENTIAL_RETRY_DEFAULTS.maxDelayS,
        maxAgeS: input.maxAgeS ?? EXPONENTIAL_RETRY_DEFAULTS.maxAgeS,
        jitter: input.jitter ?? DEFAULT_RETRY_JITTER,
      };
    case 'none':
      return { kind: 'none' };
  }
}

export function normalizeSuccessRule(input: SuccessRuleInput): SuccessRule {
  return input === '2xx' ? { kind: '2xx' } : { kind: 'statuses', statuses: [...new Set(input)] };
}

function cloneRetry(policy: RetryPolicy): RetryPolicy {
  return policy.kind === 'schedule' ? { ...policy, delaysS: [...policy.delaysS] } : { ...policy };
}

export function normalizeDeliveryPolicy(input: DeliveryPolicyInput | undefined): DeliveryPolicy {
  const d = input ?? {};
  return {
    timeoutMs: d.timeoutMs ?? DELIVERY_POLICY_DEFAULTS.timeoutMs,
    // Copied so that freezing a profile never freezes (or shares) the shared default.
    retry: d.retry ? normalizeRetryPolicy(d.retry) : cloneRetry(DEFAULT_RETRY_POLICY),
    success: d.success !== undefined ? normalizeSuccessRule(d.success) : { kind: '2xx' },
    rotationGraceS: d.rotationGraceS ?? DELIVERY_POLICY_DEFAULTS.rotationGraceS,
    autoDisableAfterS: d.autoDisableAfterS ?? DELIVERY_POLICY_DEFAULTS.autoDisableAfterS,
    concurrency: d.concurrency ?? DELIVERY_POLICY_DEFAULTS.concurrency,
  };
}
