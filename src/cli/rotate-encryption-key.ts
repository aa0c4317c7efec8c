/**
 * `herald rotate-encryption-key`: re-encrypts every webhook secret under the
 * current key, a batch per transaction, while Herald keeps running.
 *
 * - With HERALD_ENCRYPTION_KEY (required on PostgreSQL): the new key is
 *   HERALD_ENCRYPTION_KEY, the old one(s) HERALD_PREVIOUS_ENCRYPTION_KEYS. Give
 *   every Herald process both first (see SECURITY.md), run this, then drop the old key.
 * - With the key file of the data dir (SQLite): this makes a new key, keeps the
 *   old one in the file while it works, and leaves only the new one. Stop
 *   Herald first or restart it afterwards: a running process knows only the key it started with.
 */
import { join } from 'node:path';
import type { HeraldConfig } from '../config.js';
import { Keyring, generateEncryptionKey, parseEncryptionKey } from '../encryption/keyring.js';
import { KEY_FILE, loadKeyring, readKeyFile, writeKeyFile } from '../encryption/load-keyring.js';
import { prepareSecretsAtRest, reencryptSecrets, type ReencryptResult } from '../encryption/secrets-at-rest.js';
import { createLogger } from '../main.js';
import { migrateOrThrow } from '../store/migrations/index.js';
import { openStore } from '../store/open-store.js';
import { countSealedOutside } from '../store/repositories/webhook-secrets.js';

export interface RotateOptions {
  /** Webhooks re-encrypted per transaction. @defaultValue 500 */
  batchSize?: number;
  /** Progress lines. @defaultValue process.stdout */
  write?: (line: string) => void;
}

export async function runRotateEncryptionKey(config: HeraldConfig, options: RotateOptions = {}): Promise<ReencryptResult & { keyId: string }> {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const loaded = loadKeyring(config, log);
  let keyring = loaded.keyring;
  const file = loaded.file;
  let fileKeys: string[] = [];
  if (file !== null) {
    // Key file: a new key goes first; the old ones stay until every secret is re-encrypted.
    fileKeys = readKeyFile(join(config.dataDir, KEY_FILE)).map((key) => key.toString('base64'));
    const fresh = generateEncryptionKey();
    fileKeys = [fresh, ...fileKeys];
    keyring = new Keyring(parseEncryptionKey(fresh) as Buffer, [
      ...fileKeys.slice(1).map((k) => parseEncryptionKey(k) as Buffer),
      ...config.previousEncryptionKeys.map((k) => parseEncryptionKey(k) as Buffer),
    ]);
  }
  // The new key is on disk before anything is sealed with it: a crash from here on loses nothing.
  if (file !== null) writeKeyFile(file, fileKeys);
  const store = await openStore(config, log);
  try {
    await migrateOrThrow(store.db);
    // The database must open with one of the keys given, or there is nothing to rotate from.
    await prepareSecretsAtRest(store.db, keyring, loaded.source);
    write(`re-encrypting webhook secrets under key ${keyring.currentId} (keys known: ${keyring.ids.join(', ')})`);
    const result = await reencryptSecrets(store.db, keyring, {
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      onBatch: (progress) => write(`batch ${progress.batches}: ${progress.scanned} webhooks looked at, ${progress.reencrypted} re-encrypted`),
    });
    // Old keys leave the file only once nothing needs them (a Herald left running may have written some).
    const leftover = await countSealedOutside(store.db, [keyring.currentId]);
    if (file !== null && leftover.count === 0) writeKeyFile(file, [fileKeys[0] as string]);
    if (leftover.count > 0) {
      write(`${leftover.count} webhook(s) were written under an old key meanwhile (a Herald still running with it?): run this again once every Herald has the new key`);
    }
    write(
      `done: ${result.reencrypted} of ${result.scanned} webhooks re-encrypted in ${result.batches} batch(es); every secret now uses key ${keyring.currentId}.` +
        (file !== null
          ? ` ${file} now holds only the new key: restart Herald if it is running.`
          : ' HERALD_PREVIOUS_ENCRYPTION_KEYS can be removed at the next restart.'),
    );
    return { ...result, keyId: keyring.currentId };
  } finally {
    await store.close();
  }
}
