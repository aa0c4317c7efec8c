import type { Clock } from '../clock.js';
import type { HeraldConfig } from '../config.js';
import type { Catalog } from '../ingest/catalog.js';
import type { IngestBatcher } from '../ingest/ingest-batcher.js';
import type { Metrics } from '../metrics.js';
import type { Profile } from '../profile/load-profile.js';
import type { Db } from '../store/schema.js';
import type { TokenResolver } from './auth.js';

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
  /** A webhook changed: caches forget it, the dispatcher rescans it. */
  webhookChanged(webhookId: string): void;
  /** Deliveries for these webhooks became due now. */
  deliveriesQueued(webhookIds: Iterable<string>): void;
  /** The store answers. */
  isReady(): Promise<boolean>;
}
