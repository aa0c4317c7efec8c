/**
 * Standard Webhooks (https://www.standardwebhooks.com): signs `${id}.${timestamp}.${body}`.
 * One signature per secret, space separated: `v1,<base64 HMAC-SHA256>` for symmetric secrets,
 * `v1a,<base64 ed25519>` for `whsk_` keys. Sending one per live secret is what makes rotation
 * seamless: the receiver accepts the request with either its old or its new secret.
 */
import { createHmac, sign, verify } from 'node:crypto';
import { decodeBase64Strict, WHPK_PREFIX, WHSK_PREFIX } from '../secrets.js';
import {
  bytesEqual,
  DEFAULT_TOLERANCE_S,
  ed25519PrivateKey,
  ed25519PublicKey,
  headerValues,
  hmacKey,
  singleHeader,
  toBuffer,
} from './shared.js';
import type { SignInput, VerifyInput, VerifyResult } from './shared.js';

export interface TimestampedHeaderNames {
  id: string;
  timestamp: string;
  signature: string;
}

export const STANDARD_WEBHOOKS_HEADERS: TimestampedHeaderNames = Object.freeze({
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
});

function isAsymmetric(secret: string): boolean {
  return secret.startsWith(WHSK_PREFIX) || secret.startsWith(WHPK_PREFIX);
}

/** The signature header value: one `v1,…` / `v1a,…` entry per secret, in the order given. */
export function timestampedSignatures(input: SignInput): string {
  if (!Number.isSafeInteger(input.timestampS) || input.timestampS < 0) {
    throw new RangeError(`timestampS must be whole unix seconds, got ${input.timestampS}`);
  }
  if (input.secrets.length === 0) throw new Error('signing needs at least one secret');
  const content = `${input.id}.${input.timestampS}.${input.body}`;
  let contentBytes: Buffer | null = null;
  let out = '';
  for (const secret of input.secrets) {
    let entry: string;
    if (secret.startsWith(WHSK_PREFIX)) {
      contentBytes ??= Buffer.from(content, 'utf8');
      entry = `v1a,${sign(null, contentBytes, ed25519PrivateKey(secret)).toString('base64')}`;
    } else if (secret.startsWith(WHPK_PREFIX)) {
      throw new Error('cannot sign with a whpk_ public key');
    } else {
      entry = `v1,${createHmac('sha256', hmacKey(secret)).update(content, 'utf8').digest('base64')}`;
    }
    out = out === '' ? entry : `${out} ${entry}`;
  }
  return out;
}

export function signTimestamped(names: TimestampedHeaderNames, input: SignInput): Record<string, string> {
  return {
    [names.id]: input.id,
    [names.timestamp]: String(input.timestampS),
    [names.signature]: timestampedSignatures(input),
  };
}

export function verifyTimestamped(names: TimestampedHeaderNames, input: VerifyInput): VerifyResult {
  const id = singleHeader(input.headers, names.id);
  if ('reason' in id) return { ok: false, reason: id.reason };
  const ts = singleHeader(input.headers, names.timestamp);
  if ('reason' in ts) return { ok: false, reason: ts.reason };
  if (!/^\d{1,15}$/.test(ts.value)) return { ok: false, reason: `invalid ${names.timestamp} header` };

  const tolerance = input.toleranceS ?? DEFAULT_TOLERANCE_S;
  const nowS = Math.floor((input.now ?? Date.now()) / 1000);
  const timestampS = Number(ts.value);
  if (nowS - timestampS > tolerance) return { ok: false, reason: 'timestamp too old' };
  if (timestampS - nowS > tolerance) return { ok: false, reason: 'timestamp too new' };

  const entries = headerValues(input.headers, names.signature)
    .join(' ')
    .split(' ')
    .filter((e) => e !== '');
  if (entries.length === 0) return { ok: false, reason: `missing ${names.signature} header` };

  // Signed content is built from the header strings as received, over the raw body bytes.
  const prefix = Buffer.from(`${id.value}.${ts.value}.`, 'utf8');
  const body = toBuffer(input.body);
  const expectedHmacs = new Map<string, Buffer>();
  let content: Buffer | null = null;

  for (const entry of entries) {
    const comma = entry.indexOf(',');
    if (comma === -1) continue;
    const version = entry.slice(0, comma);
    const signature = decodeBase64Strict(entry.slice(comma + 1));
    if (signature === null) continue;
    if (version === 'v1') {
      for (const secret of input.secrets) {
        if (isAsymmetric(secret)) continue;
        let expected = expectedHmacs.get(secret);
        if (expected === undefined) {
          expected = createHmac('sha256', hmacKey(secret)).update(prefix).update(body).digest();
          expectedHmacs.set(secret, expected);
        }
        if (bytesEqual(signature, expected)) return { ok: true };
      }
    } else if (version === 'v1a') {
      if (signature.length !== 64) continue;
      content ??= Buffer.concat([prefix, body]);
      for (const secret of input.secrets) {
        if (!isAsymmetric(secret)) continue;
        try {
          if (verify(null, content, ed25519PublicKey(secret), signature)) return { ok: true };
        } catch {
          // A malformed key simply verifies nothing.
        }
      }
    }
    // Unknown versions are skipped, as the spec asks, so new schemes can be added side by side.
  }
  return { ok: false, reason: 'no matching signature' };
}

export function signStandardWebhooks(input: SignInput): Record<string, string> {
  return signTimestamped(STANDARD_WEBHOOKS_HEADERS, input);
}

export function verifyStandardWebhooks(input: VerifyInput): VerifyResult {
  return verifyTimestamped(STANDARD_WEBHOOKS_HEADERS, input);
}
