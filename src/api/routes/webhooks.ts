import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { newId } from '../../domain/ids.js';
import { publicKeyFor } from '../../domain/secrets.js';
import type { JsonObject, RetryPolicy, Webhook, WebhookSecrets } from '../../domain/types.js';
import { HeraldError, notFound } from '../../errors.js';
import { recordEvent } from '../../ingest/ingest.js';
import { normalizeRetryPolicy } from '../../profile/delivery-policy.js';
import { listDeliveries, recoverDeliveries, skipPendingDeliveries } from '../../store/repositories/deliveries.js';
import { getOrganization } from '../../store/repositories/organizations.js';
import {
  deleteWebhook,
  getWebhook,
  getWebhookSecrets,
  insertWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookFields,
} from '../../store/repositories/webhooks.js';
import { newSecretFor } from '../../webhooks/new-secret.js';
import {
  MAX_CUSTOM_HEADERS,
  checkHeaders,
  checkSecret,
  checkSubscriptions,
  checkUrl,
  checkUrlTarget,
  normalizeFilters,
  resolveFormat,
} from '../../webhooks/validate-webhook.js';
import type { ApiContext } from '../context.js';
import { pageBody, pageRequest } from '../pagination.js';
import { IsoTime, JsonObject as JsonObjectSchema, OrgItemParams, OrgParams, PageOf, PageQuery, errorResponses } from '../schemas.js';
import { DeliveryBody, RetryPolicyBody, WebhookBody, deliveryBody, webhookBody } from '../serialize.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const WebhookSettings = {
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http or https URL' }),
  kind: Type.Optional(Type.Union([Type.Literal('standard'), Type.Literal('slack')])),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  enabled: Type.Optional(Type.Boolean()),
  events: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500, description: 'Names, group.* or *; empty = every non-deprecated type' })),
  filters: Type.Optional(
    Type.Record(Type.String({ maxLength: 100 }), Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 }), {
      description: 'Attribute -> patterns; AND across keys, OR within, * wildcard, case-insensitive',
    }),
  ),
  format: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: MAX_CUSTOM_HEADERS })),
  rateLimit: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: 'Requests per second' }))),
  timeoutMs: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 60_000 }))),
  concurrency: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
  retry: Type.Optional(Nullable(RetryPolicyBody)),
  signing: Type.Optional(Type.Union([Type.Literal('hmac'), Type.Literal('ed25519')])),
  metadata: Type.Optional(JsonObjectSchema),
};

const CreateWebhook = Type.Object(
  { ...WebhookSettings, secret: Type.Optional(Type.String({ maxLength: 256 })) },
  { additionalProperties: false },
);
const PatchWebhook = Type.Object(
  { ...WebhookSettings, url: Type.Optional(WebhookSettings.url) },
  { additionalProperties: false },
);
type WebhookSettingsInput = Static<typeof PatchWebhook>;

const SecretBody = Type.Object({
  secret: Type.String(),
  publicKey: Type.Optional(Type.String({ description: 'whpk_ key receivers verify ed25519 signatures with' })),
});

function toFields(input: WebhookSettingsInput): Partial<WebhookFields> {
  const fields: Partial<WebhookFields> = {};
  if (input.url !== undefined) fields.url = input.url;
  if (input.kind !== undefined) fields.kind = input.kind;
  if (input.description !== undefined) fields.description = input.description;
  if (input.enabled !== undefined) fields.enabled = input.enabled;
  if (input.events !== undefined) fields.events = input.events;
  if (input.filters !== undefined) fields.filters = input.filters;
  if (input.format !== undefined) fields.format = input.format;
  if (input.headers !== undefined) fields.headers = input.headers;
  if (input.rateLimit !== undefined) fields.rateLimit = input.rateLimit;
  if (input.timeoutMs !== undefined) fields.timeoutMs = input.timeoutMs;
  if (input.concurrency !== undefined) fields.concurrency = input.concurrency;
  if (input.retry !== undefined) fields.retry = input.retry === null ? null : normalizeRetryPolicy(input.retry as RetryPolicy);
  if (input.signing !== undefined) fields.signing = input.signing;
  if (input.metadata !== undefined) fields.metadata = input.metadata as JsonObject;
  return fields;
}

function secretBody(secret: string) {
  return secret.startsWith('whsk_') ? { secret, publicKey: publicKeyFor(secret) } : { secret };
}

export const webhookRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['webhooks'];
    const access = { access: 'organization' as const };

    async function load(org: string, id: string): Promise<Webhook> {
      const webhook = await getWebhook(ctx.db, org, id);
      if (!webhook) throw notFound('webhook', id);
      return webhook;
    }

    /**
     * Validates a webhook's full settings as they would be after the change.
     * A new URL's host must not be, or resolve to, an address the SSRF guard refuses.
     */
    async function check(next: Omit<WebhookFields, 'retry'>, previousEvents: readonly string[], secret: string | null, urlChanged: boolean): Promise<void> {
      checkUrl(next.url);
      const format = resolveFormat(ctx.profile.formats, next.format, ctx.profile.defaultFormat);
      const catalog = new Map((await ctx.catalog.all()).map((t) => [t.name, t]));
      checkSubscriptions(next.events, catalog, previousEvents);
      checkHeaders(next.headers, format);
      if (secret !== null) checkSecret(secret, format, next.signing);
      if (urlChanged) await checkUrlTarget(next.url, ctx.targets);
    }

    /** The stored (sealed) secrets of a webhook, opened; null when it does not exist. */
    async function secretsOf(org: string, id: string): Promise<WebhookSecrets | null> {
      const sealed = await getWebhookSecrets(ctx.db, org, id);
      if (!sealed) return null;
      return {
        current: ctx.keyring.open(sealed.current, id),
        previous: sealed.previous === null ? null : ctx.keyring.open(sealed.previous, id),
        previousExpiresAt: sealed.previousExpiresAt,
      };
    }

    app.post(
      '/organizations/:org/webhooks',
      {
        config: { ...access, idempotent: true },
        schema: { tags, summary: 'Create a webhook', params: OrgParams, body: CreateWebhook, response: { 201: WebhookBody, ...errorResponses } },
      },
      async (request, reply) => {
        const org = request.params.org;
        if (!(await getOrganization(ctx.db, org))) throw notFound('organization', org);
        const body = request.body;
        const fields: WebhookFields = {
          url: body.url,
          kind: body.kind ?? 'standard',
          description: body.description ?? '',
          enabled: body.enabled ?? true,
          events: body.events ?? [],
          filters: normalizeFilters(body.filters ?? {}, ctx.profile.attributes),
          format: body.format ?? null,
          headers: body.headers ?? {},
          rateLimit: body.rateLimit ?? null,
          timeoutMs: body.timeoutMs ?? null,
          concurrency: body.concurrency ?? null,
          retry: body.retry ? normalizeRetryPolicy(body.retry as RetryPolicy) : null,
          signing: body.signing ?? 'hmac',
          metadata: (body.metadata as JsonObject | undefined) ?? {},
        };
        await check(fields, [], body.secret ?? null, true);
        const format = resolveFormat(ctx.profile.formats, fields.format, ctx.profile.defaultFormat);
        const secret = body.secret ?? newSecretFor(format, fields.signing);
        const id = newId('whk');
        const webhook = await insertWebhook(ctx.db, { ...fields, id, organizationId: org, secret: ctx.keyring.seal(secret, id) }, ctx.clock.now());
        ctx.webhookChanged(webhook.id);
        return reply.status(201).send(webhookBody(webhook));
      },
    );

    app.get(
      '/organizations/:org/webhooks',
      {
        config: access,
        schema: { tags, summary: "List an organization's webhooks", params: OrgParams, querystring: Type.Object(PageQuery), response: { 200: PageOf(WebhookBody), ...errorResponses } },
      },
      async (request) => pageBody(await listWebhooks(ctx.db, request.params.org, pageRequest(request.query)), webhookBody),
    );

    app.get(
      '/organizations/:org/webhooks/:id',
      { config: access, schema: { tags, summary: 'Get a webhook', params: OrgItemParams, response: { 200: WebhookBody, ...errorResponses } } },
      async (request) => webhookBody(await load(request.params.org, request.params.id)),
    );

    app.patch(
      '/organizations/:org/webhooks/:id',
      {
        config: access,
        schema: { tags, summary: 'Change a webhook (partial)', params: OrgItemParams, body: PatchWebhook, response: { 200: WebhookBody, ...errorResponses } },
      },
      async (request) => {
        const { org, id } = request.params;
        const current = await load(org, id);
        const patch = toFields(request.body);
        if (patch.filters !== undefined) patch.filters = normalizeFilters(patch.filters, ctx.profile.attributes);
        const next = { ...current, ...patch };
        // A change of format or signing must keep the stored secret usable.
        const secrets = patch.format !== undefined || patch.signing !== undefined ? await secretsOf(org, id) : null;
        await check(next, current.events, secrets?.current ?? null, patch.url !== undefined && patch.url !== current.url);
        const now = ctx.clock.now();
        const updated = await ctx.db.transaction().execute(async (trx) => {
          const webhook = await updateWebhook(trx, org, id, patch, now);
          // Disabled webhooks lose nothing: queued work is parked as skipped for `recover`.
          if (patch.enabled === false && current.enabled) await skipPendingDeliveries(trx, id, now);
          return webhook;
        });
        if (!updated) throw notFound('webhook', id);
        ctx.webhookChanged(id);
        return webhookBody(updated);
      },
    );

    app.delete(
      '/organizations/:org/webhooks/:id',
      {
        config: access,
        schema: { tags, summary: 'Delete a webhook; its queued deliveries are cancelled', params: OrgItemParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (request, reply) => {
        const { org, id } = request.params;
        const deleted = await ctx.db.transaction().execute((trx) => deleteWebhook(trx, org, id, ctx.clock.now()));
        if (!deleted) throw notFound('webhook', id);
        ctx.webhookChanged(id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/organizations/:org/webhooks/:id/secret',
      { config: access, schema: { tags, summary: "Get a webhook's signing secret", params: OrgItemParams, response: { 200: SecretBody, ...errorResponses } } },
      async (request) => {
        const secrets = await secretsOf(request.params.org, request.params.id);
        if (!secrets) throw notFound('webhook', request.params.id);
        return secretBody(secrets.current);
      },
    );

    app.post(
      '/organizations/:org/webhooks/:id/rotate-secret',
      {
        config: access,
        schema: {
          tags,
          summary: 'Rotate the signing secret; the previous one keeps signing for the grace period',
          params: OrgItemParams,
          body: Type.Optional(Type.Object({ secret: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false })),
          response: { 200: SecretBody, ...errorResponses },
        },
      },
      async (request) => {
        const { org, id } = request.params;
        const webhook = await load(org, id);
        const format = resolveFormat(ctx.profile.formats, webhook.format, ctx.profile.defaultFormat);
        const secret = request.body?.secret ?? newSecretFor(format, webhook.signing);
        checkSecret(secret, format, webhook.signing);
        const now = ctx.clock.now();
        await rotateWebhookSecret(ctx.db, org, id, ctx.keyring.seal(secret, id), now + ctx.profile.delivery.rotationGraceS * 1000, now);
        ctx.webhookChanged(id);
        return secretBody(secret);
      },
    );

    app.post(
      '/organizations/:org/webhooks/:id/test',
      {
        config: { ...access, idempotent: true },
        schema: {
          tags,
          summary: "Send the profile's test event to this webhook",
          params: OrgItemParams,
          response: { 202: Type.Object({ deliveryId: Type.String(), eventId: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { org, id } = request.params;
        const webhook = await load(org, id);
        if (!webhook.enabled) throw new HeraldError(409, 'webhook_disabled', 'the webhook is disabled; enable it to send a test event');
        const test = ctx.profile.testEvent;
        const type = await ctx.catalog.get(test.type);
        if (!type) throw new HeraldError(500, 'test_event_missing', `the profile's test event type ${test.type} is not in the catalog`);
        const now = ctx.clock.now();
        const result = await ctx.db
          .transaction()
          .execute((trx) => recordEvent(trx, { organizationId: org, type: test.type, data: test.data }, type, now, { onlyTo: webhook }));
        ctx.deliveriesQueued([webhook.id]);
        const delivery = result.deliveries[0];
        if (!delivery) throw new HeraldError(500, 'internal_error', 'test delivery was not created');
        return reply.status(202).send({ deliveryId: delivery.id, eventId: result.event.id });
      },
    );

    app.post(
      '/organizations/:org/webhooks/:id/recover',
      {
        config: access,
        schema: {
          tags,
          summary: "Re-queue this webhook's failed and skipped deliveries created in [since, until)",
          params: OrgItemParams,
          body: Type.Object({ since: IsoTime, until: Type.Optional(IsoTime) }, { additionalProperties: false }),
          response: { 202: Type.Object({ count: Type.Integer() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { org, id } = request.params;
        const webhook = await load(org, id);
        if (!webhook.enabled) throw new HeraldError(409, 'webhook_disabled', 'the webhook is disabled; enable it before recovering');
        const now = ctx.clock.now();
        const since = Date.parse(request.body.since);
        const until = request.body.until !== undefined ? Date.parse(request.body.until) : now + 1;
        if (!(since < until)) throw new HeraldError(422, 'invalid_window', 'since must be before until');
        const count = await recoverDeliveries(ctx.db, id, since, until, now);
        if (count > 0) ctx.deliveriesQueued([id]);
        return reply.status(202).send({ count });
      },
    );

    app.get(
      '/organizations/:org/webhooks/:id/deliveries',
      {
        config: access,
        schema: {
          tags,
          summary: "List a webhook's deliveries, newest first",
          params: OrgItemParams,
          querystring: Type.Object(PageQuery),
          response: { 200: PageOf(DeliveryBody), ...errorResponses },
        },
      },
      async (request) => {
        const { org, id } = request.params;
        await load(org, id);
        return pageBody(await listDeliveries(ctx.db, org, { webhookId: id }, pageRequest(request.query)), (d) => deliveryBody(d));
      },
    );
  };
