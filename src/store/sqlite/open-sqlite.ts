import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Database } from '../schema.js';

export interface SqliteOptions {
  /** File path, or `:memory:`. */
  file: string;
  /**
   * `full` makes every commit survive a power loss (an fsync per commit);
   * `normal` survives a process crash, which is what SIGKILL tests show.
   * @defaultValue 'full'
   */
  synchronous?: 'full' | 'normal';
}

/**
 * Kysely's SQLite driver prepares every statement anew; Herald runs the same
 * few statements thousands of times a second, so statements are cached by text.
 */
function withStatementCache(db: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(text: string): SqliteStatement {
      let statement = cache.get(text);
      if (!statement) {
        statement = db.prepare(text) as unknown as SqliteStatement;
        if (cache.size > 200) cache.clear();
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

export function openSqlite(options: SqliteOptions): { db: Kysely<Database>; raw: BetterSqlite3.Database } {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const raw = new BetterSqlite3(options.file);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = OFF');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return { db, raw };
}
