/** Domain objects to API bodies: ISO times, camelCase, never a secret. */
import { Type } from 'typebox';
import type { Attempt, Delivery, EventType, HeraldEvent, Organization, Webhook } from '../domain/types.js';
import { IsoTime, Json, JsonObject } from './schemas.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const OrganizationBody = Type.Object(
  { id: Type.String(), name: Nullable(Type.String()), metadata: JsonObject, createdAt: IsoTime },
);
export function organizationBody(o: Organization) {
  return { id: o.id, name: o.name, metadata: o.metadata, createdAt: iso(o.createdAt) };
}

export const EventTypeBody = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    group: Nullable(Type.String()),
    schema: Nullable(JsonObject),
    examples: Type.Array(Json),
    deprecated: Type.Boolean(),
    archived: Type.Boolean(),
    format: Nullable(Type.String()),
  },
  { additionalProperties: true },
);
export function eventTypeBody(t: EventType) {
  return {
    ...t.extra,
    name: t.name,
    description: t.description,
    group: t.group,
    schema: t.schema,
    examples: t.examples,
    deprecated: t.deprecated,
    archived: t.archived,
    format: t.format,
  };
}

export const RetryPolicyBody = Type.Union([
  Type.Object({ kind: Type.Literal('schedule'), delaysS: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, maxItems: 50 }), jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 0.99 })) }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('exponential'),
      initialS: Type.Number({ exclusiveMinimum: 0 }),
      factor: Type.Number({ minimum: 1 }),
      maxDelayS: Type.Number({ exclusiveMinimum: 0 }),
      maxAgeS: Type.Number({ exclusiveMinimum: 0 }),
      jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 0.99 })),
    },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('none') }, { additionalProperties: false }),
]);

export const WebhookBody = Type.Object(
  {
    id: Type.String(),
    organizationId: Type.String(),
    url: Type.String(),
    kind: Type.String(),
    description: Type.String(),
    enabled: Type.Boolean(),
    events: Type.Array(Type.String()),
    filters: Type.Record(Type.String(), Type.Array(Type.String())),
    format: Nullable(Type.String()),
    headers: Type.Record(Type.String(), Type.String()),
    rateLimit: Nullable(Type.Number()),
    timeoutMs: Nullable(Type.Number()),
    concurrency: Nullable(Type.Number()),
    retry: Nullable(RetryPolicyBody),
    signing: Type.String(),
    metadata: JsonObject,
    failingSince: Nullable(IsoTime),
    disabledReason: Nullable(Type.String()),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  },
);
export function webhookBody(w: Webhook) {
  return {
    id: w.id,
    organizationId: w.organizationId,
    url: w.url,
    kind: w.kind,
    description: w.description,
    enabled: w.enabled,
    events: w.events,
    filters: w.filters,
    format: w.format,
    headers: w.headers,
    rateLimit: w.rateLimit,
    timeoutMs: w.timeoutMs,
    concurrency: w.concurrency,
    retry: w.retry,
    signing: w.signing,
    metadata: w.metadata,
    failingSince: isoOrNull(w.failingSince),
    disabledReason: w.disabledReason,
    createdAt: iso(w.createdAt),
    updatedAt: iso(w.updatedAt),
  };
}

export const EventBody = Type.Object(
  {
    id: Type.String(),
    organizationId: Type.String(),
    type: Type.String(),
    data: Json,
    attributes: Type.Record(Type.String(), Type.String()),
    externalId: Nullable(Type.String()),
    time: IsoTime,
    createdAt: IsoTime,
  },
);
export function eventBody(e: HeraldEvent) {
  return {
    id: e.id,
    organizationId: e.organizationId,
    type: e.type,
    data: e.data,
    attributes: e.attributes,
    externalId: e.externalId,
    time: iso(e.time),
    createdAt: iso(e.createdAt),
  };
}

export const AttemptBody = Type.Object(
  {
    id: Type.String(),
    attemptNumber: Type.Integer(),
    at: IsoTime,
    durationMs: Type.Number(),
    url: Type.String(),
    requestHeaders: Type.Record(Type.String(), Type.String()),
    requestBody: Type.String(),
    responseStatus: Nullable(Type.Integer()),
    responseHeaders: Type.Record(Type.String(), Type.String()),
    responseBody: Nullable(Type.String()),
    error: Nullable(Type.String()),
    errorMessage: Nullable(Type.String()),
  },
);
export function attemptBody(a: Attempt) {
  return {
    id: a.id,
    attemptNumber: a.attemptNumber,
    at: iso(a.at),
    durationMs: a.durationMs,
    url: a.requestUrl,
    requestHeaders: a.requestHeaders,
    requestBody: a.requestBody,
    responseStatus: a.responseStatus,
    responseHeaders: a.responseHeaders,
    responseBody: a.responseBody,
    error: a.error,
    errorMessage: a.errorMessage,
  };
}

export const DeliveryBody = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String(),
    webhookId: Type.String(),
    organizationId: Type.String(),
    status: Type.String(),
    attemptCount: Type.Integer(),
    nextAttemptAt: Nullable(IsoTime),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    attempts: Type.Optional(Type.Array(AttemptBody)),
  },
);
export function deliveryBody(d: Delivery, attempts?: Attempt[]) {
  return {
    id: d.id,
    eventId: d.eventId,
    webhookId: d.webhookId,
    organizationId: d.organizationId,
    status: d.status,
    attemptCount: d.attemptCount,
    nextAttemptAt: isoOrNull(d.nextAttemptAt),
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    ...(attempts ? { attempts: attempts.map(attemptBody) } : {}),
  };
}
