import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { JsonObject } from '../../domain/types.js';
import { HeraldError, notFound } from '../../errors.js';
import {
  deleteOrganization,
  getOrganization,
  insertOrganization,
  listOrganizations,
  updateOrganization,
} from '../../store/repositories/organizations.js';
import type { ApiContext } from '../context.js';
import { pageBody, pageRequest } from '../pagination.js';
import { JsonObject as JsonObjectSchema, NewOrganizationId, OrgParams, PageOf, PageQuery, errorResponses } from '../schemas.js';
import { OrganizationBody, organizationBody } from '../serialize.js';

const Name = Type.Union([Type.String({ maxLength: 200 }), Type.Null()]);

export const organizationRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['organizations'];

    app.post(
      '/organizations',
      {
        config: { access: 'operator', idempotent: true },
        schema: {
          tags,
          summary: 'Create an organization',
          body: Type.Object(
            { id: NewOrganizationId, name: Type.Optional(Name), metadata: Type.Optional(JsonObjectSchema) },
            { additionalProperties: false },
          ),
          response: { 201: OrganizationBody, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { id, name, metadata } = request.body;
        const org = await insertOrganization(
          ctx.db,
          { id, name: name ?? null, metadata: (metadata as JsonObject | undefined) ?? {} },
          ctx.clock.now(),
        );
        if (!org) throw new HeraldError(409, 'already_exists', `organization ${JSON.stringify(id)} exists already`);
        return reply.status(201).send(organizationBody(org));
      },
    );

    app.get(
      '/organizations',
      {
        config: { access: 'operator' },
        schema: { tags, summary: 'List organizations', querystring: Type.Object(PageQuery), response: { 200: PageOf(OrganizationBody), ...errorResponses } },
      },
      async (request) => pageBody(await listOrganizations(ctx.db, pageRequest(request.query)), organizationBody),
    );

    app.get(
      '/organizations/:org',
      {
        config: { access: 'organization' },
        schema: { tags, summary: 'Get an organization', params: OrgParams, response: { 200: OrganizationBody, ...errorResponses } },
      },
      async (request) => {
        const org = await getOrganization(ctx.db, request.params.org);
        if (!org) throw notFound('organization', request.params.org);
        return organizationBody(org);
      },
    );

    app.patch(
      '/organizations/:org',
      {
        config: { access: 'operator' },
        schema: {
          tags,
          summary: 'Change an organization',
          params: OrgParams,
          body: Type.Object({ name: Type.Optional(Name), metadata: Type.Optional(JsonObjectSchema) }, { additionalProperties: false }),
          response: { 200: OrganizationBody, ...errorResponses },
        },
      },
      async (request) => {
        const { name, metadata } = request.body;
        const org = await updateOrganization(
          ctx.db,
          request.params.org,
          { ...(name !== undefined ? { name } : {}), ...(metadata !== undefined ? { metadata: metadata as JsonObject } : {}) },
          ctx.clock.now(),
        );
        if (!org) throw notFound('organization', request.params.org);
        return organizationBody(org);
      },
    );

    app.delete(
      '/organizations/:org',
      {
        config: { access: 'operator' },
        schema: {
          tags,
          summary: 'Delete an organization with its webhooks, events and deliveries',
          params: OrgParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const deleted = await ctx.db.transaction().execute((trx) => deleteOrganization(trx, request.params.org));
        if (!deleted) throw notFound('organization', request.params.org);
        ctx.organizationTokens.forget({ organizationId: request.params.org });
        return reply.status(204).send(null);
      },
    );
  };
