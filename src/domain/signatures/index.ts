/**
 * Signature schemes: the sender side (`signRequest`, on the delivery hot path) and the receiver
 * side (`verifyRequest`, for `herald listen`, `herald verify` and the exported receiver helper).
 */
import type { SignatureScheme } from '../types.js';
import { signHeaderSecret, verifyHeaderSecret } from './header-secret.js';
import { signHmac, verifyHmac } from './hmac.js';
import { signNone, verifyNone } from './none.js';
import type { SignInput, VerifyInput, VerifyResult } from './shared.js';
import { signStandardWebhooks, STANDARD_WEBHOOKS_HEADERS, verifyStandardWebhooks } from './standard-webhooks.js';
import { signSvix, SVIX_HEADERS, verifySvix } from './svix.js';

export type { HeaderBag, SignInput, VerifyInput, VerifyResult } from './shared.js';
export { DEFAULT_TOLERANCE_S } from './shared.js';
export { STANDARD_WEBHOOKS_HEADERS, timestampedSignatures } from './standard-webhooks.js';
export type { TimestampedHeaderNames } from './standard-webhooks.js';
export { SVIX_HEADERS } from './svix.js';

/**
 * Headers to add to a delivery request (lower-case names). `secrets[0]` is the current secret;
 * later ones are previous secrets still in their grace period (only the timestamped schemes
 * send a signature for each). Throws when the scheme needs a secret and none is given.
 */
export function signRequest(scheme: SignatureScheme, input: SignInput): Record<string, string> {
  switch (scheme.scheme) {
    case 'standard-webhooks':
      return signStandardWebhooks(input);
    case 'svix':
      return signSvix(input);
    case 'hmac':
      return signHmac(scheme, input);
    case 'header-secret':
      return signHeaderSecret(scheme, input);
    case 'none':
      return signNone();
  }
}

/** Receiver side: does this request carry a valid signature for one of `secrets`? */
export function verifyRequest(scheme: SignatureScheme, input: VerifyInput): VerifyResult {
  switch (scheme.scheme) {
    case 'standard-webhooks':
      return verifyStandardWebhooks(input);
    case 'svix':
      return verifySvix(input);
    case 'hmac':
      return verifyHmac(scheme, input);
    case 'header-secret':
      return verifyHeaderSecret(scheme, input);
    case 'none':
      return verifyNone();
  }
}

/**
 * Lower-case names of the headers a scheme sets: webhooks' custom headers must not override them.
 */
export function signatureHeaderNames(scheme: SignatureScheme): string[] {
  switch (scheme.scheme) {
    case 'standard-webhooks':
      return Object.values(STANDARD_WEBHOOKS_HEADERS);
    case 'svix':
      return Object.values(SVIX_HEADERS);
    case 'hmac':
    case 'header-secret':
      return [scheme.header.toLowerCase()];
    case 'none':
      return [];
  }
}
