/**
 * PostgreSQL restarted mid-run (`pg_ctlcluster … restart`) while 1 api + 2
 * worker processes ingest and deliver. Afterwards every process is still
 * alive; every event that got a 202 was stored and arrives; a request the
 * outage hit failed with 503 `store_unavailable` (and succeeds when posted
 * again); /readyz of the api was red during the outage and green after.
 *
 * This restarts the machine's PostgreSQL server, which disturbs every other
 * user of it: it runs only in the `scale-out` project, on its own.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import {
  Client,
  Ledger,
  pendingDeliveries,
  postEvents,
  queryDatabase,
  seconds,
  setupShardedWebhooks,
  startCluster,
  tail,
  waitUntil,
  type Accepted,
  type Cluster,
  type PostOutcome,
} from './cluster.js';

const run = promisify(execFile);

/** Upper bound of events posted; posting stops earlier, once enough were accepted after the restart. */
const MAX_EVENTS = 4_000;
const WEBHOOKS = 10;
const IN_FLIGHT = 16;
/** Restart once this many events were accepted (and some delivered): mid-run. */
const RESTART_AFTER_ACCEPTED = 600;
/** Keep posting until this many more were accepted after PostgreSQL is back. */
const ACCEPTED_AFTER_RESTART = 400;
const LEASE_MS = 3_000;

interface Probe {
  at: number;
  status: number | null;
  error?: string;
}

async function pgReady(): Promise<boolean> {
  try {
    await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

async function pgCtlCluster(action: 'restart' | 'start'): Promise<void> {
  const version = readdirSync('/etc/postgresql').sort()[0];
  if (version === undefined) throw new Error('no cluster under /etc/postgresql: cannot restart PostgreSQL');
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { timeout: 60_000 });
}

describe('scale-out: PostgreSQL restarted mid-run', () => {
  let cluster: Cluster | null = null;
  const receivers: Receiver[] = [];
  const client = new Client();

  beforeAll(async () => {
    for (let i = 0; i < WEBHOOKS; i++) receivers.push(await startReceiver());
    cluster = await startCluster({ workers: 2, env: { HERALD_LEASE_MS: String(LEASE_MS), HERALD_POLL_INTERVAL_MS: '300' } });
  }, 60_000);
  afterAll(async () => {
    // Whatever happened above, leave PostgreSQL running for whoever comes next.
    if (!(await waitUntil(pgReady, 30_000, 250))) {
      await pgCtlCluster('start').catch((error: unknown) => console.error('could not start PostgreSQL again:', error));
      await waitUntil(pgReady, 30_000, 250);
    }
    await cluster?.close();
    for (const receiver of receivers) await receiver.close();
    await client.close();
  }, 90_000);

  it('survives the restart: processes alive, every 202 stored and delivered, 503 store_unavailable meanwhile', async () => {
    const c = cluster!;
    const base = c.api.url;
    const webhookIndex = await setupShardedWebhooks(client, base, receivers);
    const ledger = new Ledger(receivers, webhookIndex);
    const started = Date.now();

    // /readyz of every process, polled every 20 ms for the whole run.
    const probes = new Map(c.all().map((p) => [p, [] as Probe[]]));
    let probing = true;
    const prober = Promise.all(
      c.all().map(async (p) => {
        while (probing) {
          const at = Date.now();
          try {
            const answer = await client.call(p.url, 'GET', '/readyz', undefined, 10_000);
            probes.get(p)!.push({ at, status: answer.status });
          } catch (error) {
            probes.get(p)!.push({ at, status: null, error: String(error) });
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );

    let accepted = 0;
    let restartStartedAt: number | null = null;
    let restartEndedAt: number | null = null;
    let acceptedAtRestart = 0;
    let acceptedAfterRestart = 0;
    const deadline = started + 90_000;
    const restarter = (async () => {
      const due = await waitUntil(() => accepted >= RESTART_AFTER_ACCEPTED && ledger.arrived() > 0, 60_000, 10);
      if (!due) throw new Error(`only ${accepted} events accepted after 60 s; cannot time the restart`);
      acceptedAtRestart = accepted;
      restartStartedAt = Date.now();
      await pgCtlCluster('restart');
      const back = await waitUntil(pgReady, 30_000, 100);
      if (!back) throw new Error('PostgreSQL did not accept connections within 30 s of the restart');
      restartEndedAt = Date.now();
    })();
    // Stop on failure of the restarter too, so a broken restart does not leave the poster running to MAX_EVENTS.
    let restartFailed = false;
    restarter.catch(() => (restartFailed = true));

    const outcomes = await postEvents(
      client,
      base,
      Array.from({ length: MAX_EVENTS }, (_, i) => i),
      {
        inFlight: IN_FLIGHT,
        shards: WEBHOOKS,
        stop: () => restartFailed || Date.now() > deadline || acceptedAfterRestart >= ACCEPTED_AFTER_RESTART,
        onOutcome: (o) => {
          if (o.kind !== 'accepted') return;
          accepted++;
          if (restartEndedAt !== null) acceptedAfterRestart++;
        },
      },
    );
    const postedAt = Date.now();
    await restarter;
    const restartStart = restartStartedAt!;
    const restartEnd = restartEndedAt!;

    const first = new Map<number, Accepted>();
    const unavailable: PostOutcome[] = [];
    const transport: PostOutcome[] = [];
    const unexpected: PostOutcome[] = [];
    for (const o of outcomes) {
      if (o.kind === 'accepted') first.set(o.seq, o.event);
      else if (o.kind === 'transport') transport.push(o);
      else if (o.status === 503 && o.code === 'store_unavailable') unavailable.push(o);
      else unexpected.push(o);
    }

    // Never a 202 for something not stored: every accepted event and its delivery are in the database.
    const eventIds = [...first.values()].map((e) => e.id);
    const deliveryIds = [...first.values()].flatMap((e) => e.deliveries.map((d) => d.id));
    const storedEvents = await queryDatabase<{ n: string }>(c.database.url, 'select count(*) as n from events where id = any($1)', [eventIds]);
    const storedDeliveries = await queryDatabase<{ n: string }>(c.database.url, 'select count(*) as n from deliveries where id = any($1)', [deliveryIds]);

    // A client retries what was refused, with the same event id: now it is accepted (or found, if it had been stored).
    const refusedSeqs = [...unavailable, ...transport].map((o) => o.seq);
    const retried = await postEvents(client, base, refusedSeqs, { inFlight: IN_FLIGHT, shards: WEBHOOKS });
    const retriedRefused = retried.filter((o) => o.kind !== 'accepted');
    for (const [seq, event] of first) ledger.expect(seq, event);
    for (const o of retried) if (o.kind === 'accepted') ledger.expect(o.seq, o.event);

    const arrived = await waitUntil(() => ledger.missing() === 0, 60_000, 200);
    const arrivedAt = Date.now();
    const settled = await waitUntil(async () => (await pendingDeliveries(c.database.url)) === 0, 30_000, 200);
    // Let the probes see the store back for a moment, then stop them.
    await waitUntil(() => (probes.get(c.api)!.at(-1)?.status ?? 0) === 200, 10_000, 50);
    probing = false;
    await prober;
    const { duplicates, strangers, mismatches } = ledger.audit();

    const apiProbes = probes.get(c.api)!;
    // The outage as the api saw it: from the restart command to PostgreSQL answering again (plus slack for a slow probe).
    const during = apiProbes.filter((p) => p.at >= restartStart - 100 && p.at <= restartEnd + 1_000);
    const red = during.filter((p) => p.status === 503).length;
    const redAfter = apiProbes.filter((p) => p.at > restartEnd + 5_000 && p.status !== 200).length;
    const workerRed = c.workers.map((w) => probes.get(w)!.filter((p) => p.status === 503).length);
    const firstGreen = apiProbes.find((p) => p.at > restartStart && p.status === 200 && apiProbes.some((q) => q.status === 503 && q.at < p.at && q.at >= restartStart - 100));

    console.log(
      `postgres restart: ${outcomes.length} posts (${first.size} accepted: ${acceptedAtRestart} before the restart, ${first.size - acceptedAtRestart - acceptedAfterRestart} while it ran, ${acceptedAfterRestart} after it; ` +
        `${unavailable.length} × 503 store_unavailable, ${transport.length} transport errors, ${unexpected.length} other) ` +
        `in ${seconds(postedAt - started)}; restart took ${seconds(restartEnd - restartStart)} (at ${seconds(restartStart - started)}); ` +
        `/readyz of the api: ${red} × 503 of ${during.length} probes during the outage, ` +
        `green again ${firstGreen ? seconds(firstGreen.at - restartStart) : '?'} after the restart began; workers' /readyz 503 × ${workerRed.join('/')}; ` +
        `${refusedSeqs.length} refused posts re-posted (${retriedRefused.length} refused again); ` +
        `${ledger.expectedCount} deliveries expected, ${ledger.received()} requests received, ${duplicates} duplicates, ${ledger.missing()} missing; ` +
        `all arrived at ${seconds(arrivedAt - started)}`,
    );
    if (unexpected.length > 0) console.log('unexpected answers:', JSON.stringify(unexpected.slice(0, 3)));
    if (transport.length > 0) console.log('transport errors:', JSON.stringify(transport.slice(0, 3)));

    // Every process survived the restart.
    for (const [i, p] of c.all().entries()) {
      expect(p.process.exitCode, `process ${i} (${i === 0 ? 'api' : 'worker'}) exited:\n${tail(p)}`).toBeNull();
      expect(p.process.signalCode, `process ${i} was killed`).toBeNull();
    }
    // The run went on after the restart (posting stops after enough accepts, or at the deadline).
    expect(acceptedAfterRestart, 'events accepted after PostgreSQL came back').toBeGreaterThanOrEqual(ACCEPTED_AFTER_RESTART);

    // What failed, failed with the clear error; nothing answered 202 that was not stored.
    expect(unexpected.slice(0, 3), 'answers other than 202 and 503 store_unavailable').toEqual([]);
    expect(Number(storedEvents[0]?.n), 'accepted events missing from the database').toBe(eventIds.length);
    expect(Number(storedDeliveries[0]?.n), 'accepted deliveries missing from the database').toBe(deliveryIds.length);
    expect(retriedRefused.slice(0, 3), 'refused posts still refused after the restart').toEqual([]);

    // Every accepted event arrived.
    expect(arrived, `deliveries missing after 60 s: ${ledger.missing()}`).toBe(true);
    expect(ledger.missing()).toBe(0);
    expect(strangers, 'requests for deliveries nobody created').toBe(0);
    expect(mismatches, 'requests whose body is not the event of their delivery id').toBe(0);
    expect(settled, 'deliveries still pending in the database').toBe(true);

    // /readyz of the api was red during the outage and green after it.
    expect(red, `/readyz of the api never answered 503 during the outage (${during.length} probes)`).toBeGreaterThan(0);
    expect(redAfter, '/readyz of the api not 200 once PostgreSQL was back').toBe(0);
    expect(apiProbes.at(-1)?.status).toBe(200);
  }, 170_000);
});
