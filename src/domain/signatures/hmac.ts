/**
 * Plain HMAC of the raw body in one header, e.g. Vercel (`x-vercel-signature`, sha1 hex) or
 * GitHub-style (`x-hub-signature-256: sha256=<hex>`). No timestamp, no id: only the current
 * secret signs, because these receivers expect exactly one digest.
 */
import { createHmac } from 'node:crypto';
import type { SignatureScheme } from '../types.js';
import { bytesEqual, currentSecret, hmacKey, singleHeader, toBuffer } from './shared.js';
import type { SignInput, VerifyInput, VerifyResult } from './shared.js';

export type HmacScheme = Extract<SignatureScheme, { scheme: 'hmac' }>;

const DIGEST_BYTES = { sha1: 20, sha256: 32, sha512: 64 } as const;

export function signHmac(scheme: HmacScheme, input: SignInput): Record<string, string> {
  const digest = createHmac(scheme.algorithm, hmacKey(currentSecret(input.secrets, 'hmac')))
    .update(input.body, 'utf8')
    .digest(scheme.encoding);
  return { [scheme.header.toLowerCase()]: scheme.prefix + digest };
}

function decodeDigest(text: string, encoding: HmacScheme['encoding'], bytes: number): Buffer | null {
  if (encoding === 'hex') {
    // Hex digits are compared as bytes, so upper- and lower-case digests are both accepted.
    return text.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(text) ? Buffer.from(text, 'hex') : null;
  }
  const decoded = Buffer.from(text, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === text ? decoded : null;
}

export function verifyHmac(scheme: HmacScheme, input: VerifyInput): VerifyResult {
  const header = singleHeader(input.headers, scheme.header);
  if ('reason' in header) return { ok: false, reason: header.reason };
  if (!header.value.startsWith(scheme.prefix)) {
    return { ok: false, reason: `${scheme.header} does not start with ${JSON.stringify(scheme.prefix)}` };
  }
  const received = decodeDigest(header.value.slice(scheme.prefix.length), scheme.encoding, DIGEST_BYTES[scheme.algorithm]);
  if (received === null) return { ok: false, reason: `malformed ${scheme.header} header` };
  const body = toBuffer(input.body);
  for (const secret of input.secrets) {
    const expected = createHmac(scheme.algorithm, hmacKey(secret)).update(body).digest();
    if (bytesEqual(received, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no matching signature' };
}
