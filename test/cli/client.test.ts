/**
 * The client commands of the built `herald` binary against a running Herald: the exit codes
 * scripts rely on (bad token, unknown id, unreachable server, invalid input, server error,
 * usage), where the token comes from, JSON versus tables, and each command doing its job.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, requireFreshCli, runCli, tempDir } from '../helpers/cli.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { closedPort, startReceiver, type Receiver } from '../helpers/receiver.js';

let h: TestHerald;
let receiver: Receiver;
let conn: string[];

beforeAll(async () => {
  requireFreshCli();
  [h, receiver] = await Promise.all([startHerald(), startReceiver()]);
  conn = ['--url', h.url, '--token', h.token];
  expect((await h.call('PUT', '/v1/event-types/invoice.paid', { description: 'An invoice was paid', schema: { type: 'object', required: ['invoiceId'] } })).status).toBeLessThan(300);
  expect((await h.call('PUT', '/v1/event-types/invoice.voided', { description: 'An invoice was voided' })).status).toBeLessThan(300);
  expect((await h.call('POST', '/v1/organizations', { id: 'acme' })).status).toBe(201);
});

afterAll(async () => {
  await Promise.all([h.stop(), receiver.close()]);
  removeTempDirs();
});

interface Webhook {
  id: string;
  url: string;
  enabled: boolean;
  events: string[];
  secret?: string;
}

async function createWebhook(extra: string[] = []): Promise<Webhook> {
  const created = await runCli(['webhooks', 'create', 'acme', `${receiver.url}/hook`, '-e', 'invoice.*', ...extra, ...conn]);
  expect(created.code, created.stderr).toBe(0);
  return created.json<Webhook>();
}

describe('exit codes', () => {
  it('4 on a bad token, with the token source in the message', async () => {
    const result = await runCli(['webhooks', 'list', 'acme', '--url', h.url, '--token', 'not-the-token']);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('HTTP 401 unauthorized');
    expect(result.stderr).toContain('token from --token');
  });

  it('4 without any token, with a hint where to put one', async () => {
    const result = await runCli(['deliveries', 'list', 'acme', '--url', h.url]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/no token: pass --token, set HERALD_TOKEN/);
  });

  it('3 on an unknown id (webhook, delivery, event, organization)', async () => {
    for (const args of [
      ['webhooks', 'show', 'acme', 'whk_nope'],
      ['deliveries', 'show', 'acme', 'dlv_nope'],
      ['deliveries', 'retry', 'acme', 'dlv_nope'],
      ['events', 'show', 'acme', 'evt_nope'],
      ['webhooks', 'create', 'no-such-org', 'http://127.0.0.1:1/'],
    ]) {
      const result = await runCli([...args, ...conn]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(3);
      expect(result.stderr).toContain('HTTP 404 not_found');
    }
  });

  it('5 when the server is unreachable', async () => {
    const port = await closedPort();
    const result = await runCli(['webhooks', 'list', 'acme', '--url', `http://127.0.0.1:${port}`, '--token', 't']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`cannot reach Herald at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('5 when the server does not answer in time', async () => {
    const silent = await startReceiver();
    try {
      silent.respond({ kind: 'hang' });
      const result = await runCli(['webhooks', 'list', 'acme', '--url', silent.url, '--token', 't', '--timeout', '300']);
      expect(result.code).toBe(5);
      expect(result.stderr).toContain('no answer from Herald');
    } finally {
      await silent.close();
    }
  });

  it('6 on invalid input: unknown type, data failing the schema, bad --data JSON', async () => {
    const unknown = await runCli(['events', 'send', 'acme', 'no.such.type', ...conn]);
    expect(unknown.code).toBe(6);
    expect(unknown.stderr).toContain('HTTP 422');
    const schema = await runCli(['events', 'send', 'acme', 'invoice.paid', '--data', '{}', ...conn]);
    expect(schema.code).toBe(6);
    expect(schema.stderr).toMatch(/invoiceId/);
    const badJson = await runCli(['events', 'send', 'acme', 'invoice.paid', '--data', '{nope', ...conn]);
    expect(badJson.code).toBe(6);
    expect(badJson.stderr).toContain('--data is not valid JSON');
    const badUrl = await runCli(['webhooks', 'create', 'acme', 'ftp://example.com/x', ...conn]);
    expect(badUrl.code).toBe(6);
  });

  it('7 on a server error (5xx)', async () => {
    const broken = await startReceiver();
    try {
      broken.respond({ kind: 'status', status: 500, body: '{"error":{"code":"internal_error","message":"internal error; see the server log","details":[]}}', headers: { 'content-type': 'application/json' } });
      const result = await runCli(['deliveries', 'list', 'acme', '--url', broken.url, '--token', 't']);
      expect(result.code).toBe(7);
      expect(result.stderr).toContain('internal error; see the server log (HTTP 500 internal_error)');
    } finally {
      await broken.close();
    }
  });

  it('1 on usage errors; 2 on a profile error', async () => {
    const missing = await runCli(['webhooks', 'show', 'acme']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("missing required argument 'id'");
    const unknownOption = await runCli(['events', 'send', 'acme', 'x', '--frobnicate']);
    expect(unknownOption.code).toBe(1);
    const badUrl = await runCli(['webhooks', 'list', 'acme', '--url', 'not a url']);
    expect(badUrl.code).toBe(1);
    const profile = await runCli(['listen', '--profile', 'no-such-profile', '--port', '0']);
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain('no-such-profile');
  });

  it('the exit codes are listed in herald --help', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const line of ['3  not found (HTTP 404)', '4  authentication or permission (HTTP 401, 403)', '5  server unreachable', '7  server error (HTTP 5xx)']) {
      expect(help.stdout).toContain(line);
    }
  });
});

describe('connection settings', () => {
  it('reads the token from ./.herald/admin-token, and HERALD_URL / HERALD_TOKEN from the environment', async () => {
    const dir = tempDir('herald-cli-token-');
    mkdirSync(join(dir, '.herald'));
    writeFileSync(join(dir, '.herald', 'admin-token'), `${h.token}\n`);
    const fromFile = await runCli(['webhooks', 'list', 'acme', '--url', h.url], { cwd: dir });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromEnv = await runCli(['webhooks', 'list', 'acme'], { env: { HERALD_URL: h.url, HERALD_TOKEN: h.token } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    // --token wins over the file.
    const flagWins = await runCli(['webhooks', 'list', 'acme', '--url', h.url, '--token', 'wrong'], { cwd: dir });
    expect(flagWins.code).toBe(4);
  });
});

describe('output', () => {
  it('JSON when stdout is not a terminal (the API answer), a table with --no-json', async () => {
    const webhook = await createWebhook();
    const json = await runCli(['webhooks', 'list', 'acme', ...conn]);
    const page = json.json<{ data: Webhook[]; nextCursor: string | null }>();
    expect(page.data.map((w) => w.id)).toContain(webhook.id);
    const table = await runCli(['webhooks', 'list', 'acme', '--no-json', ...conn]);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+URL\s+EVENTS\s+STATE\s+CREATED$/);
    expect(table.stdout).toContain(webhook.id);
    expect(() => JSON.parse(table.stdout)).toThrow();
    await runCli(['webhooks', 'delete', 'acme', webhook.id, ...conn]);
  });
});

describe('commands', () => {
  it('organizations create|list and event-types put|list', async () => {
    const org = await runCli(['organizations', 'create', 'globex', '--name', 'Globex', ...conn]);
    expect(org.code, org.stderr).toBe(0);
    expect(org.json()).toMatchObject({ id: 'globex', name: 'Globex' });
    expect((await runCli(['orgs', 'create', 'globex', ...conn])).code).toBe(6); // 409: exists already
    const orgs = await runCli(['organizations', 'list', '--all', ...conn]);
    expect(orgs.json<{ data: { id: string }[] }>().data.map((o) => o.id)).toEqual(expect.arrayContaining(['acme', 'globex']));

    const put = await runCli(['event-types', 'put', 'order.shipped', '--description', 'An order was shipped', '--schema', '{"type":"object","required":["orderId"]}', '--example', '{"orderId":"o_1"}', ...conn]);
    expect(put.code, put.stderr).toBe(0);
    expect(put.json()).toMatchObject({ name: 'order.shipped', group: 'order', examples: [{ orderId: 'o_1' }] });
    const list = await runCli(['event-types', 'list', '--no-json', ...conn]);
    expect(list.stdout).toMatch(/order\.shipped\s+order\s+An order was shipped/);
    const invalid = await runCli(['events', 'send', 'globex', 'order.shipped', '--data', '{}', ...conn]);
    expect(invalid.code).toBe(6);
  });

  it('webhooks: create (with its secret), show, update, secret, rotate-secret, test --wait, delete', async () => {
    const webhook = await createWebhook(['--description', 'billing', '--filter', 'region=eu*,us', '--header', 'X-Team=billing']);
    expect(webhook).toMatchObject({ url: `${receiver.url}/hook`, enabled: true, events: ['invoice.*'], description: 'billing', filters: { region: ['eu*', 'us'] }, headers: { 'X-Team': 'billing' } });
    expect(webhook.secret).toMatch(/^whsec_/);

    const created = await runCli(['webhooks', 'show', 'acme', webhook.id, '--no-json', ...conn]);
    expect(created.stdout).toMatch(/state\s+enabled/);

    const disabled = await runCli(['webhooks', 'update', 'acme', webhook.id, '--disable', '-e', 'invoice.paid', ...conn]);
    expect(disabled.json<Webhook>()).toMatchObject({ enabled: false, events: ['invoice.paid'] });
    const nothing = await runCli(['webhooks', 'update', 'acme', webhook.id, ...conn]);
    expect(nothing.code).toBe(1);
    await runCli(['webhooks', 'update', 'acme', webhook.id, '--enable', ...conn]);

    const secret = await runCli(['webhooks', 'secret', 'acme', webhook.id, '--no-json', ...conn]);
    expect(secret.stdout.trim()).toBe(webhook.secret);
    const rotated = await runCli(['webhooks', 'rotate-secret', 'acme', webhook.id, ...conn]);
    const newSecret = rotated.json<{ secret: string }>().secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(webhook.secret);

    receiver.respond({ kind: 'status', status: 200, body: 'ok' });
    const test = await runCli(['webhooks', 'test', 'acme', webhook.id, '--wait', ...conn]);
    expect(test.code, test.stderr).toBe(0);
    const delivery = test.json<{ status: string; attempts: { responseStatus: number; requestHeaders: Record<string, string> }[] }>();
    expect(delivery.status).toBe('succeeded');
    // Two signatures during the rotation's grace period.
    expect(delivery.attempts[0]?.requestHeaders['webhook-signature']?.split(' ')).toHaveLength(2);

    const deleted = await runCli(['webhooks', 'delete', 'acme', webhook.id, ...conn]);
    expect(deleted.json()).toEqual({ id: webhook.id, deleted: true });
    expect((await runCli(['webhooks', 'show', 'acme', webhook.id, ...conn])).code).toBe(3);
  });

  it('events send: single with attributes and idempotency key; --count; --file with a bad line', async () => {
    const webhook = await createWebhook();
    const args = ['events', 'send', 'acme', 'invoice.paid', '--data', '{"invoiceId":"in_1"}', '--attr', 'region=eu', '--idempotency-key', 'k-1', ...conn];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(args);
    expect(again.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);

    const shown = await runCli(['events', 'show', 'acme', first.json<{ id: string }>().id, ...conn]);
    expect(shown.json()).toMatchObject({ type: 'invoice.paid', attributes: { region: 'eu' }, data: { invoiceId: 'in_1' } });

    const bulk = await runCli(['events', 'send', 'acme', 'invoice.voided', '--count', '25', '--concurrency', '4', ...conn]);
    expect(bulk.code, bulk.stderr).toBe(0);
    const summary = bulk.json<{ sent: number; failed: number; ids: string[]; deliveries: number }>();
    expect(summary).toMatchObject({ sent: 25, failed: 0 });
    expect(new Set(summary.ids).size).toBe(25);
    expect(summary.deliveries).toBeGreaterThanOrEqual(25);
    expect(bulk.stderr).toBe(''); // no progress bar when stderr is not a terminal

    const dir = tempDir('herald-cli-ndjson-');
    const file = join(dir, 'events.ndjson');
    writeFileSync(
      file,
      ['{"type":"invoice.paid","data":{"invoiceId":"in_2"}}', '', '{"data":{"invoiceId":"in_3"}}', '{"type":"no.such.type","data":{}}', '{"type":"invoice.voided","data":{}}'].join('\n'),
    );
    const fromFile = await runCli(['events', 'send', 'acme', 'invoice.paid', '--file', file, ...conn]);
    expect(fromFile.code).toBe(6);
    expect(fromFile.json()).toMatchObject({ sent: 3, failed: 1, errors: [{ line: 4, exitCode: 6 }] });
    expect(fromFile.stderr).toContain('event on line 4');

    const fromStdin = await runCli(['events', 'send', 'acme', '--file', '-', ...conn], { input: '{"type":"invoice.voided","data":{}}\n' });
    expect(fromStdin.json()).toMatchObject({ sent: 1, failed: 0 });
    await runCli(['webhooks', 'delete', 'acme', webhook.id, ...conn]);
  });

  it('deliveries: list with filters, show, retry --wait', async () => {
    // No automatic retries, so the only second attempt is the one asked for (however slow the machine).
    const webhook = await createWebhook(['--body', '{"retry":{"kind":"none"}}']);
    receiver.respond({ kind: 'status', status: 503, body: 'down' });
    const sent = await runCli(['events', 'send', 'acme', 'invoice.voided', ...conn]);
    const deliveryId = sent.json<{ deliveries: { id: string; webhookId: string }[] }>().deliveries.find((d) => d.webhookId === webhook.id)?.id as string;
    await eventually(async () => (await h.call<{ status: string }>('GET', `/v1/organizations/acme/deliveries/${deliveryId}`)).body.status === 'failed');

    const list = await runCli(['deliveries', 'list', 'acme', '--webhook', webhook.id, ...conn]);
    expect(list.json<{ data: { id: string }[] }>().data.map((d) => d.id)).toEqual([deliveryId]);
    const shown = await runCli(['deliveries', 'show', 'acme', deliveryId, '--no-json', '--verbose', ...conn]);
    expect(shown.stdout).toMatch(/HTTP 503/);
    expect(shown.stdout).toContain('"type": "invoice.voided"');

    receiver.respond({ kind: 'status', status: 200, body: 'back' });
    const retried = await runCli(['deliveries', 'retry', 'acme', deliveryId, '--wait', ...conn]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.json()).toMatchObject({ id: deliveryId, status: 'succeeded', attemptCount: 2, responseStatus: 200 });
    const succeeded = await runCli(['deliveries', 'list', 'acme', '--webhook', webhook.id, '--status', 'succeeded', '--no-json', ...conn]);
    expect(succeeded.stdout).toContain(deliveryId);
    await runCli(['webhooks', 'delete', 'acme', webhook.id, ...conn]);
  });

  it('recover --wait re-sends what was skipped while the webhook was disabled', async () => {
    const webhook = await createWebhook(['--disabled']);
    receiver.respond({ kind: 'status', status: 200, body: 'ok' });
    const bulk = await runCli(['events', 'send', 'acme', 'invoice.voided', '--count', '12', ...conn]);
    expect(bulk.json<{ sent: number }>().sent).toBe(12);
    const skipped = await runCli(['deliveries', 'list', 'acme', '--webhook', webhook.id, '--status', 'skipped', '--all', ...conn]);
    expect(skipped.json<{ data: unknown[] }>().data).toHaveLength(12);

    const whileDisabled = await runCli(['recover', 'acme', webhook.id, '--since', '10m', ...conn]);
    expect(whileDisabled.code).toBe(6);
    expect(whileDisabled.stderr).toContain('webhook_disabled');

    await runCli(['webhooks', 'update', 'acme', webhook.id, '--enable', ...conn]);
    const before = receiver.requests.length;
    const recovered = await runCli(['recover', 'acme', webhook.id, '--since', '10m', '--wait', ...conn]);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.json()).toMatchObject({ count: 12, delivered: 12, stillPending: 0 });
    expect(receiver.requests.length - before).toBeGreaterThanOrEqual(12);

    // Nothing left to recover; every webhook of the organization when no id is given.
    const none = await runCli(['recover', 'acme', '--since', '10m', '--no-json', ...conn]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('0 deliveries re-queued');
    const badTime = await runCli(['recover', 'acme', webhook.id, '--since', 'yesterday-ish', ...conn]);
    expect(badTime.code).toBe(1);
    await runCli(['webhooks', 'delete', 'acme', webhook.id, ...conn]);
  });
});
