/** Svix: Standard Webhooks signatures under `svix-*` header names (Svix predates the standard). */
import { signTimestamped, verifyTimestamped } from './standard-webhooks.js';
import type { TimestampedHeaderNames } from './standard-webhooks.js';
import type { SignInput, VerifyInput, VerifyResult } from './shared.js';

export const SVIX_HEADERS: TimestampedHeaderNames = Object.freeze({
  id: 'svix-id',
  timestamp: 'svix-timestamp',
  signature: 'svix-signature',
});

export function signSvix(input: SignInput): Record<string, string> {
  return signTimestamped(SVIX_HEADERS, input);
}

export function verifySvix(input: VerifyInput): VerifyResult {
  return verifyTimestamped(SVIX_HEADERS, input);
}
