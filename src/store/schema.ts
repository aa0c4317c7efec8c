import type { Kysely } from 'kysely';

/**
 * Row types of Herald's tables, as Kysely sees them. The same schema serves
 * SQLite and PostgreSQL: times are epoch milliseconds (bigint), JSON is text,
 * booleans are 0/1 integers, so no dialect needs its own row mapping.
 */
export interface OrganizationsTable {
  id: string;
  name: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export interface EventTypesTable {
  name: string;
  description: string;
  group_name: string | null;
  schema: string | null;
  examples: string;
  deprecated: number;
  archived: number;
  format: string | null;
  extra: string;
  /** `profile` rows are rewritten from the profile at start; `api` rows are the operator's. */
  source: string;
  created_at: number;
  updated_at: number;
}

export interface WebhooksTable {
  id: string;
  organization_id: string;
  url: string;
  kind: string;
  description: string;
  enabled: number;
  events: string;
  filters: string;
  format: string | null;
  headers: string;
  rate_limit: number | null;
  timeout_ms: number | null;
  concurrency: number | null;
  retry: string | null;
  signing: string;
  metadata: string;
  /** Sealed (`hs1:…`, AES-256-GCM, see src/encryption/keyring.ts); the API and the webhook cache open it. */
  secret: string;
  /** Sealed, like `secret`. */
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  failing_since: number | null;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface EventsTable {
  id: string;
  organization_id: string;
  type: string;
  data: string;
  attributes: string;
  time: number;
  external_id: string | null;
  created_at: number;
}

export interface DeliveriesTable {
  id: string;
  event_id: string;
  webhook_id: string;
  organization_id: string;
  status: string;
  attempt_count: number;
  /**
   * When the delivery is next due. While a dispatcher holds the delivery this
   * is the lease's end, so an abandoned lease simply becomes due again.
   */
  next_attempt_at: number | null;
  /** Random token of the claim that holds the delivery; every settle is fenced by it. */
  lease_owner: string | null;
  /** Copied from the event so age-bounded retry policies need no join. */
  event_time: number;
  /** True when the last attempt failed: recovery after it emits `herald.delivery.recovered`. */
  failing: number;
  created_at: number;
  updated_at: number;
}

export interface AttemptsTable {
  id: string;
  delivery_id: string;
  organization_id: string;
  attempt_number: number;
  at: number;
  duration_ms: number;
  request_url: string;
  request_headers: string;
  request_body: string;
  response_status: number | null;
  response_headers: string;
  response_body: string | null;
  error: string | null;
  error_message: string | null;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number;
  response_body: string;
  created_at: number;
}

export interface HeraldMetaTable {
  key: string;
  value: string;
}

/** An organization's API token: only the SHA-256 of the token (hex) is kept. */
export interface ApiTokensTable {
  id: string;
  organization_id: string;
  name: string;
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface Database {
  organizations: OrganizationsTable;
  event_types: EventTypesTable;
  webhooks: WebhooksTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  herald_meta: HeraldMetaTable;
  api_tokens: ApiTokensTable;
}

/** A database handle or a transaction on it: repositories accept either. */
export type Db = Kysely<Database>;
