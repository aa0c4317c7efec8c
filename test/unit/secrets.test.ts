import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64Strict,
  generateSigningKeyPair,
  generateWebhookSecret,
  hmacKeyBytes,
  isSigningPublicKey,
  isSigningSecretKey,
  isWhsecSecret,
  publicKeyFor,
  signingPrivateKey,
  signingPublicKey,
} from '../../src/domain/secrets.js';

const b64 = (n: number, byte = 7) => Buffer.alloc(n, byte).toString('base64');

describe('generateWebhookSecret', () => {
  it('makes whsec_ + base64 of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(isWhsecSecret(secret)).toBe(true);
  });

  it('makes a different secret every time', () => {
    expect(generateWebhookSecret()).not.toBe(generateWebhookSecret());
  });
});

describe('isWhsecSecret', () => {
  it('accepts whsec_ with base64 of 24 to 64 bytes', () => {
    expect(isWhsecSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(true);
    expect(isWhsecSecret(`whsec_${b64(24)}`)).toBe(true);
    expect(isWhsecSecret(`whsec_${b64(64)}`)).toBe(true);
  });

  it('rejects other prefixes, bad base64 and sizes outside 24 to 64 bytes', () => {
    expect(isWhsecSecret(b64(32))).toBe(false);
    expect(isWhsecSecret(`whsk_${b64(32)}`)).toBe(false);
    expect(isWhsecSecret('whsec_not base64!!')).toBe(false);
    expect(isWhsecSecret(`whsec_${b64(23)}`)).toBe(false);
    expect(isWhsecSecret(`whsec_${b64(65)}`)).toBe(false);
    expect(isWhsecSecret('whsec_')).toBe(false);
  });
});

describe('hmacKeyBytes', () => {
  it('decodes the base64 part of a whsec_ secret', () => {
    expect(hmacKeyBytes(`whsec_${b64(24, 9)}`)).toEqual(Buffer.alloc(24, 9));
  });

  it('uses the UTF-8 bytes of any other secret', () => {
    expect(hmacKeyBytes('plain-sécret')).toEqual(Buffer.from('plain-sécret', 'utf8'));
  });
});

describe('decodeBase64Strict', () => {
  it('decodes padded standard base64 and refuses anything else', () => {
    expect(decodeBase64Strict('aGk=')).toEqual(Buffer.from('hi'));
    expect(decodeBase64Strict('aGk')).toBeNull();
    expect(decodeBase64Strict('aG-k')).toBeNull();
  });
});

describe('generateSigningKeyPair', () => {
  it('encodes the secret key as whsk_ + 64 bytes (seed then public key) and the public key as whpk_ + 32 bytes', () => {
    const { secretKey, publicKey } = generateSigningKeyPair();
    const sk = Buffer.from(secretKey.slice(5), 'base64');
    const pk = Buffer.from(publicKey.slice(5), 'base64');
    expect(secretKey.startsWith('whsk_')).toBe(true);
    expect(publicKey.startsWith('whpk_')).toBe(true);
    expect(sk).toHaveLength(64);
    expect(pk).toHaveLength(32);
    expect(sk.subarray(32)).toEqual(pk);
  });

  it('produces keys that sign and verify with plain node:crypto', () => {
    const { secretKey, publicKey } = generateSigningKeyPair();
    const message = Buffer.from('hello');
    const signature = sign(null, message, signingPrivateKey(secretKey));
    expect(verify(null, message, signingPublicKey(publicKey), signature)).toBe(true);
  });

  it('derives the published public key from the secret key', () => {
    const pair = generateSigningKeyPair();
    expect(publicKeyFor(pair.secretKey)).toBe(pair.publicKey);
    expect(isSigningSecretKey(pair.secretKey)).toBe(true);
    expect(isSigningPublicKey(pair.publicKey)).toBe(true);
  });
});

describe('signingPrivateKey', () => {
  it('also accepts a bare 32-byte seed', () => {
    const { secretKey, publicKey } = generateSigningKeyPair();
    const seedOnly = `whsk_${Buffer.from(secretKey.slice(5), 'base64').subarray(0, 32).toString('base64')}`;
    expect(publicKeyFor(seedOnly)).toBe(publicKey);
  });

  it('matches the RFC 8032 test vector 1 key pair', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const pub = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
    expect(publicKeyFor(`whsk_${seed.toString('base64')}`)).toBe(`whpk_${pub.toString('base64')}`);
  });

  it('rejects a 64-byte key whose public half does not belong to the seed', () => {
    const a = Buffer.from(generateSigningKeyPair().secretKey.slice(5), 'base64');
    const b = Buffer.from(generateSigningKeyPair().secretKey.slice(5), 'base64');
    const mixed = `whsk_${Buffer.concat([a.subarray(0, 32), b.subarray(32)]).toString('base64')}`;
    expect(() => signingPrivateKey(mixed)).toThrow(/does not match/);
    expect(isSigningSecretKey(mixed)).toBe(false);
  });

  it('rejects keys of the wrong prefix or size', () => {
    expect(isSigningSecretKey(`whsec_${b64(32)}`)).toBe(false);
    expect(isSigningSecretKey(`whsk_${b64(31)}`)).toBe(false);
    expect(isSigningPublicKey(`whpk_${b64(33)}`)).toBe(false);
    expect(isSigningPublicKey(`whsk_${b64(32)}`)).toBe(false);
  });

  it('gives KeyObjects that round-trip through DER like any ed25519 key', () => {
    const { secretKey } = generateSigningKeyPair();
    const key = signingPrivateKey(secretKey);
    expect(key.asymmetricKeyType).toBe('ed25519');
    const again = createPrivateKey({ key: key.export({ format: 'der', type: 'pkcs8' }), format: 'der', type: 'pkcs8' });
    expect(createPublicKey(again).export({ format: 'jwk' }).x).toBe(createPublicKey(key).export({ format: 'jwk' }).x);
  });
});
