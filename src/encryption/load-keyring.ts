/**
 * Where the encryption key comes from: `HERALD_ENCRYPTION_KEY`, else a key
 * file in the data dir, generated (mode 0600) on first start. A PostgreSQL
 * deployment must set the variable: its processes share the database, not a
 * data dir, and one generated file per process would be one key per process.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, type HeraldConfig } from '../config.js';
import { Keyring, generateEncryptionKey, parseEncryptionKey } from './keyring.js';

/** Name of the key file in the data dir: the current key on the first line, earlier keys after it. */
export const KEY_FILE = 'encryption-key';

export interface LoadedKeyring {
  keyring: Keyring;
  /** `HERALD_ENCRYPTION_KEY` or the key file's path, for messages. */
  source: string;
  /** The key file, when the key came from one. */
  file: string | null;
}

function keyError(source: string, message: string): ConfigError {
  return new ConfigError([{ option: 'encryptionKey', source, message }]);
}

/** The keys of a key file, the current one first; ConfigError when a line is not a key. */
export function readKeyFile(file: string): Buffer[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw keyError(file, 'the key file is empty; restore it from a backup (the secrets in the database need it)');
  return lines.map((line, index) => {
    const key = parseEncryptionKey(line);
    if (!key) throw keyError(file, `line ${index + 1} is not base64 of 32 bytes`);
    return key;
  });
}

/** Writes a key file atomically, readable by its owner only. */
export function writeKeyFile(file: string, keys: readonly string[]): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${keys.join('\n')}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export function loadKeyring(config: HeraldConfig, log: Logger): LoadedKeyring {
  const previous = config.previousEncryptionKeys.map((text) => parseEncryptionKey(text) as Buffer);
  if (config.encryptionKey !== null) {
    const key = parseEncryptionKey(config.encryptionKey);
    if (!key) throw keyError('HERALD_ENCRYPTION_KEY', 'must be base64 of 32 bytes (openssl rand -base64 32)');
    return { keyring: new Keyring(key, previous), source: 'HERALD_ENCRYPTION_KEY', file: null };
  }
  if (config.databaseUrl !== null) {
    throw keyError(
      'HERALD_ENCRYPTION_KEY',
      'required with HERALD_DATABASE_URL: processes that share a PostgreSQL database do not share a data dir, so they must be given one key (make it with `openssl rand -base64 32`)',
    );
  }
  const file = join(config.dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    try {
      // `wx`: two processes starting at once on one data dir cannot both create a key.
      writeFileSync(file, `${generateEncryptionKey()}\n`, { mode: 0o600, flag: 'wx' });
      log.info({ file }, 'created the encryption key file; back it up: the webhook secrets in the database cannot be read without it');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  } else if ((statSync(file).mode & 0o077) !== 0) {
    log.warn({ file }, 'the encryption key file is readable by other users; chmod 600 it');
  }
  const [current, ...older] = readKeyFile(file) as [Buffer, ...Buffer[]];
  return { keyring: new Keyring(current, [...older, ...previous]), source: file, file };
}
