/**
 * Real databases for store tests: every test gets a fresh, migrated database
 * (a file in a directory owned by the test file), destroyed after the test.
 * `DIALECTS` is the list each store test file loops over; PostgreSQL joins it
 * when Herald's PostgreSQL store exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { migrateOrThrow } from '../../src/store/migrations/index.js';
import type { Database, DeliveriesTable, Db, WebhooksTable } from '../../src/store/schema.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';

export interface StoreHandle {
  db: Db;
  /**
   * Runs `fn` against a second handle on the same database that records the
   * SQL it sends, and answers `EXPLAIN QUERY PLAN` details of every statement.
   */
  explain(fn: (db: Db) => Promise<unknown>): Promise<{ sql: string; plan: string[] }[]>;
}

export const DIALECTS = ['sqlite'] as const;
export type Dialect = (typeof DIALECTS)[number];

/**
 * Registers hooks that give each test of the calling `describe` a fresh store;
 * read it through the returned getter inside tests.
 */
export function useStore(dialect: Dialect): () => StoreHandle {
  let dir = '';
  let count = 0;
  let current: (StoreHandle & { close(): Promise<void> }) | null = null;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `herald-store-${dialect}-`));
  });
  beforeEach(async () => {
    const { db, raw } = openSqlite({ file: join(dir, `test-${++count}.sqlite`), synchronous: 'normal' });
    await migrateOrThrow(db);
    current = {
      db,
      async explain(fn) {
        const queries: CompiledQuery[] = [];
        const logged = new Kysely<Database>({
          dialect: new SqliteDialect({ database: raw }),
          log: (event) => void (event.level === 'query' && queries.push(event.query)),
        });
        await fn(logged);
        return queries.map((q) => ({
          sql: q.sql,
          plan: (raw.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map(
            (row) => row.detail,
          ),
        }));
      },
      close: () => db.destroy(),
    };
  });
  afterEach(async () => {
    await current?.close();
    current = null;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  return () => {
    if (!current) throw new Error('the store is only open inside a test');
    return current;
  };
}

export const ORG = 'org_test';

export async function addWebhook(db: Db, id: string, fields: Partial<WebhooksTable> = {}): Promise<void> {
  await db
    .insertInto('webhooks')
    .values({
      id,
      organization_id: ORG,
      url: 'https://example.com/in',
      kind: 'standard',
      description: '',
      enabled: 1,
      events: '[]',
      filters: '{}',
      format: null,
      headers: '{}',
      rate_limit: null,
      timeout_ms: null,
      concurrency: null,
      retry: null,
      signing: 'hmac',
      metadata: '{}',
      secret: 'whsec_test',
      previous_secret: null,
      previous_secret_expires_at: null,
      failing_since: null,
      disabled_reason: null,
      created_at: 0,
      updated_at: 0,
      ...fields,
    })
    .execute();
}

export async function addEvent(db: Db, id: string, time = 0): Promise<void> {
  await db
    .insertInto('events')
    .values({ id, organization_id: ORG, type: 'deployment.created', data: '{}', attributes: '{}', time, external_id: null, created_at: time })
    .execute();
}

export async function addDelivery(
  db: Db,
  id: string,
  fields: Partial<DeliveriesTable> & Pick<DeliveriesTable, 'webhook_id'>,
): Promise<void> {
  await db
    .insertInto('deliveries')
    .values({
      id,
      event_id: 'evt_test',
      organization_id: ORG,
      status: 'pending',
      attempt_count: 0,
      next_attempt_at: 0,
      lease_owner: null,
      event_time: 0,
      failing: 0,
      created_at: 0,
      updated_at: 0,
      ...fields,
    })
    .execute();
}

export async function delivery(db: Db, id: string): Promise<DeliveriesTable> {
  return db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function ids(db: Db, table: 'deliveries' | 'events' | 'attempts'): Promise<string[]> {
  return (await db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => r.id);
}
