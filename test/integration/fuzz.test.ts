/**
 * Property-based fuzzing (fast-check) of every POST, PUT and PATCH body, of
 * query strings and of path parameters. Whatever arrives: never a 500, always
 * the one JSON error shape, and never a partial write — a refused request
 * leaves every table exactly as it was (row for row), and an accepted one
 * changes only what it should.
 *
 * Herald runs with role `api` (no dispatcher, so nothing writes in the
 * background) and a resolver that knows no name (nothing leaves the machine).
 * HERALD_FUZZ_RUNS sets the runs per property (default 100).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import type { LookupAll } from '../../src/ssrf/target-guard.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';

const RUNS = Number(process.env.HERALD_FUZZ_RUNS ?? 100);
const TIMEOUT_MS = 180_000;

/** Tables Herald writes for API calls (the dashboard's, when present, are compared too). */
const TABLES = ['organizations', 'event_types', 'webhooks', 'events', 'deliveries', 'attempts', 'idempotency_keys', 'api_tokens', 'herald_meta'] as const;
type Table = (typeof TABLES)[number];
type Snapshot = Record<Table, { count: number; digest: string }>;

const nowhere: LookupAll = async (hostname) => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

let h: TestHerald;
let webhookId = '';
let deliveryId = '';
let eventId = '';

/** Every row of every table, digested: a refused request must leave them all as they were. */
async function snapshot(): Promise<Snapshot> {
  const out = {} as Snapshot;
  await Promise.all(
    TABLES.map(async (table) => {
      const rows = await h.herald.db
        .selectFrom(table as keyof Database)
        .selectAll()
        .execute();
      const lines = rows.map((r) => JSON.stringify(r)).sort();
      out[table] = { count: rows.length, digest: createHash('sha256').update(lines.join('\n')).digest('hex') };
    }),
  );
  return out;
}

interface Sent {
  method: string;
  path: string;
  body: string | undefined;
  headers: Record<string, string>;
}

async function send(input: Sent): Promise<{ status: number; text: string; type: string; replayed: boolean }> {
  const response = await request(`${h.url}${input.path}`, {
    method: input.method as 'POST',
    headers: { authorization: `Bearer ${h.token}`, ...(input.body !== undefined ? { 'content-type': 'application/json' } : {}), ...input.headers },
    ...(input.body !== undefined ? { body: input.body } : {}),
  });
  return {
    status: response.statusCode,
    text: await response.body.text(),
    type: String(response.headers['content-type'] ?? ''),
    replayed: response.headers['idempotent-replayed'] === 'true',
  };
}

/** Asserts the answer is never a 500 and always JSON; errors in the one shape. */
function expectSound(answer: { status: number; text: string; type: string }, input: Sent): unknown {
  const where = `${input.method} ${input.path} ${JSON.stringify(input.headers)} ${input.body?.slice(0, 500)} -> ${answer.status} ${answer.text.slice(0, 500)}`;
  expect(answer.status, where).toBeGreaterThanOrEqual(200);
  expect(answer.status, where).toBeLessThan(500);
  if (answer.status === 204) return null;
  expect(answer.type, where).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  if (answer.status >= 400) {
    expect(Object.keys(body), where).toEqual(['error']);
    const error = body.error as Record<string, unknown>;
    expect(Object.keys(error).sort(), where).toEqual(['code', 'details', 'message']);
    expect(error.code, where).toMatch(/^[a-z][a-z0-9_]*$/);
  }
  return body;
}

// ------------------------------------------------------------------------------------------------
// Arbitraries: garbage, and values plausible enough to get past the first checks.

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', ' ', '*', 'order.*', '..', '%00', '\u0000', '<script>', 'é'));
const isoTime = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('2016-12-31T23:59:60Z', '2999-12-31T23:59:60.5+01:00', '2020-02-30T00:00:00Z', '2024-01-01T00:00:00+14:00') },
  fc.date({ min: new Date('1970-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2016-12-31T23:59:60Z', '2020-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '2024-01-01T00:00:00+14:00', 'yesterday', ''),
);
const url = fc.oneof(
  fc.constantFrom('http://127.0.0.1:9/hook', 'https://8.8.8.8/hook', 'http://[::1]/', 'http://0x7f.1/', 'https://hooks.example.test/in', 'ftp://x/', 'http://u:p@127.0.0.1/'),
  fc.webUrl(),
  text,
);
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1e308, -0, 2 ** 53, 0.0001));
const anyJson = fc.jsonValue({ maxDepth: 4 });
const scalar = fc.oneof(fc.constant(null), fc.boolean(), number, text);
const loose = fc.oneof(scalar, anyJson, fc.array(text, { maxLength: 5 }), fc.dictionary(text, text, { maxKeys: 5 }));
const retry = fc.oneof(
  fc.record({ kind: fc.constant('schedule'), delaysS: fc.array(number, { maxLength: 8 }), jitter: number }, { requiredKeys: [] }),
  fc.record({ kind: fc.constant('exponential'), initialS: number, factor: number, maxDelayS: number, maxAgeS: number, jitter: number }, { requiredKeys: [] }),
  fc.constant({ kind: 'none' }),
  loose,
);

/**
 * A body shaped like the route's: a valid `base` with some fields replaced, or
 * any subset of the fields; each field a plausible value or garbage. Or any JSON at all.
 */
function shaped(fields: Record<string, fc.Arbitrary<unknown>>, base: Record<string, unknown> = {}): fc.Arbitrary<unknown> {
  const mixed = Object.fromEntries(Object.entries(fields).map(([key, arb]) => [key, fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: loose })]));
  const subset = fc.record(mixed, { requiredKeys: [] });
  return fc.oneof(
    { weight: 4, arbitrary: subset.map((changes) => ({ ...base, ...changes })) },
    { weight: 2, arbitrary: subset },
    { weight: 1, arbitrary: fc.record({ ...mixed, unexpected: loose }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: anyJson },
  );
}

const webhookFields = {
  url,
  kind: fc.constantFrom('standard', 'slack', 'other'),
  description: text,
  enabled: fc.boolean(),
  events: fc.array(fc.constantFrom('order.created', 'order.*', '*', 'webhook.test', 'nope', ''), { maxLength: 4 }),
  filters: fc.dictionary(text, fc.array(text, { maxLength: 3 }), { maxKeys: 3 }),
  format: fc.oneof(fc.constant(null), fc.constantFrom('default', 'missing')),
  headers: fc.dictionary(fc.oneof(fc.constantFrom('X-Team', 'Connection', 'webhook-id', 'Bad Name'), text), text, { maxKeys: 4 }),
  rateLimit: fc.oneof(fc.constant(null), number),
  timeoutMs: fc.oneof(fc.constant(null), number),
  concurrency: fc.oneof(fc.constant(null), number),
  retry,
  signing: fc.constantFrom('hmac', 'ed25519', 'rsa'),
  metadata: fc.dictionary(text, anyJson, { maxKeys: 4 }),
};

interface BodyRoute {
  method: 'POST' | 'PUT' | 'PATCH';
  /** The route as declared. */
  label: string;
  path: () => string;
  body: fc.Arbitrary<unknown>;
  /** Which tables an accepted request may change, and how their row counts may move. */
  writes: Partial<Record<Table, (delta: number, answer: Record<string, unknown>) => boolean>>;
}

const eventFields = {
  type: fc.constantFrom('order.created', 'webhook.test', 'order.unknown', ''),
  data: fc.oneof(fc.record({ amount: number, note: text }, { requiredKeys: [] }), anyJson),
  attributes: fc.dictionary(text, fc.oneof(text, number), { maxKeys: 3 }),
  id: fc.oneof(text, fc.constantFrom('op-1', 'op-2')),
  time: isoTime,
};
const VALID_EVENT = { type: 'order.created', data: { amount: 1 } };

const same = (delta: number) => delta === 0;
const oneMore = (delta: number) => delta === 1;
const zeroOrOne = (delta: number) => delta === 0 || delta === 1;

const BODY_ROUTES: BodyRoute[] = [
  {
    method: 'POST',
    label: '/v1/organizations',
    path: () => '/v1/organizations',
    body: shaped(
      { id: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), text), name: fc.oneof(fc.constant(null), text), metadata: fc.dictionary(text, anyJson, { maxKeys: 3 }) },
      { id: 'fuzz-org' },
    ),
    writes: { organizations: oneMore },
  },
  {
    method: 'PATCH',
    label: '/v1/organizations/:org',
    path: () => '/v1/organizations/acme',
    body: shaped({ name: fc.oneof(fc.constant(null), text), metadata: fc.dictionary(text, anyJson, { maxKeys: 3 }) }),
    writes: { organizations: same },
  },
  {
    method: 'PUT',
    label: '/v1/event-types/:name',
    path: () => `/v1/event-types/fuzz.t${Math.floor(Math.random() * 5)}`,
    body: shaped({
      description: text,
      group: fc.oneof(fc.constant(null), text),
      schema: fc.oneof(fc.constant(null), fc.constant({ type: 'object' }), fc.constant({ type: 'nonsense' }), fc.dictionary(text, anyJson, { maxKeys: 3 })),
      examples: fc.array(anyJson, { maxLength: 3 }),
      deprecated: fc.boolean(),
      format: fc.oneof(fc.constant(null), fc.constantFrom('default', 'missing')),
    }, { description: 'fuzzed' }),
    writes: { event_types: zeroOrOne },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/webhooks',
    path: () => '/v1/organizations/acme/webhooks',
    body: shaped({ ...webhookFields, secret: text }, { url: 'http://127.0.0.1:9/hook' }),
    writes: { webhooks: oneMore },
  },
  {
    method: 'PATCH',
    label: '/v1/organizations/:org/webhooks/:id',
    path: () => `/v1/organizations/acme/webhooks/${webhookId}`,
    body: shaped(webhookFields),
    writes: { webhooks: same, deliveries: same },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/webhooks/:id/rotate-secret',
    path: () => `/v1/organizations/acme/webhooks/${webhookId}/rotate-secret`,
    body: shaped({ secret: fc.oneof(text, fc.constantFrom('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_short')) }),
    writes: { webhooks: same },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/webhooks/:id/test',
    path: () => `/v1/organizations/acme/webhooks/${webhookId}/test`,
    body: loose,
    writes: { events: oneMore, deliveries: oneMore },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/webhooks/:id/recover',
    path: () => `/v1/organizations/acme/webhooks/${webhookId}/recover`,
    body: shaped({ since: isoTime, until: isoTime }, { since: '2020-01-01T00:00:00Z' }),
    writes: { deliveries: same },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/events',
    path: () => '/v1/organizations/acme/events',
    body: shaped(eventFields, VALID_EVENT),
    writes: {
      events: zeroOrOne,
      deliveries: (delta, answer) => delta === 0 || delta === (answer.deliveries as unknown[]).length,
    },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/events/batch',
    path: () => '/v1/organizations/acme/events/batch',
    body: shaped({ events: fc.array(fc.oneof(shaped(eventFields, VALID_EVENT), fc.constant(VALID_EVENT)), { maxLength: 6 }) }, { events: [VALID_EVENT] }),
    // Each item is an event or a repost of one (by its operator id); the deliveries of those stored now.
    writes: {
      events: (delta, answer) => delta >= 0 && delta <= (answer.events as unknown[]).length,
      deliveries: (delta, answer) => delta >= 0 && delta <= (answer.events as { deliveries: unknown[] }[]).reduce((n, e) => n + e.deliveries.length, 0),
    },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/deliveries/:id/retry',
    path: () => `/v1/organizations/acme/deliveries/${deliveryId}/retry`,
    body: loose,
    writes: { deliveries: same },
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/portal-links',
    path: () => '/v1/organizations/acme/portal-links',
    body: shaped({ expiresInS: number }),
    // Portal links live in the dashboard's tables; none of these may change.
    writes: {},
  },
  {
    method: 'POST',
    label: '/v1/organizations/:org/tokens',
    path: () => '/v1/organizations/acme/tokens',
    body: shaped({ name: text, expiresAt: fc.oneof(fc.constant(null), isoTime) }, { name: 'fuzzed' }),
    writes: { api_tokens: oneMore },
  },
];

/** Optional Idempotency-Key (valid or not) on a body request. */
const extraHeaders = fc.option(fc.record({ 'idempotency-key': fc.oneof(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), fc.string({ maxLength: 300 })) }), { nil: undefined });
/** The body as sent: JSON of the value, or raw text that may not be JSON at all. */
const wire = (value: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 9, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') }, { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom('{', '[1,]', '{"a":1}{', '', 'null', '"x"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}')) });

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_ROLE: 'api', HERALD_API_RATE_LIMIT: '0' }, lookup: nowhere });
  const call = async (method: string, path: string, body?: unknown) => {
    const answer = await h.call<Record<string, unknown>>(method, path, body);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
    return answer.body;
  };
  await call('PUT', '/v1/event-types/order.created', {
    description: 'An order',
    schema: { type: 'object', properties: { amount: { type: 'integer', minimum: 0 }, note: { type: 'string' } } },
  });
  await call('POST', '/v1/organizations', { id: 'acme', metadata: { tier: 'gold' } });
  webhookId = (await call('POST', '/v1/organizations/acme/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['order.*'] })).id as string;
  const posted = await call('POST', '/v1/organizations/acme/events', { type: 'order.created', data: { amount: 1 } });
  eventId = posted.id as string;
  deliveryId = (posted.deliveries as { id: string }[])[0]!.id;
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('fuzzing: bodies', () => {
  for (const route of BODY_ROUTES) {
    it(
      `${route.method} ${route.label}: never a 500, never a partial write`,
      async () => {
        await fc.assert(
          fc.asyncProperty(wire(route.body), extraHeaders, async (body, headers) => {
            const input: Sent = { method: route.method, path: route.path(), body, headers: headers ?? {} };
            const before = await snapshot();
            const answer = await send(input);
            const parsed = expectSound(answer, input) as Record<string, unknown>;
            const after = await snapshot();
            const where = `${input.method} ${input.path} ${body.slice(0, 300)} -> ${answer.status} ${answer.text.slice(0, 300)}`;
            for (const table of TABLES) {
              // A refused request, or the replayed answer of an earlier one with the same Idempotency-Key, writes nothing.
              if (answer.status >= 400 || answer.replayed || (!route.writes[table] && table !== 'idempotency_keys')) {
                expect(after[table], `${table} changed: ${where}`).toEqual(before[table]);
              } else if (route.writes[table]) {
                expect(route.writes[table]!(after[table].count - before[table].count, parsed), `${table} count ${before[table].count} -> ${after[table].count}: ${where}`).toBe(true);
              }
            }
          }),
          { numRuns: RUNS },
        );
      },
      TIMEOUT_MS,
    );
  }
});

const LIST_ROUTES = [
  '/v1/event-types',
  '/v1/organizations',
  '/v1/organizations/acme/webhooks',
  '/v1/organizations/acme/events',
  '/v1/organizations/acme/deliveries',
  '/v1/organizations/acme/tokens',
  () => `/v1/organizations/acme/webhooks/${webhookId}/deliveries`,
];
const queryKey = fc.oneof(fc.constantFrom('limit', 'cursor', 'status', 'webhookId', 'eventId', 'type', 'group', 'includeDeprecated', 'limit[]', '__proto__', 'constructor'), fc.string({ maxLength: 10 }));
const queryValue = fc.oneof(
  fc.constantFrom('1', '250', '251', '0', '-5', '1e2', 'true', 'false', 'pending', 'failed', 'b3JnLWE', 'AAAA', '%', '%ZZ', '%00', '%E2%82', '+', ''),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 10 }).map(encodeURIComponent),
);
/** A query string: pairs (encoded or not), or any text at all after the `?`. */
const queryString = fc.oneof(
  fc.array(fc.tuple(queryKey, queryValue, fc.boolean()), { maxLength: 5 }).map((pairs) =>
    pairs.map(([k, v, encode]) => (encode ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v}`)).join('&'),
  ),
  fc.string({ maxLength: 60 }).map((s) => s.replace(/[#\s]/g, '')),
);

describe('fuzzing: query strings and path parameters', () => {
  it(
    'GET lists with any query string: never a 500, nothing written',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...LIST_ROUTES), queryString, async (route, query) => {
          const input: Sent = { method: 'GET', path: `${typeof route === 'function' ? route() : route}?${query}`, body: undefined, headers: {} };
          const before = await snapshot();
          expectSound(await send(input), input);
          expect(await snapshot()).toEqual(before);
        }),
        { numRuns: RUNS * 2 },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'any path parameter, on every kind of route: never a 500',
    async () => {
      const segment = fc.oneof(
        fc.string({ maxLength: 40 }).map(encodeURIComponent),
        fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
        fc.constantFrom('%00', '%2F', '..', '%2e%2e', 'a'.repeat(300), '%E2%82', 'whk_01', '_herald', 'acme'),
      );
      const templates: [string, (a: string, b: string) => string, string | undefined][] = [
        ['GET', (a) => `/v1/organizations/${a}`, undefined],
        ['GET', (a) => `/v1/event-types/${a}`, undefined],
        ['DELETE', (a) => `/v1/event-types/fuzz.${a}`, undefined],
        ['GET', (a, b) => `/v1/organizations/${a}/webhooks/${b}`, undefined],
        ['GET', (_a, b) => `/v1/organizations/acme/webhooks/${b}/secret`, undefined],
        ['GET', (_a, b) => `/v1/organizations/acme/events/${b}`, undefined],
        ['GET', (_a, b) => `/v1/organizations/acme/deliveries/${b}`, undefined],
        ['POST', (_a, b) => `/v1/organizations/acme/deliveries/${b}/retry`, undefined],
        ['DELETE', (_a, b) => `/v1/organizations/acme/tokens/${b}`, undefined],
        ['POST', (a) => `/v1/organizations/${a}/events`, JSON.stringify({ type: 'order.created', data: {} })],
      ];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...templates), segment, segment, async ([method, path, body], a, b) => {
          const input: Sent = { method, path: path(a, b), body, headers: {} };
          expectSound(await send(input), input);
        }),
        { numRuns: RUNS * 2 },
      );
      // The fixtures are still there.
      expect((await h.call('GET', `/v1/organizations/acme/events/${eventId}`)).status).toBe(200);
    },
    TIMEOUT_MS,
  );
});
