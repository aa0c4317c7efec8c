import type { HeraldConfig } from '../config.js';
import { openStore } from '../main.js';
import { migrateOrThrow } from '../store/migrations/index.js';

export async function runMigrate(config: HeraldConfig): Promise<void> {
  const store = await openStore(config);
  try {
    const applied = await migrateOrThrow(store.db);
    process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`);
  } finally {
    await store.close();
  }
}
