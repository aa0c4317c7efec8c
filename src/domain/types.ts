/**
 * Herald's domain vocabulary. Pure data: no I/O, no framework types.
 * Times are epoch milliseconds inside Herald; the API turns them into ISO strings.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'skipped', 'cancelled'];

/** Why an attempt did not succeed. `status` means the receiver answered, but not with success. */
export type AttemptErrorClass = 'timeout' | 'dns' | 'connect' | 'tls' | 'blocked' | 'status';

export type WebhookKind = 'standard' | 'slack';

export interface Organization {
  id: string;
  name: string | null;
  metadata: JsonObject;
  createdAt: number;
}

export interface EventType {
  name: string;
  description: string;
  group: string | null;
  /** JSON Schema of the event's `data`; null accepts any object. */
  schema: JsonObject | null;
  examples: JsonValue[];
  deprecated: boolean;
  /** Archived types accept no new subscriptions and no new events. */
  archived: boolean;
  /** Format name that overrides the profile's default for this type (Vercel's legacy payload). */
  format: string | null;
  /** Free-form catalog data a profile may carry (payloadType, platforms, slack template…). */
  extra: JsonObject;
}

/**
 * Retry policy: when the next attempt happens after a failed one.
 * - schedule: fixed delays after each failed attempt (Svix-like default).
 * - exponential: initial * factor^(n-1), capped, until the event is maxAgeS old (Vercel).
 * - none: one attempt only (Convocore).
 */
export type RetryPolicy =
  | { kind: 'schedule'; delaysS: number[]; jitter: number }
  | { kind: 'exponential'; initialS: number; factor: number; maxDelayS: number; maxAgeS: number; jitter: number }
  | { kind: 'none' };

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** How a request is signed. Pure configuration; see src/domain/signatures. */
export type SignatureScheme =
  | { scheme: 'standard-webhooks' }
  | { scheme: 'svix' }
  | {
      scheme: 'hmac';
      algorithm: HmacAlgorithm;
      encoding: 'hex' | 'base64';
      header: string;
      /** Text put before the digest, e.g. `sha256=`. */
      prefix: string;
    }
  | { scheme: 'header-secret'; header: string }
  | { scheme: 'none' };

/** Which statuses count as success: any 2xx, or an explicit list (Convocore: only 200). */
export type SuccessRule = { kind: '2xx' } | { kind: 'statuses'; statuses: number[] };

/** An envelope template plus a signature scheme. */
export interface Format {
  name: string;
  envelope: JsonValue;
  signature: SignatureScheme;
}

export interface DeliveryPolicy {
  timeoutMs: number;
  retry: RetryPolicy;
  success: SuccessRule;
  /** How long a rotated-out secret keeps adding a second signature. */
  rotationGraceS: number;
  /** A webhook failing without one success for this long is disabled. */
  autoDisableAfterS: number;
  /** Concurrent requests per webhook. */
  concurrency: number;
}

export interface Webhook {
  id: string;
  organizationId: string;
  url: string;
  kind: WebhookKind;
  description: string;
  enabled: boolean;
  /** Exact type names, `group.*` wildcards, or `*`. Empty means every non-deprecated type. */
  events: string[];
  /** Attribute name -> patterns; AND across keys, OR within a key, `*` wildcard, case-insensitive. */
  filters: Record<string, string[]>;
  format: string | null;
  headers: Record<string, string>;
  /** Requests per second; null means unlimited. */
  rateLimit: number | null;
  timeoutMs: number | null;
  concurrency: number | null;
  retry: RetryPolicy | null;
  /** `hmac` uses the symmetric `whsec_` secret; `ed25519` signs with a `whsk_` key (Standard Webhooks v1a). */
  signing: 'hmac' | 'ed25519';
  metadata: JsonObject;
  /** When the current run of failures started; null while healthy. */
  failingSince: number | null;
  disabledReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookSecrets {
  /** `whsec_…` (hmac) or `whsk_…` (ed25519). */
  current: string;
  previous: string | null;
  /** Until when `previous` still signs. */
  previousExpiresAt: number | null;
}

export interface HeraldEvent {
  id: string;
  organizationId: string;
  type: string;
  data: JsonValue;
  attributes: Record<string, string>;
  /** When the event happened (operator-supplied or ingest time). */
  time: number;
  /** Operator-supplied id, unique per organization. */
  externalId: string | null;
  createdAt: number;
}

export interface Delivery {
  id: string;
  eventId: string;
  webhookId: string;
  organizationId: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Attempt {
  id: string;
  deliveryId: string;
  attemptNumber: number;
  at: number;
  durationMs: number;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  /** First 4 KiB of the response body. */
  responseBody: string | null;
  error: AttemptErrorClass | null;
  errorMessage: string | null;
}
