import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';

interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  details: unknown[];
}

/** Fastify's own errors, mapped to the API's codes. */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request' },
  // Router errors (through `frameworkErrors`): a path that does not decode, a path parameter over 100 characters.
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long' },
};

function toAnswer(error: FastifyError | HeraldError | Error): ErrorAnswer {
  if (error instanceof HeraldError) {
    return { status: error.status, code: error.code, message: error.message, details: error.details };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((v) => ({
      path: `${fastifyError.validationContext ?? 'body'}${v.instancePath || ''}`,
      message: v.message ?? 'is invalid',
      ...(v.keyword === 'additionalProperties'
        ? { field: (v.params as { additionalProperty?: string }).additionalProperty }
        : {}),
    }));
    const first = details[0];
    const summary = first
      ? `${first.path}${'field' in first && first.field ? `/${first.field}` : ''} ${first.message}`
      : 'request is invalid';
    return { status: 400, code: 'validation_failed', message: summary, details };
  }
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return { ...mapped, message: error.message, details: [] };
  if (isStoreUnavailable(error)) {
    return {
      status: 503,
      code: 'store_unavailable',
      message: 'the database cannot be reached right now; nothing was stored, retry the request (with the same Idempotency-Key or event id)',
      details: [],
    };
  }
  // JSON parse errors from the body parser carry a 400 without a code on some paths.
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, code: 'bad_request', message: error.message, details: [] };
  }
  return { status: 500, code: 'internal_error', message: 'internal error; see the server log', details: [] };
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const answer = toAnswer(error);
  if (answer.status === 503) {
    request.log.warn({ err: error }, 'store unavailable');
    void reply.header('retry-after', '1');
  } else if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
  if (answer.status === 429 && error instanceof HeraldError && typeof error.details[0] === 'object') {
    const retryAfter = (error.details[0] as { retryAfterS?: number }).retryAfterS;
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
  }
  void reply
    .status(answer.status)
    .type('application/json')
    .send({ error: { code: answer.code, message: answer.message, details: answer.details } });
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({
    error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: [] },
  });
}
