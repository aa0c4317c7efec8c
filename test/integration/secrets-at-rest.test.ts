/**
 * Webhook signing secrets are encrypted at rest (AES-256-GCM): the raw
 * database holds none of them in clear, a wrong key stops Herald at start
 * with a clear error (never garbage signatures), PostgreSQL requires an
 * explicit key, and `herald rotate-encryption-key` re-encrypts in batches.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runRotateEncryptionKey } from '../../src/cli/rotate-encryption-key.js';
import { ConfigError, resolveConfig } from '../../src/config.js';
import { encryptionKeyId } from '../../src/encryption/keyring.js';
import { KEY_CHECK } from '../../src/encryption/secrets-at-rest.js';
import { createHerald } from '../../src/main.js';
import { CLI_PATH, REPO_ROOT, requireBuiltCli } from '../helpers/child-herald.js';
import { TEST_DIALECT, TEST_ENCRYPTION_KEY, eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const K1 = TEST_ENCRYPTION_KEY;
const K2 = Buffer.alloc(32, 0x42).toString('base64');
const K3 = Buffer.alloc(32, 0x17).toString('base64');
const OPERATOR_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let dataDir: string;
let database: TestDatabase | null = null;
let receiver: Receiver;
const running: TestHerald[] = [];

/** The environment of a Herald on this test's store (its own data dir, and its own PostgreSQL database). */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...(database ? { HERALD_DATABASE_URL: database.url } : {}), ...extra };
}

async function start(extra: Record<string, string> = {}): Promise<TestHerald> {
  const h = await startHerald({ dataDir, env: env(extra) });
  running.push(h);
  return h;
}

async function stop(h: TestHerald): Promise<void> {
  running.splice(running.indexOf(h), 1);
  await h.stop();
}

/** Starting must fail with a ConfigError; its message. */
async function startFails(extra: Record<string, string>): Promise<string> {
  const config = resolveConfig({ file: null, env: { HERALD_DATA_DIR: dataDir, HERALD_PORT: '0', HERALD_LOG_LEVEL: 'silent', ...env(extra) } });
  const error = await createHerald({ config, logger: pino({ level: 'silent' }) }).then(
    async (herald) => {
      await herald.stop();
      return null;
    },
    (e: unknown) => e,
  );
  expect(error, 'Herald started').toBeInstanceOf(ConfigError);
  return (error as Error).message;
}

/** Creates webhooks (one rotated, so it has a previous secret too) and returns every secret they hold. */
async function makeWebhooks(h: TestHerald, count: number): Promise<{ ids: string[]; secrets: string[] }> {
  await h.call('PUT', '/v1/event-types/order.created', { description: 'An order' });
  await h.call('POST', '/v1/organizations', { id: 'acme' });
  const ids: string[] = [];
  const secrets: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', { url: `${receiver.url}/hook-${i}`, events: ['order.*'] });
    expect(created.status).toBe(201);
    ids.push(created.body.id);
    secrets.push((await h.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${created.body.id}/secret`)).body.secret);
  }
  const rotated = await h.call<{ secret: string }>('POST', `/v1/organizations/acme/webhooks/${ids[0]}/rotate-secret`, {});
  expect(rotated.status).toBe(200);
  secrets.push(rotated.body.secret);
  return { ids, secrets };
}

/** Every stored secret column, as the database holds it. */
async function storedSecrets(h: TestHerald): Promise<string[]> {
  const rows = await h.herald.db.selectFrom('webhooks').select(['secret', 'previous_secret']).execute();
  return rows.flatMap((r) => [r.secret, r.previous_secret]).filter((v): v is string => v !== null);
}

/** Everything the database holds, as bytes: the SQLite files, or every text column PostgreSQL returns. */
async function rawDatabase(): Promise<Buffer> {
  if (!database) {
    return Buffer.concat(readdirSync(dataDir).filter((f) => f.startsWith('herald.db')).map((f) => readFileSync(join(dataDir, f))));
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const parts: string[] = [];
    const tables = await client.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public'");
    for (const { tablename } of tables.rows) parts.push(JSON.stringify((await client.query(`select * from ${tablename}`)).rows));
    return Buffer.from(parts.join('\n'));
  } finally {
    await client.end();
  }
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'herald-secrets-'));
  database = TEST_DIALECT === 'postgres' ? await createTestDatabase() : null;
  receiver = await startReceiver();
});
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
  await receiver.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('secrets at rest', () => {
  it('keeps no webhook secret in clear in the database, yet signs with them', async () => {
    const h = await start({ HERALD_OPERATOR_WEBHOOK_URL: `${receiver.url}/ops`, HERALD_OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET });
    const { ids, secrets } = await makeWebhooks(h, 3);
    const all = [...secrets, OPERATOR_SECRET];
    for (const value of await storedSecrets(h)) expect(value).toMatch(/^hs1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);

    // Signing uses the real secret: the receiver verifies the delivery with what the API shows.
    const posted = await h.call<{ deliveries: { id: string; webhookId: string }[] }>('POST', '/v1/organizations/acme/events', { type: 'order.created', data: { n: 1 } });
    expect(posted.status).toBe(202);
    const requests = await receiver.waitFor(3);
    const last = requests.find((r) => r.path === '/hook-2')!;
    expect(new StandardWebhook(secrets[2]!).verify(last.body, last.headers as Record<string, string>)).toMatchObject({ type: 'order.created' });
    await eventually(async () => {
      const res = await h.call<{ status: string }>('GET', `/v1/organizations/acme/deliveries/${posted.body.deliveries.find((d) => d.webhookId === ids[2])!.id}`);
      return res.body.status === 'succeeded';
    });

    for (const [when, raw] of [['while running', await rawDatabase()]] as const) {
      for (const secret of all) {
        expect(raw.includes(Buffer.from(secret)), `${secret} in the database ${when}`).toBe(false);
        expect(raw.includes(Buffer.from(secret.replace(/^whsec_/, ''))), `the key of ${secret} ${when}`).toBe(false);
      }
    }
    await stop(h);
    const after = await rawDatabase();
    for (const secret of all) expect(after.includes(Buffer.from(secret)), `${secret} in the database after stop`).toBe(false);
  });

  it('stops at start with a clear error when given another key, and starts again with the right one', async () => {
    const h = await start({ HERALD_ENCRYPTION_KEY: K1 });
    const { ids, secrets } = await makeWebhooks(h, 1);
    await stop(h);
    const message = await startFails({ HERALD_ENCRYPTION_KEY: K2 });
    expect(message).toMatch(/^HERALD_ENCRYPTION_KEY: is not the key this database's secrets were encrypted with/);
    expect(message).toContain(`the database expects key ${encryptionKeyId(Buffer.from(K1, 'base64'))}`);
    expect(message).toContain('rotate-encryption-key');
    expect(message).not.toContain(K1);
    expect(message).not.toContain(K2);
    const again = await start({ HERALD_ENCRYPTION_KEY: K1 });
    expect((await again.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${ids[0]}/secret`)).body.secret).toBe(secrets[1]);
  });

  it('spots a wrong key from the secrets themselves when the key check value is gone', async () => {
    const h = await start({ HERALD_ENCRYPTION_KEY: K1 });
    await makeWebhooks(h, 2);
    await h.herald.db.deleteFrom('herald_meta').where('key', '=', KEY_CHECK).execute();
    await stop(h);
    expect(await startFails({ HERALD_ENCRYPTION_KEY: K2 })).toMatch(/2 webhook\(s\) hold secrets sealed with another key/);
  });

  it('requires HERALD_ENCRYPTION_KEY with PostgreSQL: processes share the database, not a data dir', async () => {
    const config = resolveConfig({
      file: null,
      env: { HERALD_DATA_DIR: dataDir, HERALD_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/never-opened', HERALD_LOG_LEVEL: 'silent' },
    });
    await expect(createHerald({ config, logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /^HERALD_ENCRYPTION_KEY: required with HERALD_DATABASE_URL: .*openssl rand -base64 32/,
    );
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('seals secrets an older Herald stored in clear, at the next start', async () => {
    const h = await start();
    const { ids, secrets } = await makeWebhooks(h, 2);
    // As a Herald from before encryption left them: plaintext columns and no key check.
    await h.herald.db.updateTable('webhooks').set({ secret: 'whsec_bGVnYWN5LXBsYWludGV4dC1zZWNyZXQtMzI=', previous_secret: null }).where('id', '=', ids[1]!).execute();
    await h.herald.db.deleteFrom('herald_meta').where('key', '=', KEY_CHECK).execute();
    await stop(h);
    const again = await start();
    for (const value of await storedSecrets(again)) expect(value).toMatch(/^hs1:/);
    expect((await again.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${ids[1]}/secret`)).body.secret).toBe('whsec_bGVnYWN5LXBsYWludGV4dC1zZWNyZXQtMzI=');
    expect((await again.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${ids[0]}/secret`)).body.secret).toBe(secrets[2]);
  });

  it.skipIf(TEST_DIALECT === 'postgres')('without HERALD_ENCRYPTION_KEY, generates a key file only its owner can read, and needs it afterwards', async () => {
    const h = await start({ HERALD_ENCRYPTION_KEY: '' });
    const { ids, secrets } = await makeWebhooks(h, 1);
    await stop(h);
    const file = join(dataDir, 'encryption-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    const again = await start({ HERALD_ENCRYPTION_KEY: '' });
    expect((await again.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${ids[0]}/secret`)).body.secret).toBe(secrets[1]);
    await stop(again);
    // A lost key file: Herald makes a new key, which does not open the database's secrets.
    rmSync(file);
    expect(await startFails({ HERALD_ENCRYPTION_KEY: '' })).toMatch(new RegExp(`^${file}: is not the key this database's secrets were encrypted with`));
  });
});

describe('herald rotate-encryption-key', () => {
  it('re-encrypts every secret under the new key in batches; the old key is then no longer needed', async () => {
    const h = await start({ HERALD_ENCRYPTION_KEY: K1 });
    const { ids, secrets } = await makeWebhooks(h, 5);
    // Rotation runs beside a live Herald that has both keys (the new one current).
    await stop(h);
    const live = await start({ HERALD_ENCRYPTION_KEY: K2, HERALD_PREVIOUS_ENCRYPTION_KEYS: K1 });
    const lines: string[] = [];
    const config = resolveConfig({ file: null, env: { HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'silent', ...env({ HERALD_ENCRYPTION_KEY: K2, HERALD_PREVIOUS_ENCRYPTION_KEYS: K1 }) } });
    const result = await runRotateEncryptionKey(config, { batchSize: 2, write: (line) => lines.push(line) });
    expect(result).toMatchObject({ reencrypted: 5, scanned: 5, batches: 3, keyId: encryptionKeyId(Buffer.from(K2, 'base64')) });
    expect(lines.at(-1)).toMatch(/^done: 5 of 5 webhooks re-encrypted in 3 batch\(es\)/);
    for (const value of await storedSecrets(live)) expect(value.startsWith(`hs1:${result.keyId}:`), value).toBe(true);
    // The live Herald kept serving the secrets throughout.
    expect((await live.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${ids[3]}/secret`)).body.secret).toBe(secrets[3]);
    await stop(live);

    const after = await start({ HERALD_ENCRYPTION_KEY: K2 });
    for (const [i, id] of ids.entries()) {
      const expected = i === 0 ? secrets[5] : secrets[i];
      expect((await after.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${id}/secret`)).body.secret).toBe(expected);
    }
    const posted = await after.call<{ deliveries: unknown[] }>('POST', '/v1/organizations/acme/events', { type: 'order.created', data: { n: 2 } });
    expect(posted.body.deliveries).toHaveLength(5);
    const [first] = (await receiver.waitFor(5)).filter((r) => r.path === '/hook-1');
    expect(new StandardWebhook(secrets[1]!).verify(first!.body, first!.headers as Record<string, string>)).toMatchObject({ data: { n: 2 } });
    await stop(after);
    expect(await startFails({ HERALD_ENCRYPTION_KEY: K1 })).toMatch(/is not the key this database's secrets were encrypted with/);
  });

  it('refuses to rotate from keys that do not open the database', async () => {
    const h = await start({ HERALD_ENCRYPTION_KEY: K1 });
    await makeWebhooks(h, 1);
    await stop(h);
    const config = resolveConfig({ file: null, env: { HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'silent', ...env({ HERALD_ENCRYPTION_KEY: K3, HERALD_PREVIOUS_ENCRYPTION_KEYS: K2 }) } });
    await expect(runRotateEncryptionKey(config, { write: () => {} })).rejects.toThrow(/is not the key this database's secrets were encrypted with/);
  });

  it.skipIf(TEST_DIALECT === 'postgres')('as a command, with the key file of the data dir: a new key, every secret re-encrypted', async () => {
    requireBuiltCli();
    const h = await start({ HERALD_ENCRYPTION_KEY: '' });
    const { ids, secrets } = await makeWebhooks(h, 3);
    await stop(h);
    const file = join(dataDir, 'encryption-key');
    const before = readFileSync(file, 'utf8');
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));
    const run = spawnSync(process.execPath, [CLI_PATH, 'rotate-encryption-key', '--batch-size', '2'], {
      cwd: REPO_ROOT,
      env: { ...inherited, HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/done: 3 of 3 webhooks re-encrypted in 2 batch\(es\)/);
    const afterFile = readFileSync(file, 'utf8');
    expect(afterFile).not.toBe(before);
    expect(afterFile.trim().split('\n')).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await start({ HERALD_ENCRYPTION_KEY: '' });
    expect((await again.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${ids[2]}/secret`)).body.secret).toBe(secrets[2]);
    await stop(again);
    // The old key alone no longer opens the database.
    writeFileSync(file, before, { mode: 0o600 });
    expect(await startFails({ HERALD_ENCRYPTION_KEY: '' })).toMatch(/is not the key this database's secrets were encrypted with/);
  });
});
