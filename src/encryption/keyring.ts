/**
 * Secrets at rest: AES-256-GCM with a 32-byte key. A sealed value is
 * `hs1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>` — versioned, and naming
 * the key that sealed it, so values under an old and a new key can live side
 * by side while `herald rotate-encryption-key` works through the table.
 * Each value is bound to a context (the webhook id): a sealed secret copied
 * into another row does not open there.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'hs1';
const SEALED = /^hs1:([0-9a-f]{8}):([A-Za-z0-9_-]+)$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** A value that does not open: wrong key, another row's value, or tampered with. */
export class SecretDecryptError extends Error {
  override readonly name = 'SecretDecryptError';
}

/**
 * The 32 bytes of a key written as base64 (standard or URL-safe, padding
 * optional), or null when `text` is not exactly that.
 */
export function parseEncryptionKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === KEY_BYTES ? bytes : null;
}

/** A fresh random key, as base64 (the form HERALD_ENCRYPTION_KEY and the key file take). */
export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** A short public name of a key (8 hex digits of an HMAC under it): says which key, reveals nothing of it. */
export function encryptionKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('herald encryption key id').digest('hex').slice(0, 8);
}

/** True when `value` has the sealed form (whatever key sealed it). */
export function isSealed(value: string): boolean {
  return SEALED.test(value);
}

/** The id of the key that sealed `value`; null when it is not sealed. */
export function sealedKeyId(value: string): string | null {
  return SEALED.exec(value)?.[1] ?? null;
}

/** The current key seals; the current and any previous key open. */
export class Keyring {
  readonly currentId: string;
  readonly #current: Buffer;
  readonly #keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    if (current.length !== KEY_BYTES) throw new Error(`an encryption key is ${KEY_BYTES} bytes`);
    this.#current = current;
    this.currentId = encryptionKeyId(current);
    for (const key of [current, ...previous]) this.#keys.set(encryptionKeyId(key), key);
  }

  /** Ids of every key this ring opens with, the current one first. */
  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current, iv);
    cipher.setAAD(Buffer.from(`herald:${context}`, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${this.currentId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const match = SEALED.exec(sealed);
    if (!match) throw new SecretDecryptError('the value is not a sealed secret');
    const [, id, data] = match as unknown as [string, string, string];
    const key = this.#keys.get(id);
    if (!key) throw new SecretDecryptError(`the value was sealed with key ${id}, which this process was not given`);
    const bytes = Buffer.from(data, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptError('the sealed value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`herald:${context}`, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptError(`the value does not open with key ${id} (tampered with, or sealed for another row)`);
    }
  }

  /** Whether `sealed` is sealed with the current key (rotation skips those). */
  isCurrent(sealed: string): boolean {
    return sealedKeyId(sealed) === this.currentId;
  }
}
