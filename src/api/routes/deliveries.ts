import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../domain/types.js';
import { HeraldError, notFound } from '../../errors.js';
import { getDelivery, listAttempts, listDeliveries, queueRetry } from '../../store/repositories/deliveries.js';
import type { ApiContext } from '../context.js';
import { pageBody, pageRequest } from '../pagination.js';
import { OrgItemParams, OrgParams, PageOf, PageQuery, errorResponses } from '../schemas.js';
import { DeliveryBody, deliveryBody } from '../serialize.js';

export const deliveryRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['deliveries'];
    const access = { access: 'organization' as const };

    app.get(
      '/organizations/:org/deliveries',
      {
        config: access,
        schema: {
          tags,
          summary: "List an organization's deliveries, newest first",
          params: OrgParams,
          querystring: Type.Object({
            ...PageQuery,
            webhookId: Type.Optional(Type.String()),
            eventId: Type.Optional(Type.String()),
            status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
          }),
          response: { 200: PageOf(DeliveryBody), ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const filter = {
          ...(q.webhookId !== undefined ? { webhookId: q.webhookId } : {}),
          ...(q.eventId !== undefined ? { eventId: q.eventId } : {}),
          ...(q.status !== undefined ? { status: q.status as DeliveryStatus } : {}),
        };
        return pageBody(await listDeliveries(ctx.db, request.params.org, filter, pageRequest(q)), (d) => deliveryBody(d));
      },
    );

    app.get(
      '/organizations/:org/deliveries/:id',
      {
        config: access,
        schema: { tags, summary: 'Get a delivery with its attempts', params: OrgItemParams, response: { 200: DeliveryBody, ...errorResponses } },
      },
      async (request) => {
        const delivery = await getDelivery(ctx.db, request.params.org, request.params.id);
        if (!delivery) throw notFound('delivery', request.params.id);
        return deliveryBody(delivery, await listAttempts(ctx.db, delivery.id));
      },
    );

    app.post(
      '/organizations/:org/deliveries/:id/retry',
      {
        config: access,
        schema: {
          tags,
          summary: 'Make one new attempt now, whatever the status',
          params: OrgItemParams,
          response: { 202: Type.Object({ id: Type.String(), status: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { org, id } = request.params;
        const outcome = await queueRetry(ctx.db, org, id, ctx.clock.now());
        if (outcome === 'not_found') throw notFound('delivery', id);
        if (outcome === 'in_flight') throw new HeraldError(409, 'attempt_in_flight', 'an attempt of this delivery is running right now');
        const delivery = await getDelivery(ctx.db, org, id);
        if (delivery) ctx.deliveriesQueued([delivery.webhookId]);
        return reply.status(202).send({ id, status: 'pending' });
      },
    );
  };
