import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are written against an untyped Kysely, as they must not depend on today's schema types */

const bigint = sql`bigint`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('updated_at', bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('event_types')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('group_name', 'text')
    .addColumn('schema', 'text')
    .addColumn('examples', 'text', (c) => c.notNull())
    .addColumn('deprecated', 'integer', (c) => c.notNull())
    .addColumn('archived', 'integer', (c) => c.notNull())
    .addColumn('format', 'text')
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('updated_at', bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('filters', 'text', (c) => c.notNull())
    .addColumn('format', 'text')
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('rate_limit', 'double precision')
    .addColumn('timeout_ms', 'integer')
    .addColumn('concurrency', 'integer')
    .addColumn('retry', 'text')
    .addColumn('signing', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', bigint)
    .addColumn('failing_since', bigint)
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('updated_at', bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_by_organization').on('webhooks').columns(['organization_id', 'id']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('time', bigint, (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('created_at', bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_by_organization').on('events').columns(['organization_id', 'id']).execute();
  await db.schema
    .createIndex('events_by_external_id')
    .on('events')
    .columns(['organization_id', 'external_id'])
    .unique()
    .where(sql<boolean>`external_id is not null`)
    .execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempt_count', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', bigint)
    .addColumn('lease_owner', 'text')
    .addColumn('event_time', bigint, (c) => c.notNull())
    .addColumn('failing', 'integer', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('updated_at', bigint, (c) => c.notNull())
    .execute();
  // The queue: the claim reads one webhook's due rows in due order. Only
  // pending rows are indexed, so millions of finished rows cost the claim nothing.
  await db.schema
    .createIndex('deliveries_due')
    .on('deliveries')
    .columns(['webhook_id', 'next_attempt_at'])
    .where(sql<boolean>`status = 'pending'`)
    .execute();
  // In-flight leases per webhook, for concurrency caps; a handful of rows at any time.
  await db.schema
    .createIndex('deliveries_leased')
    .on('deliveries')
    .columns(['webhook_id'])
    .where(sql<boolean>`status = 'pending' and lease_owner is not null`)
    .execute();
  await db.schema.createIndex('deliveries_by_organization').on('deliveries').columns(['organization_id', 'id']).execute();
  await db.schema.createIndex('deliveries_by_webhook').on('deliveries').columns(['webhook_id', 'id']).execute();
  await db.schema.createIndex('deliveries_by_event').on('deliveries').columns(['event_id']).execute();

  await db.schema
    .createTable('attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('attempt_number', 'integer', (c) => c.notNull())
    .addColumn('at', bigint, (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('request_url', 'text', (c) => c.notNull())
    .addColumn('request_headers', 'text', (c) => c.notNull())
    .addColumn('request_body', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_headers', 'text', (c) => c.notNull())
    .addColumn('response_body', 'text')
    .addColumn('error', 'text')
    .addColumn('error_message', 'text')
    .execute();
  await db.schema.createIndex('attempts_by_delivery').on('attempts').columns(['delivery_id', 'id']).execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('response_body', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_by_age').on('idempotency_keys').columns(['created_at']).execute();

  await db.schema
    .createTable('herald_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['herald_meta', 'idempotency_keys', 'attempts', 'deliveries', 'events', 'webhooks', 'event_types', 'organizations']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
