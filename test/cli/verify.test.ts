/**
 * `herald verify` (the built binary) on requests Herald really sent: captured by a test
 * receiver as {headers, body}, or as attempts printed by `herald deliveries show --json`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../src/domain/secrets.js';
import { removeTempDirs, requireFreshCli, runCli, tempDir } from '../helpers/cli.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';

let h: TestHerald;
let receiver: Receiver;
let conn: string[];
const secret = generateWebhookSecret();
let captured: ReceivedRequest;
let deliveryId: string;

beforeAll(async () => {
  requireFreshCli();
  [h, receiver] = await Promise.all([startHerald(), startReceiver()]);
  conn = ['--url', h.url, '--token', h.token];
  await h.call('PUT', '/v1/event-types/invoice.paid', { description: 'An invoice was paid' });
  await h.call('POST', '/v1/organizations', { id: 'acme' });
  const webhook = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', { url: `${receiver.url}/hook`, secret });
  expect(webhook.status).toBe(201);
  const posted = await h.call<{ deliveries: { id: string }[] }>('POST', '/v1/organizations/acme/events', { type: 'invoice.paid', data: { invoiceId: 'in_42', note: 'ünïcödé ✓' } });
  deliveryId = posted.body.deliveries[0]?.id as string;
  [captured] = (await receiver.waitFor(1)) as [ReceivedRequest];
  await eventually(async () => (await h.call<{ status: string }>('GET', `/v1/organizations/acme/deliveries/${deliveryId}`)).body.status === 'succeeded');
});

afterAll(async () => {
  await Promise.all([h.stop(), receiver.close()]);
  removeTempDirs();
});

const requestJson = (overrides: Partial<{ headers: unknown; body: string }> = {}) => JSON.stringify({ headers: captured.headers, body: captured.body, ...overrides });

describe('herald verify', () => {
  it('exit 0 for the captured request on stdin', async () => {
    const result = await runCli(['verify', '--secret', secret, '--no-json'], { input: requestJson() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('✓ valid: standard-webhooks');
    const json = await runCli(['verify', '--secret', secret], { input: requestJson() });
    expect(json.json()).toEqual({ valid: true, scheme: 'standard-webhooks' });
  });

  it('exit 8 for a tampered body, a wrong secret or a stale timestamp', async () => {
    const tampered = await runCli(['verify', '--secret', secret], { input: requestJson({ body: captured.body.replace('in_42', 'in_43') }) });
    expect(tampered.code).toBe(8);
    expect(tampered.json()).toEqual({ valid: false, reason: 'no matching signature' });

    const wrong = await runCli(['verify', '--secret', generateWebhookSecret()], { input: requestJson() });
    expect(wrong.code).toBe(8);

    const stale = await runCli(['verify', '--secret', secret, '--at', new Date(Date.now() + 3_600_000).toISOString(), '--no-json'], { input: requestJson() });
    expect(stale.code).toBe(8);
    expect(stale.stdout).toContain('✗ invalid: timestamp too old');
    const tolerated = await runCli(['verify', '--secret', secret, '--at', new Date(Date.now() + 3_600_000).toISOString(), '--tolerance', '7200'], { input: requestJson() });
    expect(tolerated.code).toBe(0);
  });

  it('accepts a delivery from `herald deliveries show --json`, checked as of its attempt time', async () => {
    const shown = await runCli(['deliveries', 'show', 'acme', deliveryId, ...conn]);
    expect(shown.code, shown.stderr).toBe(0);
    const dir = tempDir('herald-verify-');
    const file = join(dir, 'delivery.json');
    writeFileSync(file, shown.stdout);
    const result = await runCli(['verify', '--secret', secret, '--file', file]);
    expect(result.code, result.stderr).toBe(0);
    const attempt = (JSON.parse(shown.stdout) as { attempts: unknown[] }).attempts[0];
    const single = await runCli(['verify', '--secret', secret], { input: JSON.stringify(attempt) });
    expect(single.code, single.stderr).toBe(0);
    const wrong = await runCli(['verify', '--secret', generateWebhookSecret(), '--file', file]);
    expect(wrong.code).toBe(8);
  });

  it('other schemes by flag: hmac with --signature-header, and a profile', async () => {
    const { createHmac } = await import('node:crypto');
    const body = '{"type":"deployment.created","payload":{}}';
    const digest = createHmac('sha1', 'vercel-secret').update(body).digest('hex');
    const request = JSON.stringify({ headers: { 'x-vercel-signature': digest }, body });
    const byProfile = await runCli(['verify', '--profile', 'vercel', '--secret', 'vercel-secret'], { input: request });
    expect(byProfile.json()).toEqual({ valid: true, scheme: 'vercel/default: hmac sha1 hex x-vercel-signature' });
    const byScheme = await runCli(['verify', '--scheme', 'hmac', '--signature-header', 'X-Vercel-Signature', '--algorithm', 'sha1', '--secret', 'vercel-secret'], { input: request });
    expect(byScheme.code, byScheme.stderr).toBe(0);
    const wrongAlgorithm = await runCli(['verify', '--scheme', 'hmac', '--signature-header', 'x-vercel-signature', '--secret', 'vercel-secret'], { input: request });
    expect(wrongAlgorithm.code).toBe(8);
    const base64Body = await runCli(['verify', '--profile', 'vercel', '--secret', 'vercel-secret'], {
      input: JSON.stringify({ headers: { 'x-vercel-signature': digest }, bodyBase64: Buffer.from(body).toString('base64') }),
    });
    expect(base64Body.code).toBe(0);
  });

  it('exit 1 without a needed secret or header; exit 6 on unreadable input', async () => {
    const noSecret = await runCli(['verify'], { input: requestJson() });
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain('--secret is required');
    const noHeader = await runCli(['verify', '--scheme', 'hmac', '--secret', 's'], { input: requestJson() });
    expect(noHeader.code).toBe(1);
    const notJson = await runCli(['verify', '--secret', secret], { input: 'not json' });
    expect(notJson.code).toBe(6);
    const noBody = await runCli(['verify', '--secret', secret], { input: '{"headers":{}}' });
    expect(noBody.code).toBe(6);
    expect(noBody.stderr).toContain('"body" must be the raw body');
    const missingFile = await runCli(['verify', '--secret', secret, '--file', '/nonexistent/request.json']);
    expect(missingFile.code).toBe(6);
  });
});
