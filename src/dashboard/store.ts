/**
 * Storage of dashboard sessions and one-time portal links (migration 0003).
 * Secrets never reach the database: rows are keyed by the SHA-256 of the token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Db } from '../store/schema.js';

export interface DashboardSessionsTable {
  token_hash: string;
  kind: string;
  organization_id: string | null;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

export interface PortalLinksTable {
  token_hash: string;
  organization_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

type DashboardTables = {
  dashboard_sessions: DashboardSessionsTable;
  portal_links: PortalLinksTable;
};

type DashboardDb = Kysely<Database & DashboardTables>;

const tables = (db: Db): DashboardDb => db.withTables<DashboardTables>();

/** Who is looking: the operator (admin token login) or one organization (portal link). */
export type Viewer = { kind: 'operator' } | { kind: 'organization'; organizationId: string };

export interface Session {
  viewer: Viewer;
  csrfToken: string;
  expiresAt: number;
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates a session and answers its (secret) token; expired sessions are swept on the way. */
export async function createSession(db: Db, viewer: Viewer, ttlMs: number, now: number): Promise<{ token: string; session: Session }> {
  const t = tables(db);
  await t.deleteFrom('dashboard_sessions').where('expires_at', '<', now).execute();
  const token = newToken();
  const session: Session = { viewer, csrfToken: newToken(), expiresAt: now + ttlMs };
  await t
    .insertInto('dashboard_sessions')
    .values({
      token_hash: tokenHash(token),
      kind: viewer.kind,
      organization_id: viewer.kind === 'organization' ? viewer.organizationId : null,
      csrf_token: session.csrfToken,
      created_at: now,
      expires_at: session.expiresAt,
    })
    .execute();
  return { token, session };
}

export async function findSession(db: Db, token: string, now: number): Promise<Session | null> {
  const row = await tables(db)
    .selectFrom('dashboard_sessions')
    .selectAll()
    .where('token_hash', '=', tokenHash(token))
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!row) return null;
  const viewer: Viewer =
    row.kind === 'operator' ? { kind: 'operator' } : { kind: 'organization', organizationId: row.organization_id ?? '' };
  return { viewer, csrfToken: row.csrf_token, expiresAt: Number(row.expires_at) };
}

export async function deleteSession(db: Db, token: string): Promise<void> {
  await tables(db).deleteFrom('dashboard_sessions').where('token_hash', '=', tokenHash(token)).execute();
}

export async function createPortalLink(db: Db, organizationId: string, ttlMs: number, now: number): Promise<{ token: string; expiresAt: number }> {
  const t = tables(db);
  await t.deleteFrom('portal_links').where('expires_at', '<', now).execute();
  const token = newToken();
  await t
    .insertInto('portal_links')
    .values({ token_hash: tokenHash(token), organization_id: organizationId, created_at: now, expires_at: now + ttlMs, used_at: null })
    .execute();
  return { token, expiresAt: now + ttlMs };
}

/**
 * Uses a portal link: answers its organization once, and null ever after (or
 * when it expired). One conditional UPDATE, so two concurrent uses cannot both win.
 */
export async function consumePortalLink(db: Db, token: string, now: number): Promise<string | null> {
  const row = await tables(db)
    .updateTable('portal_links')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('organization_id')
    .executeTakeFirst();
  return row?.organization_id ?? null;
}
