/**
 * Real databases for store tests: every test gets a fresh, migrated database
 * (a file in a directory owned by the test file), destroyed after the test.
 * `DIALECTS` is the list each store test file loops over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { migrateOrThrow } from '../../src/store/migrations/index.js';
import type { Database, DeliveriesTable, Db, WebhooksTable } from '../../src/store/schema.js';
import { postgresClientConfig } from '../../src/store/postgres/postgres-store.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

export interface StoreHandle {
  db: Db;
  dialect: Dialect;
  /** Whether the store shares its queue between processes (claims lock rows and count leases). */
  shared: boolean;
  /**
   * Runs `fn` against a second handle on the same database that records the
   * SQL it sends, and answers the query plan of every statement (SQLite's
   * `EXPLAIN QUERY PLAN` details, or PostgreSQL's `EXPLAIN` lines with
   * sequential scans disabled, so it shows whether an index can serve).
   */
  explain(fn: (db: Db) => Promise<unknown>): Promise<{ sql: string; plan: string[] }[]>;
}

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

const TRANSACTION_CONTROL = /^(begin|commit|rollback)\b/i;

type OpenHandle = StoreHandle & { close(): Promise<void> };

/** Handles on a store whose queue is shared between processes (PostgreSQL), for helpers that claim. */
export const sharedQueueDbs = new WeakSet<Db>();

async function openSqliteHandle(file: string): Promise<OpenHandle> {
  const { db, raw } = openSqlite({ file, synchronous: 'normal' });
  await migrateOrThrow(db);
  return {
    db,
    dialect: 'sqlite',
    shared: false,
    async explain(fn) {
      const queries: CompiledQuery[] = [];
      const logged = new Kysely<Database>({
        dialect: new SqliteDialect({ database: raw }),
        log: (event) => void (event.level === 'query' && queries.push(event.query)),
      });
      await fn(logged);
      return queries.filter((q) => !TRANSACTION_CONTROL.test(q.sql)).map((q) => ({
        sql: q.sql,
        plan: (raw.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map(
          (row) => row.detail,
        ),
      }));
    },
    close: () => db.destroy(),
  };
}

async function openPostgresHandle(url: string, schema: string): Promise<OpenHandle> {
  const config = { ...postgresClientConfig({ url }), options: `-c search_path=${schema}` };
  const setup = new pg.Client(config);
  await setup.connect();
  await setup.query(`CREATE SCHEMA ${schema}`);
  await setup.end();
  const pool = new pg.Pool({ ...config, max: 4 });
  pool.on('error', () => {}); // connections ended by the final DROP DATABASE
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  sharedQueueDbs.add(db);
  await migrateOrThrow(db, { schema });
  return {
    db,
    dialect: 'postgres',
    shared: true,
    async explain(fn) {
      const queries: CompiledQuery[] = [];
      const logged = new Kysely<Database>({
        dialect: new PostgresDialect({ pool }),
        log: (event) => void (event.level === 'query' && queries.push(event.query)),
      });
      sharedQueueDbs.add(logged);
      await fn(logged);
      const client = await pool.connect();
      try {
        await client.query('SET enable_seqscan = off');
        const out = [];
        for (const q of queries) {
          // A transaction-scoped advisory lock is a function call, not a plan worth reading.
          if (/pg_advisory_xact_lock|^select count/.test(q.sql) || TRANSACTION_CONTROL.test(q.sql)) continue;
          const result = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.sql}`, q.parameters as unknown[]);
          out.push({ sql: q.sql, plan: result.rows.map((r) => r['QUERY PLAN']) });
        }
        return out;
      } finally {
        await client.query('RESET enable_seqscan');
        client.release();
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * Registers hooks that give each test of the calling `describe` a fresh store
 * (a SQLite file, or a PostgreSQL schema in a database owned by the
 * `describe`); read it through the returned getter inside tests.
 */
export function useStore(dialect: Dialect): () => StoreHandle {
  let dir = '';
  let database: TestDatabase | null = null;
  let count = 0;
  let current: OpenHandle | null = null;

  beforeAll(async () => {
    if (dialect === 'sqlite') dir = mkdtempSync(join(tmpdir(), 'herald-store-sqlite-'));
    else database = await createTestDatabase('herald_store');
  });
  beforeEach(async () => {
    count += 1;
    current =
      dialect === 'sqlite'
        ? await openSqliteHandle(join(dir, `test-${count}.sqlite`))
        : await openPostgresHandle((database as TestDatabase).url, `t${count}`);
  });
  afterEach(async () => {
    await current?.close();
    current = null;
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await database?.drop();
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
