import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { newId } from '../../domain/ids.js';
import { HeraldError, notFound } from '../../errors.js';
import { insertApiToken, listApiTokens, revokeApiToken, type ApiToken } from '../../store/repositories/api-tokens.js';
import { getOrganization } from '../../store/repositories/organizations.js';
import type { ApiContext } from '../context.js';
import { generateOrganizationToken, organizationTokenHash } from '../organization-tokens.js';
import { pageBody, pageRequest } from '../pagination.js';
import { IsoTime, OrgItemParams, OrgParams, PageOf, PageQuery, errorResponses } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const TokenBody = Type.Object({
  id: Type.String(),
  organizationId: Type.String(),
  name: Type.String(),
  createdAt: IsoTime,
  expiresAt: Nullable(IsoTime),
  revokedAt: Nullable(IsoTime),
});

const CreatedToken = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'The token itself: shown this once, stored only as a hash' }),
  organizationId: Type.String(),
  name: Type.String(),
  createdAt: IsoTime,
  expiresAt: Nullable(IsoTime),
});

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function tokenBody(t: ApiToken) {
  return { id: t.id, organizationId: t.organizationId, name: t.name, createdAt: iso(t.createdAt) as string, expiresAt: iso(t.expiresAt), revokedAt: iso(t.revokedAt) };
}

/**
 * Organization tokens. Only the operator makes them (an organization token
 * cannot mint itself a successor); the organization may list and revoke its own.
 * Not idempotent on purpose: a replayed answer would have to store the token.
 */
export const tokenRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['tokens'];

    app.post(
      '/organizations/:org/tokens',
      {
        config: { access: 'operator' },
        schema: {
          tags,
          summary: "Make an API token that sees only this organization; the answer is the only time the token is shown",
          params: OrgParams,
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 200, description: 'What the token is for' }),
              expiresAt: Type.Optional(Nullable(IsoTime)),
            },
            { additionalProperties: false },
          ),
          response: { 201: CreatedToken, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { org } = request.params;
        if (!(await getOrganization(ctx.db, org))) throw notFound('organization', org);
        const now = ctx.clock.now();
        const expiresAt = request.body.expiresAt ? Date.parse(request.body.expiresAt) : null;
        if (expiresAt !== null && !(expiresAt > now)) throw new HeraldError(422, 'invalid_expiry', 'expiresAt must be a time in the future');
        const token = generateOrganizationToken();
        const stored = await insertApiToken(
          ctx.db,
          { id: newId('tok'), organizationId: org, name: request.body.name, tokenHash: organizationTokenHash(token), expiresAt },
          now,
        );
        const { revokedAt: _revoked, ...shown } = tokenBody(stored);
        return reply.status(201).send({ ...shown, token });
      },
    );

    app.get(
      '/organizations/:org/tokens',
      {
        config: { access: 'organization' },
        schema: { tags, summary: "List an organization's tokens (never the tokens themselves)", params: OrgParams, querystring: Type.Object(PageQuery), response: { 200: PageOf(TokenBody), ...errorResponses } },
      },
      async (request) => pageBody(await listApiTokens(ctx.db, request.params.org, pageRequest(request.query)), tokenBody),
    );

    app.delete(
      '/organizations/:org/tokens/:id',
      {
        config: { access: 'organization' },
        schema: { tags, summary: 'Revoke a token: it stops working at once', params: OrgItemParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (request, reply) => {
        const { org, id } = request.params;
        if (!(await revokeApiToken(ctx.db, org, id, ctx.clock.now()))) throw notFound('token', id);
        ctx.organizationTokens.forget({ id });
        return reply.status(204).send(null);
      },
    );
  };
