import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { EventType, JsonObject, JsonValue } from '../../domain/types.js';
import { HeraldError, notFound } from '../../errors.js';
import { archiveEventType, getEventType, listEventTypes, putEventType } from '../../store/repositories/event-types.js';
import type { ApiContext } from '../context.js';
import { pageBody, pageRequest } from '../pagination.js';
import { EventTypeName, Json, JsonObject as JsonObjectSchema, PageOf, PageQuery, errorResponses } from '../schemas.js';
import { EventTypeBody, eventTypeBody } from '../serialize.js';

const PutEventType = Type.Object(
  {
    description: Type.String({ maxLength: 2000 }),
    group: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    schema: Type.Optional(Type.Union([JsonObjectSchema, Type.Null()])),
    examples: Type.Optional(Type.Array(Json, { maxItems: 20 })),
    deprecated: Type.Optional(Type.Boolean()),
    format: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false },
);

export const eventTypeRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.put(
      '/event-types/:name',
      {
        config: { access: 'operator' },
        schema: {
          tags: ['event types'],
          summary: 'Create or replace an event type',
          params: Type.Object({ name: EventTypeName }),
          body: PutEventType,
          response: { 200: EventTypeBody, 201: EventTypeBody, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (body.schema) {
          const problem = ctx.catalog.schemaError(body.schema as JsonValue);
          if (problem) throw new HeraldError(422, 'invalid_schema', `schema is not a valid JSON Schema: ${problem}`);
        }
        if (body.format && !ctx.profile.formats[body.format]) {
          throw new HeraldError(422, 'unknown_format', `format ${JSON.stringify(body.format)} is not defined by profile ${ctx.profile.name}`);
        }
        const name = request.params.name;
        const type: EventType = {
          name,
          description: body.description,
          group: body.group ?? (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : null),
          schema: (body.schema as JsonObject | null | undefined) ?? null,
          examples: (body.examples as JsonValue[] | undefined) ?? [],
          deprecated: body.deprecated ?? false,
          archived: false,
          format: body.format ?? null,
          // Catalog data the API does not edit (payloadType, platforms, slack…) survives a replace.
          extra: (await getEventType(ctx.db, name))?.extra ?? {},
        };
        // Examples are checked before anything is written: a refused request changes nothing.
        if (type.schema) {
          for (const [index, example] of type.examples.entries()) {
            const issues = ctx.catalog.check(type.schema, example);
            if (issues.length > 0) throw new HeraldError(422, 'invalid_example', `examples[${index}] does not match the schema`, issues);
          }
        }
        const created = await putEventType(ctx.db, type, 'api', ctx.clock.now());
        await ctx.catalog.reload();
        return reply.status(created ? 201 : 200).send(eventTypeBody((await getEventType(ctx.db, name)) ?? type));
      },
    );

    app.get(
      '/event-types',
      {
        config: { access: 'any' },
        schema: {
          tags: ['event types'],
          summary: 'List the event catalog',
          querystring: Type.Object({
            ...PageQuery,
            group: Type.Optional(Type.String()),
            includeDeprecated: Type.Optional(Type.Boolean()),
          }),
          response: { 200: PageOf(EventTypeBody), ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await listEventTypes(
          ctx.db,
          { ...(q.group !== undefined ? { group: q.group } : {}), includeDeprecated: q.includeDeprecated ?? false },
          pageRequest(q),
        );
        return pageBody(page, eventTypeBody);
      },
    );

    app.get(
      '/event-types/:name',
      {
        config: { access: 'any' },
        schema: {
          tags: ['event types'],
          summary: 'Get an event type',
          params: Type.Object({ name: Type.String() }),
          response: { 200: EventTypeBody, ...errorResponses },
        },
      },
      async (request) => {
        const type = await getEventType(ctx.db, request.params.name);
        if (!type) throw notFound('event type', request.params.name);
        return eventTypeBody(type);
      },
    );

    app.delete(
      '/event-types/:name',
      {
        config: { access: 'operator' },
        schema: {
          tags: ['event types'],
          summary: 'Archive an event type: no new subscriptions or events; history stays',
          params: Type.Object({ name: Type.String() }),
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        if (!(await archiveEventType(ctx.db, request.params.name, ctx.clock.now()))) throw notFound('event type', request.params.name);
        await ctx.catalog.reload();
        return reply.status(204).send(null);
      },
    );
  };
