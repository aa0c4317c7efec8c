import type { Webhook, WebhookSecrets } from '../../domain/types.js';
import { toWebhook, toWebhookSecrets } from '../rows.js';
import type { Db, WebhooksTable } from '../schema.js';
import { toPage, type Page, type PageRequest } from './page.js';

/** The fields a caller sets; ids, secrets and health bookkeeping are the repository's. */
export type WebhookFields = Omit<Webhook, 'id' | 'organizationId' | 'failingSince' | 'disabledReason' | 'createdAt' | 'updatedAt'>;

function fieldsToRow(fields: Partial<WebhookFields>): Partial<WebhooksTable> {
  const row: Partial<WebhooksTable> = {};
  if (fields.url !== undefined) row.url = fields.url;
  if (fields.kind !== undefined) row.kind = fields.kind;
  if (fields.description !== undefined) row.description = fields.description;
  if (fields.enabled !== undefined) row.enabled = fields.enabled ? 1 : 0;
  if (fields.events !== undefined) row.events = JSON.stringify(fields.events);
  if (fields.filters !== undefined) row.filters = JSON.stringify(fields.filters);
  if (fields.format !== undefined) row.format = fields.format;
  if (fields.headers !== undefined) row.headers = JSON.stringify(fields.headers);
  if (fields.rateLimit !== undefined) row.rate_limit = fields.rateLimit;
  if (fields.timeoutMs !== undefined) row.timeout_ms = fields.timeoutMs;
  if (fields.concurrency !== undefined) row.concurrency = fields.concurrency;
  if (fields.retry !== undefined) row.retry = fields.retry === null ? null : JSON.stringify(fields.retry);
  if (fields.signing !== undefined) row.signing = fields.signing;
  if (fields.metadata !== undefined) row.metadata = JSON.stringify(fields.metadata);
  return row;
}

export async function insertWebhook(
  db: Db,
  webhook: { id: string; organizationId: string; secret: string } & WebhookFields,
  now: number,
): Promise<Webhook> {
  const row = await db
    .insertInto('webhooks')
    .values({
      ...(fieldsToRow(webhook) as Omit<WebhooksTable, 'id'>),
      id: webhook.id,
      organization_id: webhook.organizationId,
      secret: webhook.secret,
      previous_secret: null,
      previous_secret_expires_at: null,
      failing_since: null,
      disabled_reason: null,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toWebhook(row);
}

export async function getWebhook(db: Db, organizationId: string, id: string): Promise<Webhook | null> {
  const row = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row ? toWebhook(row) : null;
}

/** A webhook with its secrets, for the sender. Not organization-scoped: internal use only. */
export async function getWebhookForDelivery(db: Db, id: string): Promise<{ webhook: Webhook; secrets: WebhookSecrets } | null> {
  const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? { webhook: toWebhook(row), secrets: toWebhookSecrets(row) } : null;
}

export async function getWebhookSecrets(db: Db, organizationId: string, id: string): Promise<WebhookSecrets | null> {
  const row = await db
    .selectFrom('webhooks')
    .select(['secret', 'previous_secret', 'previous_secret_expires_at'])
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row ? toWebhookSecrets(row) : null;
}

export async function listWebhooks(db: Db, organizationId: string, page: PageRequest): Promise<Page<Webhook>> {
  let query = db
    .selectFrom('webhooks')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('id')
    .limit(page.limit + 1);
  if (page.after !== null) query = query.where('id', '>', page.after);
  return toPage(await query.execute(), page.limit, (r) => r.id, toWebhook);
}

/** Every webhook of an organization, for matching an event at ingest. */
export async function listOrganizationWebhooks(db: Db, organizationId: string): Promise<Webhook[]> {
  const rows = await db.selectFrom('webhooks').selectAll().where('organization_id', '=', organizationId).execute();
  return rows.map(toWebhook);
}

export async function updateWebhook(
  db: Db,
  organizationId: string,
  id: string,
  patch: Partial<WebhookFields>,
  now: number,
): Promise<Webhook | null> {
  const row = await db
    .updateTable('webhooks')
    .set({
      ...fieldsToRow(patch),
      // Re-enabling clears the auto-disable bookkeeping: the webhook starts healthy.
      ...(patch.enabled === true ? { failing_since: null, disabled_reason: null } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .returningAll()
    .executeTakeFirst();
  return row ? toWebhook(row) : null;
}

/** The new secret signs at once; the old one keeps adding a signature until `graceUntil`. */
export async function rotateWebhookSecret(
  db: Db,
  organizationId: string,
  id: string,
  secret: string,
  graceUntil: number,
  now: number,
): Promise<boolean> {
  const current = await getWebhookSecrets(db, organizationId, id);
  if (!current) return false;
  await db
    .updateTable('webhooks')
    .set({ secret, previous_secret: current.current, previous_secret_expires_at: graceUntil, updated_at: now })
    .where('id', '=', id)
    .execute();
  return true;
}

export async function deleteWebhook(db: Db, organizationId: string, id: string, now: number): Promise<boolean> {
  const result = await db
    .deleteFrom('webhooks')
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) return false;
  // Its queued work goes with it; history stays until retention purges it.
  await db
    .updateTable('deliveries')
    .set({ status: 'cancelled', next_attempt_at: null, lease_owner: null, updated_at: now })
    .where('webhook_id', '=', id)
    .where('status', 'in', ['pending', 'skipped'])
    .execute();
  return true;
}

/** Every webhook id, for the dispatcher's periodic due-time scan. */
export async function listWebhookIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('webhooks').select('id').execute()).map((r) => r.id);
}
