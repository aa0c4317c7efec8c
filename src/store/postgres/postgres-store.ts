import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { listenForDue } from './listen-due.js';

export const DUE_CHANNEL = 'herald_due';
/** NOTIFY payloads are limited to 8000 bytes; webhook ids are ~30. */
const IDS_PER_NOTIFY = 200;

export interface PostgresOptions {
  url: string;
  /** Connections in the pool. @defaultValue 10 */
  poolSize?: number;
  /** Longest a statement may run. @defaultValue 30000 */
  statementTimeoutMs?: number;
  /** Longest to wait for a connection, so requests fail fast while the database is down. @defaultValue 5000 */
  connectTimeoutMs?: number;
}

/** int8 (bigint) columns hold epoch milliseconds, well inside a double: read them as numbers. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function postgresClientConfig(options: PostgresOptions): pg.ClientConfig {
  return {
    connectionString: options.url,
    types,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: 'herald',
  };
}

/** PostgreSQL: any number of Herald processes share one database. */
export function openPostgresStore(options: PostgresOptions, log: Logger): Store {
  const openPool = (max: number, extra: pg.PoolConfig = {}): pg.Pool => {
    const pool = new pg.Pool({ ...postgresClientConfig(options), max, idleTimeoutMillis: 30_000, ...extra });
    // An idle connection dropped by a restart must not crash the process: the pool replaces it.
    pool.on('error', (error) => log.warn({ err: error }, 'a pooled PostgreSQL connection failed; it will be replaced'));
    // The pool listens for errors only on idle connections. A connection that dies while checked out
    // (a restart between two statements of a transaction) emits 'error' too, and an 'error' without
    // a listener kills the process. Its query fails on its own and the pool drops it on release.
    pool.on('connect', (client) => {
      client.on('error', (error) => log.debug({ err: error }, 'a PostgreSQL connection failed; it will be replaced'));
    });
    return pool;
  };
  const pool = openPool(options.poolSize ?? 10);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Relaxed transactions (claims, settles) get their own few connections with asynchronous commit
  // as the session setting, so no transaction pays a round trip to switch it. Opened on first use:
  // an api-only process never needs them.
  let relaxed: Kysely<Database> | null = null;
  const relaxedDb = (): Kysely<Database> =>
    (relaxed ??= new Kysely<Database>({
      dialect: new PostgresDialect({ pool: openPool(Math.min(4, options.poolSize ?? 10), { options: '-c synchronous_commit=off' }) }),
    }));
  // Announcements are coalesced: every ingest answered in one turn of the event loop (a group
  // commit answers many at once), and any made while a NOTIFY is being sent, go out together.
  // One NOTIFY per ingest would cost a round trip each and wake every worker for one delivery.
  const queued = new Set<string>();
  let waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  let sending = false;
  const kick = (): void => {
    if (sending || scheduled || queued.size === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void sendRound();
    });
  };
  const sendRound = async (): Promise<void> => {
    if (sending || queued.size === 0) return;
    sending = true;
    const ids = [...queued];
    queued.clear();
    const round = waiters;
    waiters = [];
    try {
      for (let i = 0; i < ids.length; i += IDS_PER_NOTIFY) {
        await sql`select pg_notify(${DUE_CHANNEL}, ${ids.slice(i, i + IDS_PER_NOTIFY).join(',')})`.execute(db);
      }
      for (const w of round) w.resolve();
    } catch (error) {
      for (const w of round) w.reject(error);
    } finally {
      sending = false;
      kick();
    }
  };
  return {
    db,
    dialect: 'postgres',
    capabilities: { sharedQueue: true },
    // The commit returns without waiting for the WAL flush (PostgreSQL's own "asynchronous
    // commit"): a crash of the database may lose it, never corrupt it.
    relaxedTransaction: (fn) => relaxedDb().transaction().execute(fn),
    announceDue(webhookIds) {
      if (webhookIds.length === 0) return Promise.resolve();
      for (const id of webhookIds) queued.add(id);
      return new Promise<void>((resolve, reject) => {
        waiters.push({ resolve, reject });
        kick();
      });
    },
    listenDue: (onDue, listenLog) => listenForDue(postgresClientConfig(options), DUE_CHANNEL, onDue, listenLog),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await relaxed?.destroy();
      await db.destroy();
    },
  };
}
