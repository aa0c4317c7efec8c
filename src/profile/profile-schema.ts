/**
 * The schema of a profile file (`profiles/<name>.yaml`): the event catalog, the wire formats,
 * the test event and the delivery policy defaults. It is the documentation of the file format
 * as much as its validator, so every field carries a description.
 *
 * Unions are plain `anyOf` (no vendor keywords), so these schemas can be reused as-is by
 * Fastify/OpenAPI; `load-profile.ts` narrows union errors to the branch the user meant.
 */
import { Type, type Static } from 'typebox';

/** Event type names: dot-separated segments of letters, digits, `_` and `-` (`deployment.created`, `agent_created`, `DEPLOYMENT_STARTED`). No `*`: that is the subscription wildcard. */
export const EVENT_TYPE_NAME_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";

const JsonObjectSchema = Type.Record(Type.String(), Type.Unknown());

export const EventTypeEntrySchema = Type.Object(
  {
    name: Type.String({ pattern: EVENT_TYPE_NAME_PATTERN, maxLength: 200, description: 'Event type name, e.g. `deployment.created`.' }),
    description: Type.Optional(Type.String({ description: 'What happened; shown in the catalog.' })),
    group: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
        description: "Catalog group, used by `group.*` subscriptions. Default: the name before its last '.', or null when the name has no '.'.",
      }),
    ),
    schema: Type.Optional(
      Type.Union([JsonObjectSchema, Type.Null()], {
        description: 'JSON Schema (2020-12, or draft-07 when `$schema` says so) of the event `data`. Absent: any data is accepted.',
      }),
    ),
    examples: Type.Optional(Type.Array(Type.Unknown(), { description: 'Example `data` values; each must match `schema`.' })),
    example: Type.Optional(Type.Unknown({ description: 'Shorthand for a single example; put first in `examples`.' })),
    deprecated: Type.Optional(
      Type.Boolean({ description: 'No new subscriptions; still delivered to webhooks that already have it.', default: false }),
    ),
    format: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
        description: "Name of a format in `formats` that overrides the profile's default for this type.",
      }),
    ),
    slack: Type.Optional(
      Type.Unknown({
        description:
          'Slack message template for webhooks of kind `slack` (an envelope template: `{text, blocks}` with `{{path}}` placeholders). Kept in `extra`; absent: the profile\'s `slack`, else a generic message.',
      }),
    ),
  },
  {
    // Other keys (payloadType, platforms, slack…) are kept as the event type's `extra`.
    additionalProperties: true,
    description: 'One event type of the catalog. Keys not listed here are kept as free-form `extra` data.',
  },
);

export const SignatureSchemeSchema = Type.Union(
  [
    Type.Object(
      { scheme: Type.Literal('standard-webhooks') },
      { additionalProperties: false, description: 'Standard Webhooks: webhook-id / webhook-timestamp / webhook-signature (v1,<base64 HMAC-SHA256>).' },
    ),
    Type.Object(
      { scheme: Type.Literal('svix') },
      { additionalProperties: false, description: 'Same as standard-webhooks with svix-* header names.' },
    ),
    Type.Object(
      {
        scheme: Type.Literal('hmac'),
        algorithm: Type.Union([Type.Literal('sha1'), Type.Literal('sha256'), Type.Literal('sha512')], { description: 'HMAC digest algorithm.' }),
        encoding: Type.Union([Type.Literal('hex'), Type.Literal('base64')], { description: 'Digest encoding.' }),
        header: Type.String({ pattern: HEADER_NAME_PATTERN, description: 'Header that carries the signature, e.g. `x-vercel-signature`.' }),
        prefix: Type.Optional(Type.String({ description: 'Text before the digest, e.g. `sha256=`.', default: '' })),
      },
      { additionalProperties: false, description: 'HMAC of the raw body with the webhook secret (Vercel, GitHub style).' },
    ),
    Type.Object(
      {
        scheme: Type.Literal('header-secret'),
        header: Type.String({ pattern: HEADER_NAME_PATTERN, description: 'Header that carries the secret itself, e.g. `Qovery-Secret`.' }),
      },
      { additionalProperties: false, description: 'The secret itself in a header (Qovery).' },
    ),
    Type.Object({ scheme: Type.Literal('none') }, { additionalProperties: false, description: 'Unsigned.' }),
  ],
  { description: 'How requests are signed.' },
);

export const FormatEntrySchema = Type.Object(
  {
    envelope: Type.Unknown({
      description:
        'Envelope template over {event, delivery, webhook, organization, eventType}: `"{{path}}"` keeps the JSON type, `{{path}}` inside text interpolates, key `"..."` spreads an object.',
    }),
    signature: SignatureSchemeSchema,
  },
  { additionalProperties: false, description: 'A wire format: envelope template + signature scheme.' },
);

const Jitter = Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.2, description: 'Random spread of each delay, as a fraction: 0.2 = ±20 %.' });

export const RetryPolicySchema = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('schedule'),
        delaysS: Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
          minItems: 1,
          description: 'Delay in seconds before each retry; its length is the number of retries.',
        }),
        jitter: Type.Optional(Jitter),
      },
      { additionalProperties: false, description: 'Fixed delays after each failed attempt (Svix-like).' },
    ),
    Type.Object(
      {
        kind: Type.Literal('exponential'),
        initialS: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 60, description: 'First retry delay, seconds.' })),
        factor: Type.Optional(Type.Number({ minimum: 1, default: 2, description: 'Each delay is the previous one times this.' })),
        maxDelayS: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 3600, description: 'Cap on a single delay, seconds.' })),
        maxAgeS: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 86400, description: 'No retry once the event is this old, seconds.' })),
        jitter: Type.Optional(Jitter),
      },
      { additionalProperties: false, description: 'initialS * factor^(n-1), capped at maxDelayS, until the event is maxAgeS old (Vercel).' },
    ),
    Type.Object({ kind: Type.Literal('none') }, { additionalProperties: false, description: 'One attempt only (Convocore).' }),
  ],
  { description: 'When the next attempt happens after a failed one.' },
);

export const SuccessRuleSchema = Type.Union(
  [
    Type.Literal('2xx', { description: 'Any 2xx status.' }),
    Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'Only these statuses, e.g. [200].' }),
  ],
  { description: "Which response statuses count as success: '2xx' or a list of statuses.", default: '2xx' },
);

export const DeliveryPolicySchema = Type.Object(
  {
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60000, default: 30000, description: 'Request timeout, ms.' })),
    retry: Type.Optional(RetryPolicySchema),
    success: Type.Optional(SuccessRuleSchema),
    rotationGraceS: Type.Optional(
      Type.Number({ minimum: 0, default: 86400, description: 'How long a rotated-out secret keeps signing (second signature), seconds.' }),
    ),
    autoDisableAfterS: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, default: 432000, description: 'A webhook failing without one success for this long is disabled, seconds.' }),
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Concurrent requests per webhook.' })),
  },
  { additionalProperties: false, description: 'Delivery policy defaults; a webhook may override some of them. Every key is optional.' },
);

export const TestEventSchema = Type.Object(
  {
    type: Type.String({ pattern: EVENT_TYPE_NAME_PATTERN, description: 'A type of the catalog.' }),
    data: Type.Optional(Type.Unknown({ description: "Event data; must match the type's schema.", default: {} })),
  },
  { additionalProperties: false, description: 'What `POST …/webhooks/:id/test` sends.' },
);

/** An event attribute name, as used in `attributes` of an event and `filters` of a webhook. */
const ATTRIBUTE_NAME_PATTERN = '^[A-Za-z0-9_.-]{1,100}$';

export const AttributeRuleSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'What the attribute names; shown in the docs.' })),
    values: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'The canonical values. An event or a filter with another value (case-insensitive, after aliases) is refused with 422.',
      }),
    ),
    aliases: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description: 'Other spellings and their canonical value, e.g. `{DEPLOYMENT: DEVELOPMENT}`; applied to event attributes and filter patterns.',
      }),
    ),
    fromData: Type.Optional(
      Type.String({
        pattern: '^[^.\\s]+(\\.[^.\\s]+)*$',
        description: 'Dotted path in the event `data` (`project.name`) read when the event does not carry the attribute.',
      }),
    ),
    catalogKey: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Catalog key listing, per event type, the values the type is available for (e.g. `platforms`); an event with another value is refused with 422.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Rules for one event attribute (filters match on attributes).' },
);

export const ProfileFileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Profile name.' }),
    description: Type.Optional(Type.String({ description: 'What this profile reproduces.' })),
    catalog: Type.Array(EventTypeEntrySchema, { description: 'The event types known at start; the API can add more.' }),
    formats: Type.Record(Type.String({ minLength: 1 }), FormatEntrySchema, {
      minProperties: 1,
      description: 'Named wire formats; webhooks and event types pick one by name.',
    }),
    defaultFormat: Type.Optional(Type.String({ minLength: 1, default: 'default', description: 'The format used when nothing picks another.' })),
    testEvent: TestEventSchema,
    delivery: Type.Optional(DeliveryPolicySchema),
    attributes: Type.Optional(
      Type.Record(Type.String({ pattern: ATTRIBUTE_NAME_PATTERN }), AttributeRuleSchema, {
        additionalProperties: false,
        description: 'Event attributes with rules (canonical values, aliases, taken from data, per-type availability). Undeclared attributes are free-form.',
      }),
    ),
    slack: Type.Optional(
      Type.Unknown({
        description: 'Default Slack message template for webhooks of kind `slack`, for event types without their own `slack`. Absent: a generic message.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A Herald profile: catalog, formats, test event, delivery policy defaults.' },
);

export type ProfileFile = Static<typeof ProfileFileSchema>;
export type EventTypeEntry = Static<typeof EventTypeEntrySchema>;
export type RetryPolicyInput = Static<typeof RetryPolicySchema>;
export type SuccessRuleInput = Static<typeof SuccessRuleSchema>;
export type DeliveryPolicyInput = Static<typeof DeliveryPolicySchema>;
export type AttributeRuleInput = Static<typeof AttributeRuleSchema>;
