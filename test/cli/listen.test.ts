/**
 * `herald listen` (the built binary) receiving real deliveries from a running Herald: verified
 * with the right secret for every profile's scheme, refused (401, which Herald records) with a
 * wrong one, forwarded to an app whose answer goes back to Herald.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../src/domain/secrets.js';
import { removeTempDirs, requireFreshCli, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface ListenLine {
  time: string;
  method: string;
  path: string;
  type: string | null;
  deliveryId: string | null;
  verified: boolean | null;
  scheme?: string;
  reason?: string;
  status: number;
  forward?: { url: string; status: number | null; durationMs: number; error?: string };
  body?: unknown;
}

interface Delivery {
  id: string;
  status: string;
  attempts: { responseStatus: number | null; responseBody: string | null; requestBody: string; requestHeaders: Record<string, string> }[];
}

const BANNER = /Listening on (http:\/\/\S+)/;
/** The banner's last line: once it is out, the whole banner is. */
const READY = /Ctrl-C to stop/;

function listenUrl(cli: RunningCli): string {
  for (const line of cli.stderrLines) {
    const match = BANNER.exec(line);
    if (match) return match[1] as string;
  }
  throw new Error(`no listen URL in:\n${cli.stderrLines.join('\n')}`);
}

beforeAll(() => {
  requireFreshCli();
});
afterAll(() => removeTempDirs());

const running: RunningCli[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
});

async function listen(args: string[]): Promise<{ cli: RunningCli; url: string }> {
  const cli = await startCli(['listen', '--port', '0', '--json', ...args], READY);
  running.push(cli);
  return { cli, url: listenUrl(cli) };
}

async function lineFor(cli: RunningCli, deliveryId: string): Promise<ListenLine> {
  return JSON.parse(await cli.waitForLine((l) => l.includes(deliveryId))) as ListenLine;
}

async function settledDelivery(h: TestHerald, org: string, id: string, attempts = 1): Promise<Delivery> {
  return eventually(async () => {
    const res = await h.call<Delivery>('GET', `/v1/organizations/${org}/deliveries/${id}`);
    return res.body.attempts.length >= attempts ? res.body : undefined;
  }, 15_000, `delivery ${id} attempted`);
}

describe('herald listen with the standard profile', () => {
  let h: TestHerald;
  let conn: string[];

  beforeAll(async () => {
    h = await startHerald();
    conn = ['--url', h.url, '--token', h.token];
    expect((await h.call('PUT', '/v1/event-types/invoice.paid', { description: 'An invoice was paid' })).status).toBeLessThan(300);
    expect((await h.call('POST', '/v1/organizations', { id: 'acme' })).status).toBe(201);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('receives and verifies a real delivery sent by `herald events send`', async () => {
    const secret = generateWebhookSecret();
    const { cli, url } = await listen(['--secret', secret, '--verbose']);
    expect(cli.stderrLines.join('\n')).toContain('Verifying standard-webhooks with 1 secret');

    const created = await runCli(['webhooks', 'create', 'acme', `${url}/hook`, '--secret', secret, '-e', 'invoice.*', ...conn]);
    expect(created.code, created.stderr).toBe(0);
    const webhook = created.json<{ id: string; secret: string }>();
    expect(webhook.secret).toBe(secret);

    const sent = await runCli(['events', 'send', 'acme', 'invoice.paid', '--data', '{"invoiceId":"in_42"}', '--attr', 'region=eu', ...conn]);
    expect(sent.code, sent.stderr).toBe(0);
    const accepted = sent.json<{ id: string; deliveries: { id: string; webhookId: string }[] }>();
    expect(accepted.deliveries).toEqual([{ id: expect.stringMatching(/^dlv_/), webhookId: webhook.id }]);
    const deliveryId = accepted.deliveries[0]?.id as string;

    const line = await lineFor(cli, deliveryId);
    expect(line).toMatchObject({ method: 'POST', path: '/hook', type: 'invoice.paid', deliveryId, verified: true, scheme: 'standard-webhooks', status: 200 });
    expect(line.body).toMatchObject({ type: 'invoice.paid', data: { invoiceId: 'in_42' } });

    const delivery = await settledDelivery(h, 'acme', deliveryId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts[0]?.responseStatus).toBe(200);
    expect(await cli.stop()).toBe(0); // Ctrl-C ends it cleanly
  });

  it('with a wrong secret: not verified, answered 401, which Herald records as a failed attempt', async () => {
    const { cli, url } = await listen(['--secret', generateWebhookSecret()]);
    const created = await runCli(['webhooks', 'create', 'acme', `${url}/wrong`, '-e', 'invoice.paid', ...conn]);
    expect(created.code, created.stderr).toBe(0);
    const webhookId = created.json<{ id: string }>().id;
    const sent = await runCli(['events', 'send', 'acme', 'invoice.paid', ...conn]);
    const deliveryId = sent.json<{ deliveries: { id: string; webhookId: string }[] }>().deliveries.find((d) => d.webhookId === webhookId)?.id as string;

    const line = await lineFor(cli, deliveryId);
    expect(line).toMatchObject({ deliveryId, verified: false, reason: 'no matching signature', status: 401 });
    const delivery = await settledDelivery(h, 'acme', deliveryId);
    expect(delivery.attempts[0]?.responseStatus).toBe(401);
    expect(delivery.status).toBe('pending'); // retried later, like any failure
    await runCli(['webhooks', 'delete', 'acme', webhookId, ...conn]);
  });

  it('--forward relays the request to the app and the app’s answer back to Herald', async () => {
    const app: Receiver = await startReceiver();
    try {
      app.respond({ kind: 'status', status: 201, body: 'created by the app' });
      const secret = generateWebhookSecret();
      const { cli, url } = await listen(['--secret', secret, '--forward', `${app.url}/api/hook`]);
      expect(cli.stderrLines.join('\n')).toContain(`Forwarding to ${app.url}/api/hook`);
      const created = await runCli(['webhooks', 'create', 'acme', `${url}/hook?source=herald`, '--secret', secret, '-e', 'invoice.paid', ...conn]);
      const webhookId = created.json<{ id: string }>().id;
      const sent = await runCli(['events', 'send', 'acme', 'invoice.paid', '--data', '{"invoiceId":"in_7"}', ...conn]);
      const deliveryId = sent.json<{ deliveries: { id: string; webhookId: string }[] }>().deliveries.find((d) => d.webhookId === webhookId)?.id as string;

      const line = await lineFor(cli, deliveryId);
      expect(line).toMatchObject({ verified: true, status: 201, forward: { url: `${app.url}/api/hook?source=herald`, status: 201 } });
      const delivery = await settledDelivery(h, 'acme', deliveryId);
      expect(delivery.attempts[0]).toMatchObject({ responseStatus: 201, responseBody: 'created by the app' });

      // The app got the exact bytes and the signature headers Herald sent.
      const forwarded = app.requests.at(-1);
      expect(forwarded?.path).toBe('/api/hook?source=herald');
      expect(forwarded?.body).toBe(delivery.attempts[0]?.requestBody);
      expect(forwarded?.headers['webhook-signature']).toBe(delivery.attempts[0]?.requestHeaders['webhook-signature']);
      expect(forwarded?.headers['webhook-id']).toBe(deliveryId);
      await runCli(['webhooks', 'delete', 'acme', webhookId, ...conn]);
    } finally {
      await app.close();
    }
  });

  it('--forward to an app that is down answers 502', async () => {
    const { cli, url } = await listen(['--forward', 'http://127.0.0.1:1/hook']);
    expect(cli.stderrLines.join('\n')).toContain('not verified');
    const created = await runCli(['webhooks', 'create', 'acme', url, '-e', 'invoice.paid', ...conn]);
    const webhookId = created.json<{ id: string }>().id;
    const sent = await runCli(['events', 'send', 'acme', 'invoice.paid', ...conn]);
    const deliveryId = sent.json<{ deliveries: { id: string; webhookId: string }[] }>().deliveries.find((d) => d.webhookId === webhookId)?.id as string;
    const line = await lineFor(cli, deliveryId);
    expect(line).toMatchObject({ verified: null, status: 502, forward: { status: null } });
    expect(line.forward?.error).toMatch(/ECONNREFUSED/);
    await runCli(['webhooks', 'delete', 'acme', webhookId, ...conn]);
  });

  it('--webhook fetches the secret (an ed25519 public key here) from Herald', async () => {
    const created = await runCli(['webhooks', 'create', 'acme', 'http://127.0.0.1:1/placeholder', '--signing', 'ed25519', '-e', 'invoice.paid', ...conn]);
    expect(created.code, created.stderr).toBe(0);
    const webhook = created.json<{ id: string; secret: string; publicKey: string }>();
    expect(webhook.secret).toMatch(/^whsk_/);
    expect(webhook.publicKey).toMatch(/^whpk_/);
    const { cli, url } = await listen(['--webhook', `acme/${webhook.id}`, ...conn]);
    const updated = await runCli(['webhooks', 'update', 'acme', webhook.id, '--endpoint', url, ...conn]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.json<{ url: string }>().url).toBe(url);

    const sent = await runCli(['events', 'send', 'acme', 'invoice.paid', ...conn]);
    const deliveryId = sent.json<{ deliveries: { id: string; webhookId: string }[] }>().deliveries.find((d) => d.webhookId === webhook.id)?.id as string;
    expect(await lineFor(cli, deliveryId)).toMatchObject({ verified: true, status: 200 });
    await runCli(['webhooks', 'delete', 'acme', webhook.id, ...conn]);
  });

  it('prints one readable line per request without --json', async () => {
    const secret = generateWebhookSecret();
    const cli = await startCli(['listen', '--port', '0', '--no-json', '--secret', secret], READY);
    running.push(cli);
    const url = listenUrl(cli);
    const created = await runCli(['webhooks', 'create', 'acme', url, '--secret', secret, '-e', 'invoice.paid', ...conn]);
    const webhookId = created.json<{ id: string }>().id;
    const sent = await runCli(['events', 'send', 'acme', 'invoice.paid', ...conn]);
    const deliveryId = sent.json<{ deliveries: { id: string; webhookId: string }[] }>().deliveries.find((d) => d.webhookId === webhookId)?.id as string;
    const line = await cli.waitForLine((l) => l.includes(deliveryId));
    expect(line).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  invoice\\.paid  ${deliveryId}  ✓ verified  → 200$`));
    await runCli(['webhooks', 'delete', 'acme', webhookId, ...conn]);
  });
});

describe('herald listen --profile: every signature scheme Herald sends', () => {
  const cases = [
    { profile: 'vercel', scheme: 'hmac', secret: () => 'vercel-integration-secret', wrong: () => 'another-secret' },
    { profile: 'voiceflow', scheme: 'svix', secret: () => generateWebhookSecret(), wrong: () => generateWebhookSecret() },
    { profile: 'qovery', scheme: 'header-secret', secret: () => 'qovery-shared-secret', wrong: () => 'another-secret' },
    { profile: 'convocore', scheme: 'body secret', secret: () => 'convocore-workspace-secret', wrong: () => 'another-secret' },
  ];

  it.each(cases)('$profile ($scheme): the test event verifies, a wrong secret does not', { timeout: 90_000 }, async ({ profile, secret: makeSecret, wrong }) => {
    const h = await startHerald({ profile });
    try {
      const conn = ['--url', h.url, '--token', h.token];
      expect((await h.call('POST', '/v1/organizations', { id: 'org1' })).status).toBe(201);
      const secret = makeSecret();
      const [good, bad] = await Promise.all([listen(['--profile', profile, '--secret', secret]), listen(['--profile', profile, '--secret', wrong()])]);

      const ids = await Promise.all(
        [good, bad].map(async (target) => {
          const created = await runCli(['webhooks', 'create', 'org1', `${target.url}/hook`, '--secret', secret, ...conn]);
          expect(created.code, created.stderr).toBe(0);
          const webhookId = created.json<{ id: string }>().id;
          const test = await runCli(['webhooks', 'test', 'org1', webhookId, ...conn]);
          expect(test.code, test.stderr).toBe(0);
          return test.json<{ deliveryId: string }>().deliveryId;
        }),
      );

      // Qovery and Convocore send no delivery id: each listener gets exactly one request.
      const accepted = JSON.parse(await good.cli.waitForLine(() => true)) as ListenLine;
      expect(accepted).toMatchObject({ verified: true, status: 200 });
      expect(accepted.scheme).toContain(`${profile}/default`);
      const delivery = await settledDelivery(h, 'org1', ids[0] as string);
      expect(delivery.status).toBe('succeeded');

      const refused = JSON.parse(await bad.cli.waitForLine(() => true)) as ListenLine;
      expect(refused).toMatchObject({ verified: false, status: 401 });
    } finally {
      await h.stop();
    }
  });
});
