/**
 * The API's refusals, table-driven: each bad request gets the right status,
 * the one error shape `{error: {code, message, details: []}}`, and — for
 * every refused write — leaves every table exactly as it was.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectApiError, rowCounts } from '../helpers/api.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `:webhook` is replaced by the id of the webhook made in beforeAll. */
  path: string;
  /** A string is sent as is (with the content type of `headers`, else application/json). */
  body?: unknown;
  headers?: Record<string, string>;
  /** `null` sends the body without any Content-Type header. */
  contentType?: null;
  /** `null` sends no Authorization header at all. */
  authorization?: string | null;
  status: number;
  code?: string;
  check?: (error: { code: string; message: string; details: unknown[] }) => void;
}

const ORDER_SCHEMA = {
  type: 'object',
  properties: {
    amount: { type: 'integer', minimum: 0 },
    currency: { type: 'string', enum: ['EUR', 'USD'] },
    customer: { type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'] },
  },
  required: ['amount', 'currency'],
};
const GOOD_ORDER = { amount: 10, currency: 'EUR', customer: { email: 'a@example.com' } };
const MAX_BODY = 256 * 1024;

/** Messages or details must name the offending field, wherever the server chose to put it. */
function names(field: string) {
  return (error: { message: string; details: unknown[] }) => {
    expect(`${error.message} ${JSON.stringify(error.details)}`).toContain(field);
  };
}

const events = '/v1/organizations/acme/events';
const webhooks = '/v1/organizations/acme/webhooks';

const cases: Case[] = [
  // --- body parsing -------------------------------------------------------
  { name: 'malformed JSON on events', method: 'POST', path: events, body: '{"type": "order.created", "data": ', status: 400, code: 'malformed_json' },
  { name: 'malformed JSON on webhooks', method: 'POST', path: webhooks, body: "{url: 'http://127.0.0.1/'}", status: 400, code: 'malformed_json' },
  { name: 'malformed JSON on organizations', method: 'POST', path: '/v1/organizations', body: '{"id": "x",}', status: 400, code: 'malformed_json' },
  { name: 'malformed JSON on event types', method: 'PUT', path: '/v1/event-types/order.shipped', body: '{"description"', status: 400, code: 'malformed_json' },
  { name: 'empty JSON body', method: 'POST', path: events, body: '', status: 400, code: 'malformed_json' },
  { name: 'text/plain body', method: 'POST', path: events, body: 'type=order.created', headers: { 'content-type': 'text/plain' }, status: 415 },
  {
    name: 'form-encoded body',
    method: 'POST',
    path: '/v1/organizations',
    body: 'id=formy',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
  },
  { name: 'a body without a content type', method: 'POST', path: events, body: JSON.stringify({ type: 'order.created', data: GOOD_ORDER }), contentType: null, status: 415 },
  { name: 'XML body on webhooks', method: 'POST', path: webhooks, body: '<url/>', headers: { 'content-type': 'application/xml' }, status: 415 },
  {
    name: 'body over 256 KiB',
    method: 'POST',
    path: events,
    body: { type: 'order.created', data: { ...GOOD_ORDER, note: 'x'.repeat(MAX_BODY) } },
    status: 413,
  },
  {
    name: 'webhook body over 256 KiB',
    method: 'POST',
    path: webhooks,
    body: { url: 'http://127.0.0.1/hook', description: 'y'.repeat(MAX_BODY + 10) },
    status: 413,
  },

  // --- events: catalog and schema ----------------------------------------
  { name: 'unknown event type', method: 'POST', path: events, body: { type: 'order.vanished', data: GOOD_ORDER }, status: 422, code: 'unknown_event_type', check: names('order.vanished') },
  {
    name: 'data violating the schema',
    method: 'POST',
    path: events,
    body: { type: 'order.created', data: { amount: -5, currency: 'GBP', customer: { email: 'not-an-email' } } },
    status: 422,
    code: 'schema_violation',
    check: (error) => {
      const paths = error.details.map((d) => (d as { path: string }).path);
      expect(paths).toEqual(expect.arrayContaining(['/amount', '/currency', '/customer/email']));
      for (const detail of error.details) expect(detail).toMatchObject({ path: expect.any(String), message: expect.any(String) });
    },
  },
  {
    name: 'data missing required properties',
    method: 'POST',
    path: events,
    body: { type: 'order.created', data: { customer: {} } },
    status: 422,
    code: 'schema_violation',
    check: (error) => {
      expect(JSON.stringify(error.details)).toContain('amount');
      expect(JSON.stringify(error.details)).toContain('currency');
      expect(JSON.stringify(error.details)).toContain('email');
    },
  },
  {
    name: 'data of the wrong JSON type',
    method: 'POST',
    path: events,
    body: { type: 'order.created', data: 'just a string' },
    status: 422,
    code: 'schema_violation',
    check: (error) => expect(error.details.length).toBeGreaterThan(0),
  },
  { name: 'event without data', method: 'POST', path: events, body: { type: 'order.created' }, status: 400, code: 'validation_failed', check: names('data') },
  { name: 'event without type', method: 'POST', path: events, body: { data: GOOD_ORDER }, status: 400, code: 'validation_failed', check: names('type') },
  { name: 'event type of the wrong JSON type', method: 'POST', path: events, body: { type: 42, data: GOOD_ORDER }, status: 400, code: 'validation_failed', check: names('type') },
  {
    name: 'event attributes that are not strings',
    method: 'POST',
    path: events,
    body: { type: 'order.created', data: GOOD_ORDER, attributes: { projectName: 7 } },
    status: 400,
    code: 'validation_failed',
    check: names('attributes'),
  },
  { name: 'event time that is not ISO', method: 'POST', path: events, body: { type: 'order.created', data: GOOD_ORDER, time: 'yesterday' }, status: 400, code: 'validation_failed', check: names('time') },
  { name: 'event to a reserved organization', method: 'POST', path: '/v1/organizations/_herald/events', body: { type: 'order.created', data: GOOD_ORDER }, status: 422 },
  { name: 'event to an invalid organization id', method: 'POST', path: '/v1/organizations/bad%20org!/events', body: { type: 'order.created', data: GOOD_ORDER }, status: 400, code: 'validation_failed' },

  // --- unknown fields -----------------------------------------------------
  { name: 'unknown field on an event', method: 'POST', path: events, body: { type: 'order.created', data: GOOD_ORDER, colour: 'red' }, status: 400, code: 'validation_failed', check: names('colour') },
  { name: 'unknown field on a new webhook', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook', colour: 'red' }, status: 400, code: 'validation_failed', check: names('colour') },
  { name: 'unknown field on a webhook patch', method: 'PATCH', path: `${webhooks}/:webhook`, body: { description: 'ok', colour: 'red' }, status: 400, code: 'validation_failed', check: names('colour') },
  { name: 'secret on a webhook patch (rotate-secret is the way)', method: 'PATCH', path: `${webhooks}/:webhook`, body: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, status: 400, code: 'validation_failed', check: names('secret') },
  { name: 'unknown field on a new organization', method: 'POST', path: '/v1/organizations', body: { id: 'newco', colour: 'red' }, status: 400, code: 'validation_failed', check: names('colour') },
  { name: 'unknown field on an organization patch', method: 'PATCH', path: '/v1/organizations/acme', body: { name: 'Acme', colour: 'red' }, status: 400, code: 'validation_failed', check: names('colour') },
  { name: 'unknown field on an event type', method: 'PUT', path: '/v1/event-types/order.shipped', body: { description: 'Shipped', colour: 'red' }, status: 400, code: 'validation_failed', check: names('colour') },
  { name: 'unknown field on rotate-secret', method: 'POST', path: `${webhooks}/:webhook/rotate-secret`, body: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', colour: 'red' }, status: 400, code: 'validation_failed', check: names('colour') },

  // --- other body validation ----------------------------------------------
  { name: 'organization id starting with _', method: 'POST', path: '/v1/organizations', body: { id: '_mine' }, status: 400, code: 'validation_failed', check: names('id') },
  { name: 'organization id with spaces', method: 'POST', path: '/v1/organizations', body: { id: 'two words' }, status: 400, code: 'validation_failed' },
  { name: 'event type without description', method: 'PUT', path: '/v1/event-types/order.shipped', body: { group: 'order' }, status: 400, code: 'validation_failed', check: names('description') },
  { name: 'event type with an invalid JSON Schema', method: 'PUT', path: '/v1/event-types/order.shipped', body: { description: 'x', schema: { type: 'banana' } }, status: 422, code: 'invalid_schema' },
  {
    name: 'event type whose example breaks its schema',
    method: 'PUT',
    path: '/v1/event-types/order.shipped',
    body: { description: 'x', schema: ORDER_SCHEMA, examples: [GOOD_ORDER, { amount: 'ten' }] },
    status: 422,
    code: 'invalid_example',
    check: names('examples[1]'),
  },
  { name: 'event type name with a space', method: 'PUT', path: '/v1/event-types/order%20shipped', body: { description: 'x' }, status: 400, code: 'validation_failed' },
  { name: 'webhook without url', method: 'POST', path: webhooks, body: { description: 'no url' }, status: 400, code: 'validation_failed', check: names('url') },
  { name: 'webhook for an unknown organization', method: 'POST', path: '/v1/organizations/ghost/webhooks', body: { url: 'http://127.0.0.1/hook' }, status: 404, code: 'not_found' },
  { name: 'webhook subscribing to an unknown type', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook', events: ['order.vanished'] }, status: 422, code: 'unknown_event_type' },
  { name: 'webhook subscribing to a deprecated type', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook', events: ['order.legacy'] }, status: 422, code: 'deprecated_event_type' },
  { name: 'webhook with a bad event pattern', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook', events: ['order.*.x*'] }, status: 422 },
  { name: 'webhook with a secret that is not whsec_', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook', secret: 'hunter2hunter2' }, status: 422, code: 'invalid_secret' },
  { name: 'webhook with an unknown format', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook', format: 'nope' }, status: 422, code: 'unknown_format' },
  { name: 'webhook timeout over 60 s', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook', timeoutMs: 120_000 }, status: 400, code: 'validation_failed', check: names('timeoutMs') },

  // --- webhook URLs -------------------------------------------------------
  ...(
    [
      ['ftp: scheme', 'ftp://127.0.0.1/hook'],
      ['javascript: scheme', 'javascript:alert(1)'],
      ['file: scheme', 'file:///etc/passwd'],
      ['data: scheme', 'data:text/plain,hello'],
      ['credentials in the URL', 'http://user:secret@127.0.0.1/hook'],
      ['a user name in the URL', 'https://admin@example.com/hook'],
      ['a relative URL', '/hook'],
      ['not a URL at all', 'definitely not a url'],
      ['a URL with a fragment', 'http://127.0.0.1/hook#part'],
      ['a URL over 2048 characters', `https://example.com/${'a'.repeat(2100)}`],
    ] as const
  ).map(
    ([what, url]): Case => ({ name: `webhook URL with ${what}`, method: 'POST', path: webhooks, body: { url }, status: url.length > 2048 ? 400 : 422, ...(url.length > 2048 ? {} : { code: 'invalid_url' }) }),
  ),
  { name: 'webhook patch to a javascript: URL', method: 'PATCH', path: `${webhooks}/:webhook`, body: { url: 'javascript:alert(1)' }, status: 422, code: 'invalid_url' },
  { name: 'webhook patch to a URL with credentials', method: 'PATCH', path: `${webhooks}/:webhook`, body: { url: 'https://u:p@example.com/' }, status: 422, code: 'invalid_url' },

  // --- custom headers -----------------------------------------------------
  ...(
    [
      ['Content-Type', 'text/plain', 'reserved_header'],
      ['content-length', '1', 'reserved_header'],
      ['Host', 'evil.example', 'reserved_header'],
      ['User-Agent', 'Mozilla', 'reserved_header'],
      ['Transfer-Encoding', 'chunked', 'reserved_header'],
      ['webhook-signature', 'v1,forged', 'reserved_header'],
      ['Webhook-Id', 'msg_1', 'reserved_header'],
      ['svix-id', 'msg_1', 'reserved_header'],
      ['X-Team', 'a\r\nInjected: yes', 'invalid_header'],
      ['X-Team', 'a\nInjected: yes', 'invalid_header'],
      ['X-Team\r\nInjected', 'yes', 'invalid_header'],
      ['X Team', 'a', 'invalid_header'],
    ] as const
  ).map(
    ([header, value, code]): Case => ({
      name: `webhook header ${JSON.stringify(header)}: ${JSON.stringify(value)}`,
      method: 'POST',
      path: webhooks,
      body: { url: 'http://127.0.0.1/hook', headers: { [header]: value } },
      status: 422,
      code,
    }),
  ),
  { name: 'webhook patch adding a CRLF header', method: 'PATCH', path: `${webhooks}/:webhook`, body: { headers: { 'X-A': 'b\r\nc: d' } }, status: 422, code: 'invalid_header' },

  // --- lists --------------------------------------------------------------
  { name: 'limit=0', method: 'GET', path: '/v1/organizations?limit=0', status: 400, code: 'validation_failed', check: names('limit') },
  { name: 'limit=251', method: 'GET', path: `${events}?limit=251`, status: 400, code: 'validation_failed', check: names('limit') },
  { name: 'limit=-1', method: 'GET', path: `${webhooks}?limit=-1`, status: 400, code: 'validation_failed' },
  { name: 'limit=abc', method: 'GET', path: '/v1/event-types?limit=abc', status: 400, code: 'validation_failed' },
  { name: 'limit=2.5', method: 'GET', path: '/v1/organizations/acme/deliveries?limit=2.5', status: 400, code: 'validation_failed' },
  { name: 'cursor that is not base64url', method: 'GET', path: `${events}?cursor=${encodeURIComponent('not a cursor!')}`, status: 400, code: 'invalid_cursor' },
  { name: 'cursor that is not canonical base64url', method: 'GET', path: '/v1/organizations?cursor=%2B%2F%3D%3D', status: 400, code: 'invalid_cursor' },
  { name: 'cursor over 512 characters', method: 'GET', path: `${webhooks}?cursor=${'A'.repeat(600)}`, status: 400 },
  { name: 'unknown delivery status filter', method: 'GET', path: '/v1/organizations/acme/deliveries?status=lost', status: 400, code: 'validation_failed' },

  // --- auth ---------------------------------------------------------------
  { name: 'GET without Authorization', method: 'GET', path: '/v1/organizations', authorization: null, status: 401, code: 'unauthorized' },
  { name: 'event POST without Authorization', method: 'POST', path: events, body: { type: 'order.created', data: GOOD_ORDER }, authorization: null, status: 401, code: 'unauthorized' },
  { name: 'webhook POST with a wrong token', method: 'POST', path: webhooks, body: { url: 'http://127.0.0.1/hook' }, authorization: 'Bearer not-the-token', status: 401, code: 'unauthorized' },
  { name: 'organization POST with Basic auth', method: 'POST', path: '/v1/organizations', body: { id: 'sneaky' }, authorization: 'Basic dXNlcjpwYXNz', status: 401, code: 'unauthorized' },
  { name: 'Bearer without a token', method: 'GET', path: '/v1/event-types', authorization: 'Bearer ', status: 401, code: 'unauthorized' },
  { name: 'the token without Bearer', method: 'GET', path: '/v1/event-types', authorization: 'test-admin-token', status: 401, code: 'unauthorized' },
  { name: 'the token with trailing junk', method: 'GET', path: '/v1/event-types', authorization: 'Bearer test-admin-token junk', status: 401, code: 'unauthorized' },
  { name: 'a prefix of the token', method: 'GET', path: '/v1/event-types', authorization: 'Bearer test-admin', status: 401, code: 'unauthorized' },
  { name: 'a token with a control character', method: 'GET', path: '/v1/event-types', authorization: 'Bearer test\tadmin-token', status: 401, code: 'unauthorized' },
  { name: 'event type PUT without Authorization', method: 'PUT', path: '/v1/event-types/order.shipped', body: { description: 'x' }, authorization: null, status: 401, code: 'unauthorized' },
  { name: 'DELETE of an organization with a wrong token', method: 'DELETE', path: '/v1/organizations/acme', authorization: 'Bearer nope', status: 401, code: 'unauthorized' },
  // Authentication comes before the body is even read.
  { name: 'malformed JSON without Authorization', method: 'POST', path: events, body: '{"type":', authorization: null, status: 401, code: 'unauthorized' },
  { name: 'oversized body without Authorization', method: 'POST', path: events, body: { type: 'order.created', data: { note: 'x'.repeat(MAX_BODY) } }, authorization: null, status: 401, code: 'unauthorized' },

  // --- unknown routes and resources ---------------------------------------
  { name: 'unknown route under /v1', method: 'GET', path: '/v1/nothing-here', status: 404, code: 'not_found' },
  { name: 'unknown route outside /v1', method: 'GET', path: '/nothing-here', status: 404, code: 'not_found' },
  // Without a token, /v1 does not even say which routes exist.
  { name: 'unknown route without Authorization', method: 'GET', path: '/v1/nothing-here', authorization: null, status: 401, code: 'unauthorized' },
  { name: 'POST to an unknown route', method: 'POST', path: '/v1/organizations/acme/nothing', body: { a: 1 }, status: 404, code: 'not_found' },
  { name: 'unsupported method on a known path', method: 'DELETE', path: '/v1/event-types', status: 404, code: 'not_found' },
  { name: 'unknown organization', method: 'GET', path: '/v1/organizations/ghost', status: 404, code: 'not_found' },
  { name: 'unknown webhook', method: 'GET', path: `${webhooks}/whk_nope`, status: 404, code: 'not_found' },
  { name: 'unknown event', method: 'GET', path: `${events}/evt_nope`, status: 404, code: 'not_found' },
  { name: 'unknown delivery', method: 'GET', path: '/v1/organizations/acme/deliveries/dlv_nope', status: 404, code: 'not_found' },
  { name: 'unknown event type', method: 'GET', path: '/v1/event-types/order.vanished', status: 404, code: 'not_found' },
  { name: 'patch of an unknown organization', method: 'PATCH', path: '/v1/organizations/ghost', body: { name: 'Ghost' }, status: 404, code: 'not_found' },
  { name: 'patch of an unknown webhook', method: 'PATCH', path: `${webhooks}/whk_nope`, body: { description: 'x' }, status: 404, code: 'not_found' },
  { name: 'delete of an unknown webhook', method: 'DELETE', path: `${webhooks}/whk_nope`, status: 404, code: 'not_found' },
  { name: 'delete of an unknown organization', method: 'DELETE', path: '/v1/organizations/ghost', status: 404, code: 'not_found' },
  { name: 'delete of an unknown event type', method: 'DELETE', path: '/v1/event-types/order.vanished', status: 404, code: 'not_found' },
  { name: 'webhook of acme read through another organization', method: 'GET', path: '/v1/organizations/other/webhooks/:webhook', status: 404, code: 'not_found' },
  { name: 'test of an unknown webhook', method: 'POST', path: `${webhooks}/whk_nope/test`, status: 404, code: 'not_found' },
  { name: 'rotate-secret of an unknown webhook', method: 'POST', path: `${webhooks}/whk_nope/rotate-secret`, body: {}, status: 404, code: 'not_found' },
  { name: 'retry of an unknown delivery', method: 'POST', path: '/v1/organizations/acme/deliveries/dlv_nope/retry', status: 404, code: 'not_found' },
];

describe('API errors', () => {
  let h: TestHerald;
  let receiver: Receiver;
  let webhookId: string;

  async function send(c: Case) {
    const path = c.path.replace(':webhook', webhookId);
    const headers: Record<string, string> = {};
    if (c.authorization !== null) headers.authorization = c.authorization ?? `Bearer ${h.token}`;
    let body: string | undefined;
    if (c.body !== undefined) {
      body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, c.headers);
    if (c.contentType === null) delete headers['content-type'];
    // A refused create must not be remembered under its Idempotency-Key either.
    if (c.method === 'POST') headers['idempotency-key'] = `key-${c.name}`.replace(/[^\x21-\x7e]/g, '-').slice(0, 200);
    const response = await request(`${h.url}${path}`, { method: c.method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text: expectApiError will say what came back
    }
    return { status: response.statusCode, body: parsed, headers: response.headers };
  }

  beforeAll(async () => {
    h = await startHerald();
    receiver = await startReceiver();
    expect((await h.call('PUT', '/v1/event-types/order.created', { description: 'An order was placed', schema: ORDER_SCHEMA })).status).toBe(201);
    expect((await h.call('PUT', '/v1/event-types/order.legacy', { description: 'Old', deprecated: true })).status).toBe(201);
    expect((await h.call('POST', '/v1/organizations', { id: 'acme' })).status).toBe(201);
    expect((await h.call('POST', '/v1/organizations', { id: 'other' })).status).toBe(201);
    const created = await h.call<{ id: string }>('POST', webhooks, { url: `${receiver.url}/hook`, headers: { 'X-Team': 'a' } });
    expect(created.status).toBe(201);
    webhookId = created.body.id;
    // One real event, so that lists and counts are not trivially empty.
    const posted = await h.call<{ deliveries: { id: string }[] }>('POST', events, { type: 'order.created', data: GOOD_ORDER });
    expect(posted.status).toBe(202);
    // Settled, so that the dispatcher writes nothing while the cases count rows.
    await eventually(async () => {
      const delivery = await h.call<{ status: string }>('GET', `/v1/organizations/acme/deliveries/${posted.body.deliveries[0]!.id}`);
      return delivery.body.status === 'succeeded';
    });
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it.each(cases)('$name → $status $code', async (c) => {
    const before = c.method === 'GET' ? null : await rowCounts(h);
    const webhookBefore = c.method === 'GET' ? null : await h.call('GET', `${webhooks}/${webhookId}`);
    const res = await send(c);
    const error = expectApiError(res, c.status, c.code);
    c.check?.(error);
    if (before !== null) {
      expect(await rowCounts(h), 'a refused write changed the store').toEqual(before);
      // Updates do not add rows: the webhook itself must be unchanged too.
      expect((await h.call('GET', `${webhooks}/${webhookId}`)).body).toEqual(webhookBefore!.body);
      expect((await h.call<{ name: string | null }>('GET', '/v1/organizations/acme')).body.name).toBeNull();
    }
  });

  it('refused events reached no receiver', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(1);
  });

  it('a body just under the limit is accepted (the 413 is about size, not content)', async () => {
    const overhead = JSON.stringify({ type: 'order.created', data: { ...GOOD_ORDER, note: '' } }).length;
    const body = { type: 'order.created', data: { ...GOOD_ORDER, note: 'x'.repeat(MAX_BODY - overhead - 100) } };
    expect(JSON.stringify(body).length).toBeLessThan(MAX_BODY);
    const res = await h.call('POST', events, body);
    expect(res.status).toBe(202);
  });

  it('the refused requests left no trace in the lists either', async () => {
    const orgs = await h.call<{ data: { id: string }[] }>('GET', '/v1/organizations');
    expect(orgs.body.data.map((o) => o.id).filter((id) => !id.startsWith('_'))).toEqual(['acme', 'other']);
    const hooks = await h.call<{ data: { id: string }[] }>('GET', webhooks);
    expect(hooks.body.data.map((w) => w.id)).toEqual([webhookId]);
    const types = await h.call<{ data: { name: string }[] }>('GET', '/v1/event-types?includeDeprecated=true');
    expect(types.body.data.map((t) => t.name)).not.toContain('order.shipped');
    expect((await h.call('GET', '/v1/organizations/ghost')).status).toBe(404);
  });
});
