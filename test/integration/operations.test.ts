/**
 * The operational endpoints: health, readiness, Prometheus metrics after a
 * real delivery, the OpenAPI 3.1 document and the reference page.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

/** Plain GET without a token: these endpoints are for probes and scrapers. */
async function get(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const response = await request(url, { method: 'GET' });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

/** The value of one sample line `name{labels} value` (labels matched as a substring), summed over matches. */
function sample(metrics: string, name: string, labels = ''): number | null {
  let total: number | null = null;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name || !(match[2] ?? '').includes(labels)) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

describe('operations', () => {
  let h: TestHerald;
  let receiver: Receiver;

  beforeAll(async () => {
    h = await startHerald();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it('GET /healthz answers 200 without a token', async () => {
    const res = await get(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when the store answers', async () => {
    const res = await get(`${h.url}/readyz`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: 'ready' });
  });

  it('GET /metrics shows ingest, delivery, attempt duration and queue depth after one delivery', async () => {
    const before = await get(`${h.url}/metrics`);
    expect(before.status).toBe(200);
    expect(String(before.headers['content-type'])).toMatch(/^text\/plain/);
    expect(sample(before.text, 'herald_events_ingested_total') ?? 0).toBe(0);

    await h.call('PUT', '/v1/event-types/metric.ping', { description: 'ping' });
    await h.call('POST', '/v1/organizations', { id: 'metrics-org' });
    const hook = await h.call<{ id: string }>('POST', '/v1/organizations/metrics-org/webhooks', { url: `${receiver.url}/m` });
    expect(hook.status).toBe(201);
    const posted = await h.call<{ deliveries: { id: string }[] }>('POST', '/v1/organizations/metrics-org/events', { type: 'metric.ping', data: {} });
    expect(posted.status).toBe(202);
    await receiver.waitFor(1);
    await eventually(async () => {
      const d = await h.call<{ status: string }>('GET', `/v1/organizations/metrics-org/deliveries/${posted.body.deliveries[0]!.id}`);
      return d.body.status === 'succeeded';
    });

    const metrics = await eventually(async () => {
      const res = await get(`${h.url}/metrics`);
      return (sample(res.text, 'herald_deliveries_total') ?? 0) >= 1 ? res.text : undefined;
    });
    for (const name of ['herald_events_ingested_total', 'herald_deliveries_total', 'herald_attempt_duration_seconds', 'herald_queue_depth']) {
      expect(metrics).toContain(`# TYPE ${name} `);
    }
    expect(sample(metrics, 'herald_events_ingested_total')).toBe(1);
    expect(sample(metrics, 'herald_deliveries_total', 'outcome="succeeded"')).toBe(1);
    expect(sample(metrics, 'herald_attempt_duration_seconds_count')).toBe(1);
    expect(sample(metrics, 'herald_attempt_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sample(metrics, 'herald_queue_depth')).toBe(0);
  });

  it('herald_queue_depth counts pending deliveries', async () => {
    const slow = await startReceiver();
    try {
      slow.respond({ kind: 'delay', ms: 1_000 });
      await h.call('PUT', '/v1/event-types/metric.slow', { description: 'slow' });
      const hook = await h.call<{ id: string }>('POST', '/v1/organizations/metrics-org/webhooks', {
        url: `${slow.url}/slow`,
        events: ['metric.slow'],
        concurrency: 1,
      });
      expect(hook.status).toBe(201);
      for (let i = 0; i < 3; i++) expect((await h.call('POST', '/v1/organizations/metrics-org/events', { type: 'metric.slow', data: { i } })).status).toBe(202);
      const res = await get(`${h.url}/metrics`);
      expect(sample(res.text, 'herald_queue_depth')).toBeGreaterThanOrEqual(2);
    } finally {
      await slow.close();
    }
  });

  it('GET /openapi.json is an OpenAPI 3.1 document listing the /v1 paths', async () => {
    const res = await get(`${h.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    const doc = JSON.parse(res.text) as { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    const paths = Object.keys(doc.paths);
    for (const path of [
      '/v1/event-types',
      '/v1/event-types/{name}',
      '/v1/organizations',
      '/v1/organizations/{org}',
      '/v1/organizations/{org}/webhooks',
      '/v1/organizations/{org}/webhooks/{id}',
      '/v1/organizations/{org}/webhooks/{id}/secret',
      '/v1/organizations/{org}/webhooks/{id}/rotate-secret',
      '/v1/organizations/{org}/webhooks/{id}/test',
      '/v1/organizations/{org}/events',
      '/v1/organizations/{org}/events/{id}',
      '/v1/organizations/{org}/deliveries',
      '/v1/organizations/{org}/deliveries/{id}',
      '/v1/organizations/{org}/deliveries/{id}/retry',
    ]) {
      expect(paths, path).toContain(path);
    }
    expect(Object.keys(doc.paths['/v1/organizations/{org}/events']!)).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/v1/event-types/{name}']!)).toEqual(expect.arrayContaining(['get', 'put', 'delete']));
  });

  it('GET /docs answers an HTML page (after a redirect, if any)', async () => {
    let res = await get(`${h.url}/docs`);
    for (let hops = 0; hops < 3 && res.status >= 300 && res.status < 400; hops++) {
      const location = String(res.headers.location);
      res = await get(new URL(location, `${h.url}/docs`).toString());
    }
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    expect(res.text.toLowerCase()).toContain('<html');
  });
});
