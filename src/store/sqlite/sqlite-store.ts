import { join } from 'node:path';
import { sql } from 'kysely';
import type { Store } from '../store.js';
import { openSqlite } from './open-sqlite.js';

/** The embedded store: one file in the data dir, one process. */
export function openSqliteStore(dataDir: string): Store {
  const { db } = openSqlite({ file: join(dataDir, 'herald.db') });
  return {
    db,
    dialect: 'sqlite',
    capabilities: { sharedQueue: false },
    // One connection, so the setting is switched for this transaction's commit and back, while
    // the connection is held: no other commit can run in between with the relaxed setting.
    // (In WAL mode a later durable commit syncs the log, relaxed frames included, in order.)
    relaxedTransaction: (fn) =>
      db.connection().execute(async (conn) => {
        await sql`pragma synchronous = normal`.execute(conn);
        try {
          return await conn.transaction().execute(fn);
        } finally {
          await sql`pragma synchronous = full`.execute(conn);
        }
      }),
    // One process: the dispatcher is told directly, nobody else needs to hear.
    announceDue: async () => {},
    listenDue: async () => async () => {},
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
