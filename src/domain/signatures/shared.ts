/**
 * Pieces every signature scheme uses: per-secret key caches (decoding base64 and building
 * KeyObjects once, not per delivery), case-insensitive header lookup and constant-time comparison.
 */
import { createHash, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { hmacKeyBytes, signingPrivateKey, signingPublicKey } from '../secrets.js';

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface SignInput {
  /** The delivery id (stable across retries). */
  id: string;
  /** Attempt time, unix seconds. */
  timestampS: number;
  /** The exact bytes sent, as a string. */
  body: string;
  /** `[current, ...previous still in their grace period]`. */
  secrets: readonly string[];
}

export interface VerifyInput {
  /** Request headers, any case. */
  headers: HeaderBag;
  /** The raw body as received. */
  body: string | Buffer;
  /** Secrets to accept: `whsec_…`, `whpk_…` (or `whsk_…`) keys, or plain strings. */
  secrets: readonly string[];
  /** Allowed clock difference for timestamped schemes; default 300 s. */
  toleranceS?: number;
  /** Receiver clock, epoch ms; default Date.now(). */
  now?: number;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

export const DEFAULT_TOLERANCE_S = 300;

// Bounded: the set of live secrets is small, but a long-running process sees rotations.
const CACHE_LIMIT = 1000;

function cached<T>(cache: Map<string, T>, key: string, make: (key: string) => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = make(key);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, value);
  }
  return value;
}

const hmacKeys = new Map<string, KeyObject>();
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();

/** HMAC KeyObject of a secret (see hmacKeyBytes for how the string becomes bytes). */
export function hmacKey(secret: string): KeyObject {
  return cached(hmacKeys, secret, (s) => createSecretKey(hmacKeyBytes(s)));
}

/** ed25519 private KeyObject of a `whsk_` key. */
export function ed25519PrivateKey(secretKey: string): KeyObject {
  return cached(privateKeys, secretKey, signingPrivateKey);
}

/** ed25519 public KeyObject of a `whpk_` (or `whsk_`) key. */
export function ed25519PublicKey(key: string): KeyObject {
  return cached(publicKeys, key, signingPublicKey);
}

/** The current secret; schemes that sign with one secret need at least one. */
export function currentSecret(secrets: readonly string[], scheme: string): string {
  const secret = secrets[0];
  if (secret === undefined || secret === '') throw new Error(`${scheme} signing needs a secret`);
  return secret;
}

/**
 * Header values by lower-cased name. Repeated headers (arrays, or the same name in two cases)
 * are all kept, in order.
 */
export function headerValues(headers: HeaderBag, name: string): string[] {
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    const value = headers[key];
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) out.push(...value);
  }
  return out;
}

/** Exactly one value for a header, or an explanation why not. */
export function singleHeader(headers: HeaderBag, name: string): { value: string } | { reason: string } {
  const values = headerValues(headers, name);
  if (values.length === 0 || values[0] === '') return { reason: `missing ${name} header` };
  if (values.length > 1) return { reason: `more than one ${name} header` };
  return { value: values[0] as string };
}

/** Constant-time equality of two byte strings (length is not secret for digests of fixed size). */
export function bytesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time equality of two secrets of any length: compares SHA-256 digests. */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

export function toBuffer(body: string | Buffer): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}
