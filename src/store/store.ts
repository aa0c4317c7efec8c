import type { Logger } from 'pino';
import type { Db } from './schema.js';

/**
 * What differs between the stores, as named capabilities rather than
 * `if (sqlite)` checks scattered through the code.
 */
export interface StoreCapabilities {
  /**
   * Several processes share the queue: claims lock rows (`FOR UPDATE SKIP
   * LOCKED`) and count in-flight leases in the database, so per-webhook caps
   * hold across workers.
   */
  sharedQueue: boolean;
}

export interface Store {
  readonly db: Db;
  readonly dialect: 'sqlite' | 'postgres';
  readonly capabilities: StoreCapabilities;
  /**
   * A transaction whose commit need not reach the disk before it answers: it
   * survives a crash of Herald, but a power failure or OS crash may undo it.
   * Only for writes whose loss repeats work and loses nothing: claims (the
   * rows are due again) and settles (the delivery is sent again, which
   * at-least-once allows). Accepting an event always commits durably.
   */
  relaxedTransaction<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /** Tells other processes that these webhooks have work due now (a no-op for a one-process store). */
  announceDue(webhookIds: readonly string[]): Promise<void>;
  /**
   * Calls `onDue` when another process announces due work. The connection is
   * kept up (reconnecting with backoff); a lost announcement only delays work
   * until the next rescan. Answers a function that stops listening.
   */
  listenDue(onDue: (webhookIds: string[]) => void, log: Logger): Promise<() => Promise<void>>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
