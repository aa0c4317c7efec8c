import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, generateWebhookSecret } from '../../src/domain/secrets.js';
import type { EventType, Format, SignatureScheme } from '../../src/domain/types.js';
import { HeraldError } from '../../src/errors.js';
import {
  checkHeaders,
  checkSecret,
  checkSubscriptions,
  checkUrl,
  MAX_URL_LENGTH,
  resolveFormat,
} from '../../src/webhooks/validate-webhook.js';

/** Runs `fn` and answers the 422 error code it threw. */
function rejection(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).status).toBe(422);
    return (error as HeraldError).code;
  }
  throw new Error('expected a 422 HeraldError, but nothing was thrown');
}

function format(signature: SignatureScheme): Format {
  return { name: 'test', envelope: { data: '{{event.data}}' }, signature };
}

const STANDARD = format({ scheme: 'standard-webhooks' });
const SVIX = format({ scheme: 'svix' });
const VERCEL = format({ scheme: 'hmac', algorithm: 'sha1', encoding: 'hex', header: 'X-Vercel-Signature', prefix: '' });
const QOVERY = format({ scheme: 'header-secret', header: 'Qovery-Secret' });
const UNSIGNED = format({ scheme: 'none' });

function eventType(name: string, flags: Partial<Pick<EventType, 'deprecated' | 'archived'>> = {}): EventType {
  return {
    name,
    description: '',
    group: name.includes('.') ? name.split('.')[0] ?? null : null,
    schema: null,
    examples: [],
    deprecated: flags.deprecated ?? false,
    archived: flags.archived ?? false,
    format: null,
    extra: {},
  };
}

const CATALOG = new Map(
  [
    eventType('deployment.created'),
    eventType('deployment.succeeded'),
    eventType('deployment', { deprecated: true }),
    eventType('project.removed', { archived: true }),
  ].map((t) => [t.name, t]),
);

describe('checkUrl', () => {
  it('accepts absolute http and https URLs, with ports, paths and queries', () => {
    expect(() => checkUrl('https://hooks.example.com/herald?token=abc')).not.toThrow();
    expect(() => checkUrl('http://127.0.0.1:8080/in')).not.toThrow();
    expect(() => checkUrl('https://[2001:db8::1]/in')).not.toThrow();
  });

  it('refuses what is not an absolute URL', () => {
    expect(rejection(() => checkUrl('hooks.example.com/in'))).toBe('invalid_url');
    expect(rejection(() => checkUrl('/relative'))).toBe('invalid_url');
    expect(rejection(() => checkUrl(''))).toBe('invalid_url');
  });

  it('refuses schemes other than http and https', () => {
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'ws://example.com/']) {
      expect(rejection(() => checkUrl(url)), url).toBe('invalid_url');
    }
  });

  it('refuses credentials in the URL and a #fragment', () => {
    expect(rejection(() => checkUrl('https://user:pass@example.com/'))).toBe('invalid_url');
    expect(rejection(() => checkUrl('https://user@example.com/'))).toBe('invalid_url');
    expect(rejection(() => checkUrl('https://example.com/in#part'))).toBe('invalid_url');
  });

  it('accepts a URL of exactly the maximum length and refuses a longer one', () => {
    const base = 'https://example.com/';
    expect(() => checkUrl(base + 'a'.repeat(MAX_URL_LENGTH - base.length))).not.toThrow();
    expect(rejection(() => checkUrl(base + 'a'.repeat(MAX_URL_LENGTH - base.length + 1)))).toBe('invalid_url');
  });
});

describe('checkSubscriptions', () => {
  it('accepts catalog names, group wildcards and *', () => {
    expect(() => checkSubscriptions(['deployment.created', 'deployment.*', '*'], CATALOG)).not.toThrow();
    expect(() => checkSubscriptions([], CATALOG)).not.toThrow();
  });

  it('accepts a wildcard even when no catalog type is in its group yet', () => {
    expect(() => checkSubscriptions(['billing.*'], CATALOG)).not.toThrow();
  });

  it('refuses a name that is not in the catalog, or is archived', () => {
    expect(rejection(() => checkSubscriptions(['deployment.exploded'], CATALOG))).toBe('unknown_event_type');
    expect(rejection(() => checkSubscriptions(['project.removed'], CATALOG))).toBe('unknown_event_type');
  });

  it('refuses malformed patterns', () => {
    for (const pattern of ['', 'deployment.', '.created', 'deploy*', 'a..b', '*.created', 'has space']) {
      expect(rejection(() => checkSubscriptions([pattern], CATALOG)), JSON.stringify(pattern)).toBe('invalid_event_pattern');
    }
  });

  it('refuses a new subscription to a deprecated type, but keeps one the webhook already had', () => {
    expect(rejection(() => checkSubscriptions(['deployment'], CATALOG))).toBe('deprecated_event_type');
    expect(() => checkSubscriptions(['deployment', 'deployment.created'], CATALOG, ['deployment'])).not.toThrow();
  });
});

describe('checkHeaders', () => {
  it('accepts ordinary custom headers', () => {
    expect(() => checkHeaders({ Authorization: 'Bearer abc', 'X-Team': 'blue', 'X-Empty': '' }, STANDARD)).not.toThrow();
  });

  it('refuses headers Herald or the connection own, whatever their case', () => {
    for (const name of ['Content-Type', 'content-length', 'HOST', 'User-Agent', 'Transfer-Encoding', 'Connection']) {
      expect(rejection(() => checkHeaders({ [name]: 'x' }, STANDARD)), name).toBe('reserved_header');
    }
  });

  it('refuses the signature headers of the webhook’s scheme', () => {
    expect(rejection(() => checkHeaders({ 'webhook-signature': 'v1,forged' }, STANDARD))).toBe('reserved_header');
    expect(rejection(() => checkHeaders({ 'Svix-Id': 'msg_1' }, SVIX))).toBe('reserved_header');
    expect(rejection(() => checkHeaders({ 'x-vercel-signature': 'abc' }, VERCEL))).toBe('reserved_header');
    expect(rejection(() => checkHeaders({ 'QOVERY-SECRET': 'abc' }, QOVERY))).toBe('reserved_header');
  });

  it('refuses webhook-* and svix-* headers under any scheme', () => {
    expect(rejection(() => checkHeaders({ 'webhook-id': 'x' }, VERCEL))).toBe('reserved_header');
    expect(rejection(() => checkHeaders({ 'svix-timestamp': '1' }, UNSIGNED))).toBe('reserved_header');
  });

  it('lets a scheme’s header name be used freely under another scheme', () => {
    expect(() => checkHeaders({ 'X-Vercel-Signature': 'abc' }, STANDARD)).not.toThrow();
  });

  it('refuses CR, LF and other control characters in values (header injection)', () => {
    for (const value of ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\u0000b', 'a\u007fb']) {
      expect(rejection(() => checkHeaders({ 'X-Note': value }, STANDARD)), JSON.stringify(value)).toBe('invalid_header');
    }
    expect(() => checkHeaders({ 'X-Note': 'tab\tinside' }, STANDARD)).not.toThrow();
  });

  it('refuses invalid header names and overlong values', () => {
    for (const name of ['', 'X Space', 'X:Colon', 'X-Ümlaut', 'a'.repeat(129)]) {
      expect(rejection(() => checkHeaders({ [name]: 'x' }, STANDARD)), JSON.stringify(name)).toBe('invalid_header');
    }
    expect(rejection(() => checkHeaders({ 'X-Big': 'v'.repeat(4097) }, STANDARD))).toBe('invalid_header');
  });
});

describe('checkSecret', () => {
  it('needs a whsec_ secret of 24–64 bytes for Standard Webhooks and Svix', () => {
    const secret = generateWebhookSecret();
    expect(() => checkSecret(secret, STANDARD, 'hmac')).not.toThrow();
    expect(() => checkSecret(secret, SVIX, 'hmac')).not.toThrow();
    expect(() => checkSecret(`whsec_${Buffer.alloc(24, 1).toString('base64')}`, STANDARD, 'hmac')).not.toThrow();
    expect(rejection(() => checkSecret(`whsec_${Buffer.alloc(16, 1).toString('base64')}`, STANDARD, 'hmac'))).toBe('invalid_secret');
    expect(rejection(() => checkSecret(`whsec_${Buffer.alloc(65, 1).toString('base64')}`, STANDARD, 'hmac'))).toBe('invalid_secret');
    expect(rejection(() => checkSecret('a-plain-shared-secret', STANDARD, 'hmac'))).toBe('invalid_secret');
    expect(rejection(() => checkSecret('whsec_not base64!', SVIX, 'hmac'))).toBe('invalid_secret');
  });

  it('takes any 8–256 character secret without line breaks for hmac and header-secret schemes', () => {
    expect(() => checkSecret('12345678', VERCEL, 'hmac')).not.toThrow();
    expect(() => checkSecret('s'.repeat(256), QOVERY, 'hmac')).not.toThrow();
    expect(() => checkSecret(generateWebhookSecret(), VERCEL, 'hmac')).not.toThrow();
    expect(rejection(() => checkSecret('1234567', VERCEL, 'hmac'))).toBe('invalid_secret');
    expect(rejection(() => checkSecret('s'.repeat(257), QOVERY, 'hmac'))).toBe('invalid_secret');
    expect(rejection(() => checkSecret('secret\r\nX-Injected: 1', QOVERY, 'hmac'))).toBe('invalid_secret');
  });

  it('needs a whsk_ key for ed25519 signing, and a Standard Webhooks or Svix format', () => {
    const { secretKey, publicKey } = generateSigningKeyPair();
    expect(() => checkSecret(secretKey, STANDARD, 'ed25519')).not.toThrow();
    expect(() => checkSecret(secretKey, SVIX, 'ed25519')).not.toThrow();
    expect(rejection(() => checkSecret(publicKey, STANDARD, 'ed25519'))).toBe('invalid_secret');
    expect(rejection(() => checkSecret(generateWebhookSecret(), STANDARD, 'ed25519'))).toBe('invalid_secret');
    expect(rejection(() => checkSecret(secretKey, VERCEL, 'ed25519'))).toBe('invalid_signing');
    expect(rejection(() => checkSecret(secretKey, UNSIGNED, 'ed25519'))).toBe('invalid_signing');
  });
});

describe('resolveFormat', () => {
  const formats = { default: STANDARD, legacy: VERCEL };

  it('picks the named format, or the fallback when none is named', () => {
    expect(resolveFormat(formats, 'legacy', 'default')).toBe(VERCEL);
    expect(resolveFormat(formats, null, 'default')).toBe(STANDARD);
  });

  it('refuses a format the profile does not define, listing the known ones', () => {
    expect(rejection(() => resolveFormat(formats, 'v3', 'default'))).toBe('unknown_format');
    expect(() => resolveFormat(formats, 'v3', 'default')).toThrow(/default, legacy/);
  });
});
