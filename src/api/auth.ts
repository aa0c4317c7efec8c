import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

/** Who is calling: the operator (admin token) or one organization (its own tokens). */
export type Principal = { kind: 'admin'; id: 'admin' } | { kind: 'organization'; id: string; organizationId: string };

/** Resolves a bearer token to a principal; null when it is unknown, expired or revoked. */
export type TokenResolver = (token: string) => Promise<Principal | null>;

/** What a route allows: anyone, any valid token, operator-only, or the organization in its `:org` parameter. */
export type Access = 'public' | 'any' | 'operator' | 'organization';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
    /** POSTs that create honour `Idempotency-Key`. */
    idempotent?: boolean;
  }
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compares hashes, not tokens, so the comparison is constant-time whatever the lengths. */
export function adminTokenResolver(adminToken: string): TokenResolver {
  const expected = hashToken(adminToken);
  return async (token) => (timingSafeEqual(hashToken(token), expected) ? { kind: 'admin', id: 'admin' } : null);
}

/** Tries each resolver in turn (admin first, then organization tokens once they exist). */
export function chainResolvers(...resolvers: TokenResolver[]): TokenResolver {
  return async (token) => {
    for (const resolve of resolvers) {
      const principal = await resolve(token);
      if (principal) return principal;
    }
    return null;
  };
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * The auth hook: every route declares its access in `config.access`.
 * Another organization's resources answer 404, never 403, so ids cannot be probed.
 */
export function authHook(resolve: TokenResolver) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    // Routes under /v1 must say who may call them (default: operator); the rest (docs, health) are public.
    const access = request.routeOptions.config.access ?? (request.url.startsWith('/v1') ? 'operator' : 'public');
    request.principal = null;
    if (access === 'public') return;
    const header = request.headers.authorization;
    if (header === undefined) throw new HeraldError(401, 'unauthorized', 'missing Authorization: Bearer <token> header');
    const match = BEARER.exec(header);
    if (!match?.[1]) throw new HeraldError(401, 'unauthorized', 'Authorization header must be "Bearer <token>"');
    const principal = await resolve(match[1]);
    if (!principal) throw new HeraldError(401, 'unauthorized', 'token is not valid (unknown, expired or revoked)');
    request.principal = principal;
    if (principal.kind === 'admin' || access === 'any') return;
    if (access === 'operator') throw new HeraldError(403, 'forbidden', 'this call needs the operator (admin) token');
    const org = (request.params as { org?: string } | undefined)?.org;
    if (org !== principal.organizationId) throw new HeraldError(404, 'not_found', 'organization not found');
  };
}
