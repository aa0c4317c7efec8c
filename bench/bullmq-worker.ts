/**
 * The baseline a TypeScript team would hand-roll: a BullMQ worker on Redis that
 * signs each job the Standard Webhooks way and sends it with undici.
 */
import { Worker, type Job } from 'bullmq';
import { Pool } from 'undici';
import { signedHeaders } from './payload.js';
import { serveCalls } from './rpc.js';

interface DeliveryJob {
  url: string;
  id: string;
  body: string;
}

const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const pools = new Map<string, Pool>();
let worker: Worker<DeliveryJob> | null = null;

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 64, pipelining: 1 });
    pools.set(origin, pool);
  }
  return pool;
}

async function deliver(job: Job<DeliveryJob>, secret: string): Promise<void> {
  const url = new URL(job.data.url);
  const res = await poolFor(url.origin).request({
    method: 'POST',
    path: url.pathname,
    headers: signedHeaders(job.data.id, job.data.body, secret),
    body: job.data.body,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
}

serveCalls({
  start: async ({ queue, secret, concurrency }: { queue: string; secret: string; concurrency: number }) => {
    worker = new Worker<DeliveryJob>(queue, (job) => deliver(job, secret), {
      connection: REDIS,
      concurrency,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 1000 },
    });
    await worker.waitUntilReady();
  },
  stop: async () => {
    await worker?.close();
    worker = null;
  },
});

process.on('SIGTERM', () => {
  void (async () => {
    await worker?.close(true);
    await Promise.all([...pools.values()].map((p) => p.close()));
    process.exit(0);
  })();
});
