import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { authHook } from './auth.js';
import type { ApiContext } from './context.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { registerIdempotency } from './idempotency.js';
import { jsonDepthHook } from './json-depth.js';
import { nulGuardHook } from './nul-guard.js';
import { ApiRateLimiter, rateLimitHook } from './rate-limit.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { eventTypeRoutes } from './routes/event-types.js';
import { eventRoutes } from './routes/events.js';
import { operationRoutes } from './routes/operations.js';
import { organizationRoutes } from './routes/organizations.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes } from './routes/webhooks.js';
import { dashboardRoutes, portalLinkRoutes } from '../dashboard/routes.js';

const addFormats = ajvFormats.default as unknown as (ajv: Ajv) => Ajv;

export type HeraldApi = FastifyInstance;

/**
 * RFC 3339 date-times include leap seconds (`23:59:60Z`), which Date.parse cannot read:
 * a time Herald is given must also be one it can store.
 */
function parsableTimes(ajv: Ajv): Ajv {
  const base = ajv.formats['date-time'] as { validate: (text: string) => boolean; compare?: (a: string, b: string) => number | undefined };
  return ajv.addFormat('date-time', { ...base, validate: (text: string) => base.validate(text) && Number.isFinite(Date.parse(text)) });
}

/**
 * Bodies are validated strictly (no type coercion, unknown fields refused);
 * query strings and params are coerced, since they only ever arrive as text.
 */
function makeValidators(): { body: Ajv; other: Ajv } {
  const common = { allErrors: false, strict: false, useDefaults: true, removeAdditional: false } as const;
  const body = parsableTimes(addFormats(new Ajv({ ...common, coerceTypes: false })));
  const other = parsableTimes(addFormats(new Ajv({ ...common, coerceTypes: 'array' })));
  return { body, other };
}

export interface ApiOptions {
  logger: FastifyServerOptions['loggerInstance'];
  /**
   * `full`: the whole API. `operations`: only /healthz, /readyz and /metrics,
   * for worker processes that deliver but take no requests.
   * @defaultValue 'full'
   */
  surface?: 'full' | 'operations';
}

export async function buildApi(ctx: ApiContext, options: ApiOptions): Promise<HeraldApi> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: ctx.config.maxPayloadBytes,
    // The router's own refusals (undecodable path, overlong parameter) in the API's error shape.
    frameworkErrors: errorHandler,
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const validators = makeValidators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? validators.body : validators.other).compile(schema as object),
  );
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.decorateRequest('principal', null);
  // Authentication runs before the body is read: a caller without a valid token gets 401, never a parse or size error.
  app.addHook('onRequest', authHook(ctx.resolveToken));
  // Per token, after authentication (so a flood of bad tokens cannot empty a real token's bucket).
  app.addHook('onRequest', rateLimitHook(new ApiRateLimiter({ rate: ctx.config.apiRateLimit, burst: ctx.config.apiRateBurst })));
  // Answers are never sniffed as another type (a receiver's answer inside JSON is not HTML); API answers are never cached (some carry secrets).
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (request.url.startsWith('/v1/')) void reply.header('cache-control', 'no-store');
    return payload;
  });
  // Before validation and every other walk of the body.
  app.addHook('preValidation', jsonDepthHook());
  app.addHook('preValidation', nulGuardHook());
  // JSON only: Fastify's built-in text/plain parser would let other types through to validation (400) instead of 415.
  app.removeContentTypeParser('text/plain');
  registerIdempotency(app, ctx.db, ctx.clock);

  if (options.surface === 'operations') {
    await app.register(operationRoutes(ctx, { documents: false }));
    return app;
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Herald API', version: ctx.version, description: 'Webhook delivery: event types, organizations, webhooks, events, deliveries.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(operationRoutes(ctx, { documents: true }));
  await app.register(eventTypeRoutes(ctx), { prefix: '/v1' });
  await app.register(organizationRoutes(ctx), { prefix: '/v1' });
  await app.register(webhookRoutes(ctx), { prefix: '/v1' });
  await app.register(tokenRoutes(ctx), { prefix: '/v1' });
  await app.register(eventRoutes(ctx), { prefix: '/v1' });
  await app.register(deliveryRoutes(ctx), { prefix: '/v1' });
  // Dashboard (HTML at /) and the portal links that open it for one organization.
  await app.register(portalLinkRoutes(ctx), { prefix: '/v1' });
  await app.register(dashboardRoutes(ctx, { frameAncestors: ctx.config.dashboardFrameAncestors ?? "'self'" }));
  return app;
}
