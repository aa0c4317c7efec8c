/**
 * Scale-out under a crash: 1 api + 3 worker processes deliver 3,000 events to
 * 20 webhooks; one worker is SIGKILLed mid-run (some deliveries arrived, not
 * all). Its leases end after HERALD_LEASE_MS and the other workers take the
 * deliveries over: every accepted event still arrives (duplicates allowed,
 * counted and printed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import {
  Client,
  Ledger,
  deliveriesMetric,
  pendingDeliveries,
  queryDatabase,
  scrapeMetrics,
  postEvents,
  seconds,
  setupShardedWebhooks,
  sleep,
  startCluster,
  tail,
  waitUntil,
  type Cluster,
} from './cluster.js';

const EVENTS = 3_000;
const WEBHOOKS = 20;
const WORKERS = 3;
const IN_FLIGHT = 32;
/** Kill once this many deliveries have arrived: well after delivery started, well before it ends. */
const KILL_AFTER = 800;
const LEASE_MS = 5_000;

describe('scale-out: a worker SIGKILLed mid-run', () => {
  let cluster: Cluster | null = null;
  const receivers: Receiver[] = [];
  const client = new Client();

  beforeAll(async () => {
    for (let i = 0; i < WEBHOOKS; i++) {
      const receiver = await startReceiver();
      // Slow-ish, like real endpoints (100–300 ms), so each worker has requests in flight when one is killed.
      receiver.respond(() => ({ kind: 'delay', ms: 100 + Math.floor(Math.random() * 201), status: 200 }));
      receivers.push(receiver);
    }
    cluster = await startCluster({ workers: WORKERS, env: { HERALD_LEASE_MS: String(LEASE_MS), HERALD_POLL_INTERVAL_MS: '300' } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    for (const receiver of receivers) await receiver.close();
    await client.close();
  }, 60_000);

  it('delivers every accepted event although a worker dies', async () => {
    const c = cluster!;
    const base = c.api.url;
    const webhookIndex = await setupShardedWebhooks(client, base, receivers);
    const ledger = new Ledger(receivers, webhookIndex);
    const victim = c.workers[0]!;
    const survivors = c.workers.slice(1);

    const started = Date.now();
    let killedAt: number | null = null;
    let atKill = 0;
    let victimDelivered: number | null = null;
    let orphaned = 0;
    let victimInFlight = 0;
    let leasedAtKill = 0;
    const killer = (async () => {
      // Bounded: if delivery never gets going the test fails here rather than hang.
      const going = await waitUntil(() => ledger.arrived() >= KILL_AFTER, 60_000, 5);
      if (!going) throw new Error(`only ${ledger.arrived()} deliveries after 60 s; cannot time the kill`);
      // Kill it while it has attempts in flight (right after seeing them), so there is something to take over.
      await waitUntil(
        async () => {
          const metrics = await scrapeMetrics(client, victim.url);
          victimInFlight = metrics?.get('herald_attempts_in_flight') ?? 0;
          victimDelivered = metrics?.get('herald_deliveries_total') ?? null;
          return victimInFlight > 0;
        },
        20_000,
        10,
      );
      atKill = ledger.arrived();
      killedAt = Date.now();
      await victim.kill();
      // Leases held now: the dead worker's stay until they run out; the live workers' settle within a request's time.
      const leased = await queryDatabase<{ lease_owner: string; n: string }>(
        c.database.url,
        `select lease_owner, count(*) as n from deliveries where status = 'pending' and lease_owner is not null group by lease_owner`,
      );
      leasedAtKill = leased.reduce((n, row) => n + Number(row.n), 0);
      await sleep(3_000);
      const stillLeased = await queryDatabase<{ n: string }>(
        c.database.url,
        `select count(*) as n from deliveries where status = 'pending' and lease_owner = any($1)`,
        [leased.map((row) => row.lease_owner)],
      );
      orphaned = Number(stillLeased[0]?.n ?? 0);
    })();
    const outcomes = await postEvents(
      client,
      base,
      Array.from({ length: EVENTS }, (_, i) => i),
      { inFlight: IN_FLIGHT, shards: WEBHOOKS },
    );
    const postedAt = Date.now();
    await killer;
    const exit = await victim.exited;
    expect(exit.signal).toBe('SIGKILL');

    // The api process was not touched: everything is accepted.
    const failures = outcomes.filter((o) => o.kind !== 'accepted');
    expect(failures.slice(0, 5), `${failures.length} posts were not accepted`).toEqual([]);
    for (const o of outcomes) if (o.kind === 'accepted') ledger.expect(o.seq, o.event);
    expect(ledger.expectedCount).toBe(EVENTS);

    const arrived = await waitUntil(() => ledger.missing() === 0, 60_000, 200);
    const arrivedAt = Date.now();
    const settled = await waitUntil(async () => (await pendingDeliveries(c.database.url)) === 0, 30_000, 200);
    const survivorCounts = await Promise.all(survivors.map((w) => deliveriesMetric(client, w.url)));
    const { duplicates, strangers, mismatches } = ledger.audit();
    // Where duplicates come from: a request the killed worker sent but never recorded (the attempt log has
    // fewer attempts than the receiver got requests), or a lease that ran out under a live worker (both recorded).
    const duplicated = ledger.duplicated();
    const recorded = await queryDatabase<{ delivery_id: string; n: string }>(
      c.database.url,
      'select delivery_id, count(*) as n from attempts where delivery_id = any($1) group by delivery_id',
      [[...duplicated.keys()]],
    );
    const attemptsOf = new Map(recorded.map((row) => [row.delivery_id, Number(row.n)]));
    let unrecorded = 0;
    for (const [id, received] of duplicated) unrecorded += Math.max(0, received - (attemptsOf.get(id) ?? 0));

    console.log(
      `worker kill: ${EVENTS} events to ${WEBHOOKS} webhooks via 1 api + ${WORKERS} workers; worker 0 SIGKILLed at ${seconds(killedAt! - started)} ` +
        `after ${atKill} deliveries had arrived (${victimDelivered ?? '?'} settled by it, ${victimInFlight} in flight in it; ${leasedAtKill} deliveries leased just after the kill, ${orphaned} of them still leased 3 s later: the dead worker's, taken over when its leases ran out); ` +
        `${ledger.received()} requests received, ${ledger.arrived()} distinct, ${duplicates} duplicates (${duplicated.size} deliveries; ${unrecorded} requests the killed worker sent but never recorded, ${duplicates - unrecorded} recorded re-sends), ${ledger.missing()} missing, ${strangers} strangers; ` +
        `survivors settled ${survivorCounts.join('/')}; posted in ${seconds(postedAt - started)}, all arrived at ${seconds(arrivedAt - started)} ` +
        `(lease ${LEASE_MS} ms)`,
    );

    expect(atKill, 'the kill came too late to test anything: every delivery had arrived').toBeLessThan(EVENTS);
    expect(victimDelivered ?? 0, 'the killed worker had delivered nothing: it did not share the work').toBeGreaterThan(0);
    expect(victimInFlight, 'the killed worker had nothing in flight: nothing to take over').toBeGreaterThan(0);
    expect(orphaned, 'no delivery was left leased by the killed worker: nothing was taken over').toBeGreaterThan(0);
    expect(arrived, `deliveries missing after 60 s: ${ledger.missing()}`).toBe(true);
    expect(ledger.missing()).toBe(0);
    expect(strangers, 'requests for deliveries nobody created').toBe(0);
    expect(mismatches, 'requests whose body is not the event of their delivery id').toBe(0);
    expect(settled, 'deliveries still pending in the database').toBe(true);
    for (const [i, worker] of [c.api, ...survivors].entries()) {
      expect(worker.process.exitCode, `process ${i} exited:\n${tail(worker)}`).toBeNull();
    }
  }, 150_000);
});
