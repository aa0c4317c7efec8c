import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { JsonValue } from '../../domain/types.js';
import { HeraldError, notFound } from '../../errors.js';
import { ingestEvent, resolveAttributes, validateEvent } from '../../ingest/ingest.js';
import { getEvent, listEvents } from '../../store/repositories/events.js';
import { listDeliveriesOfEvent } from '../../store/repositories/deliveries.js';
import type { ApiContext } from '../context.js';
import { pageBody, pageRequest } from '../pagination.js';
import { IsoTime, Json, OrgItemParams, OrgParams, PageOf, PageQuery, errorResponses } from '../schemas.js';
import { DeliveryBody, EventBody, deliveryBody, eventBody } from '../serialize.js';

const PostEvent = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 200 }),
    data: Json,
    attributes: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }), { description: 'Values that webhook filters match on' }),
    ),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The operator's own id; posting it again returns the first event" })),
    time: Type.Optional(IsoTime),
  },
  { additionalProperties: false },
);

const Accepted = Type.Object({
  id: Type.String(),
  deliveries: Type.Array(Type.Object({ id: Type.String(), webhookId: Type.String() })),
});

export const eventRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['events'];

    app.post(
      '/organizations/:org/events',
      {
        config: { access: 'organization', idempotent: true },
        schema: {
          tags,
          summary: 'Post an event; answers 202 once it and its deliveries are stored',
          params: OrgParams,
          body: PostEvent,
          response: { 202: Accepted, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { org } = request.params;
        if (org.startsWith('_')) throw new HeraldError(422, 'reserved_organization', 'organization ids starting with _ are reserved for Herald');
        const body = request.body;
        if (body.data === undefined) throw new HeraldError(400, 'validation_failed', 'body must have property data');
        const time = body.time !== undefined ? Date.parse(body.time) : null;
        const result = await ingestEvent(
          ctx.ingest,
          ctx.catalog,
          {
            organizationId: org,
            type: body.type,
            data: body.data as JsonValue,
            attributes: body.attributes ?? {},
            externalId: body.id ?? null,
            time,
          },
          ctx.clock.now(),
        );
        if (result.created) {
          ctx.metrics.eventsIngested.inc();
          const due = result.deliveries.map((d) => d.webhookId);
          if (due.length > 0) ctx.deliveriesQueued(due);
        }
        return reply.status(202).send({ id: result.event.id, deliveries: result.deliveries });
      },
    );

    // API addition: many events in one request. Each item has the single-event semantics (same body,
    // same validation, same operator-id deduplication, same answer); the batch is validated as a
    // whole first, so a 4xx stores nothing, and answers 202 once every event is stored.
    app.post(
      '/organizations/:org/events/batch',
      {
        config: { access: 'organization', idempotent: true },
        schema: {
          tags,
          summary: 'Post up to 1,000 events; answers 202 once they and their deliveries are stored',
          params: OrgParams,
          body: Type.Object({ events: Type.Array(PostEvent, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
          response: { 202: Type.Object({ events: Type.Array(Accepted) }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { org } = request.params;
        if (org.startsWith('_')) throw new HeraldError(422, 'reserved_organization', 'organization ids starting with _ are reserved for Herald');
        const now = ctx.clock.now();
        const inputs = request.body.events.map((body, index) => {
          if (body.data === undefined) throw new HeraldError(400, 'validation_failed', `events/${index} must have property data`);
          return {
            organizationId: org,
            type: body.type,
            data: body.data as JsonValue,
            attributes: body.attributes ?? {},
            externalId: body.id ?? null,
            time: body.time !== undefined ? Date.parse(body.time) : null,
          };
        });
        const prepared = [];
        for (const [index, input] of inputs.entries()) {
          try {
            const type = await validateEvent(ctx.catalog, input);
            prepared.push({ input: resolveAttributes(ctx.catalog, type, input), type });
          } catch (error) {
            if (error instanceof HeraldError) throw new HeraldError(error.status, error.code, `events/${index}: ${error.message}`, error.details);
            throw error;
          }
        }
        // Submitted in one turn: they share the ingest batcher's next transaction.
        const results = await Promise.all(prepared.map((p) => ctx.ingest.submit(p.input, p.type, now)));
        const due = new Set<string>();
        for (const result of results) {
          if (!result.created) continue;
          ctx.metrics.eventsIngested.inc();
          for (const d of result.deliveries) due.add(d.webhookId);
        }
        if (due.size > 0) ctx.deliveriesQueued([...due]);
        return reply.status(202).send({ events: results.map((r) => ({ id: r.event.id, deliveries: r.deliveries })) });
      },
    );

    app.get(
      '/organizations/:org/events',
      {
        config: { access: 'organization' },
        schema: {
          tags,
          summary: "List an organization's events, newest first",
          params: OrgParams,
          querystring: Type.Object({ ...PageQuery, type: Type.Optional(Type.String()) }),
          response: { 200: PageOf(EventBody), ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await listEvents(ctx.db, request.params.org, q.type !== undefined ? { type: q.type } : {}, pageRequest(q));
        return pageBody(page, eventBody);
      },
    );

    app.get(
      '/organizations/:org/events/:id',
      {
        config: { access: 'organization' },
        schema: {
          tags,
          summary: 'Get an event with its deliveries',
          params: OrgItemParams,
          response: { 200: Type.Intersect([EventBody, Type.Object({ deliveries: Type.Array(DeliveryBody) })]), ...errorResponses },
        },
      },
      async (request) => {
        const event = await getEvent(ctx.db, request.params.org, request.params.id);
        if (!event) throw notFound('event', request.params.id);
        const deliveries = await listDeliveriesOfEvent(ctx.db, event.id);
        return { ...eventBody(event), deliveries: deliveries.map((d) => deliveryBody(d)) };
      },
    );
  };
