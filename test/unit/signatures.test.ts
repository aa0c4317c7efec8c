import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, generateWebhookSecret } from '../../src/domain/secrets.js';
import { signatureHeaderNames, signRequest, verifyRequest } from '../../src/domain/signatures/index.js';
import type { SignatureScheme } from '../../src/domain/types.js';

const standard: SignatureScheme = { scheme: 'standard-webhooks' };
const svix: SignatureScheme = { scheme: 'svix' };
const vercel: SignatureScheme = { scheme: 'hmac', algorithm: 'sha1', encoding: 'hex', header: 'x-vercel-signature', prefix: '' };
const github: SignatureScheme = {
  scheme: 'hmac',
  algorithm: 'sha256',
  encoding: 'hex',
  header: 'X-Hub-Signature-256',
  prefix: 'sha256=',
};
const qovery: SignatureScheme = { scheme: 'header-secret', header: 'Qovery-Secret' };

const nowS = () => Math.floor(Date.now() / 1000);
const body = '{"type":"deployment.created","data":{"id":"dpl_1"}}';

describe('standard-webhooks signing', () => {
  it('reproduces the Standard Webhooks reference signature', () => {
    const headers = signRequest(standard, {
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestampS: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('reproduces the second reference signature (an 18-byte secret)', () => {
    const headers = signRequest(standard, {
      id: 'msg_loFOjxBNrRLzqYUf',
      timestampS: 1731705121,
      body: '{"event_type":"ping","data":{"success":true}}',
      secrets: ['whsec_plJ3nmyCDGBKInavdOK15jsl'],
    });
    expect(headers['webhook-signature']).toBe('v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0=');
  });

  it('is accepted by the standardwebhooks reference library', () => {
    const secret = generateWebhookSecret();
    const headers = signRequest(standard, { id: 'dlv_1', timestampS: nowS(), body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('sends one signature per secret during a rotation, each verifying with its own secret', () => {
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret();
    const headers = signRequest(standard, { id: 'dlv_2', timestampS: nowS(), body, secrets: [current, previous] });
    const signatures = (headers['webhook-signature'] as string).split(' ');
    expect(signatures).toHaveLength(2);
    expect(signatures.every((s) => s.startsWith('v1,'))).toBe(true);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    for (const secret of [current, previous]) {
      const only = { ...headers, 'webhook-signature': signatures[[current, previous].indexOf(secret)] as string };
      expect(() => new Webhook(secret).verify(body, only)).not.toThrow();
    }
  });

  it('verifies what the reference library signs', () => {
    const secret = generateWebhookSecret();
    const ts = nowS();
    const signature = new Webhook(secret).sign('msg_x', new Date(ts * 1000), body);
    const headers = { 'webhook-id': 'msg_x', 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    expect(verifyRequest(standard, { headers, body, secrets: [secret] })).toEqual({ ok: true });
  });

  it('signs with ed25519 (v1a) for whsk_ keys, verifiable with the whpk_ public key', () => {
    const { secretKey, publicKey } = generateSigningKeyPair();
    const headers = signRequest(standard, { id: 'dlv_3', timestampS: nowS(), body, secrets: [secretKey] });
    const signature = headers['webhook-signature'] as string;
    expect(signature).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(verifyRequest(standard, { headers, body, secrets: [publicKey] })).toEqual({ ok: true });
  });

  it('rejects a tampered body or a foreign key for ed25519 signatures', () => {
    const { secretKey, publicKey } = generateSigningKeyPair();
    const headers = signRequest(standard, { id: 'dlv_4', timestampS: nowS(), body, secrets: [secretKey] });
    expect(verifyRequest(standard, { headers, body: body.replace('dpl_1', 'dpl_2'), secrets: [publicKey] }).ok).toBe(false);
    expect(verifyRequest(standard, { headers, body, secrets: [generateSigningKeyPair().publicKey] }).ok).toBe(false);
    // A v1a signature never verifies against a symmetric secret.
    expect(verifyRequest(standard, { headers, body, secrets: [generateWebhookSecret()] }).ok).toBe(false);
  });

  it('mixes v1 and v1a signatures when a webhook moves between hmac and ed25519', () => {
    const { secretKey, publicKey } = generateSigningKeyPair();
    const hmacSecret = generateWebhookSecret();
    const headers = signRequest(standard, { id: 'dlv_5', timestampS: nowS(), body, secrets: [secretKey, hmacSecret] });
    expect((headers['webhook-signature'] as string).split(' ').map((s) => s.split(',')[0])).toEqual(['v1a', 'v1']);
    expect(verifyRequest(standard, { headers, body, secrets: [publicKey] }).ok).toBe(true);
    expect(verifyRequest(standard, { headers, body, secrets: [hmacSecret] }).ok).toBe(true);
  });

  it('refuses to sign with a public key or with no secret at all', () => {
    const { publicKey } = generateSigningKeyPair();
    expect(() => signRequest(standard, { id: 'a', timestampS: 1, body, secrets: [publicKey] })).toThrow(/whpk_/);
    expect(() => signRequest(standard, { id: 'a', timestampS: 1, body, secrets: [] })).toThrow();
  });

  it('refuses a timestamp that is not whole seconds', () => {
    expect(() =>
      signRequest(standard, { id: 'a', timestampS: 1.5, body, secrets: [generateWebhookSecret()] }),
    ).toThrow(RangeError);
  });
});

describe('svix signing', () => {
  it('signs exactly like Standard Webhooks under svix-* header names', () => {
    const input = { id: 'msg_1', timestampS: nowS(), body, secrets: [generateWebhookSecret()] };
    const s = signRequest(svix, input);
    const w = signRequest(standard, input);
    expect(s).toEqual({
      'svix-id': w['webhook-id'],
      'svix-timestamp': w['webhook-timestamp'],
      'svix-signature': w['webhook-signature'],
    });
    expect(verifyRequest(svix, { headers: s, body, secrets: input.secrets })).toEqual({ ok: true });
  });

  it('does not accept webhook-* headers for the svix scheme', () => {
    const input = { id: 'msg_1', timestampS: nowS(), body, secrets: [generateWebhookSecret()] };
    const headers = signRequest(standard, input);
    expect(verifyRequest(svix, { headers, body, secrets: input.secrets })).toEqual({
      ok: false,
      reason: 'missing svix-id header',
    });
  });
});

describe('hmac signing', () => {
  it('signs the raw body with sha1 hex like Vercel', () => {
    const secret = 'vercel-plain-secret';
    expect(signRequest(vercel, { id: 'x', timestampS: 1, body, secrets: [secret] })).toEqual({
      'x-vercel-signature': createHmac('sha1', secret).update(body).digest('hex'),
    });
  });

  it('puts the configured prefix before the digest and lower-cases the header name', () => {
    const secret = 'gh-secret';
    expect(signRequest(github, { id: 'x', timestampS: 1, body, secrets: [secret, 'old'] })).toEqual({
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    });
  });

  it('encodes base64 and sha512 when configured', () => {
    const scheme: SignatureScheme = { scheme: 'hmac', algorithm: 'sha512', encoding: 'base64', header: 'x-sig', prefix: '' };
    expect(signRequest(scheme, { id: 'x', timestampS: 1, body, secrets: ['k'] })['x-sig']).toBe(
      createHmac('sha512', 'k').update(body).digest('base64'),
    );
  });

  it('keys with the decoded bytes of a whsec_ secret', () => {
    const secret = generateWebhookSecret();
    const key = Buffer.from(secret.slice(6), 'base64');
    expect(signRequest(vercel, { id: 'x', timestampS: 1, body, secrets: [secret] })['x-vercel-signature']).toBe(
      createHmac('sha1', key).update(body).digest('hex'),
    );
  });

  it('verifies with any listed secret and case-insensitive header names', () => {
    const headers = { 'X-Hub-Signature-256': `sha256=${createHmac('sha256', 'new').update(body).digest('hex')}` };
    expect(verifyRequest(github, { headers, body, secrets: ['old', 'new'] })).toEqual({ ok: true });
    expect(verifyRequest(github, { headers, body: Buffer.from(body), secrets: ['new'] })).toEqual({ ok: true });
  });

  it('accepts upper-case hex digests', () => {
    const headers = { 'x-vercel-signature': createHmac('sha1', 's').update(body).digest('hex').toUpperCase() };
    expect(verifyRequest(vercel, { headers, body, secrets: ['s'] }).ok).toBe(true);
  });

  it('rejects a wrong prefix, a malformed digest, a tampered body and a wrong secret', () => {
    const digest = createHmac('sha256', 'k').update(body).digest('hex');
    const verifyWith = (value: string, b = body, secrets = ['k']) =>
      verifyRequest(github, { headers: { 'x-hub-signature-256': value }, body: b, secrets });
    expect(verifyWith(digest)).toMatchObject({ ok: false, reason: expect.stringContaining('does not start with') });
    expect(verifyWith('sha256=zz')).toMatchObject({ ok: false, reason: expect.stringContaining('malformed') });
    expect(verifyWith(`sha256=${digest}`, `${body} `)).toEqual({ ok: false, reason: 'no matching signature' });
    expect(verifyWith(`sha256=${digest}`, body, ['other'])).toEqual({ ok: false, reason: 'no matching signature' });
    expect(verifyRequest(github, { headers: {}, body, secrets: ['k'] })).toMatchObject({ ok: false });
  });
});

describe('header-secret signing', () => {
  it('sends the current secret itself in the configured header', () => {
    expect(signRequest(qovery, { id: 'x', timestampS: 1, body, secrets: ['current', 'previous'] })).toEqual({
      'qovery-secret': 'current',
    });
  });

  it('verifies the header against any listed secret', () => {
    expect(verifyRequest(qovery, { headers: { 'Qovery-Secret': 'previous' }, body, secrets: ['current', 'previous'] })).toEqual({
      ok: true,
    });
    expect(verifyRequest(qovery, { headers: { 'qovery-secret': 'nope' }, body, secrets: ['current'] }).ok).toBe(false);
    expect(verifyRequest(qovery, { headers: {}, body, secrets: ['current'] }).ok).toBe(false);
  });

  it('needs a secret to sign', () => {
    expect(() => signRequest(qovery, { id: 'x', timestampS: 1, body, secrets: [] })).toThrow();
  });
});

describe('none', () => {
  it('adds no headers and accepts every request', () => {
    expect(signRequest({ scheme: 'none' }, { id: 'x', timestampS: 1, body, secrets: [] })).toEqual({});
    expect(verifyRequest({ scheme: 'none' }, { headers: {}, body, secrets: [] })).toEqual({ ok: true });
  });
});

describe('verifyRequest for standard-webhooks', () => {
  const secret = generateWebhookSecret();
  const signed = (timestampS = nowS(), secrets = [secret]) =>
    signRequest(standard, { id: 'dlv_9', timestampS, body, secrets });

  it('accepts a fresh, correctly signed request', () => {
    expect(verifyRequest(standard, { headers: signed(), body, secrets: [secret] })).toEqual({ ok: true });
  });

  it('looks headers up case-insensitively and accepts array values', () => {
    const h = signed();
    const headers = {
      'Webhook-Id': h['webhook-id'],
      'WEBHOOK-TIMESTAMP': [h['webhook-timestamp'] as string],
      'webhook-Signature': h['webhook-signature'],
    };
    expect(verifyRequest(standard, { headers, body, secrets: [secret] })).toEqual({ ok: true });
  });

  it('verifies raw Buffer bodies, including bytes that are not valid UTF-8', () => {
    const raw = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const ts = nowS();
    const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update(Buffer.concat([Buffer.from(`dlv_b.${ts}.`), raw]))
      .digest('base64');
    const headers = { 'webhook-id': 'dlv_b', 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${mac}` };
    expect(verifyRequest(standard, { headers, body: raw, secrets: [secret] })).toEqual({ ok: true });
  });

  it('accepts when any signature in the header matches any secret', () => {
    const other = generateWebhookSecret();
    const headers = signed(nowS(), [generateWebhookSecret(), other]);
    expect(verifyRequest(standard, { headers, body, secrets: [generateWebhookSecret(), other] })).toEqual({ ok: true });
  });

  it('rejects a tampered body', () => {
    expect(verifyRequest(standard, { headers: signed(), body: `${body} `, secrets: [secret] })).toEqual({
      ok: false,
      reason: 'no matching signature',
    });
  });

  it('rejects a wrong secret', () => {
    expect(verifyRequest(standard, { headers: signed(), body, secrets: [generateWebhookSecret()] }).ok).toBe(false);
  });

  it('rejects a stale or future timestamp outside the tolerance', () => {
    const now = Date.now();
    expect(verifyRequest(standard, { headers: signed(nowS() - 301), body, secrets: [secret], now })).toEqual({
      ok: false,
      reason: 'timestamp too old',
    });
    expect(verifyRequest(standard, { headers: signed(nowS() + 400), body, secrets: [secret], now })).toEqual({
      ok: false,
      reason: 'timestamp too new',
    });
  });

  it('honours a custom tolerance and clock', () => {
    const headers = signed(1_000_000);
    expect(verifyRequest(standard, { headers, body, secrets: [secret], now: 1_000_030_000, toleranceS: 60 })).toEqual({
      ok: true,
    });
    expect(verifyRequest(standard, { headers, body, secrets: [secret], now: 1_000_090_000, toleranceS: 60 }).ok).toBe(false);
  });

  it('rejects a timestamp changed after signing', () => {
    const headers = { ...signed(), 'webhook-timestamp': String(nowS() - 1) };
    expect(verifyRequest(standard, { headers, body, secrets: [secret] }).ok).toBe(false);
  });

  it('explains missing or malformed headers', () => {
    const h = signed();
    const without = (name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));
    expect(verifyRequest(standard, { headers: without('webhook-id'), body, secrets: [secret] })).toEqual({
      ok: false,
      reason: 'missing webhook-id header',
    });
    expect(verifyRequest(standard, { headers: without('webhook-signature'), body, secrets: [secret] })).toEqual({
      ok: false,
      reason: 'missing webhook-signature header',
    });
    expect(
      verifyRequest(standard, { headers: { ...h, 'webhook-timestamp': '12a' }, body, secrets: [secret] }),
    ).toEqual({ ok: false, reason: 'invalid webhook-timestamp header' });
  });

  it('ignores unknown signature versions and garbage entries', () => {
    const h = signed();
    const headers = { ...h, 'webhook-signature': `v2,abc garbage v1,!!! ${h['webhook-signature'] as string}` };
    expect(verifyRequest(standard, { headers, body, secrets: [secret] })).toEqual({ ok: true });
  });
});

describe('signatureHeaderNames', () => {
  it('lists the headers each scheme sets, lower-cased', () => {
    expect(signatureHeaderNames(standard)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    expect(signatureHeaderNames(svix)).toEqual(['svix-id', 'svix-timestamp', 'svix-signature']);
    expect(signatureHeaderNames(github)).toEqual(['x-hub-signature-256']);
    expect(signatureHeaderNames(qovery)).toEqual(['qovery-secret']);
    expect(signatureHeaderNames({ scheme: 'none' })).toEqual([]);
  });
});
