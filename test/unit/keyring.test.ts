import { describe, expect, it } from 'vitest';
import {
  Keyring,
  SecretDecryptError,
  encryptionKeyId,
  generateEncryptionKey,
  isSealed,
  parseEncryptionKey,
  sealedKeyId,
} from '../../src/encryption/keyring.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('keyring: AES-256-GCM secrets at rest', () => {
  it('seals to a versioned value naming its key, different every time, that opens to the secret', () => {
    const ring = new Keyring(keyA);
    const one = ring.seal(SECRET, 'whk_1');
    const two = ring.seal(SECRET, 'whk_1');
    expect(one).toMatch(/^hs1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain(SECRET);
    expect(sealedKeyId(one)).toBe(ring.currentId);
    expect(isSealed(one)).toBe(true);
    expect(ring.open(one, 'whk_1')).toBe(SECRET);
    expect(ring.open(ring.seal('ünïcödé ✓', 'x'), 'x')).toBe('ünïcödé ✓');
  });

  it('does not open a value copied into another row, tampered with, or sealed with a key it lacks', () => {
    const ring = new Keyring(keyA);
    const sealed = ring.seal(SECRET, 'whk_1');
    expect(() => ring.open(sealed, 'whk_2')).toThrow(SecretDecryptError);
    const body = sealed.slice(sealed.lastIndexOf(':') + 1);
    const flipped = `${sealed.slice(0, sealed.lastIndexOf(':') + 1)}${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    expect(() => ring.open(flipped, 'whk_1')).toThrow(SecretDecryptError);
    expect(() => new Keyring(keyB).open(sealed, 'whk_1')).toThrow(/sealed with key [0-9a-f]{8}, which this process was not given/);
    expect(() => ring.open(SECRET, 'whk_1')).toThrow(/not a sealed secret/);
    expect(() => ring.open('hs1:00000000:AAAA', 'whk_1')).toThrow(SecretDecryptError);
  });

  it('opens values of previous keys, seals with the current one', () => {
    const old = new Keyring(keyA);
    const both = new Keyring(keyB, [keyA]);
    const sealed = old.seal(SECRET, 'whk_1');
    expect(both.open(sealed, 'whk_1')).toBe(SECRET);
    expect(both.isCurrent(sealed)).toBe(false);
    expect(both.isCurrent(both.seal(SECRET, 'whk_1'))).toBe(true);
    expect(both.ids).toEqual([encryptionKeyId(keyB), encryptionKeyId(keyA)]);
  });

  it('reads keys as base64 of exactly 32 bytes', () => {
    const text = generateEncryptionKey();
    expect(parseEncryptionKey(text)).toHaveLength(32);
    expect(parseEncryptionKey(` ${text}\n`)).toHaveLength(32);
    expect(parseEncryptionKey(keyA.toString('base64url'))).toEqual(keyA);
    expect(parseEncryptionKey(Buffer.alloc(31).toString('base64'))).toBeNull();
    expect(parseEncryptionKey(Buffer.alloc(33).toString('base64'))).toBeNull();
    expect(parseEncryptionKey('correct horse battery staple')).toBeNull();
    expect(encryptionKeyId(keyA)).toMatch(/^[0-9a-f]{8}$/);
    expect(encryptionKeyId(keyA)).not.toBe(encryptionKeyId(keyB));
  });
});
