import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { HeraldError } from '../errors.js';
import { findAnswer, saveAnswer } from '../store/repositories/idempotency-keys.js';
import type { Db } from '../store/schema.js';

const WINDOW_MS = 86_400_000;
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
    const hash = createHash('sha256').update(JSON.stringify(request.body ?? null)).digest('base64url');
    const stored = await findAnswer(db, scope, header, clock.now() - WINDOW_MS);
    if (stored) {
      if (stored.requestHash !== hash) {
        throw new HeraldError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different request body');
      }
      await reply.status(stored.statusCode).header('idempotent-replayed', 'true').type('application/json').send(stored.body);
      return reply;
    }
    request.idempotency = { scope, key: header, hash };
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const idem = request.idempotency;
    // Only answers that did something are kept; a failed request may be retried with the same key.
    if (!idem || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
    await saveAnswer(db, idem.scope, idem.key, {
      requestHash: idem.hash,
      statusCode: reply.statusCode,
      body: payload,
      createdAt: clock.now(),
    });
    return payload;
  });
}
