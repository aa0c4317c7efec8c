import type { AttemptErrorClass } from '../domain/types.js';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ABORT_ERR',
]);
/** OpenSSL verify errors whose names do not mention CERT. */
const TLS_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'HOSTNAME_MISMATCH', 'INVALID_CA', 'INVALID_PURPOSE', 'PATH_LENGTH_EXCEEDED']);

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  // Transport errors wrap the system error in `cause`; look a few levels down.
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const e = current as ErrorLike;
    if (typeof e.code === 'string') codes.push(e.code);
    if (typeof e.name === 'string') codes.push(e.name);
    current = e.cause;
  }
  return codes;
}

/** Maps a failed request's error to the class recorded on the attempt. */
export function classifyError(error: unknown): AttemptErrorClass {
  const codes = codesOf(error);
  if (codes.includes('HeraldBlockedError')) return 'blocked';
  if (codes.some((c) => TIMEOUT_CODES.has(c) || c === 'TimeoutError' || c === 'AbortError')) return 'timeout';
  if (codes.some((c) => DNS_CODES.has(c))) return 'dns';
  if (codes.some((c) => c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || c.includes('CERT') || TLS_CODES.has(c)))
    return 'tls';
  return 'connect';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = codesOf(error).find((c) => /^[A-Z_]+$/.test(c));
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
