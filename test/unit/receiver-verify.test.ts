/**
 * The receiver library against what Herald sends: every built-in profile's formats rendered and
 * signed by Herald's own RequestRenderer (the code the sender uses), then checked with `verify`.
 * Tampered bodies, wrong secrets and stale timestamps are refused.
 */
import { describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { verify, verifyRaw, PROFILE_PRESETS, type ProfilePreset, type VerifyOptions } from '../../src/index.js';
import { RequestRenderer, type RenderedRequest } from '../../src/delivery/render-request.js';
import { generateSigningKeyPair, generateWebhookSecret } from '../../src/domain/secrets.js';
import type { HeraldEvent, JsonValue, Organization, Webhook } from '../../src/domain/types.js';
import { listBuiltInProfiles, loadProfile, type Profile } from '../../src/profile/load-profile.js';
import { newSecretFor } from '../../src/webhooks/new-secret.js';
import { secretPathInEnvelope } from '../../src/cli/verification.js';

const NOW = Date.now();

function webhook(format: string | null, signing: 'hmac' | 'ed25519' = 'hmac'): Webhook {
  return {
    id: 'whk_test',
    organizationId: 'acme',
    url: 'http://127.0.0.1:9/hook',
    kind: 'standard',
    description: '',
    enabled: true,
    events: [],
    filters: {},
    format,
    headers: {},
    rateLimit: null,
    timeoutMs: null,
    concurrency: null,
    retry: null,
    signing,
    metadata: {},
    failingSince: null,
    disabledReason: null,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

const organization: Organization = { id: 'acme', name: 'Acme', metadata: {}, createdAt: NOW };

/** The request Herald would send for the profile's first catalog example, in `formatName`. */
function render(profile: Profile, formatName: string, secrets: { current: string; previous?: string }, options: { now?: number; signing?: 'hmac' | 'ed25519' } = {}): RenderedRequest {
  const type = profile.catalog.find((t) => !t.deprecated) ?? profile.catalog[0];
  if (!type) throw new Error(`profile ${profile.name} has no types`);
  const event: HeraldEvent = {
    id: 'evt_test',
    organizationId: 'acme',
    type: type.name,
    data: (type.examples[0] ?? { hello: 'wörld ✓' }) as JsonValue,
    attributes: {},
    time: NOW,
    externalId: null,
    createdAt: NOW,
  };
  const renderer = new RequestRenderer(profile, { userAgent: 'Herald/test', systemOrganizationId: '_herald' });
  const now = options.now ?? NOW;
  return renderer.render({
    deliveryId: 'dlv_test',
    attemptNumber: 1,
    event,
    webhook: webhook(formatName, options.signing),
    secrets: {
      current: secrets.current,
      previous: secrets.previous ?? null,
      previousExpiresAt: secrets.previous !== undefined ? now + 3_600_000 : null,
    },
    organization,
    eventType: { ...type, format: null },
    now,
  });
}

const profiles = listBuiltInProfiles().map((name) => loadProfile(name));

describe('presets', () => {
  it('cover every built-in profile', () => {
    expect(Object.keys(PROFILE_PRESETS).sort()).toEqual(listBuiltInProfiles());
  });

  it.each(profiles.map((p) => [p.name, p] as const))('%s: preset equals the profile file (scheme and body secret)', (name, profile) => {
    const preset = PROFILE_PRESETS[name as ProfilePreset];
    const format = profile.formats[profile.defaultFormat];
    expect(format).toBeDefined();
    expect(preset.scheme).toEqual(format?.signature);
    expect(preset.bodySecret).toBe(secretPathInEnvelope(format?.envelope ?? null));
    // Every other format of the profile signs the same way (vercel's legacy payload).
    for (const other of Object.values(profile.formats)) expect(other.signature).toEqual(format?.signature);
  });
});

describe('verify what Herald sends, for every profile and format', () => {
  const cases = profiles.flatMap((profile) => Object.keys(profile.formats).map((format) => [`${profile.name}/${format}`, profile, format] as const));

  it.each(cases)('%s: accepts the request with the right secret', async (_label, profile, formatName) => {
    const format = profile.formats[formatName];
    if (!format) throw new Error('no format');
    const secret = newSecretFor(format, 'hmac');
    const sent = render(profile, formatName, { current: secret });
    const byPreset = await verify({ headers: sent.headers, body: sent.body }, { profile: profile.name as ProfilePreset, secret });
    expect(byPreset).toMatchObject({ ok: true, body: sent.body, payload: JSON.parse(sent.body) });
    // The same with the scheme spelled out, as a custom profile would.
    const bySchemeObject = verifyRaw(
      { headers: sent.headers, body: Buffer.from(sent.body) },
      { scheme: format.signature, secret, ...(PROFILE_PRESETS[profile.name as ProfilePreset].bodySecret ? { bodySecret: PROFILE_PRESETS[profile.name as ProfilePreset].bodySecret as string } : {}) },
    );
    expect(bySchemeObject.ok).toBe(true);
  });

  it.each(cases)('%s: refuses a tampered body', (_label, profile, formatName) => {
    const format = profile.formats[formatName];
    if (!format) throw new Error('no format');
    const secret = newSecretFor(format, 'hmac');
    const sent = render(profile, formatName, { current: secret });
    const payload = JSON.parse(sent.body) as Record<string, unknown>;
    const tampered = JSON.stringify({ ...payload, type: 'something.else' });
    const result = verifyRaw({ headers: sent.headers, body: tampered }, { profile: profile.name as ProfilePreset, secret });
    if (format.signature.scheme === 'header-secret' || format.signature.scheme === 'none') {
      // Qovery and Convocore carry the secret, not a signature: the body is not protected, which
      // is those senders' design (documented in the README); a wrong secret is still refused.
      expect(result.ok).toBe(true);
    } else {
      expect(result).toMatchObject({ ok: false });
    }
    // One flipped byte in the raw body.
    const bytes = Buffer.from(sent.body);
    const at = bytes.length - 2;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 1, at);
    const flipped = verifyRaw({ headers: sent.headers, body: bytes }, { profile: profile.name as ProfilePreset, secret });
    if (format.signature.scheme !== 'header-secret' && format.signature.scheme !== 'none') expect(flipped.ok).toBe(false);
  });

  it.each(cases)('%s: refuses a wrong secret', (_label, profile, formatName) => {
    const format = profile.formats[formatName];
    if (!format) throw new Error('no format');
    const sent = render(profile, formatName, { current: newSecretFor(format, 'hmac') });
    const result = verifyRaw({ headers: sent.headers, body: sent.body }, { profile: profile.name as ProfilePreset, secret: newSecretFor(format, 'hmac') });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/signature|secret|match/);
  });
});

describe('timestamped schemes', () => {
  const standard = loadProfile('standard');
  const voiceflow = loadProfile('voiceflow');

  it.each([
    ['standard-webhooks', standard],
    ['svix', voiceflow],
  ] as const)('%s: refuses a stale or future timestamp, within toleranceS accepts it', (scheme, profile) => {
    const secret = generateWebhookSecret();
    const stale = render(profile, 'default', { current: secret }, { now: NOW - 600_000 });
    const options: VerifyOptions = { scheme, secret, now: NOW };
    expect(verifyRaw({ headers: stale.headers, body: stale.body }, options)).toMatchObject({ ok: false, reason: 'timestamp too old' });
    expect(verifyRaw({ headers: stale.headers, body: stale.body }, { ...options, toleranceS: 700 }).ok).toBe(true);
    const future = render(profile, 'default', { current: secret }, { now: NOW + 600_000 });
    expect(verifyRaw({ headers: future.headers, body: future.body }, options)).toMatchObject({ ok: false, reason: 'timestamp too new' });
    // Default tolerance is 300 s: 299 s old passes.
    const recent = render(profile, 'default', { current: secret }, { now: NOW - 299_000 });
    expect(verifyRaw({ headers: recent.headers, body: recent.body }, { ...options, now: new Date(NOW) }).ok).toBe(true);
  });

  it('a replayed request with a rewritten timestamp fails the signature', () => {
    const secret = generateWebhookSecret();
    const sent = render(standard, 'default', { current: secret }, { now: NOW - 3_600_000 });
    const headers = { ...sent.headers, 'webhook-timestamp': String(Math.floor(NOW / 1000)) };
    expect(verifyRaw({ headers, body: sent.body }, { secret, now: NOW })).toMatchObject({ ok: false, reason: 'no matching signature' });
  });

  it('returns the message id (the delivery id) and timestamp for deduplication', () => {
    const secret = generateWebhookSecret();
    const sent = render(standard, 'default', { current: secret });
    const result = verifyRaw({ headers: sent.headers, body: sent.body }, { secret });
    expect(result).toMatchObject({ ok: true, id: 'dlv_test', timestamp: Math.floor(NOW / 1000), scheme: 'standard-webhooks' });
  });

  it('during a rotation, the old and the new secret both verify', () => {
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret();
    const sent = render(standard, 'default', { current, previous });
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secret: current }).ok).toBe(true);
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secret: previous }).ok).toBe(true);
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secrets: [generateWebhookSecret(), previous] }).ok).toBe(true);
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secret: generateWebhookSecret() }).ok).toBe(false);
  });

  it('ed25519 webhooks verify with the whpk_ public key, not with another key', () => {
    const keys = generateSigningKeyPair();
    const sent = render(standard, 'default', { current: keys.secretKey }, { signing: 'ed25519' });
    expect(sent.headers['webhook-signature']).toMatch(/^v1a,/);
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secret: keys.publicKey }).ok).toBe(true);
    // The whsk_ key holds its public half too.
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secret: keys.secretKey }).ok).toBe(true);
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secret: generateSigningKeyPair().publicKey }).ok).toBe(false);
  });

  it('agrees with the standardwebhooks reference library', () => {
    const secret = generateWebhookSecret();
    const sent = render(standard, 'default', { current: secret });
    expect(new StandardWebhook(secret).verify(sent.body, sent.headers)).toEqual(JSON.parse(sent.body));
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { secret }).ok).toBe(true);
  });
});

describe('Convocore: the secret is in the body', () => {
  const convocore = loadProfile('convocore');

  it('checks payload.workspaceSecret against the secret', () => {
    const secret = 'workspace-secret-123';
    const sent = render(convocore, 'default', { current: secret });
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { profile: 'convocore', secret })).toMatchObject({ ok: true, scheme: 'body secret payload.workspaceSecret' });
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { scheme: 'none', bodySecret: 'payload.workspaceSecret', secret })).toMatchObject({ ok: true });
    expect(verifyRaw({ headers: sent.headers, body: sent.body }, { profile: 'convocore', secret: 'other' })).toMatchObject({
      ok: false,
      reason: 'body field payload.workspaceSecret does not match the secret',
    });
  });

  it('refuses a body without the field, or that is not JSON', () => {
    expect(verifyRaw({ headers: {}, body: '{"type":"x","payload":{}}' }, { profile: 'convocore', secret: 's' })).toMatchObject({
      ok: false,
      reason: 'body has no payload.workspaceSecret field',
    });
    expect(verifyRaw({ headers: {}, body: 'not json' }, { profile: 'convocore', secret: 's' })).toMatchObject({ ok: false, reason: 'body is not JSON' });
    expect(verifyRaw({ headers: {}, body: '{"payload":{"workspaceSecret":5}}' }, { profile: 'convocore', secret: '5' })).toMatchObject({ ok: false });
  });

  it('scheme none without a body check accepts anything (and needs no secret)', () => {
    expect(verifyRaw({ headers: {}, body: 'anything' }, { scheme: 'none' })).toMatchObject({ ok: true, payload: undefined });
  });
});

describe('options', () => {
  it('wrong use throws a TypeError that says what is missing', () => {
    const request = { headers: {}, body: '{}' };
    expect(() => verifyRaw(request, {})).toThrow(/a secret is needed for standard-webhooks/);
    expect(() => verifyRaw(request, { secret: 'x', scheme: 'svix', profile: 'vercel' })).toThrow(/not both/);
    expect(() => verifyRaw(request, { secret: 'x', profile: 'nope' as ProfilePreset })).toThrow(/unknown profile/);
    expect(() => verifyRaw(request, { secret: 'x', scheme: 'md5' as 'svix' })).toThrow(/unknown signature scheme/);
    expect(() => verifyRaw(request, { secret: 'x', scheme: { scheme: 'hmac', header: '' } })).toThrow(/header is required/);
    expect(() => verifyRaw({ headers: {}, body: { parsed: true } as unknown as string }, { secret: 'x' })).toThrow(/raw string or bytes/);
  });

  it('hmac with defaults: sha256 hex, GitHub-style prefix', async () => {
    const { createHmac } = await import('node:crypto');
    const body = '{"action":"opened"}';
    const digest = createHmac('sha256', 'gh-secret').update(body).digest('hex');
    const headers = { 'X-Hub-Signature-256': `sha256=${digest}` };
    expect(verifyRaw({ headers, body }, { scheme: { scheme: 'hmac', header: 'x-hub-signature-256', prefix: 'sha256=' }, secret: 'gh-secret' })).toMatchObject({
      ok: true,
      scheme: 'hmac sha256 hex x-hub-signature-256 (sha256=…)',
    });
    expect(verifyRaw({ headers, body }, { scheme: { scheme: 'hmac', header: 'x-hub-signature-256' }, secret: 'gh-secret' })).toMatchObject({ ok: false });
  });

  it('a missing signature header is a reason, not an exception', () => {
    expect(verifyRaw({ headers: {}, body: '{}' }, { secret: generateWebhookSecret() })).toMatchObject({ ok: false, reason: 'missing webhook-id header' });
    expect(verifyRaw({ headers: {}, body: '{}' }, { profile: 'vercel', secret: 's' })).toMatchObject({ ok: false, reason: 'missing x-vercel-signature header' });
    expect(verifyRaw({ headers: {}, body: '{}' }, { profile: 'qovery', secret: 's' })).toMatchObject({ ok: false, reason: 'missing Qovery-Secret header' });
  });
});
