import { resolveEventAttributes } from '../domain/attributes.js';
import { newId } from '../domain/ids.js';
import { webhookMatches } from '../domain/matching.js';
import type { EventType, HeraldEvent, JsonValue, Webhook } from '../domain/types.js';
import { HeraldError } from '../errors.js';
import { insertEventWithDeliveries, insertEventsWithDeliveries, findEventByExternalId, type NewDelivery } from '../store/repositories/events.js';
import { listDeliveriesOfEvent } from '../store/repositories/deliveries.js';
import { ensureOrganization } from '../store/repositories/organizations.js';
import { listOrganizationWebhooks } from '../store/repositories/webhooks.js';
import type { Db } from '../store/schema.js';
import type { Catalog } from './catalog.js';
import type { IngestBatcher } from './ingest-batcher.js';

export interface EventInput {
  organizationId: string;
  type: string;
  data: JsonValue;
  attributes?: Record<string, string>;
  /** The operator's own id: posting it again returns the first event. */
  externalId?: string | null;
  time?: number | null;
}

export interface IngestResult {
  event: HeraldEvent;
  deliveries: { id: string; webhookId: string }[];
  /** False when the event existed already (same operator id). */
  created: boolean;
}

/** Checks an event against the catalog; throws the API's 422 answers. */
export async function validateEvent(catalog: Catalog, input: EventInput): Promise<EventType> {
  const type = await catalog.get(input.type);
  if (!type || type.archived) {
    throw new HeraldError(422, 'unknown_event_type', `event type ${JSON.stringify(input.type)} is not in the catalog`);
  }
  const problems = await catalog.validate(input.type, input.data);
  if (problems.length > 0) {
    throw new HeraldError(
      422,
      'schema_violation',
      `data does not match the schema of ${input.type}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      problems,
    );
  }
  return type;
}

/**
 * Applies the profile's attribute rules (DESIGN.md "Profiles", `attributes:`): fills declared
 * attributes from the data, resolves aliases and checks values and the type's availability
 * (e.g. a Convocore-only type for a `vf` agent). Throws the API's 422 answers.
 */
export function resolveAttributes(catalog: Pick<Catalog, 'attributeRules'>, type: EventType, input: EventInput): EventInput {
  const rules = catalog.attributeRules;
  if (Object.keys(rules).length === 0) return input;
  const { attributes, problems } = resolveEventAttributes(rules, type, input.attributes ?? {}, input.data);
  const first = problems[0];
  if (first) {
    throw new HeraldError(422, first.code, problems.map((p) => p.message).join('; '), problems.map(({ path, message }) => ({ path, message })));
  }
  return { ...input, attributes };
}

/** Picks the webhooks an event goes to: enabled ones get a pending delivery, disabled ones a skipped one. */
export function planDeliveries(
  webhooks: readonly Webhook[],
  event: Pick<HeraldEvent, 'type' | 'attributes'>,
  type: EventType,
  now: number,
): NewDelivery[] {
  const planned: NewDelivery[] = [];
  for (const webhook of webhooks) {
    if (!webhookMatches(webhook, event, type)) continue;
    planned.push({
      id: newId('dlv'),
      webhook_id: webhook.id,
      status: webhook.enabled ? 'pending' : 'skipped',
      next_attempt_at: webhook.enabled ? now : null,
    });
  }
  return planned;
}

/**
 * Records an event and one delivery per matching webhook, in the caller's
 * transaction: when this returns and the transaction commits, the event is
 * durable and queued, never one without the other.
 */
export async function recordEvent(
  trx: Db,
  input: EventInput,
  type: EventType,
  now: number,
  options: { onlyTo?: Webhook } = {},
): Promise<IngestResult> {
  if (input.externalId) {
    const existing = await findEventByExternalId(trx, input.organizationId, input.externalId);
    if (existing) {
      const deliveries = await listDeliveriesOfEvent(trx, existing.id);
      return { event: existing, deliveries: deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId })), created: false };
    }
  }
  await ensureOrganization(trx, input.organizationId, now);
  const event: HeraldEvent = {
    id: newId('evt'),
    organizationId: input.organizationId,
    type: input.type,
    data: input.data,
    attributes: input.attributes ?? {},
    time: input.time ?? now,
    externalId: input.externalId ?? null,
    createdAt: now,
  };
  // A test event goes to the one webhook it was sent for, whatever its subscriptions.
  const planned = options.onlyTo
    ? [{ id: newId('dlv'), webhook_id: options.onlyTo.id, status: 'pending', next_attempt_at: now }]
    : planDeliveries(await listOrganizationWebhooks(trx, input.organizationId), event, type, now);
  await insertEventWithDeliveries(trx, event, planned);
  return { event, deliveries: planned.map((d) => ({ id: d.id, webhookId: d.webhook_id })), created: true };
}

/**
 * Records a batch of events in the caller's transaction, with the same outcome
 * as `recordEvent` for each in turn, in fewer statements: events without an
 * operator id (the common case) are written with one multi-row insert per
 * table, and each organization's webhooks are read once.
 */
export async function recordEvents(
  trx: Db,
  items: readonly { input: EventInput; type: EventType; now: number }[],
): Promise<IngestResult[]> {
  const results: IngestResult[] = new Array<IngestResult>(items.length);
  const bulk: { index: number; event: HeraldEvent; deliveries: NewDelivery[] }[] = [];
  const webhooksOf = new Map<string, Webhook[]>();
  for (let index = 0; index < items.length; index++) {
    const { input, type, now } = items[index]!;
    // An operator id may repeat within the batch: those keep the one-at-a-time path, in order.
    if (input.externalId) {
      results[index] = await recordEvent(trx, input, type, now);
      continue;
    }
    let webhooks = webhooksOf.get(input.organizationId);
    if (!webhooks) {
      await ensureOrganization(trx, input.organizationId, now);
      webhooks = await listOrganizationWebhooks(trx, input.organizationId);
      webhooksOf.set(input.organizationId, webhooks);
    }
    const event: HeraldEvent = {
      id: newId('evt'),
      organizationId: input.organizationId,
      type: input.type,
      data: input.data,
      attributes: input.attributes ?? {},
      time: input.time ?? now,
      externalId: null,
      createdAt: now,
    };
    bulk.push({ index, event, deliveries: planDeliveries(webhooks, event, type, now) });
  }
  await insertEventsWithDeliveries(trx, bulk);
  for (const { index, event, deliveries } of bulk) {
    results[index] = { event, deliveries: deliveries.map((d) => ({ id: d.id, webhookId: d.webhook_id })), created: true };
  }
  return results;
}

/** Validates, then records (through the batcher's shared transaction). */
export async function ingestEvent(batcher: IngestBatcher, catalog: Catalog, input: EventInput, now: number): Promise<IngestResult> {
  const type = await validateEvent(catalog, input);
  return batcher.submit(resolveAttributes(catalog, type, input), type, now);
}
