/**
 * The secret itself in a header (Qovery's `Qovery-Secret`). Weak (no integrity, replayable) but
 * that is what such receivers check; only the current secret is sent.
 */
import type { SignatureScheme } from '../types.js';
import { currentSecret, secretsEqual, singleHeader } from './shared.js';
import type { SignInput, VerifyInput, VerifyResult } from './shared.js';

export type HeaderSecretScheme = Extract<SignatureScheme, { scheme: 'header-secret' }>;

export function signHeaderSecret(scheme: HeaderSecretScheme, input: SignInput): Record<string, string> {
  return { [scheme.header.toLowerCase()]: currentSecret(input.secrets, 'header-secret') };
}

export function verifyHeaderSecret(scheme: HeaderSecretScheme, input: VerifyInput): VerifyResult {
  const header = singleHeader(input.headers, scheme.header);
  if ('reason' in header) return { ok: false, reason: header.reason };
  // Check every secret (no early exit) so timing does not reveal which one matched.
  let ok = false;
  for (const secret of input.secrets) if (secretsEqual(header.value, secret)) ok = true;
  return ok ? { ok: true } : { ok: false, reason: 'secret does not match' };
}
