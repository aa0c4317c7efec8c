/**
 * The composition root: builds one Herald (store, catalog, API, dispatcher,
 * retention) from a resolved config. Nothing else wires modules together.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino, { type Logger } from 'pino';
import { adminTokenResolver, chainResolvers } from './api/auth.js';
import { OrganizationTokens } from './api/organization-tokens.js';
import { buildApi, type HeraldApi } from './api/app.js';
import { systemClock, type Clock } from './clock.js';
import type { HeraldConfig } from './config.js';
import { coerceError } from './errors.js';
import type { Keyring } from './encryption/keyring.js';
import { loadKeyring } from './encryption/load-keyring.js';
import { prepareSecretsAtRest } from './encryption/secrets-at-rest.js';
import { deliverBatch, type ClaimedWork } from './delivery/deliver-batch.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { OPERATIONAL_EVENT_TYPES, SYSTEM_ORGANIZATION_ID } from './delivery/operational-events.js';
import { RequestRenderer } from './delivery/render-request.js';
import { startRetention } from './delivery/retention.js';
import { createSender, type Sender } from './delivery/sender.js';
import { Settler } from './delivery/settler.js';
import { WebhookCache } from './delivery/webhook-cache.js';
import { Catalog } from './ingest/catalog.js';
import { IngestBatcher } from './ingest/ingest-batcher.js';
import { Metrics } from './metrics.js';
import { loadProfile, type Profile } from './profile/load-profile.js';
import { migrateOrThrow } from './store/migrations/index.js';
import { claimDueMany } from './store/queue/claim-due.js';
import { nextDueTimes } from './store/queue/due-times.js';
import { releaseLeases } from './store/queue/release-leases.js';
import { getEventsByIds } from './store/repositories/events.js';
import { syncCatalog } from './store/repositories/event-types.js';
import { ensureOrganization, getOrganization } from './store/repositories/organizations.js';
import { getWebhookForDelivery } from './store/repositories/webhooks.js';
import type { Db } from './store/schema.js';
import { openStore } from './store/open-store.js';
import { TargetGuard, type LookupAll } from './ssrf/target-guard.js';
import { VERSION } from './version.js';

export interface HeraldOptions {
  config: HeraldConfig;
  clock?: Clock;
  logger?: Logger;
  /** Replaces the HTTP sender (the SSRF guard wraps it; tests may observe it). */
  sender?: Sender;
  /** Replaces the DNS lookup of the SSRF guard (tests resolve names without asking a DNS server). */
  lookup?: LookupAll;
}

export interface Herald {
  readonly config: HeraldConfig;
  readonly profile: Profile;
  readonly db: Db;
  readonly api: HeraldApi;
  readonly dispatcher: Dispatcher | null;
  readonly adminToken: string;
  /** Set once `start` listens. */
  url: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const OPERATOR_WEBHOOK_ID = 'whk_operator';
/** Advisory lock key for start-up writes on a shared database. */
const STARTUP_LOCK = 7_243_021;

export function createLogger(level: HeraldConfig['logLevel']): Logger {
  // Pretty lines for a person at a terminal, JSON lines for everything else.
  if (process.stdout.isTTY && level !== 'silent') {
    return pino({ level, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino({ level });
}

/** The admin token: from config, else the one saved in the data dir, else a new one saved there. */
function resolveAdminToken(config: HeraldConfig, log: Logger): string {
  if (config.adminToken) return config.adminToken;
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const token = `hrld_admin_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  log.info({ file }, 'created the admin token');
  // Printed once, to the terminal, so a newcomer can copy it; it is also in the file.
  process.stderr.write(`\nHerald admin token (saved in ${file}):\n\n  ${token}\n\n`);
  return token;
}

/** Keeps the operator's operational webhook in step with the config. */
async function syncOperatorWebhook(db: Db, config: HeraldConfig, now: number, keyring: Keyring): Promise<void> {
  await ensureOrganization(db, SYSTEM_ORGANIZATION_ID, now);
  const hook = config.operatorWebhook;
  if (!hook) {
    await db.deleteFrom('webhooks').where('id', '=', OPERATOR_WEBHOOK_ID).execute();
    return;
  }
  const row = {
    organization_id: SYSTEM_ORGANIZATION_ID,
    url: hook.url,
    kind: 'standard',
    description: 'Herald operational events',
    enabled: 1,
    events: JSON.stringify(['herald.*']),
    filters: '{}',
    format: null,
    headers: '{}',
    rate_limit: null,
    timeout_ms: null,
    concurrency: null,
    retry: null,
    signing: 'hmac',
    metadata: '{}',
    secret: keyring.seal(hook.secret, OPERATOR_WEBHOOK_ID),
    previous_secret: null,
    previous_secret_expires_at: null,
    failing_since: null,
    disabled_reason: null,
    updated_at: now,
  };
  await db
    .insertInto('webhooks')
    .values({ ...row, id: OPERATOR_WEBHOOK_ID, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
}

export async function createHerald(options: HeraldOptions): Promise<Herald> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger(config.logLevel);
  const profile = loadProfile(config.profile);
  // Before the store opens: a PostgreSQL deployment without HERALD_ENCRYPTION_KEY stops here.
  const { keyring, source: keySource } = loadKeyring(config, log);
  const store = await openStore(config, log);
  const db = store.db;
  await migrateOrThrow(db);
  const now = clock.now();
  // Processes starting together on one database take turns writing the catalog.
  await db
    .transaction()
    .execute(async (trx) => {
      if (store.capabilities.sharedQueue) await sql`select pg_advisory_xact_lock(${STARTUP_LOCK})`.execute(trx);
      // A wrong encryption key stops the start here, before anything is signed with garbage.
      const { sealed } = await prepareSecretsAtRest(trx, keyring, keySource);
      if (sealed > 0) log.info({ webhooks: sealed }, 'encrypted webhook secrets that were stored in clear');
      await syncCatalog(trx, profile.catalog, 'profile', now);
      await syncCatalog(trx, OPERATIONAL_EVENT_TYPES, 'system', now);
      await syncOperatorWebhook(trx, config, now, keyring);
    })
    .catch(async (error: unknown) => {
      await store.close();
      throw error;
    });
  if (config.allowPrivateNetworks.length > 0) {
    log.warn(
      { allowPrivateNetworks: config.allowPrivateNetworks },
      'webhooks may reach these private networks (SSRF guard allow-list): fine for local development, rarely what a production deployment wants',
    );
  }
  const targets = new TargetGuard({ allow: config.allowPrivateNetworks, ...(options.lookup ? { lookup: options.lookup } : {}) });

  const adminToken = resolveAdminToken(config, log);
  const catalog = new Catalog(db, { attributeRules: profile.attributes });
  await catalog.reload();
  // Secrets are stored sealed; the cache holds them opened, for signing.
  const webhooks = new WebhookCache(async (id) => {
    const found = await getWebhookForDelivery(db, id);
    if (!found) return null;
    const { secrets } = found;
    return {
      webhook: found.webhook,
      secrets: {
        current: keyring.open(secrets.current, id),
        previous: secrets.previous === null ? null : keyring.open(secrets.previous, id),
        previousExpiresAt: secrets.previousExpiresAt,
      },
    };
  });
  const organizations = new Map<string, { value: Awaited<ReturnType<typeof getOrganization>>; at: number }>();
  const loadOrganization = async (id: string) => {
    const hit = organizations.get(id);
    if (hit && Date.now() - hit.at < 5_000) return hit.value;
    const value = await getOrganization(db, id);
    organizations.set(id, { value, at: Date.now() });
    return value;
  };

  let dispatcher: Dispatcher<ClaimedWork> | null = null;
  let settler: Settler | null = null;
  const metrics = new Metrics({
    inFlight: () => dispatcher?.inFlight ?? 0,
    queueDepth: async () => {
      const row = await db
        .selectFrom('deliveries')
        .select(sql<number>`count(*)`.as('n'))
        .where(sql<boolean>`status = 'pending'`)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  });

  const sender = options.sender ?? createSender({ responseBodyLimitBytes: config.responseBodyLimitBytes, connect: targets.connector() });
  const works = config.role === 'all' || config.role === 'worker';
  const serves = config.role === 'all' || config.role === 'api';

  if (works) {
    const batchSettler = new Settler((fn) => store.relaxedTransaction(fn), clock, log, {
      onDisabled: (ids) => ids.forEach((id) => webhooks.invalidate(id)),
      onQueued: (ids) => dispatcher?.notify(ids),
      onSettled: (item) => {
        if (item.kind === 'park') metrics.deliveries.inc({ outcome: item.status });
        else metrics.deliveries.inc({ outcome: item.input.settlement.kind });
      },
    });
    settler = batchSettler;
    const renderer = new RequestRenderer(profile, { userAgent: `Herald/${VERSION}`, systemOrganizationId: SYSTEM_ORGANIZATION_ID });
    const deps = {
      loadOrganization,
      webhooks,
      catalog,
      renderer,
      sender,
      settler: batchSettler,
      policy: profile.delivery,
      autoDisableAfterS: config.autoDisableAfterS,
      clock,
      onAttempt: (r: { durationMs: number; error: string | null; status: number | null }) =>
        metrics.attemptDuration.observe({ result: r.error ?? String(r.status) }, r.durationMs / 1000),
    };
    dispatcher = new Dispatcher(
      {
        claim: async (requests, at, lease) => {
          const claimed = await store.relaxedTransaction((trx) =>
            claimDueMany(trx, requests, { now: at, leaseMs: config.dispatcher.leaseMs, lease, shared: store.capabilities.sharedQueue }),
          );
          if (claimed.length === 0) return [];
          // Read after the claim commits, so the claim's locks are held no longer than needed.
          const events = new Map((await getEventsByIds(db, [...new Set(claimed.map((d) => d.eventId))])).map((e) => [e.id, e]));
          return claimed.map((d) => ({ ...d, event: events.get(d.eventId) ?? null }));
        },
        dueTimes: (ids) => nextDueTimes(db, ids),
        limits: async (id) => {
          const cached = webhooks.peek(id) ?? (await webhooks.get(id));
          if (!cached || !cached.webhook.enabled) return null;
          return { concurrency: cached.webhook.concurrency ?? profile.delivery.concurrency, rateLimit: cached.webhook.rateLimit };
        },
        deliver: (batch, onSettled) => deliverBatch(deps, batch, onSettled),
        release: async (leases, at) => {
          await batchSettler.drain();
          await releaseLeases(db, leases, at);
        },
      },
      { ...config.dispatcher, sharedQueue: store.capabilities.sharedQueue },
      clock,
      log.child({ component: 'dispatcher' }),
    );
  }

  // Other processes (workers) hear about new work through the store; a lost announcement only delays it.
  const announce = (ids: Iterable<string>): void => {
    if (!store.capabilities.sharedQueue) return;
    store.announceDue([...ids]).catch((error: unknown) => log.warn({ err: coerceError(error) }, 'could not announce due work'));
  };

  const organizationTokens = new OrganizationTokens(db, clock);
  const api = await buildApi(
    {
      db,
      catalog,
      ingest: new IngestBatcher(db),
      profile,
      clock,
      config,
      metrics,
      version: VERSION,
      resolveToken: chainResolvers(adminTokenResolver(adminToken), organizationTokens.resolve),
      organizationTokens,
      keyring,
      targets,
      webhookChanged: (id) => {
        webhooks.invalidate(id);
        dispatcher?.notify([id]);
        announce([id]);
      },
      deliveriesQueued: (ids) => {
        dispatcher?.notify(ids);
        announce(ids);
      },
      isReady: async () => {
        await store.ping();
        return true;
      },
    },
    { logger: log, surface: serves ? 'full' : 'operations' },
  );

  let retention: { stop(): Promise<void> } | null = null;
  let stopListening: (() => Promise<void>) | null = null;
  const herald: Herald = {
    config,
    profile,
    db,
    api,
    dispatcher,
    adminToken,
    url: null,
    async start() {
      // Workers listen too, for /healthz, /readyz and /metrics only.
      const address = await api.listen({ host: config.host, port: config.port });
      herald.url = address;
      log.info({ url: address, profile: profile.name, role: config.role }, 'Herald is listening');
      if (dispatcher && store.capabilities.sharedQueue) {
        const d = dispatcher;
        stopListening = await store.listenDue((ids) => (ids.length > 0 ? d.notify(ids) : d.rescanSoon()), log.child({ component: 'listen' }));
      }
      dispatcher?.start();
      if (works) retention = startRetention(db, clock, log.child({ component: 'retention' }), { retentionDays: config.retentionDays, shared: store.capabilities.sharedQueue });
    },
    async stop() {
      // Stop taking requests first, then let in-flight attempts finish, then close the store.
      await api.close();
      await stopListening?.();
      await dispatcher?.stop();
      await retention?.stop();
      // Attempts still running after the grace period are abandoned (their leases were given
      // back); their late settles are fenced out by the lease.
      await sender.destroy();
      await settler?.drain();
      await store.close();
    },
  };
  return herald;
}
