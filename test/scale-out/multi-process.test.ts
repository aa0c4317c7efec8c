/**
 * Scale-out, nothing failing: 1 api + 3 worker processes on one PostgreSQL
 * database, 20 webhooks on healthy receivers, 10,000 events, each matching
 * exactly one webhook (attribute filter). Every delivery arrives exactly once,
 * and every worker did part of the work.
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

const EVENTS = 10_000;
const WEBHOOKS = 20;
const WORKERS = 3;
const IN_FLIGHT = 32;

describe('scale-out: 1 api + 3 workers', () => {
  let cluster: Cluster | null = null;
  const receivers: Receiver[] = [];
  const client = new Client();

  beforeAll(async () => {
    for (let i = 0; i < WEBHOOKS; i++) receivers.push(await startReceiver());
    cluster = await startCluster({ workers: WORKERS });
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    for (const receiver of receivers) await receiver.close();
    await client.close();
  }, 60_000);

  it('delivers 10,000 events to 20 webhooks, each once, with the work shared by every worker', async () => {
    const c = cluster!;
    const base = c.api.url;
    const webhookIndex = await setupShardedWebhooks(client, base, receivers);
    const ledger = new Ledger(receivers, webhookIndex);

    const started = Date.now();
    const outcomes = await postEvents(
      client,
      base,
      Array.from({ length: EVENTS }, (_, i) => i),
      { inFlight: IN_FLIGHT, shards: WEBHOOKS },
    );
    const postedAt = Date.now();
    const failures = outcomes.filter((o) => o.kind !== 'accepted');
    expect(failures.slice(0, 5), `${failures.length} posts were not accepted`).toEqual([]);
    for (const o of outcomes) if (o.kind === 'accepted') ledger.expect(o.seq, o.event);
    expect(ledger.expectedCount).toBe(EVENTS);

    const arrived = await waitUntil(() => ledger.missing() === 0, 90_000, 200);
    const arrivedAt = Date.now();
    const settled = await waitUntil(async () => (await pendingDeliveries(c.database.url)) === 0, 30_000, 200);
    const perWorker = await Promise.all(c.workers.map((w) => deliveriesMetric(client, w.url)));
    const byApi = await deliveriesMetric(client, base);
    const { duplicates, strangers, mismatches } = ledger.audit();
    const perReceiver = receivers.map((r) => r.requests.length);

    console.log(
      `multi-process: ${EVENTS} events to ${WEBHOOKS} webhooks via 1 api + ${WORKERS} workers; ` +
        `${ledger.received()} requests received, ${ledger.arrived()} distinct, ${duplicates} duplicates, ${ledger.missing()} missing, ` +
        `${strangers} strangers; deliveries per worker ${perWorker.join('/')} (api ${byApi}); ` +
        `per receiver ${Math.min(...perReceiver)}–${Math.max(...perReceiver)}; ` +
        `posted in ${seconds(postedAt - started)} (${Math.round(EVENTS / ((postedAt - started) / 1000))}/s), ` +
        `all arrived at ${seconds(arrivedAt - started)}`,
    );

    const errors = c.all().map((p) => logProblems(p, 50));
    for (const [i, { count, messages }] of errors.entries()) {
      if (count > 0) console.log(`${i === 0 ? 'api' : `worker ${i - 1}`} logged ${count} errors:`, JSON.stringify([...messages].slice(0, 5)));
    }

    expect(arrived, `deliveries missing after 90 s: ${ledger.missing()}`).toBe(true);
    expect(ledger.missing()).toBe(0);
    expect(strangers, 'requests for deliveries nobody created').toBe(0);
    expect(mismatches, 'requests whose body is not the event of their delivery id').toBe(0);
    // Nothing failed, so at-least-once should have been exactly once.
    expect(duplicates, 'duplicate deliveries although nothing failed').toBe(0);
    expect(settled, 'deliveries still pending in the database').toBe(true);

    // Nothing failed, so no process logged an error (a claim deadlock between workers would show here).
    expect(errors.map((e) => e.count), 'error log lines per process (api, workers)').toEqual(errors.map(() => 0));

    // The work was shared: every worker delivered some of it, the api process none.
    for (const [i, count] of perWorker.entries()) expect(count, `worker ${i} /metrics herald_deliveries_total`).toBeGreaterThan(0);
    expect(perWorker.reduce<number>((sum, n) => sum + (n ?? 0), 0), 'settled deliveries over all workers').toBe(EVENTS);
    expect(byApi ?? 0).toBe(0);

    for (const [i, worker] of c.all().entries()) {
      expect(worker.process.exitCode, `process ${i} exited:\n${tail(worker)}`).toBeNull();
    }
  }, 240_000);
});
