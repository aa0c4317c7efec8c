import type { HeraldConfig } from '../config.js';
import { createLogger } from '../main.js';
import { openStore } from '../store/open-store.js';
import { migrateOrThrow } from '../store/migrations/index.js';

export async function runMigrate(config: HeraldConfig): Promise<void> {
  const store = await openStore(config, createLogger(config.logLevel));
  try {
    const applied = await migrateOrThrow(store.db);
    process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`);
  } finally {
    await store.close();
  }
}
