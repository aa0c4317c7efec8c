import type { Clock } from '../clock.js';
import type { HeraldConfig } from '../config.js';
import type { Catalog } from '../ingest/catalog.js';
import type { IngestBatcher } from '../ingest/ingest-batcher.js';
import type { Metrics } from '../metrics.js';
import type { Profile } from '../profile/load-profile.js';
import type { Keyring } from '../encryption/keyring.js';
import type { TargetGuard } from '../ssrf/target-guard.js';
import type { Db } from '../store/schema.js';
import type { TokenResolver } from './auth.js';
import type { OrganizationTokens } from './organization-tokens.js';

/** Everything the routes use, handed over by the composition root. */
export interface ApiContext {
  db: Db;
  catalog: Catalog;
  ingest: IngestBatcher;
  profile: Profile;
  clock: Clock;
  config: HeraldConfig;
  metrics: Metrics;
  version: string;
  resolveToken: TokenResolver;
  /** Organization tokens (their cache forgets revoked ones). */
  organizationTokens: OrganizationTokens;
  /** Seals and opens webhook secrets (stored encrypted). */
  keyring: Keyring;
  /** The SSRF guard, to refuse a webhook URL whose host is or resolves to a refused address. */
  targets: TargetGuard;
  /** A webhook changed: caches forget it, the dispatcher rescans it. */
  webhookChanged(webhookId: string): void;
  /** Deliveries for these webhooks became due now. */
  deliveriesQueued(webhookIds: Iterable<string>): void;
  /** The store answers. */
  isReady(): Promise<boolean>;
}
