import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';

export const operationRoutes =
  (ctx: ApiContext, options: { documents: boolean }): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['operations'];
    const Status = Type.Object({ status: Type.String() });

    app.get('/healthz', { config: { access: 'public' }, schema: { tags, summary: 'The process is up', response: { 200: Status } } }, async () => ({
      status: 'ok',
    }));

    app.get(
      '/readyz',
      { config: { access: 'public' }, schema: { tags, summary: 'The store answers', response: { 200: Status, 503: Status } } },
      async (_request, reply) => {
        const ready = await ctx.isReady().catch(() => false);
        return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'store unreachable' });
      },
    );

    app.get('/metrics', { config: { access: 'public' }, schema: { tags, summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
      const body = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(body);
    });

    if (options.documents) {
      app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
    }
  };
