/**
 * Secret rotation and asymmetric signing, as a receiver sees them: after a
 * rotation every delivery carries one signature per live secret (new first,
 * then the previous one) until the profile's grace period (24 h) ends; then
 * only the new secret signs. ed25519 webhooks sign `v1a,` with a key whose
 * public half GET …/secret hands out.
 */
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { generateSigningKeyPair } from '../../src/domain/secrets.js';
import { verifyRequest } from '../../src/domain/signatures/index.js';
import { createWebhook, postEvent, setupOrganization } from '../helpers/deliveries.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';

const TYPE = 'user.created';
const HOUR_MS = 3_600_000;
const STANDARD = { scheme: 'standard-webhooks' } as const;

/** The entries of a request's webhook-signature header (`v1,…` / `v1a,…`). */
function signatureEntries(request: ReceivedRequest): string[] {
  return String(request.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((e) => e !== '');
}

/** Does this one signature entry verify with this one secret or public key, at time `now`? */
function entryVerifies(request: ReceivedRequest, entry: string, secret: string, now: number): boolean {
  const headers = { ...request.headers, 'webhook-signature': entry };
  return verifyRequest(STANDARD, { headers, body: request.body, secrets: [secret], now }).ok;
}

describe('secret rotation and signing keys', () => {
  const clock = new ManualClock();
  let h: TestHerald;
  let receiver: Receiver;
  let orgs = 0;

  beforeAll(async () => {
    h = await startHerald({ clock });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await h.stop();
  });

  /** A new organization with one webhook on its own receiver path. */
  async function webhook(settings: Record<string, unknown> = {}): Promise<{ org: string; id: string; path: string }> {
    const org = `rotation-${++orgs}`;
    await setupOrganization(h, org, [TYPE]);
    const path = `/${org}`;
    const created = await createWebhook(h, org, { url: `${receiver.url}${path}`, ...settings });
    return { org, id: created.id, path };
  }

  /** Posts one event and answers the request the receiver got for it. */
  async function deliverOne(org: string, path: string): Promise<ReceivedRequest> {
    const posted = await postEvent(h, org, { type: TYPE, data: { n: Math.random() } });
    const deliveryId = posted.deliveries[0]!.id;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = receiver.requests.find((r) => r.path === path && r.headers['webhook-id'] === deliveryId);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no request for delivery ${deliveryId} at ${path}`);
      await receiver.waitFor(receiver.requests.length + 1, 1000).catch(() => undefined);
    }
  }

  it('signs with both the new and the previous secret during the grace period, then with the new one only', async () => {
    const { org, id, path } = await webhook();
    const oldSecret = (await h.call<{ secret: string }>('GET', `/v1/organizations/${org}/webhooks/${id}/secret`)).body.secret;

    // Before any rotation: one signature, with the only secret.
    const before = await deliverOne(org, path);
    expect(signatureEntries(before)).toHaveLength(1);
    expect(entryVerifies(before, signatureEntries(before)[0]!, oldSecret, clock.now())).toBe(true);

    const rotated = await h.call<{ secret: string }>('POST', `/v1/organizations/${org}/webhooks/${id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    // GET …/secret now hands out the new secret.
    expect((await h.call<{ secret: string }>('GET', `/v1/organizations/${org}/webhooks/${id}/secret`)).body.secret).toBe(newSecret);

    const during = await deliverOne(org, path);
    const [first, second, ...rest] = signatureEntries(during);
    expect(rest).toEqual([]);
    expect(first).toMatch(/^v1,/);
    expect(second).toMatch(/^v1,/);
    // The first signature is the new secret's, the second the old one's.
    expect(entryVerifies(during, first!, newSecret, clock.now())).toBe(true);
    expect(entryVerifies(during, first!, oldSecret, clock.now())).toBe(false);
    expect(entryVerifies(during, second!, oldSecret, clock.now())).toBe(true);
    expect(entryVerifies(during, second!, newSecret, clock.now())).toBe(false);
    // A receiver using the standardwebhooks package verifies with either secret (the clock has not moved yet).
    const headers = during.headers as Record<string, string>;
    expect(() => new StandardWebhook(newSecret).verify(during.body, headers)).not.toThrow();
    expect(() => new StandardWebhook(oldSecret).verify(during.body, headers)).not.toThrow();

    // Still inside the 24 h grace period: still two signatures.
    clock.advance(23 * HOUR_MS);
    const late = await deliverOne(org, path);
    expect(signatureEntries(late)).toHaveLength(2);
    expect(entryVerifies(late, signatureEntries(late)[1]!, oldSecret, clock.now())).toBe(true);

    // Past the grace period: the old secret no longer signs.
    clock.advance(HOUR_MS + 1000);
    const after = await deliverOne(org, path);
    const entries = signatureEntries(after);
    expect(entries).toHaveLength(1);
    expect(entryVerifies(after, entries[0]!, newSecret, clock.now())).toBe(true);
    expect(entryVerifies(after, entries[0]!, oldSecret, clock.now())).toBe(false);
    expect(verifyRequest(STANDARD, { headers: after.headers, body: after.body, secrets: [oldSecret], now: clock.now() }).ok).toBe(false);
  });

  it('keeps a rotation to a secret the operator chose', async () => {
    const { org, id, path } = await webhook();
    const chosen = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const rotated = await h.call<{ secret: string }>('POST', `/v1/organizations/${org}/webhooks/${id}/rotate-secret`, { secret: chosen });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toBe(chosen);
    const request = await deliverOne(org, path);
    expect(entryVerifies(request, signatureEntries(request)[0]!, chosen, clock.now())).toBe(true);
  });

  it('signs ed25519 webhooks with `v1a,` signatures that verify with the public key from GET …/secret', async () => {
    const { org, id, path } = await webhook({ signing: 'ed25519' });
    const keys = await h.call<{ secret: string; publicKey?: string }>('GET', `/v1/organizations/${org}/webhooks/${id}/secret`);
    expect(keys.status).toBe(200);
    expect(keys.body.secret).toMatch(/^whsk_/);
    const publicKey = keys.body.publicKey!;
    expect(publicKey).toMatch(/^whpk_/);

    const request = await deliverOne(org, path);
    const entries = signatureEntries(request);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^v1a,/);
    expect(entryVerifies(request, entries[0]!, publicKey, clock.now())).toBe(true);
    // Another key does not verify it, and neither would the body changed by one byte.
    expect(entryVerifies(request, entries[0]!, generateSigningKeyPair().publicKey, clock.now())).toBe(false);
    expect(verifyRequest(STANDARD, { headers: request.headers, body: `${request.body} `, secrets: [publicKey], now: clock.now() }).ok).toBe(false);

    // Rotating an ed25519 webhook: a new key pair, and both keys sign during the grace period.
    const rotated = await h.call<{ secret: string; publicKey?: string }>('POST', `/v1/organizations/${org}/webhooks/${id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsk_/);
    const newPublicKey = rotated.body.publicKey!;
    expect(newPublicKey).toMatch(/^whpk_/);
    expect(newPublicKey).not.toBe(publicKey);
    const during = await deliverOne(org, path);
    const [first, second] = signatureEntries(during);
    expect(first).toMatch(/^v1a,/);
    expect(second).toMatch(/^v1a,/);
    expect(entryVerifies(during, first!, newPublicKey, clock.now())).toBe(true);
    expect(entryVerifies(during, second!, publicKey, clock.now())).toBe(true);
  });
});
