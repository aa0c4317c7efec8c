import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import * as initial from './0001-initial.js';
import * as apiTokens from './0002-api-tokens.js';
import * as dashboardSessions from './0003-dashboard-sessions.js';

/** Migrations are compiled in, not read from disk, so `dist/` and `src/` behave alike. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-api-tokens': apiTokens,
  '0003-dashboard-sessions': dashboardSessions,
};

const provider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

export interface MigrateOptions {
  /**
   * PostgreSQL schema of Kysely's bookkeeping tables, when Herald's tables
   * live outside `public` (one schema per test, or per deployment).
   */
  schema?: string;
}

export async function migrateToLatest<DB>(db: Kysely<DB>, options: MigrateOptions = {}): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider, ...(options.schema ? { migrationTableSchema: options.schema } : {}) });
  return migrator.migrateToLatest();
}

/** Runs every pending migration, throwing with the failed migration's name on error. */
export async function migrateOrThrow<DB>(db: Kysely<DB>, options: MigrateOptions = {}): Promise<string[]> {
  const { error, results } = await migrateToLatest(db, options);
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
