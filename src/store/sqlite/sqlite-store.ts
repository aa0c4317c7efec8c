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
    // One process: the dispatcher is told directly, nobody else needs to hear.
    announceDue: async () => {},
    listenDue: async () => async () => {},
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
