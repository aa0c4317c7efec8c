/**
 * `Store.relaxedTransaction`: claims and settles commit without waiting for
 * the disk, and nothing else does. The setting is read back from the
 * database inside and outside such a transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateOrThrow } from '../../src/store/migrations/index.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Db } from '../../src/store/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../helpers/postgres.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-relaxed-'));
  const store = openSqliteStore(dir);
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  await migrateOrThrow(store.db);
  return store;
}

async function postgresStore(): Promise<Store> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const store = openPostgresStore({ url: database.url }, pino({ level: 'silent' }));
  cleanups.push(() => store.close());
  await migrateOrThrow(store.db);
  return store;
}

const addOrganization = (db: Db, id: string) =>
  db.insertInto('organizations').values({ id, name: null, metadata: '{}', created_at: 1, updated_at: 1 }).execute();

describe('relaxedTransaction', () => {
  it('SQLite: commits with synchronous=NORMAL, and every other transaction with FULL', async () => {
    const store = await sqliteStore();
    const synchronous = async (db: Db) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous;
    expect(await synchronous(store.db)).toBe(2); // FULL
    const inside = await store.relaxedTransaction(async (trx) => {
      await addOrganization(trx, 'org_relaxed');
      return synchronous(trx);
    });
    expect(inside).toBe(1); // NORMAL
    expect(await synchronous(store.db)).toBe(2);
    expect(await store.db.transaction().execute((trx) => synchronous(trx))).toBe(2);
    expect(await store.db.selectFrom('organizations').select('id').execute()).toEqual([{ id: 'org_relaxed' }]);
  });

  it('SQLite: a relaxed transaction that throws rolls back and leaves the setting at FULL', async () => {
    const store = await sqliteStore();
    await expect(
      store.relaxedTransaction(async (trx) => {
        await addOrganization(trx, 'org_lost');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows[0]?.synchronous).toBe(2);
    expect(await store.db.selectFrom('organizations').select('id').execute()).toEqual([]);
  });

  it('PostgreSQL: commits with synchronous_commit off, on connections of its own; the main pool keeps it on', async () => {
    const store = await postgresStore();
    const setting = async (db: Db) => (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)).rows[0]?.synchronous_commit;
    const inside = await store.relaxedTransaction(async (trx) => {
      await addOrganization(trx, 'org_relaxed');
      return setting(trx);
    });
    expect(inside).toBe('off');
    expect(await setting(store.db)).toBe('on');
    expect(await store.db.selectFrom('organizations').select('id').execute()).toEqual([{ id: 'org_relaxed' }]);
  });
});
