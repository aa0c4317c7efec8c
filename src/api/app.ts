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
import { deliveryRoutes } from './routes/deliveries.js';
import { eventTypeRoutes } from './routes/event-types.js';
import { eventRoutes } from './routes/events.js';
import { operationRoutes } from './routes/operations.js';
import { organizationRoutes } from './routes/organizations.js';
import { webhookRoutes } from './routes/webhooks.js';

const addFormats = ajvFormats.default as unknown as (ajv: Ajv) => Ajv;

export type HeraldApi = FastifyInstance;

/**
 * Bodies are validated strictly (no type coercion, unknown fields refused);
 * query strings and params are coerced, since they only ever arrive as text.
 */
function makeValidators(): { body: Ajv; other: Ajv } {
  const common = { allErrors: false, strict: false, useDefaults: true, removeAdditional: false } as const;
  const body = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const other = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  return { body, other };
}

export async function buildApi(ctx: ApiContext, options: { logger: FastifyServerOptions['loggerInstance'] }): Promise<HeraldApi> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: ctx.config.maxPayloadBytes,
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
  // JSON only: Fastify's built-in text/plain parser would let other types through to validation (400) instead of 415.
  app.removeContentTypeParser('text/plain');
  registerIdempotency(app, ctx.db, ctx.clock);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Herald API', version: ctx.version, description: 'Webhook delivery: event types, organizations, webhooks, events, deliveries.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(operationRoutes(ctx));
  await app.register(eventTypeRoutes(ctx), { prefix: '/v1' });
  await app.register(organizationRoutes(ctx), { prefix: '/v1' });
  await app.register(webhookRoutes(ctx), { prefix: '/v1' });
  await app.register(eventRoutes(ctx), { prefix: '/v1' });
  await app.register(deliveryRoutes(ctx), { prefix: '/v1' });
  return app;
}
