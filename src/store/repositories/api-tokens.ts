import { numOrNull, num } from '../rows.js';
import type { ApiTokensTable, Db } from '../schema.js';
import { toPage, type Page, type PageRequest } from './page.js';

/** An organization's API token as listed: never the token itself, which is shown once. */
export interface ApiToken {
  id: string;
  organizationId: string;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

function toApiToken(row: ApiTokensTable): ApiToken {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    createdAt: num(row.created_at),
    expiresAt: numOrNull(row.expires_at),
    revokedAt: numOrNull(row.revoked_at),
  };
}

export async function insertApiToken(
  db: Db,
  token: { id: string; organizationId: string; name: string; tokenHash: string; expiresAt: number | null },
  now: number,
): Promise<ApiToken> {
  const row = await db
    .insertInto('api_tokens')
    .values({
      id: token.id,
      organization_id: token.organizationId,
      name: token.name,
      token_hash: token.tokenHash,
      created_at: now,
      expires_at: token.expiresAt,
      revoked_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toApiToken(row);
}

/** The token whose hash this is, revoked or expired ones included (the caller decides). */
export async function findApiTokenByHash(db: Db, tokenHash: string): Promise<ApiToken | null> {
  const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return row ? toApiToken(row) : null;
}

export async function listApiTokens(db: Db, organizationId: string, page: PageRequest): Promise<Page<ApiToken>> {
  let query = db
    .selectFrom('api_tokens')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('id')
    .limit(page.limit + 1);
  if (page.after !== null) query = query.where('id', '>', page.after);
  return toPage(await query.execute(), page.limit, (r) => r.id, toApiToken);
}

/** Revokes a token of the organization; a token revoked before keeps its first revocation time. False when there is no such token. */
export async function revokeApiToken(db: Db, organizationId: string, id: string, now: number): Promise<boolean> {
  const found = await db
    .selectFrom('api_tokens')
    .select('id')
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  if (!found) return false;
  await db.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  return true;
}
