import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { HeraldError } from '../errors.js';
import { IN_FLIGHT, completeKey, findAnswer, releaseKey, reserveKey } from '../store/repositories/idempotency-keys.js';
import type { Db } from '../store/schema.js';

const WINDOW_MS = 86_400_000;
/** A claim older than this belongs to a request that died (crash): the next twin takes it over. */
const STALE_CLAIM_MS = 60_000;
/** How long a twin waits for the first request with its key to answer before it is told to retry (409). */
const TWIN_WAIT_MS = 10_000;
const KEY = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { scope: string; key: string; hash: string } | null;
  }
}

/**
 * `Idempotency-Key` on POSTs that create: the same key and body within 24 h
 * answers the first answer again and creates nothing; the same key with
 * another body is 409. Keys are scoped to the caller and the route.
 */
export function registerIdempotency(app: FastifyInstance, db: Db, clock: Clock): void {
  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config.idempotent) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    if (typeof header !== 'string' || !KEY.test(header)) {
      throw new HeraldError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1–255 printable ASCII characters');
    }
    const scope = `${request.principal?.id ?? 'anonymous'} ${request.method} ${request.url.split('?')[0]}`;
    // The same JSON with its keys in another order is the same body.
    const hash = createHash('sha256').update(canonicalJson(request.body ?? null)).digest('base64url');
    // Claim the key before running the request, so that concurrent twins cannot both create.
    const deadline = Date.now() + TWIN_WAIT_MS;
    for (let tries = 0; ; tries++) {
      if (tries > 0) {
        // The first request is running: wait for its answer, then replay it (or claim the key if it failed).
        if (Date.now() > deadline) {
          throw new HeraldError(409, 'idempotency_in_progress', 'a request with this Idempotency-Key is still running; retry it shortly');
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const now = clock.now();
      if (await reserveKey(db, scope, header, hash, now, now - WINDOW_MS, now - STALE_CLAIM_MS)) {
        request.idempotency = { scope, key: header, hash };
        return;
      }
      const stored = await findAnswer(db, scope, header, now - WINDOW_MS);
      if (!stored) continue; // released between the two reads: claim again
      if (stored.requestHash !== hash) {
        throw new HeraldError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different request body');
      }
      if (stored.statusCode === IN_FLIGHT) continue;
      await reply.status(stored.statusCode).header('idempotent-replayed', 'true').type('application/json').send(stored.body);
      return reply;
    }
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const idem = request.idempotency;
    if (!idem) return payload;
    request.idempotency = null;
    // Only answers that did something are kept; a failed request frees the key to be retried.
    if (reply.statusCode >= 300 || typeof payload !== 'string') await releaseKey(db, idem.scope, idem.key);
    else await completeKey(db, idem.scope, idem.key, { statusCode: reply.statusCode, body: payload });
    return payload;
  });
}

/** JSON with object keys sorted at every level. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
