import { randomBytes } from 'node:crypto';
import { generateSigningKeyPair, generateWebhookSecret } from '../domain/secrets.js';
import type { Format } from '../domain/types.js';

/** A fresh secret of the kind the format's scheme uses. */
export function newSecretFor(format: Format, signing: 'hmac' | 'ed25519'): string {
  if (signing === 'ed25519') return generateSigningKeyPair().secretKey;
  const scheme = format.signature.scheme;
  if (scheme === 'standard-webhooks' || scheme === 'svix') return generateWebhookSecret();
  // Plain-string schemes (hmac, header-secret) key with the secret's text as the receiver holds it.
  return randomBytes(24).toString('hex');
}
