import type { Logger } from 'pino';
import type { HeraldConfig } from '../config.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/**
 * SQLite in the data dir unless a PostgreSQL URL is configured. The PostgreSQL
 * driver is loaded only then: an embedded Herald does not carry it in memory.
 */
export async function openStore(config: HeraldConfig, log: Logger): Promise<Store> {
  const url = config.databaseUrl;
  if (url === null) return openSqliteStore(config.dataDir);
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('HERALD_DATABASE_URL: only postgres:// (or postgresql://) URLs are supported; unset it for the embedded SQLite store');
  }
  const { openPostgresStore } = await import('./postgres/postgres-store.js');
  return openPostgresStore({ url, poolSize: config.databasePoolSize, statementTimeoutMs: config.statementTimeoutMs }, log);
}
