/**
 * The security tables on both dialects: organization API tokens (found by
 * hash, scoped, revoked once), and the sealed secret columns of webhooks
 * (key checks, sealing leftovers, re-encryption in batches with compare-and-set).
 */
import { describe, expect, it } from 'vitest';
import { Keyring, sealedKeyId } from '../../src/encryption/keyring.js';
import { KEY_CHECK, prepareSecretsAtRest, reencryptSecrets } from '../../src/encryption/secrets-at-rest.js';
import { findApiTokenByHash, insertApiToken, listApiTokens, revokeApiToken } from '../../src/store/repositories/api-tokens.js';
import { getMeta } from '../../src/store/repositories/meta.js';
import { deleteOrganization } from '../../src/store/repositories/organizations.js';
import { countSealedOutside, listPlaintextSecrets, listStoredSecrets, replaceStoredSecrets } from '../../src/store/repositories/webhook-secrets.js';
import { addWebhook, DIALECTS, ORG, useStore } from './harness.js';

const t0 = 1_700_000_000_000;
const OLD = new Keyring(Buffer.alloc(32, 1));
const NEW = new Keyring(Buffer.alloc(32, 2), [Buffer.alloc(32, 1)]);

for (const dialect of DIALECTS) {
  describe(`${dialect}: api tokens`, () => {
    const store = useStore(dialect);

    it('finds a token by its hash only, and lists an organization’s tokens in pages', async () => {
      const { db } = store();
      for (const [id, org] of [['tok_1', ORG], ['tok_2', ORG], ['tok_3', 'org_other']] as const) {
        await insertApiToken(db, { id, organizationId: org, name: id, tokenHash: `hash-${id}`, expiresAt: id === 'tok_2' ? t0 + 1000 : null }, t0);
      }
      expect(await findApiTokenByHash(db, 'hash-tok_2')).toEqual({ id: 'tok_2', organizationId: ORG, name: 'tok_2', createdAt: t0, expiresAt: t0 + 1000, revokedAt: null });
      expect(await findApiTokenByHash(db, 'tok_2')).toBeNull();
      const first = await listApiTokens(db, ORG, { limit: 1, after: null });
      expect(first.items.map((t) => t.id)).toEqual(['tok_1']);
      expect((await listApiTokens(db, ORG, { limit: 1, after: first.next })).items.map((t) => t.id)).toEqual(['tok_2']);
      await expect(insertApiToken(db, { id: 'tok_4', organizationId: ORG, name: 'dup', tokenHash: 'hash-tok_1', expiresAt: null }, t0)).rejects.toThrow();
    });

    it('revokes only within the organization, keeping the first revocation time; deleting the organization deletes its tokens', async () => {
      const { db } = store();
      await insertApiToken(db, { id: 'tok_1', organizationId: ORG, name: 'a', tokenHash: 'h1', expiresAt: null }, t0);
      expect(await revokeApiToken(db, 'org_other', 'tok_1', t0 + 1)).toBe(false);
      expect((await findApiTokenByHash(db, 'h1'))?.revokedAt).toBeNull();
      expect(await revokeApiToken(db, ORG, 'tok_1', t0 + 2)).toBe(true);
      expect(await revokeApiToken(db, ORG, 'tok_1', t0 + 3)).toBe(true);
      expect((await findApiTokenByHash(db, 'h1'))?.revokedAt).toBe(t0 + 2);
      await deleteOrganization(db, ORG);
      expect(await findApiTokenByHash(db, 'h1')).toBeNull();
    });
  });

  describe(`${dialect}: sealed webhook secrets`, () => {
    const store = useStore(dialect);

    it('counts secrets sealed under keys it was not given, and lists the ones left in clear', async () => {
      const { db } = store();
      await addWebhook(db, 'whk_1', { secret: OLD.seal('s1', 'whk_1') });
      await addWebhook(db, 'whk_2', { secret: NEW.seal('s2', 'whk_2'), previous_secret: OLD.seal('p2', 'whk_2') });
      await addWebhook(db, 'whk_3', { secret: 'whsec_plain' });
      expect(await countSealedOutside(db, [NEW.currentId])).toEqual({ count: 2, example: OLD.currentId });
      expect(await countSealedOutside(db, NEW.ids)).toEqual({ count: 0, example: null });
      expect((await listPlaintextSecrets(db, 10)).map((r) => r.id)).toEqual(['whk_3']);
      expect((await listStoredSecrets(db, 'whk_1', 10)).map((r) => r.id)).toEqual(['whk_2', 'whk_3']);
    });

    it('replaces secret columns only while they hold what was read', async () => {
      const { db } = store();
      await addWebhook(db, 'whk_1', { secret: 'a', previous_secret: null });
      const [row] = await listStoredSecrets(db, null, 1);
      expect(await replaceStoredSecrets(db, row!, { secret: 'b', previousSecret: 'a' })).toBe(true);
      expect(await replaceStoredSecrets(db, row!, { secret: 'c', previousSecret: null })).toBe(false);
      expect(await listStoredSecrets(db, null, 1)).toEqual([{ id: 'whk_1', secret: 'b', previousSecret: 'a' }]);
    });

    it('seals leftovers at start, then re-encrypts everything under the new key in batches', async () => {
      const { db } = store();
      await addWebhook(db, 'whk_1', { secret: 'plain-1', previous_secret: 'plain-0' });
      for (const id of ['whk_2', 'whk_3', 'whk_4']) await addWebhook(db, id, { secret: OLD.seal(`secret-${id}`, id) });
      expect(await prepareSecretsAtRest(db, OLD, 'test')).toEqual({ sealed: 1 });
      expect(sealedKeyId((await getMeta(db, KEY_CHECK)) ?? '')).toBe(OLD.currentId);
      // A ring without the old key is refused.
      await expect(prepareSecretsAtRest(db, new Keyring(Buffer.alloc(32, 2)), 'HERALD_ENCRYPTION_KEY')).rejects.toThrow(/is not the key/);

      const batches: number[] = [];
      const result = await reencryptSecrets(db, NEW, { batchSize: 3, onBatch: (p) => batches.push(p.scanned) });
      expect(result).toEqual({ reencrypted: 4, scanned: 4, batches: 2 });
      expect(batches).toEqual([3, 4]);
      const rows = await listStoredSecrets(db, null, 10);
      for (const row of rows) {
        expect(sealedKeyId(row.secret)).toBe(NEW.currentId);
        expect(NEW.open(row.secret, row.id)).toBe(row.id === 'whk_1' ? 'plain-1' : `secret-${row.id}`);
      }
      expect(NEW.open(rows[0]!.previousSecret!, 'whk_1')).toBe('plain-0');
      expect(sealedKeyId((await getMeta(db, KEY_CHECK)) ?? '')).toBe(NEW.currentId);
      // Nothing left to do the second time.
      expect(await reencryptSecrets(db, NEW, { batchSize: 3 })).toEqual({ reencrypted: 0, scanned: 4, batches: 2 });
    });
  });
}
