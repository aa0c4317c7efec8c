/**
 * The load generator, in its own process. Three targets:
 *  - herald: POST /v1/organizations/:org/events (or /events/batch), as fast as it takes them or at a steady rate;
 *  - raw:    the ceiling: the same signed requests straight to the receiver, undici Pool.request;
 *  - bullmq: adds one job per delivery to a BullMQ queue (its worker runs in bench/bullmq-worker.ts).
 * Every loop is bounded by `total`; every wait by a deadline.
 */
import { Queue } from 'bullmq';
import { Pool } from 'undici';
import { EVENT_TYPE, envelope, eventData, signedHeaders } from './payload.js';
import { nowMs, serveCalls } from './rpc.js';

export interface Plan {
  /** burst: `total` items as fast as they are taken, `concurrency` at a time; steady: `rate` per second. */
  mode: 'burst' | 'steady';
  total: number;
  concurrency: number;
  rate?: number;
  tag: string;
  /** Record the ack time of each item (latency runs). */
  trace?: boolean;
}

export interface HeraldPlan extends Plan {
  base: string;
  token: string;
  org: string;
  /** Events per request; 0 posts one event per request to /events. */
  batch: number;
}

export interface DirectPlan extends Plan {
  /** Receiver URLs of the webhooks: each event goes to all of them. */
  urls: string[];
  secret: string;
}

export interface QueuePlan extends Plan {
  queue: string;
  urls: string[];
}

export interface LoadResult {
  /** When the first item was sent and the last one acknowledged. */
  first: number;
  last: number;
  sent: number;
  errors: number;
  firstError: string | null;
  /** seq → ack time (trace only). */
  acks: [number, number][];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `work(i)` for i in [0, total), either `concurrency` at a time or at `rate`/s (at most 1,024 outstanding). */
async function drive(plan: Plan, unit: number, work: (from: number, count: number) => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { first: 0, last: 0, sent: 0, errors: 0, firstError: null, acks: [] };
  const steps = Math.ceil(plan.total / unit);
  const run = async (step: number): Promise<void> => {
    const from = step * unit;
    const count = Math.min(unit, plan.total - from);
    try {
      await work(from, count);
      result.sent += count;
    } catch (error) {
      result.errors += count;
      result.firstError ??= error instanceof Error ? error.message : String(error);
    }
  };
  result.first = nowMs();
  if (plan.mode === 'burst') {
    let next = 0;
    const lanes = Array.from({ length: Math.min(plan.concurrency, steps) }, async () => {
      while (next < steps) await run(next++);
    });
    await Promise.all(lanes);
  } else {
    const rate = plan.rate ?? 1000;
    const outstanding = new Set<Promise<void>>();
    const start = nowMs();
    for (let step = 0; step < steps; step++) {
      const due = start + (step * unit * 1000) / rate;
      const wait = due - nowMs();
      if (wait > 1) await sleep(wait);
      // Bounded: never more than 1,024 requests waiting.
      while (outstanding.size >= 1024) await Promise.race(outstanding);
      const p = run(step).finally(() => outstanding.delete(p));
      outstanding.add(p);
    }
    await Promise.all(outstanding);
  }
  result.last = nowMs();
  return result;
}

async function herald(plan: HeraldPlan): Promise<LoadResult> {
  const url = new URL(plan.base);
  const pool = new Pool(url.origin, { connections: Math.min(plan.concurrency, 64), pipelining: 1 });
  const acks: [number, number][] = [];
  const headers = { authorization: `Bearer ${plan.token}`, 'content-type': 'application/json' };
  const event = (seq: number) => ({ type: EVENT_TYPE, data: eventData(plan.tag, seq) });
  try {
    const result = await drive(plan, Math.max(1, plan.batch), async (from, count) => {
      const body =
        plan.batch > 0
          ? JSON.stringify({ events: Array.from({ length: count }, (_, i) => event(from + i)) })
          : JSON.stringify(event(from));
      const res = await pool.request({
        method: 'POST',
        path: `/v1/organizations/${plan.org}/events${plan.batch > 0 ? '/batch' : ''}`,
        headers,
        body,
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      const text = await res.body.text();
      if (res.statusCode !== 202) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      if (plan.trace) {
        const at = nowMs();
        for (let i = 0; i < count; i++) acks.push([from + i, at]);
      }
    });
    result.acks = acks;
    return result;
  } finally {
    await pool.close();
  }
}

async function raw(plan: DirectPlan): Promise<LoadResult> {
  const targets = plan.urls.map((u) => new URL(u));
  // One pool per origin (each webhook is its own port); `concurrency` requests in flight over all of them.
  const pools = new Map(targets.map((t) => [t.origin, new Pool(t.origin, { connections: plan.concurrency, pipelining: 1 })]));
  const acks: [number, number][] = [];
  try {
    // One unit = one delivery: event seq = i / fan-out, webhook = i % fan-out.
    const perEvent = targets.length;
    const result = await drive({ ...plan, total: plan.total * perEvent }, 1, async (i) => {
      const seq = Math.floor(i / perEvent);
      const target = targets[i % perEvent]!;
      const id = `msg_${plan.tag}_${i}`;
      if (plan.trace) acks.push([seq, nowMs()]);
      const body = envelope(id, plan.tag, seq);
      const res = await pools.get(target.origin)!.request({ method: 'POST', path: target.pathname, headers: signedHeaders(id, body, plan.secret), body });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    });
    result.acks = acks;
    return result;
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }
}

async function bullmq(plan: QueuePlan): Promise<LoadResult> {
  const queue = new Queue(plan.queue, { connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null } });
  const acks: [number, number][] = [];
  try {
    await queue.waitUntilReady();
    const unit = plan.mode === 'burst' ? 100 : 1;
    const result = await drive(plan, unit, async (from, count) => {
      const jobs: { name: string; data: { url: string; id: string; body: string }; opts: { attempts: number; backoff: { type: string; delay: number } } }[] = [];
      for (let seq = from; seq < from + count; seq++) {
        plan.urls.forEach((url, h) => {
          const id = `msg_${plan.tag}_${seq}_${h}`;
          jobs.push({ name: 'deliver', data: { url, id, body: envelope(id, plan.tag, seq) }, opts: { attempts: 5, backoff: { type: 'exponential', delay: 1000 } } });
        });
      }
      await queue.addBulk(jobs);
      if (plan.trace) {
        const at = nowMs();
        for (let seq = from; seq < from + count; seq++) acks.push([seq, at]);
      }
    });
    result.acks = acks;
    return result;
  } finally {
    await queue.close();
  }
}

serveCalls({
  herald: (plan: HeraldPlan) => herald(plan),
  raw: (plan: DirectPlan) => raw(plan),
  bullmq: (plan: QueuePlan) => bullmq(plan),
});
