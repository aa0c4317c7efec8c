/** No signature (Convocore): nothing is added, and every request verifies. */
import type { VerifyResult } from './shared.js';

export function signNone(): Record<string, string> {
  return {};
}

export function verifyNone(): VerifyResult {
  return { ok: true };
}
