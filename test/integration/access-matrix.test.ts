/**
 * Who may call what: every route of the API against every kind of caller —
 * the admin token, the organization's own token, another organization's
 * token, an expired token, a revoked token, no token, malformed headers.
 * Operator-only routes answer 403 to organization tokens; another
 * organization's resources answer 404, never 403; bad credentials 401. No
 * answer carries another organization's data, and no answer but the secret
 * endpoints carries a webhook secret (or, but the one that makes it, a token).
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizationTokenHash } from '../../src/api/organization-tokens.js';
import { newId } from '../../src/domain/ids.js';
import { insertApiToken } from '../../src/store/repositories/api-tokens.js';
import { expectApiError } from '../helpers/api.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

type Access = 'public' | 'any' | 'operator' | 'organization';
type CallerName = 'admin' | 'own' | 'other' | 'expired' | 'revoked' | 'none' | 'malformed';
const CALLERS: readonly CallerName[] = ['admin', 'own', 'other', 'expired', 'revoked', 'none', 'malformed'];
/** Ways to get the Authorization header wrong; each is tried on every route. */
const MALFORMED = ['Bearer', 'Bearer ', 'Basic dGVzdDp0ZXN0', 'bearer test-admin-token', 'Bearer test-admin-token extra', "Bearer  test-admin-token", 'Token test-admin-token'];

const A = 'org-a';
const B = 'org-b';
/** Text in each organization's data: the other organization's callers must never see it. */
const MARK = { [A]: 'MARK-AAAA-7f3e', [B]: 'MARK-BBBB-91c2' } as const;

interface Prepared {
  path: string;
  body?: unknown;
}

interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As Fastify declares it, e.g. /v1/organizations/:org/webhooks/:id. */
  route: string;
  access: Access;
  /** Status of a successful call. */
  ok: number;
  /** Makes what the call needs (fresh for every caller, since calls may delete it); the path for org-a. */
  prepare: () => Promise<Prepared>;
  /** Answers that legitimately carry this secret (secret endpoints). */
  showsSecret?: boolean;
}

interface Answer {
  status: number;
  body: unknown;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

let h: TestHerald;
let receiver: Receiver;
const tokens: Record<'own' | 'other' | 'expired' | 'revoked', string> = { own: '', other: '', expired: '', revoked: '' };
/** Every webhook secret made in this file. */
const secrets = new Set<string>();

async function send(method: string, path: string, authorization: string | null, body?: unknown): Promise<Answer> {
  const response = await request(`${h.url}${path}`, {
    method: method as 'GET',
    headers: {
      ...(authorization !== null ? { authorization } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // metrics are text
  }
  return { status: response.statusCode, body: parsed, text, headers: response.headers };
}

function authorizationOf(caller: Exclude<CallerName, 'malformed'>): string | null {
  if (caller === 'none') return null;
  if (caller === 'admin') return `Bearer ${h.token}`;
  return `Bearer ${tokens[caller]}`;
}

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown, expected?: number): Promise<T> {
  const answer = await h.call<T>(method, path, body);
  if (expected !== undefined) expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(expected);
  return answer.body;
}

/** Fixture webhooks listen to fixture.* only, so the events of the matrix do not fan out to all of them. */
async function makeWebhook(org: string, options: { enabled?: boolean; events?: string[] } = {}): Promise<string> {
  const created = await admin<{ id: string }>(
    'POST',
    `/v1/organizations/${org}/webhooks`,
    {
      url: `${receiver.url}/${org}`,
      description: `hook of ${MARK[org as keyof typeof MARK]}`,
      enabled: options.enabled ?? true,
      events: options.events ?? ['fixture.*'],
      metadata: { mark: MARK[org as keyof typeof MARK] },
    },
    201,
  );
  secrets.add((await admin<{ secret: string }>('GET', `/v1/organizations/${org}/webhooks/${created.id}/secret`, undefined, 200)).secret);
  return created.id;
}

async function postEvent(org: string): Promise<{ id: string; deliveries: { id: string; webhookId: string }[] }> {
  return admin('POST', `/v1/organizations/${org}/events`, { type: 'order.created', data: { note: MARK[org as keyof typeof MARK] } }, 202);
}

/** A delivery of a disabled webhook: skipped at once, never in flight, so `retry` always answers 202. */
async function quietDelivery(org: string): Promise<string> {
  const hook = await makeWebhook(org, { enabled: false, events: ['order.created'] });
  const event = await postEvent(org);
  const delivery = event.deliveries.find((d) => d.webhookId === hook);
  expect(delivery, 'the event reached the disabled webhook').toBeDefined();
  // Later events must not reach it (nor retry its delivery behind the test's back).
  await admin('DELETE', `/v1/organizations/${org}/webhooks/${hook}`, undefined, 204);
  return delivery!.id;
}

const ORG = `/v1/organizations/${A}`;
const ROUTES: RouteCase[] = [
  { method: 'GET', route: '/healthz', access: 'public', ok: 200, prepare: async () => ({ path: '/healthz' }) },
  { method: 'GET', route: '/readyz', access: 'public', ok: 200, prepare: async () => ({ path: '/readyz' }) },
  { method: 'GET', route: '/metrics', access: 'public', ok: 200, prepare: async () => ({ path: '/metrics' }) },

  { method: 'GET', route: '/v1/event-types', access: 'any', ok: 200, prepare: async () => ({ path: '/v1/event-types' }) },
  { method: 'GET', route: '/v1/event-types/:name', access: 'any', ok: 200, prepare: async () => ({ path: '/v1/event-types/order.created' }) },
  {
    method: 'PUT',
    route: '/v1/event-types/:name',
    access: 'operator',
    ok: 201,
    prepare: async () => ({ path: `/v1/event-types/matrix.t${Math.random().toString(36).slice(2, 8)}`, body: { description: 'made by the matrix' } }),
  },
  {
    method: 'DELETE',
    route: '/v1/event-types/:name',
    access: 'operator',
    ok: 204,
    prepare: async () => {
      const name = `matrix.d${Math.random().toString(36).slice(2, 8)}`;
      await admin('PUT', `/v1/event-types/${name}`, { description: 'to archive' }, 201);
      return { path: `/v1/event-types/${name}` };
    },
  },

  {
    method: 'POST',
    route: '/v1/organizations',
    access: 'operator',
    ok: 201,
    prepare: async () => ({ path: '/v1/organizations', body: { id: `org-new-${Math.random().toString(36).slice(2, 8)}` } }),
  },
  { method: 'GET', route: '/v1/organizations', access: 'operator', ok: 200, prepare: async () => ({ path: '/v1/organizations' }) },
  { method: 'GET', route: '/v1/organizations/:org', access: 'organization', ok: 200, prepare: async () => ({ path: ORG }) },
  { method: 'PATCH', route: '/v1/organizations/:org', access: 'operator', ok: 200, prepare: async () => ({ path: ORG, body: { name: `Org A ${MARK[A]}` } }) },
  {
    method: 'DELETE',
    route: '/v1/organizations/:org',
    access: 'operator',
    ok: 204,
    // Deleting org-a would end the matrix: a twin shows the route's access (org-a's tokens are not its own, so they get 403 as for any operator route).
    prepare: async () => {
      const id = `org-gone-${Math.random().toString(36).slice(2, 8)}`;
      await admin('POST', '/v1/organizations', { id }, 201);
      return { path: `/v1/organizations/${id}` };
    },
  },

  {
    method: 'POST',
    route: '/v1/organizations/:org/webhooks',
    access: 'organization',
    ok: 201,
    prepare: async () => ({ path: `${ORG}/webhooks`, body: { url: `${receiver.url}/new`, enabled: false } }),
  },
  { method: 'GET', route: '/v1/organizations/:org/webhooks', access: 'organization', ok: 200, prepare: async () => ({ path: `${ORG}/webhooks` }) },
  { method: 'GET', route: '/v1/organizations/:org/webhooks/:id', access: 'organization', ok: 200, prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}` }) },
  {
    method: 'PATCH',
    route: '/v1/organizations/:org/webhooks/:id',
    access: 'organization',
    ok: 200,
    prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}`, body: { description: 'changed' } }),
  },
  { method: 'DELETE', route: '/v1/organizations/:org/webhooks/:id', access: 'organization', ok: 204, prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}` }) },
  {
    method: 'GET',
    route: '/v1/organizations/:org/webhooks/:id/secret',
    access: 'organization',
    ok: 200,
    showsSecret: true,
    prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}/secret` }),
  },
  {
    method: 'POST',
    route: '/v1/organizations/:org/webhooks/:id/rotate-secret',
    access: 'organization',
    ok: 200,
    showsSecret: true,
    prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}/rotate-secret`, body: {} }),
  },
  { method: 'POST', route: '/v1/organizations/:org/webhooks/:id/test', access: 'organization', ok: 202, prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}/test` }) },
  {
    method: 'POST',
    route: '/v1/organizations/:org/webhooks/:id/recover',
    access: 'organization',
    ok: 202,
    prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}/recover`, body: { since: '2020-01-01T00:00:00Z' } }),
  },
  {
    method: 'GET',
    route: '/v1/organizations/:org/webhooks/:id/deliveries',
    access: 'organization',
    ok: 200,
    prepare: async () => ({ path: `${ORG}/webhooks/${await makeWebhook(A)}/deliveries` }),
  },

  {
    method: 'POST',
    route: '/v1/organizations/:org/events',
    access: 'organization',
    ok: 202,
    prepare: async () => ({ path: `${ORG}/events`, body: { type: 'order.created', data: { note: MARK[A] } } }),
  },
  {
    method: 'POST',
    route: '/v1/organizations/:org/events/batch',
    access: 'organization',
    ok: 202,
    prepare: async () => ({ path: `${ORG}/events/batch`, body: { events: [{ type: 'order.created', data: { note: MARK[A] } }] } }),
  },
  { method: 'GET', route: '/v1/organizations/:org/events', access: 'organization', ok: 200, prepare: async () => ({ path: `${ORG}/events` }) },
  { method: 'GET', route: '/v1/organizations/:org/events/:id', access: 'organization', ok: 200, prepare: async () => ({ path: `${ORG}/events/${(await postEvent(A)).id}` }) },

  { method: 'GET', route: '/v1/organizations/:org/deliveries', access: 'organization', ok: 200, prepare: async () => ({ path: `${ORG}/deliveries` }) },
  { method: 'GET', route: '/v1/organizations/:org/deliveries/:id', access: 'organization', ok: 200, prepare: async () => ({ path: `${ORG}/deliveries/${sentDelivery}` }) },
  { method: 'POST', route: '/v1/organizations/:org/deliveries/:id/retry', access: 'organization', ok: 202, prepare: async () => ({ path: `${ORG}/deliveries/${await quietDelivery(A)}/retry` }) },

  { method: 'POST', route: '/v1/organizations/:org/portal-links', access: 'operator', ok: 201, prepare: async () => ({ path: `${ORG}/portal-links`, body: {} }) },
  { method: 'POST', route: '/v1/organizations/:org/tokens', access: 'operator', ok: 201, prepare: async () => ({ path: `${ORG}/tokens`, body: { name: 'made by the matrix' } }) },
  { method: 'GET', route: '/v1/organizations/:org/tokens', access: 'organization', ok: 200, prepare: async () => ({ path: `${ORG}/tokens` }) },
  {
    method: 'DELETE',
    route: '/v1/organizations/:org/tokens/:id',
    access: 'organization',
    ok: 204,
    prepare: async () => {
      const made = await admin<{ id: string; token: string }>('POST', `${ORG}/tokens`, { name: 'to revoke' }, 201);
      issuedTokens.add(made.token);
      return { path: `${ORG}/tokens/${made.id}` };
    },
  },
];

/** A delivery of org-a with a recorded attempt (its log must not carry the secret). */
let sentDelivery = '';
/** Every organization token issued, to check that none leaks. */
const issuedTokens = new Set<string>();

function expectedStatus(route: RouteCase, caller: CallerName): number {
  if (route.access === 'public') return 200;
  if (caller === 'expired' || caller === 'revoked' || caller === 'none' || caller === 'malformed') return 401;
  if (caller === 'admin') return route.ok;
  if (route.access === 'any') return 200;
  if (route.access === 'operator') return 403;
  return caller === 'own' ? route.ok : 404;
}

beforeAll(async () => {
  receiver = await startReceiver();
  h = await startHerald();
  await admin('PUT', '/v1/event-types/order.created', { description: 'An order' }, 201);
  for (const org of [A, B] as const) await admin('POST', '/v1/organizations', { id: org, name: `Org ${MARK[org]}`, metadata: { mark: MARK[org] } }, 201);
  const own = await admin<{ token: string }>('POST', `/v1/organizations/${A}/tokens`, { name: 'own' }, 201);
  const other = await admin<{ token: string }>('POST', `/v1/organizations/${B}/tokens`, { name: 'other' }, 201);
  const revoked = await admin<{ id: string; token: string }>('POST', `/v1/organizations/${A}/tokens`, { name: 'revoked' }, 201);
  await admin('DELETE', `/v1/organizations/${A}/tokens/${revoked.id}`, undefined, 204);
  // An expired token: the API refuses to make one, so it goes into the store as if it had aged.
  const expired = `hrld_org_expired${Math.random().toString(36).slice(2)}`;
  await insertApiToken(
    h.herald.db,
    { id: newId('tok'), organizationId: A, name: 'expired', tokenHash: organizationTokenHash(expired), expiresAt: Date.now() - 1000 },
    Date.now() - 60_000,
  );
  Object.assign(tokens, { own: own.token, other: other.token, revoked: revoked.token, expired });
  for (const t of Object.values(tokens)) issuedTokens.add(t);

  // Both organizations have data of every kind, org-b's marked so a leak would show.
  for (const org of [A, B]) {
    await makeWebhook(org, { events: ['order.created'] });
    const event = await postEvent(org);
    const delivery = event.deliveries[0]!.id;
    await eventually(async () => {
      const d = await admin<{ status: string }>('GET', `/v1/organizations/${org}/deliveries/${delivery}`);
      return d.status === 'succeeded';
    }, 15_000, `${org}'s first delivery`);
    if (org === A) sentDelivery = delivery;
  }
  await admin('POST', `/v1/organizations/${B}/tokens`, { name: `b ${MARK[B]}` }, 201);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await receiver?.close();
});

describe('access matrix', () => {
  // The dashboard's HTML pages (session cookies, CSRF tokens, not API tokens) have tests of their own.
  it('covers every route of the API (/v1 and the operations routes)', async () => {
    const document = await admin<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json', undefined, 200);
    const declared = Object.entries(document.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .filter((r) => !r.startsWith('HEAD ') && (r.includes(' /v1/') || /^GET \/(healthz|readyz|metrics)$/.test(r)))
      .sort();
    const covered = ROUTES.map((r) => `${r.method} ${r.route}`).sort();
    expect(covered, 'a route without a row in this matrix: add one with the access it must have').toEqual(declared);
  });

  const answers: { route: RouteCase; caller: CallerName; answer: Answer }[] = [];

  for (const route of ROUTES) {
    it(`${route.method} ${route.route} (${route.access})`, async () => {
      for (const caller of CALLERS) {
        const headers = caller === 'malformed' ? MALFORMED : [authorizationOf(caller)];
        for (const authorization of headers) {
          const { path, body } = await route.prepare();
          const answer = await send(route.method, path, authorization, body);
          const where = `${caller} (${authorization ?? 'no header'}) ${route.method} ${path} -> ${answer.status} ${answer.text.slice(0, 300)}`;
          const expected = expectedStatus(route, caller);
          expect(answer.status, where).toBe(expected);
          if (expected >= 400) {
            expectApiError(answer, expected, { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found' }[expected]);
          }
          if (route.showsSecret && answer.status === 200) secrets.add((answer.body as { secret: string }).secret);
          answers.push({ route, caller, answer });
        }
      }
    });
  }

  it("never shows an organization another organization's data, nor a secret outside the secret endpoints", () => {
    expect(answers.length).toBeGreaterThan(ROUTES.length * CALLERS.length);
    for (const { route, caller, answer } of answers) {
      const where = `${caller} ${route.method} ${route.route}: ${answer.text.slice(0, 300)}`;
      if (caller === 'own') expect(answer.text, where).not.toContain(MARK[B]);
      if (caller === 'other') expect(answer.text, where).not.toContain(MARK[A]);
      if (caller !== 'admin' && caller !== 'own') expect(answer.text, where).not.toContain(MARK[A]);
      for (const secret of secrets) {
        if (!(route.showsSecret && answer.status === 200)) expect(answer.text, where).not.toContain(secret);
      }
      for (const token of issuedTokens) {
        if (!(route.route === '/v1/organizations/:org/tokens' && route.method === 'POST')) expect(answer.text, where).not.toContain(token);
      }
    }
  });
});

describe("another organization's resources answer 404 to an organization token", () => {
  it('for every route with an id, whatever the id belongs to', async () => {
    const hookB = await makeWebhook(B);
    const eventB = await postEvent(B);
    const deliveryB = eventB.deliveries[0]!.id;
    const tokenB = await admin<{ id: string }>('POST', `/v1/organizations/${B}/tokens`, { name: 'b2' }, 201);
    const own = `Bearer ${tokens.own}`;
    const cases: [string, string, unknown?][] = [
      ['GET', `${ORG}/webhooks/${hookB}`],
      ['PATCH', `${ORG}/webhooks/${hookB}`, { description: 'mine now' }],
      ['DELETE', `${ORG}/webhooks/${hookB}`],
      ['GET', `${ORG}/webhooks/${hookB}/secret`],
      ['POST', `${ORG}/webhooks/${hookB}/rotate-secret`, {}],
      ['POST', `${ORG}/webhooks/${hookB}/test`],
      ['POST', `${ORG}/webhooks/${hookB}/recover`, { since: '2020-01-01T00:00:00Z' }],
      ['GET', `${ORG}/webhooks/${hookB}/deliveries`],
      ['GET', `${ORG}/events/${eventB.id}`],
      ['GET', `${ORG}/deliveries/${deliveryB}`],
      ['POST', `${ORG}/deliveries/${deliveryB}/retry`],
      ['DELETE', `${ORG}/tokens/${tokenB.id}`],
      // And org-b's own paths, which org-a's token may not name at all.
      ['GET', `/v1/organizations/${B}`],
      ['GET', `/v1/organizations/${B}/webhooks/${hookB}`],
      ['GET', `/v1/organizations/${B}/webhooks/${hookB}/secret`],
      ['GET', `/v1/organizations/${B}/deliveries`],
      ['GET', `/v1/organizations/${B}/tokens`],
      ['POST', `/v1/organizations/${B}/events`, { type: 'order.created', data: {} }],
    ];
    for (const [method, path, body] of cases) {
      const answer = await send(method, path, own, body);
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(404);
      expect(answer.text).not.toContain(MARK[B]);
    }
    // Nothing of org-b changed: the webhook, its secret and the token are as they were.
    const hook = await admin<{ description: string }>('GET', `/v1/organizations/${B}/webhooks/${hookB}`, undefined, 200);
    expect(hook.description).toContain(MARK[B]);
    const list = await admin<{ data: { id: string; revokedAt: string | null }[] }>('GET', `/v1/organizations/${B}/tokens?limit=250`, undefined, 200);
    expect(list.data.find((t) => t.id === tokenB.id)?.revokedAt).toBeNull();
  });
});

describe('organization tokens', () => {
  it('are shown once, listed without the token, and stored only as a hash', async () => {
    const made = await admin<{ id: string; token: string; name: string; expiresAt: string | null }>('POST', `${ORG}/tokens`, { name: 'ci', expiresAt: '2999-01-01T00:00:00.000Z' }, 201);
    expect(made.token).toMatch(/^hrld_org_[A-Za-z0-9_-]{43}$/);
    expect(made).toMatchObject({ name: 'ci', expiresAt: '2999-01-01T00:00:00.000Z', organizationId: A });
    const listed = await send('GET', `${ORG}/tokens?limit=250`, `Bearer ${made.token}`);
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(made.token);
    expect((listed.body as { data: { id: string }[] }).data.map((t) => t.id)).toContain(made.id);
    const rows = await h.herald.db.selectFrom('api_tokens').selectAll().where('id', '=', made.id).execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(made.token);
    expect(rows[0]!.token_hash).toBe(organizationTokenHash(made.token));
  });

  it('stop working at once when revoked, by the operator or the organization itself', async () => {
    const made = await admin<{ id: string; token: string }>('POST', `${ORG}/tokens`, { name: 'short-lived' }, 201);
    const auth = `Bearer ${made.token}`;
    expect((await send('GET', `${ORG}/webhooks`, auth)).status).toBe(200);
    expect((await send('DELETE', `${ORG}/tokens/${made.id}`, auth)).status).toBe(204);
    expectApiError(await send('GET', `${ORG}/webhooks`, auth), 401, 'unauthorized');
    const listed = await admin<{ data: { id: string; revokedAt: string | null }[] }>('GET', `${ORG}/tokens?limit=250`, undefined, 200);
    expect(listed.data.find((t) => t.id === made.id)?.revokedAt).toEqual(expect.any(String));
  });

  it('refuse an expiry in the past, and answer 404 for an organization that does not exist', async () => {
    expectApiError(await h.call('POST', `${ORG}/tokens`, { name: 'late', expiresAt: '2001-01-01T00:00:00Z' }), 422, 'invalid_expiry');
    expectApiError(await h.call('POST', '/v1/organizations/nobody/tokens', { name: 'x' }), 404, 'not_found');
    expectApiError(await h.call('POST', `${ORG}/tokens`, { name: '' }), 400, 'validation_failed');
  });

  it('may not make tokens: an organization cannot mint itself a successor', async () => {
    expectApiError(await send('POST', `${ORG}/tokens`, `Bearer ${tokens.own}`, { name: 'mine' }), 403, 'forbidden');
  });

  it('go with their organization when it is deleted', async () => {
    await admin('POST', '/v1/organizations', { id: 'org-short' }, 201);
    const made = await admin<{ token: string }>('POST', '/v1/organizations/org-short/tokens', { name: 'x' }, 201);
    expect((await send('GET', '/v1/organizations/org-short', `Bearer ${made.token}`)).status).toBe(200);
    await admin('DELETE', '/v1/organizations/org-short', undefined, 204);
    await admin('POST', '/v1/organizations', { id: 'org-short' }, 201);
    expectApiError(await send('GET', '/v1/organizations/org-short', `Bearer ${made.token}`), 401, 'unauthorized');
  });
});
