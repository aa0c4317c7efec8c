/**
 * Keeping the database's webhook secrets sealed under the right key:
 * - at start, a key check value in herald_meta proves the key is the one the
 *   database was set up with (a wrong key stops Herald with a clear error
 *   instead of producing signatures no receiver can verify), and secrets an
 *   older Herald wrote in clear are sealed;
 * - `herald rotate-encryption-key` re-seals everything under the current key,
 *   a batch per transaction, while Herald keeps running.
 */
import { ConfigError } from '../config.js';
import { getMeta, setMeta } from '../store/repositories/meta.js';
import {
  countSealedOutside,
  listPlaintextSecrets,
  listStoredSecrets,
  replaceStoredSecrets,
  type StoredSecrets,
} from '../store/repositories/webhook-secrets.js';
import type { Db } from '../store/schema.js';
import { isSealed, sealedKeyId, type Keyring } from './keyring.js';

/** herald_meta key of the key check value: a known text sealed with the database's key. */
export const KEY_CHECK = 'encryption_key_check';
const KEY_CHECK_TEXT = 'herald encryption key check';

function wrongKey(source: string, keyring: Keyring, expected: string | null, detail: string): ConfigError {
  const given = keyring.ids.join(', ');
  return new ConfigError([
    {
      option: 'encryptionKey',
      source,
      message:
        `is not the key this database's secrets were encrypted with (${detail}; the database expects key ${expected ?? '(unknown)'}, ` +
        `this process has key ${given}). Start Herald with the key the database was set up with; to change keys, see \`herald rotate-encryption-key\``,
    },
  ]);
}

/** Seals a row's secret columns under the current key (opening what was sealed before). */
function reseal(keyring: Keyring, row: StoredSecrets): { secret: string; previousSecret: string | null } {
  const open = (value: string) => (isSealed(value) ? keyring.open(value, row.id) : value);
  const seal = (value: string) => (keyring.isCurrent(value) ? value : keyring.seal(open(value), row.id));
  return { secret: seal(row.secret), previousSecret: row.previousSecret === null ? null : seal(row.previousSecret) };
}

/**
 * Checks the key against the database and seals leftover plaintext secrets.
 * Throws ConfigError (naming `source`, the variable or key file) when the key is wrong.
 */
export async function prepareSecretsAtRest(db: Db, keyring: Keyring, source: string): Promise<{ sealed: number }> {
  const check = await getMeta(db, KEY_CHECK);
  if (check !== null) {
    try {
      keyring.open(check, KEY_CHECK);
    } catch {
      throw wrongKey(source, keyring, sealedKeyId(check), 'the key check value does not open');
    }
  }
  const outside = await countSealedOutside(db, keyring.ids);
  if (outside.count > 0) {
    throw wrongKey(source, keyring, outside.example, `${outside.count} webhook(s) hold secrets sealed with another key`);
  }
  let sealed = 0;
  for (;;) {
    const rows = await listPlaintextSecrets(db, 500);
    if (rows.length === 0) break;
    for (const row of rows) if (await replaceStoredSecrets(db, row, reseal(keyring, row))) sealed++;
  }
  if (check === null || !keyring.isCurrent(check)) await setMeta(db, KEY_CHECK, keyring.seal(KEY_CHECK_TEXT, KEY_CHECK));
  return { sealed };
}

export interface ReencryptResult {
  /** Webhooks whose secrets were re-sealed under the current key. */
  reencrypted: number;
  /** Webhooks looked at. */
  scanned: number;
  batches: number;
}

/**
 * Re-seals every webhook secret under the keyring's current key, `batchSize`
 * webhooks per transaction. A row the API changed meanwhile is left as the API
 * wrote it (under the current key too, once every process has it). Ends by
 * sealing the key check value under the current key.
 */
export async function reencryptSecrets(
  db: Db,
  keyring: Keyring,
  options: { batchSize?: number; onBatch?: (progress: ReencryptResult) => void } = {},
): Promise<ReencryptResult> {
  const batchSize = options.batchSize ?? 500;
  const result: ReencryptResult = { reencrypted: 0, scanned: 0, batches: 0 };
  let after: string | null = null;
  for (;;) {
    const rows: StoredSecrets[] = await listStoredSecrets(db, after, batchSize);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.id ?? null;
    const changed = await db.transaction().execute(async (trx) => {
      let count = 0;
      for (const row of rows) {
        const next = reseal(keyring, row);
        if (next.secret === row.secret && next.previousSecret === row.previousSecret) continue;
        if (await replaceStoredSecrets(trx, row, next)) count++;
      }
      return count;
    });
    result.reencrypted += changed;
    result.scanned += rows.length;
    result.batches++;
    options.onBatch?.({ ...result });
  }
  await setMeta(db, KEY_CHECK, keyring.seal(KEY_CHECK_TEXT, KEY_CHECK));
  return result;
}
