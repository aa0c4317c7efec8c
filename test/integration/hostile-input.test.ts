/**
 * Hostile input: bodies nested to overflow a stack, headers that would
 * smuggle or override, URLs with credentials or other schemes, page sizes out
 * of bounds, a token that floods the API. Each gets a clear 4xx, and no
 * refused request writes anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectApiError, rowCounts } from '../helpers/api.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';

const HOOKS = '/v1/organizations/acme/webhooks';
const EVENTS = '/v1/organizations/acme/events';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { next: value } : [value];
  return value;
}

describe('hostile input', () => {
  let h: TestHerald;

  beforeAll(async () => {
    h = await startHerald();
    await h.call('PUT', '/v1/event-types/order.created', { description: 'An order' });
    await h.call('POST', '/v1/organizations', { id: 'acme' });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('refuses JSON nested deeper than 64 levels with 400, however deep, and takes 64', async () => {
    const before = await rowCounts(h);
    // The body is level 1: 63 levels of data under it make 64.
    expect((await h.call('POST', EVENTS, { type: 'order.created', data: nested(63) })).status).toBe(202);
    const after = await rowCounts(h);
    const deep = [
      [EVENTS, { type: 'order.created', data: nested(64) }],
      [EVENTS, `{"type":"order.created","data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
      [HOOKS, { url: 'http://127.0.0.1/hook', metadata: nested(80) }],
      ['/v1/organizations', { id: 'deep', metadata: nested(1000) }],
    ] as const;
    for (const [path, body] of deep) {
      const error = expectApiError(await h.call('POST', path, body), 400, 'too_deep');
      expect(error.message).toBe('the JSON body nests deeper than 64 levels');
    }
    expectApiError(await h.call('PUT', '/v1/event-types/deep.one', { description: 'x', schema: nested(70) }), 400, 'too_deep');
    expect(await rowCounts(h)).toEqual(after);
    expect(after.events).toBe(before.events + 1);
  });

  it('refuses custom headers that would smuggle a request, override the connection or forge a signature', async () => {
    const before = await rowCounts(h);
    const refused: [Record<string, string>, string][] = [
      [{ 'X-Evil': 'a\r\nHost: evil.example' }, 'invalid_header'],
      [{ 'X-Evil': 'a\nb' }, 'invalid_header'],
      [{ 'X Evil': 'a' }, 'invalid_header'],
      [{ 'X-Evil:': 'a' }, 'invalid_header'],
      [{ '': 'a' }, 'invalid_header'],
      [{ 'X-Long': 'v'.repeat(5000) }, 'invalid_header'],
      [{ Connection: 'close' }, 'reserved_header'],
      [{ 'Transfer-Encoding': 'chunked' }, 'reserved_header'],
      [{ 'Content-Length': '0' }, 'reserved_header'],
      [{ Upgrade: 'h2c' }, 'reserved_header'],
      [{ TE: 'trailers' }, 'reserved_header'],
      [{ Trailer: 'x' }, 'reserved_header'],
      [{ 'Keep-Alive': 'timeout=5' }, 'reserved_header'],
      [{ 'Proxy-Authorization': 'Basic x' }, 'reserved_header'],
      [{ 'Proxy-Authenticate': 'Basic' }, 'reserved_header'],
      [{ 'HTTP2-Settings': 'AAMAAABkAAQAAP__' }, 'reserved_header'],
      [{ Host: 'evil.example' }, 'reserved_header'],
      [{ 'Content-Type': 'text/html' }, 'reserved_header'],
      [{ 'User-Agent': 'not-herald' }, 'reserved_header'],
      [{ 'Webhook-Signature': 'v1,forged' }, 'reserved_header'],
      [{ 'webhook-id': 'msg_forged' }, 'reserved_header'],
      [{ 'Webhook-Timestamp': '0' }, 'reserved_header'],
      [{ 'svix-signature': 'v1,forged' }, 'reserved_header'],
    ];
    for (const [headers, code] of refused) {
      expectApiError(await h.call('POST', HOOKS, { url: 'http://127.0.0.1/hook', headers }), 422, code);
    }
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-H${i}`, 'v']));
    expectApiError(await h.call('POST', HOOKS, { url: 'http://127.0.0.1/hook', headers: many }), 400, 'validation_failed');
    expect(await rowCounts(h)).toEqual(before);
    const fine = await h.call('POST', HOOKS, { url: 'http://127.0.0.1/hook', headers: { Authorization: 'Bearer for-the-receiver', 'X-Team': 'a' } });
    expect(fine.status).toBe(201);
  });

  it('refuses URLs that are too long, carry credentials or use another scheme', async () => {
    const before = await rowCounts(h);
    for (const url of [
      `http://127.0.0.1/${'a'.repeat(2100)}`,
      'http://user:secret@127.0.0.1/hook',
      'http://user@127.0.0.1/hook',
      'ftp://127.0.0.1/hook',
      'file:///etc/passwd',
      'gopher://127.0.0.1:25/_HELO',
      'javascript:alert(1)',
      'http://127.0.0.1/hook#fragment',
      '//127.0.0.1/hook',
    ]) {
      const answer = await h.call('POST', HOOKS, { url });
      expect([400, 422], `${url}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
    }
    expect(await rowCounts(h)).toEqual(before);
  });

  it('caps page sizes and refuses cursors it did not make', async () => {
    for (const path of ['/v1/organizations', HOOKS, EVENTS, '/v1/organizations/acme/deliveries', '/v1/event-types', '/v1/organizations/acme/tokens']) {
      for (const limit of ['0', '251', '-1', '1e3', 'many']) expectApiError(await h.call('GET', `${path}?limit=${limit}`), 400, 'validation_failed');
      expect((await h.call('GET', `${path}?limit=250`)).status).toBe(200);
      expectApiError(await h.call('GET', `${path}?cursor=${encodeURIComponent('not a cursor!')}`), 400, 'invalid_cursor');
    }
  });

  it('never sends an answer a browser would sniff as HTML, and never lets one be cached', async () => {
    const answer = await h.call('GET', '/v1/organizations/acme');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const error = await h.call('GET', '/v1/organizations/acme/webhooks/<script>alert(1)</script>');
    expect(error.headers['content-type']).toMatch(/^application\/json/);
    expect(error.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('API rate limit per token', () => {
  let h: TestHerald;

  beforeAll(async () => {
    h = await startHerald({ env: { HERALD_API_RATE_LIMIT: '2', HERALD_API_RATE_BURST: '3' } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers 429 with Retry-After once a token is over its rate; other tokens and public routes are not affected', async () => {
    // Making the organization and its token spends two of the admin token's three.
    expect((await h.call('POST', '/v1/organizations', { id: 'acme' })).status).toBe(201);
    const made = await h.call<{ token: string }>('POST', '/v1/organizations/acme/tokens', { name: 'other caller' });
    expect(made.status).toBe(201);
    expect((await h.call('GET', '/v1/organizations')).status).toBe(200);
    const limited = await h.call('GET', '/v1/organizations');
    const error = expectApiError(limited, 429, 'rate_limited');
    expect(error.message).toMatch(/more than 2 requests per second/);
    expect(limited.headers['retry-after']).toBe('1');
    expectApiError(await h.call('POST', '/v1/organizations', { id: 'while-limited' }), 429, 'rate_limited');
    // Another token has a bucket of its own; public routes need no token.
    const own = await h.call('GET', '/v1/organizations/acme', undefined, { authorization: `Bearer ${made.body.token}` });
    expect(own.status).toBe(200);
    expect(own.headers['ratelimit-limit']).toBe('2');
    expect((await h.call('GET', '/healthz', undefined, { authorization: '' })).status).toBe(200);
    // A refused request did nothing.
    expectApiError(await h.call('GET', '/v1/organizations/while-limited'), 429, 'rate_limited');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await h.call('GET', '/v1/organizations/acme')).status).toBe(200);
    expectApiError(await h.call('GET', '/v1/organizations/while-limited'), 404, 'not_found');
  });
});
