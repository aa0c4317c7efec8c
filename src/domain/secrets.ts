/**
 * Webhook signing secrets in Standard Webhooks serialization:
 * - `whsec_` + base64 of random bytes: symmetric HMAC-SHA256 secret (`v1` signatures);
 * - `whsk_` + base64 of an ed25519 secret key / `whpk_` + base64 of its public key (`v1a`).
 *
 * Key encoding choice: the spec only says "standard ed25519 key pair, base64 encoded". Herald
 * writes `whsk_` as the 64-byte libsodium/Go form (32-byte seed followed by the 32-byte public
 * key), which is what Svix's server stores, and `whpk_` as the 32-byte raw public key. When
 * reading, `whsk_` may be either 64 bytes or the bare 32-byte seed.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const WHSEC_PREFIX = 'whsec_';
export const WHSK_PREFIX = 'whsk_';
export const WHPK_PREFIX = 'whpk_';

// DER prefixes that wrap a raw 32-byte ed25519 seed (PKCS#8) or public key (SPKI):
// Node 20 cannot import raw ed25519 keys directly.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (with padding); null when `text` is not exactly that. */
export function decodeBase64Strict(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

/** A new symmetric secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return WHSEC_PREFIX + randomBytes(32).toString('base64');
}

/** `whsec_` + base64 of 24 to 64 bytes (the Standard Webhooks range Herald accepts on import). */
export function isWhsecSecret(s: string): boolean {
  if (!s.startsWith(WHSEC_PREFIX)) return false;
  const bytes = decodeBase64Strict(s.slice(WHSEC_PREFIX.length));
  return bytes !== null && bytes.length >= 24 && bytes.length <= 64;
}

/**
 * The HMAC key of a secret: for `whsec_…` the base64-decoded bytes (Standard Webhooks), for any
 * other string its UTF-8 bytes (Vercel-style and GitHub-style secrets are used as plain text).
 */
export function hmacKeyBytes(secret: string): Buffer {
  return secret.startsWith(WHSEC_PREFIX)
    ? Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

function privateKeyFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** A new ed25519 signing key pair (`whsk_…` stays in Herald, `whpk_…` goes to the receiver). */
export function generateSigningKeyPair(): { secretKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = der.subarray(der.length - 32);
  const pub = rawPublicKey(publicKey);
  return {
    secretKey: WHSK_PREFIX + Buffer.concat([seed, pub]).toString('base64'),
    publicKey: WHPK_PREFIX + pub.toString('base64'),
  };
}

/**
 * The ed25519 private KeyObject of a `whsk_` key. Throws when malformed, or when a 64-byte key's
 * public half does not belong to its seed.
 */
export function signingPrivateKey(secretKey: string): KeyObject {
  const bytes = secretKey.startsWith(WHSK_PREFIX) ? decodeBase64Strict(secretKey.slice(WHSK_PREFIX.length)) : null;
  if (bytes === null || (bytes.length !== 32 && bytes.length !== 64)) {
    throw new TypeError('not a whsk_ signing key (expected whsk_ + base64 of 32 or 64 bytes)');
  }
  const key = privateKeyFromSeed(bytes.subarray(0, 32));
  if (bytes.length === 64 && !rawPublicKey(createPublicKey(key)).equals(bytes.subarray(32))) {
    throw new TypeError('whsk_ signing key: public half does not match the seed');
  }
  return key;
}

/** The ed25519 public KeyObject of a `whpk_` key (or of the public half of a `whsk_` key). */
export function signingPublicKey(key: string): KeyObject {
  if (key.startsWith(WHSK_PREFIX)) return createPublicKey(signingPrivateKey(key));
  const bytes = key.startsWith(WHPK_PREFIX) ? decodeBase64Strict(key.slice(WHPK_PREFIX.length)) : null;
  if (bytes === null || bytes.length !== 32) {
    throw new TypeError('not a whpk_ public key (expected whpk_ + base64 of 32 bytes)');
  }
  return publicKeyFromRaw(bytes);
}

/** The `whpk_` public key that verifies what a `whsk_` key signs. */
export function publicKeyFor(secretKey: string): string {
  return WHPK_PREFIX + rawPublicKey(createPublicKey(signingPrivateKey(secretKey))).toString('base64');
}

/** A well-formed `whsk_` signing key. */
export function isSigningSecretKey(s: string): boolean {
  try {
    signingPrivateKey(s);
    return true;
  } catch {
    return false;
  }
}

/** A well-formed `whpk_` public key. */
export function isSigningPublicKey(s: string): boolean {
  if (!s.startsWith(WHPK_PREFIX)) return false;
  try {
    signingPublicKey(s);
    return true;
  } catch {
    return false;
  }
}
