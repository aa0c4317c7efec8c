/**
 * Shared pieces of the scale-out tests: several built Herald processes (one
 * api, N workers) on one fresh PostgreSQL database, real receivers, a bounded
 * event poster, and a ledger that checks what each receiver got against what
 * the API accepted (missing, duplicates, strangers).
 *
 * Needs the built CLI (`npm run build`) and PostgreSQL on 127.0.0.1:5432.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { requireBuiltCli, startChildHerald, type ChildHerald } from '../helpers/child-herald.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import type { Receiver } from '../helpers/receiver.js';

export const TOKEN = 'scale-out-admin-token';
export const ORG = 'scale-org';
export const EVENT_TYPE = 'order.placed';

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** One HTTP client for every call a test makes; `call` throws on a transport error. */
export class Client {
  readonly #agent: Agent;

  constructor(connections = 64) {
    this.#agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 2_000 });
  }

  async call<T = unknown>(base: string, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<Answer<T>> {
    const response = await request(`${base}${path}`, {
      method: method as 'POST',
      dispatcher: this.#agent,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.statusCode, body: parsed as T };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

export interface Cluster {
  database: TestDatabase;
  api: ChildHerald;
  workers: ChildHerald[];
  /** Every process, api first. */
  all(): ChildHerald[];
  /** SIGKILLs whatever still runs, drops the database, removes the data dir. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  workers: number;
  /** Extra environment for every process (lease, poll interval…). */
  env?: Record<string, string>;
}

/** One api process, then `workers` worker processes, all on one new database. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  requireBuiltCli();
  const database = await createTestDatabase('herald_so');
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-scale-'));
  const started: ChildHerald[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(started.map((child) => child.kill()));
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  };
  // Processes sharing a database must share the key that encrypts secrets at rest.
  const encryptionKey = randomBytes(32).toString('base64');
  try {
    const env = (role: string): Record<string, string> => ({
      HERALD_DATABASE_URL: database.url,
      HERALD_ENCRYPTION_KEY: encryptionKey,
      HERALD_ROLE: role,
      HERALD_POLL_INTERVAL_MS: '500',
      ...options.env,
    });
    const start = (role: string): Promise<ChildHerald> =>
      startChildHerald({ dataDir, adminToken: TOKEN, env: env(role), startTimeoutMs: 30_000 }).then((child) => {
        started.push(child);
        return child;
      });
    // The api first (it runs the migrations on the empty database), then the workers together.
    const api = await start('api');
    const workers = await Promise.all(Array.from({ length: options.workers }, () => start('worker')));
    return { database, api, workers, all: () => [api, ...workers], close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Creates the event type, the organization and one webhook per receiver. Each
 * webhook filters on the attribute `shard` = `shard-<index>`, so an event with
 * that attribute goes to exactly that webhook. Answers webhook id → receiver index.
 */
export async function setupShardedWebhooks(
  client: Client,
  base: string,
  receivers: readonly Receiver[],
  extra: Record<string, unknown> = {},
): Promise<Map<string, number>> {
  const expectStatus = (what: string, answer: Answer, status: number): void => {
    if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  expectStatus('PUT event type', await client.call(base, 'PUT', `/v1/event-types/${EVENT_TYPE}`, { description: 'An order was placed' }), 201);
  expectStatus('POST organization', await client.call(base, 'POST', '/v1/organizations', { id: ORG }), 201);
  const webhookIndex = new Map<string, number>();
  for (const [index, receiver] of receivers.entries()) {
    const answer = await client.call<{ id: string }>(base, 'POST', `/v1/organizations/${ORG}/webhooks`, {
      url: `${receiver.url}/hook/${index}`,
      events: [EVENT_TYPE],
      filters: { shard: [shardName(index)] },
      ...extra,
    });
    expectStatus(`POST webhook ${index}`, answer, 201);
    webhookIndex.set(answer.body.id, index);
  }
  return webhookIndex;
}

export function shardName(index: number): string {
  return `shard-${String(index).padStart(2, '0')}`;
}

/** The body of event `seq`, for the webhook of receiver `seq % shards`; `id` makes a re-post return the stored event. */
export function eventBody(seq: number, shards: number): Record<string, unknown> {
  return { id: `order-${seq}`, type: EVENT_TYPE, data: { seq }, attributes: { shard: shardName(seq % shards) } };
}

export interface Accepted {
  id: string;
  deliveries: { id: string; webhookId: string }[];
}

/** How one POST ended. */
export type PostOutcome =
  | { kind: 'accepted'; seq: number; event: Accepted }
  | { kind: 'refused'; seq: number; status: number; code: string | null; body: unknown }
  | { kind: 'transport'; seq: number; error: string };

/**
 * Posts events `seqs` with `inFlight` requests at a time; stops taking new
 * ones when `stop()` says so. Every request is bounded by the client timeout.
 */
export async function postEvents(
  client: Client,
  base: string,
  seqs: readonly number[],
  options: { inFlight: number; shards: number; stop?: () => boolean; onOutcome?: (outcome: PostOutcome) => void },
): Promise<PostOutcome[]> {
  const queue = [...seqs];
  const outcomes: PostOutcome[] = [];
  const worker = async (): Promise<void> => {
    for (;;) {
      if (options.stop?.()) return;
      const seq = queue.shift();
      if (seq === undefined) return;
      let outcome: PostOutcome;
      try {
        const answer = await client.call<Accepted | { error?: { code?: string } }>(base, 'POST', `/v1/organizations/${ORG}/events`, eventBody(seq, options.shards));
        if (answer.status === 202) outcome = { kind: 'accepted', seq, event: answer.body as Accepted };
        else {
          const code = (answer.body as { error?: { code?: string } } | null)?.error?.code ?? null;
          outcome = { kind: 'refused', seq, status: answer.status, code, body: answer.body };
        }
      } catch (error) {
        outcome = { kind: 'transport', seq, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  return outcomes;
}

/**
 * What the receivers should get (one delivery id per accepted event, at the
 * receiver of its webhook) against what they got.
 */
export class Ledger {
  readonly #receivers: readonly Receiver[];
  readonly #webhookIndex: ReadonlyMap<string, number>;
  /** Per receiver: delivery id → event seq. */
  readonly #expected: Map<string, number>[];

  constructor(receivers: readonly Receiver[], webhookIndex: ReadonlyMap<string, number>) {
    this.#receivers = receivers;
    this.#webhookIndex = webhookIndex;
    this.#expected = receivers.map(() => new Map());
  }

  /** Records an accepted event; throws when it does not have exactly the one delivery its shard says. */
  expect(seq: number, event: Accepted): void {
    const shard = seq % this.#receivers.length;
    if (event.deliveries.length !== 1 || this.#webhookIndex.get(event.deliveries[0]!.webhookId) !== shard) {
      throw new Error(`event ${seq} (${event.id}) should match exactly the webhook of ${shardName(shard)}, got ${JSON.stringify(event.deliveries)}`);
    }
    this.#expected[shard]!.set(event.deliveries[0]!.id, seq);
  }

  get expectedCount(): number {
    return this.#expected.reduce((n, m) => n + m.size, 0);
  }

  /** Distinct delivery ids received, over every receiver. */
  arrived(): number {
    let n = 0;
    for (const receiver of this.#receivers) n += new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size;
    return n;
  }

  received(): number {
    return this.#receivers.reduce((n, r) => n + r.requests.length, 0);
  }

  missing(): number {
    let n = 0;
    for (const [index, receiver] of this.#receivers.entries()) {
      const seen = new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));
      for (const id of this.#expected[index]!.keys()) if (!seen.has(id)) n++;
    }
    return n;
  }

  /**
   * Duplicates (requests beyond the first per delivery id), strangers (ids no
   * accepted event has at that receiver) and mismatches (a body that is not
   * the event of its delivery id).
   */
  /** Delivery ids received more than once, with how many times. */
  duplicated(): Map<string, number> {
    const out = new Map<string, number>();
    for (const receiver of this.#receivers) {
      const counts = new Map<string, number>();
      for (const r of receiver.requests) {
        const id = String(r.headers['webhook-id']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      for (const [id, n] of counts) if (n > 1) out.set(id, n);
    }
    return out;
  }

  audit(): { duplicates: number; strangers: number; mismatches: number } {
    let duplicates = 0;
    let strangers = 0;
    let mismatches = 0;
    for (const [index, receiver] of this.#receivers.entries()) {
      const counts = new Map<string, number>();
      for (const r of receiver.requests) {
        const id = String(r.headers['webhook-id']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
        const seq = this.#expected[index]!.get(id);
        if (seq === undefined) strangers++;
        else if ((JSON.parse(r.body) as { data?: { seq?: number } }).data?.seq !== seq) mismatches++;
      }
      for (const n of counts.values()) duplicates += n - 1;
    }
    return { duplicates, strangers, mismatches };
  }
}

/** Every metric of a process's /metrics, each summed over its labels; null when the process does not answer. */
export async function scrapeMetrics(client: Client, base: string): Promise<Map<string, number> | null> {
  try {
    const answer = await client.call<string>(base, 'GET', '/metrics', undefined, 5_000);
    if (answer.status !== 200 || typeof answer.body !== 'string') return null;
    const metrics = new Map<string, number>();
    for (const line of answer.body.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (match) metrics.set(match[1]!, (metrics.get(match[1]!) ?? 0) + Number(match[2]));
    }
    return metrics;
  } catch {
    return null;
  }
}

/** Deliveries a process settled (`herald_deliveries_total`, every outcome). */
export async function deliveriesMetric(client: Client, base: string): Promise<number | null> {
  const metrics = await scrapeMetrics(client, base);
  return metrics === null ? null : (metrics.get('herald_deliveries_total') ?? 0);
}

/** Rows in the test database (direct SQL: independent of the processes under test). */
export async function queryDatabase<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function pendingDeliveries(url: string): Promise<number> {
  const rows = await queryDatabase<{ n: string }>(url, `select count(*) as n from deliveries where status = 'pending'`);
  return Number(rows[0]?.n ?? 0);
}

/** Polls `done` every `intervalMs` until it is true or `timeoutMs` passed; answers whether it became true. */
export async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The last lines a process printed, for a failure message. */
export function tail(child: ChildHerald, lines = 20): string {
  return child.output.slice(-lines).join('\n');
}

/** The log lines at `minLevel` or above (40 warn, 50 error) that a process printed, with their messages counted. */
export function logProblems(child: ChildHerald, minLevel = 40): { count: number; messages: Map<string, number> } {
  const messages = new Map<string, number>();
  let count = 0;
  for (const line of child.output) {
    let entry: { level?: number; msg?: string; err?: { message?: string } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if ((entry.level ?? 0) < minLevel) continue;
    count++;
    const key = `${entry.msg ?? '?'}${entry.err?.message ? `: ${entry.err.message.slice(0, 120)}` : ''}`;
    messages.set(key, (messages.get(key) ?? 0) + 1);
  }
  return { count, messages };
}

