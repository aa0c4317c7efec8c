import { describe, expect, it } from 'vitest';
import { classifyError, errorMessage } from '../../src/delivery/classify-error.js';

/** A system error as Node's net/dns/tls layers throw it. */
function systemError(code: string, message = `${code.toLowerCase()} happened`): Error {
  return Object.assign(new Error(message), { code });
}

/** `fetch`-style wrapping: the transport error is the cause of a generic one. */
function wrapped(cause: unknown, message = 'fetch failed'): Error {
  return new TypeError(message, { cause });
}

describe('classifyError', () => {
  it('classifies refused and reset connections as connect', () => {
    expect(classifyError(systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'))).toBe('connect');
    expect(classifyError(systemError('ECONNRESET', 'read ECONNRESET'))).toBe('connect');
    expect(classifyError(systemError('EHOSTUNREACH'))).toBe('connect');
    expect(classifyError(systemError('UND_ERR_SOCKET', 'other side closed'))).toBe('connect');
  });

  it('classifies failed name resolution as dns', () => {
    expect(classifyError(systemError('ENOTFOUND', 'getaddrinfo ENOTFOUND nowhere.invalid'))).toBe('dns');
    expect(classifyError(systemError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN slow.example'))).toBe('dns');
  });

  it('classifies undici and socket timeouts as timeout', () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']) {
      expect(classifyError(systemError(code)), code).toBe('timeout');
    }
  });

  it('classifies an aborted or timed-out signal as timeout, by the error’s name', () => {
    expect(classifyError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('timeout');
    expect(classifyError(new DOMException('This operation was aborted', 'AbortError'))).toBe('timeout');
    const named = new Error('aborted');
    named.name = 'AbortError';
    expect(classifyError(named)).toBe('timeout');
    expect(classifyError(systemError('ABORT_ERR'))).toBe('timeout');
  });

  it('classifies certificate and handshake failures as tls', () => {
    for (const code of [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'CERT_HAS_EXPIRED',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      // "unable to verify the first certificate": a server that omits its intermediate.
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'HOSTNAME_MISMATCH',
    ]) {
      expect(classifyError(systemError(code)), code).toBe('tls');
    }
  });

  it('classifies an address refused by the SSRF guard as blocked', () => {
    const blocked = new Error('127.0.0.1 is a loopback address');
    blocked.name = 'HeraldBlockedError';
    expect(classifyError(blocked)).toBe('blocked');
    expect(classifyError(wrapped(blocked))).toBe('blocked');
  });

  it('looks through nested causes for the transport error', () => {
    expect(classifyError(wrapped(systemError('ENOTFOUND')))).toBe('dns');
    expect(classifyError(wrapped(wrapped(systemError('ERR_TLS_CERT_ALTNAME_INVALID'))))).toBe('tls');
    expect(classifyError(wrapped(wrapped(wrapped(systemError('UND_ERR_HEADERS_TIMEOUT')))))).toBe('timeout');
  });

  it('lets a timeout anywhere in the chain win over a connection reset', () => {
    expect(classifyError(Object.assign(systemError('UND_ERR_HEADERS_TIMEOUT'), { cause: systemError('ECONNRESET') }))).toBe('timeout');
    expect(classifyError(Object.assign(systemError('ECONNRESET'), { cause: new DOMException('timed out', 'TimeoutError') }))).toBe('timeout');
  });

  it('falls back to connect for anything it does not recognise, thrown values included', () => {
    expect(classifyError(new Error('something odd'))).toBe('connect');
    expect(classifyError('a string')).toBe('connect');
    expect(classifyError(null)).toBe('connect');
    expect(classifyError(undefined)).toBe('connect');
    expect(classifyError({ code: 42, name: null })).toBe('connect');
  });

  it('survives a cause cycle', () => {
    const a = systemError('ECONNRESET') as Error & { cause?: unknown };
    const b = wrapped(a);
    a.cause = b;
    expect(classifyError(b)).toBe('connect');
  });
});

describe('errorMessage', () => {
  it('puts the code in front of a message that does not already carry it', () => {
    expect(errorMessage(wrapped(systemError('ENOTFOUND', 'no such host')))).toBe('ENOTFOUND: fetch failed');
    expect(errorMessage(systemError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'))).toBe('UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error');
  });

  it('keeps a message that already names its code as it is', () => {
    expect(errorMessage(systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'))).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });

  it('keeps a message without any code as it is, and stringifies non-errors', () => {
    expect(errorMessage(new Error('plain'))).toBe('plain');
    expect(errorMessage('thrown text')).toBe('thrown text');
    expect(errorMessage(42)).toBe('42');
  });
});
