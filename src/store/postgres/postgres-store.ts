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
  const pool = new pg.Pool({ ...postgresClientConfig(options), max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  // An idle connection dropped by a restart must not crash the process: the pool replaces it.
  pool.on('error', (error) => log.warn({ err: error }, 'a pooled PostgreSQL connection failed; it will be replaced'));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    capabilities: { sharedQueue: true },
    async announceDue(webhookIds) {
      const unique = [...new Set(webhookIds)];
      for (let i = 0; i < unique.length; i += IDS_PER_NOTIFY) {
        await sql`select pg_notify(${DUE_CHANNEL}, ${unique.slice(i, i + IDS_PER_NOTIFY).join(',')})`.execute(db);
      }
    },
    listenDue: (onDue, listenLog) => listenForDue(postgresClientConfig(options), DUE_CHANNEL, onDue, listenLog),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
