/**
 * A per-webhook concurrency cap holds across processes: one webhook with
 * `concurrency: 2`, a slow receiver (100 ms a request) and 3 worker processes
 * competing for its backlog. The receiver never sees more than 2 requests at
 * once, and every event arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import {
  Client,
  Ledger,
  deliveriesMetric,
  logProblems,
  pendingDeliveries,
  postEvents,
  seconds,
  setupShardedWebhooks,
  startCluster,
  tail,
  waitUntil,
  type Cluster,
} from './cluster.js';

const EVENTS = 60;
const CAP = 2;
const RECEIVER_DELAY_MS = 100;
const WORKERS = 3;

describe('scale-out: a concurrency cap shared by 3 workers', () => {
  let cluster: Cluster | null = null;
  let receiver: Receiver | null = null;
  const client = new Client();

  beforeAll(async () => {
    receiver = await startReceiver();
    receiver.respond({ kind: 'delay', ms: RECEIVER_DELAY_MS, status: 200 });
    // A short poll interval: idle workers come back for the backlog often, so they really compete for the two slots.
    cluster = await startCluster({ workers: WORKERS, env: { HERALD_POLL_INTERVAL_MS: '100' } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    await receiver?.close();
    await client.close();
  }, 60_000);

  it('never has more than 2 requests in flight at the receiver, and delivers all', async () => {
    const c = cluster!;
    const r = receiver!;
    const base = c.api.url;
    const webhookIndex = await setupShardedWebhooks(client, base, [r], { concurrency: CAP });
    const ledger = new Ledger([r], webhookIndex);

    const started = Date.now();
    const outcomes = await postEvents(
      client,
      base,
      Array.from({ length: EVENTS }, (_, i) => i),
      { inFlight: 8, shards: 1 },
    );
    const failures = outcomes.filter((o) => o.kind !== 'accepted');
    expect(failures, 'posts that were not accepted').toEqual([]);
    for (const o of outcomes) if (o.kind === 'accepted') ledger.expect(o.seq, o.event);

    const arrived = await waitUntil(() => ledger.missing() === 0, 60_000, 100);
    const arrivedAt = Date.now();
    const settled = await waitUntil(async () => (await pendingDeliveries(c.database.url)) === 0, 30_000, 100);
    const perWorker = await Promise.all(c.workers.map((w) => deliveriesMetric(client, w.url)));
    const { duplicates, strangers } = ledger.audit();

    console.log(
      `shared cap: ${EVENTS} events to one webhook with concurrency ${CAP}, receiver ${RECEIVER_DELAY_MS} ms a request, ${WORKERS} workers; ` +
        `receiver max concurrent ${r.maxActive}; ${ledger.received()} requests received, ${duplicates} duplicates, ${ledger.missing()} missing; ` +
        `deliveries per worker ${perWorker.join('/')}; all arrived at ${seconds(arrivedAt - started)} ` +
        `(at least ${seconds((EVENTS / CAP) * RECEIVER_DELAY_MS)} at the cap)`,
    );

    expect(r.maxActive, 'concurrent requests at the receiver').toBeLessThanOrEqual(CAP);
    expect(arrived, `deliveries missing after 60 s: ${ledger.missing()}`).toBe(true);
    expect(ledger.missing()).toBe(0);
    expect(strangers).toBe(0);
    expect(duplicates, 'duplicate deliveries although nothing failed').toBe(0);
    expect(settled, 'deliveries still pending in the database').toBe(true);
    // The cap was shared, not held by one worker alone: more than one process delivered to the webhook.
    expect(perWorker.filter((n) => (n ?? 0) > 0).length, 'workers that delivered to the capped webhook').toBeGreaterThanOrEqual(2);
    expect(perWorker.reduce<number>((sum, n) => sum + (n ?? 0), 0), 'settled deliveries over all workers').toBe(EVENTS);
    for (const [i, p] of c.all().entries()) {
      expect(p.process.exitCode, `process ${i} exited:\n${tail(p)}`).toBeNull();
      expect(logProblems(p, 50).count, `process ${i} logged errors:\n${tail(p)}`).toBe(0);
    }
  }, 120_000);
});
