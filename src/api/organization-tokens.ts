/**
 * Organization API tokens: made by the operator for one organization, shown
 * once, stored as a SHA-256 hash, optionally expiring, revocable. The resolver
 * finds a token by its hash (a unique index), so what is compared is never the
 * token itself; a guessed token costs one indexed read and leaks no timing
 * about stored tokens, whose hashes an attacker cannot steer.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { findApiTokenByHash, type ApiToken } from '../store/repositories/api-tokens.js';
import type { Db } from '../store/schema.js';
import { hashToken, type Principal } from './auth.js';

export const ORGANIZATION_TOKEN_PREFIX = 'hrld_org_';

/** A new token: the prefix and 256 random bits. */
export function generateOrganizationToken(): string {
  return `${ORGANIZATION_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** What is stored of a token: its SHA-256, hex. */
export function organizationTokenHash(token: string): string {
  return hashToken(token).toString('hex');
}

/** True when the token may be used at `now`. */
export function isUsable(token: ApiToken, now: number): boolean {
  return token.revokedAt === null && (token.expiresAt === null || token.expiresAt > now);
}

export interface OrganizationTokensOptions {
  /** How long a found token is remembered; other processes see a revocation within it. @defaultValue 5000 */
  cacheMs?: number;
  /** @defaultValue 10000 */
  maxCached?: number;
}

/**
 * The token resolver for organization tokens, with a short cache of found
 * tokens (expiry is judged on every request; a revocation in this process is
 * seen at once, in another within `cacheMs`).
 */
export class OrganizationTokens {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #maxCached: number;
  readonly #cache = new Map<string, { token: ApiToken; at: number }>();

  constructor(db: Db, clock: Clock, options: OrganizationTokensOptions = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#cacheMs = options.cacheMs ?? 5_000;
    this.#maxCached = options.maxCached ?? 10_000;
  }

  readonly resolve = async (token: string): Promise<Principal | null> => {
    if (!token.startsWith(ORGANIZATION_TOKEN_PREFIX)) return null;
    const hash = organizationTokenHash(token);
    const cached = this.#cache.get(hash);
    let found: ApiToken | null;
    if (cached && Date.now() - cached.at < this.#cacheMs) {
      found = cached.token;
    } else {
      found = await findApiTokenByHash(this.#db, hash);
      if (found) {
        if (this.#cache.size >= this.#maxCached) this.#cache.clear();
        this.#cache.set(hash, { token: found, at: Date.now() });
      }
    }
    if (!found || !isUsable(found, this.#clock.now())) return null;
    return { kind: 'organization', id: found.id, organizationId: found.organizationId };
  };

  /** Forgets cached tokens: one by id, or every token of an organization. */
  forget(match: { id: string } | { organizationId: string }): void {
    for (const [hash, entry] of this.#cache) {
      if ('id' in match ? entry.token.id === match.id : entry.token.organizationId === match.organizationId) this.#cache.delete(hash);
    }
  }
}
