/**
 * Mapping between table rows and domain objects. JSON columns are parsed here
 * and nowhere else, so a corrupt column fails loudly at one place.
 */
import type {
  Attempt,
  AttemptErrorClass,
  Delivery,
  DeliveryStatus,
  EventType,
  HeraldEvent,
  JsonObject,
  JsonValue,
  Organization,
  RetryPolicy,
  Webhook,
  WebhookKind,
  WebhookSecrets,
} from '../domain/types.js';
import type {
  AttemptsTable,
  DeliveriesTable,
  EventTypesTable,
  EventsTable,
  OrganizationsTable,
  WebhooksTable,
} from './schema.js';

export function parseJson<T = JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}

/** PostgreSQL returns bigint as string; both dialects pass through here. */
export function num(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

export function numOrNull(value: number | string | bigint | null): number | null {
  return value === null ? null : num(value);
}

export function toOrganization(row: OrganizationsTable): Organization {
  return { id: row.id, name: row.name, metadata: parseJson<JsonObject>(row.metadata), createdAt: num(row.created_at) };
}

export function toEventType(row: EventTypesTable): EventType {
  return {
    name: row.name,
    description: row.description,
    group: row.group_name,
    schema: row.schema === null ? null : parseJson<JsonObject>(row.schema),
    examples: parseJson<JsonValue[]>(row.examples),
    deprecated: row.deprecated === 1,
    archived: row.archived === 1,
    format: row.format,
    extra: parseJson<JsonObject>(row.extra),
  };
}

export function toWebhook(row: WebhooksTable): Webhook {
  return {
    id: row.id,
    organizationId: row.organization_id,
    url: row.url,
    kind: row.kind as WebhookKind,
    description: row.description,
    enabled: num(row.enabled) === 1,
    events: parseJson<string[]>(row.events),
    filters: parseJson<Record<string, string[]>>(row.filters),
    format: row.format,
    headers: parseJson<Record<string, string>>(row.headers),
    rateLimit: numOrNull(row.rate_limit),
    timeoutMs: numOrNull(row.timeout_ms),
    concurrency: numOrNull(row.concurrency),
    retry: row.retry === null ? null : parseJson<RetryPolicy>(row.retry),
    signing: row.signing === 'ed25519' ? 'ed25519' : 'hmac',
    metadata: parseJson<JsonObject>(row.metadata),
    failingSince: numOrNull(row.failing_since),
    disabledReason: row.disabled_reason,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export function toWebhookSecrets(row: Pick<WebhooksTable, 'secret' | 'previous_secret' | 'previous_secret_expires_at'>): WebhookSecrets {
  return {
    current: row.secret,
    previous: row.previous_secret,
    previousExpiresAt: numOrNull(row.previous_secret_expires_at),
  };
}

export function toEvent(row: EventsTable): HeraldEvent {
  return {
    id: row.id,
    organizationId: row.organization_id,
    type: row.type,
    data: parseJson(row.data),
    attributes: parseJson<Record<string, string>>(row.attributes),
    time: num(row.time),
    externalId: row.external_id,
    createdAt: num(row.created_at),
  };
}

export function toDelivery(row: DeliveriesTable): Delivery {
  return {
    id: row.id,
    eventId: row.event_id,
    webhookId: row.webhook_id,
    organizationId: row.organization_id,
    status: row.status as DeliveryStatus,
    attemptCount: num(row.attempt_count),
    // While leased, next_attempt_at is the lease's end: not a scheduled attempt.
    nextAttemptAt: row.status === 'pending' ? numOrNull(row.next_attempt_at) : null,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export function toAttempt(row: AttemptsTable): Attempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    attemptNumber: num(row.attempt_number),
    at: num(row.at),
    durationMs: num(row.duration_ms),
    requestUrl: row.request_url,
    requestHeaders: parseJson<Record<string, string>>(row.request_headers),
    requestBody: row.request_body,
    responseStatus: numOrNull(row.response_status),
    responseHeaders: parseJson<Record<string, string>>(row.response_headers),
    responseBody: row.response_body,
    error: row.error as AttemptErrorClass | null,
    errorMessage: row.error_message,
  };
}
