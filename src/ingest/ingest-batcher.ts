import type { EventType } from '../domain/types.js';
import type { Db } from '../store/schema.js';
import { recordEvent, recordEvents, type EventInput, type IngestResult } from './ingest.js';

interface Pending {
  input: EventInput;
  type: EventType;
  now: number;
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: events that arrive while a transaction is being written are
 * written together in the next one. Each request still gets its answer only
 * after its own event is committed, so nothing is acknowledged before it is
 * durable, but many requests share one fsync.
 */
export class IngestBatcher {
  readonly #db: Db;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #scheduled = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(db: Db, options: { maxBatch?: number } = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 500;
  }

  submit(input: EventInput, type: EventType, now: number): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, type, now, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // Let the requests already read in this turn of the event loop join the batch.
        setImmediate(() => {
          this.#scheduled = false;
          this.#writing = this.#writing.then(() => this.#flush());
        });
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        // One transaction, a few multi-row statements for the whole batch.
        const results = await this.#db.transaction().execute((trx) => recordEvents(trx, batch));
        batch.forEach((item, i) => item.resolve(results[i] as IngestResult));
      } catch {
        // One failing event must not fail its neighbours: write each on its own.
        for (const item of batch) {
          try {
            item.resolve(await this.#db.transaction().execute((trx) => recordEvent(trx, item.input, item.type, item.now)));
          } catch (error) {
            item.reject(error);
          }
        }
      }
    }
  }
}
