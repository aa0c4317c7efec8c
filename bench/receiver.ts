/**
 * The receiving end of every benchmark: a plain node:http server on 127.0.0.1
 * that answers 200 and records when each request arrived. Paths:
 *   /r/<tag>/<hook>     answered at once
 *   /slow/<tag>/<hook>  answered after SLOW_MS (the isolation scenario's bad webhook)
 * Bodies carrying `"seq":<n>` are timed one by one for tags being traced.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { nowMs, serveCalls } from './rpc.js';

const SLOW_MS = 10_000;

interface Tally {
  count: number;
  first: number;
  last: number;
  hooks: Map<string, number>;
  /** seq → arrival, for traced tags. */
  arrivals: Map<number, number> | null;
}

const tallies = new Map<string, Tally>();
const traced = new Set<string>();
const slowTimers = new Set<NodeJS.Timeout>();

function tally(tag: string): Tally {
  let t = tallies.get(tag);
  if (!t) {
    t = { count: 0, first: 0, last: 0, hooks: new Map(), arrivals: traced.has(tag) ? new Map() : null };
    tallies.set(tag, t);
  }
  return t;
}

const SEQ = /"seq":(\d+)/;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = nowMs();
    const parts = (req.url ?? '/').split('/');
    const kind = parts[1] ?? '';
    const tag = kind === 'slow' ? `${parts[2] ?? ''}-slow` : (parts[2] ?? '');
    const t = tally(tag);
    t.count++;
    if (t.first === 0) t.first = at;
    t.last = at;
    const hook = parts[3] ?? '';
    t.hooks.set(hook, (t.hooks.get(hook) ?? 0) + 1);
    if (t.arrivals) {
      const m = SEQ.exec(Buffer.concat(chunks).toString('utf8'));
      if (m) t.arrivals.set(Number(m[1]), at);
    }
    if (kind === 'slow') {
      const timer = setTimeout(() => {
        slowTimers.delete(timer);
        res.writeHead(200, { 'content-length': '2' }).end('ok');
      }, SLOW_MS);
      slowTimers.add(timer);
      return;
    }
    res.writeHead(200, { 'content-length': '2' }).end('ok');
  });
}

// One port per webhook (up to PORTS): each webhook is its own origin, as in production, so the
// sender's per-origin connection pools are not shared between webhooks.
const PORTS = 10;
const servers = Array.from({ length: PORTS }, () => {
  const server = createServer({ keepAliveTimeout: 60_000 }, handle);
  server.maxRequestsPerSocket = 0;
  return server;
});
const ports: number[] = [];
for (const server of servers) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  ports.push(typeof address === 'object' && address ? address.port : 0);
}

serveCalls({
  ports: () => ports,
  trace: ({ tag }: { tag: string }) => {
    traced.add(tag);
  },
  stats: ({ tag }: { tag: string }) => {
    const t = tallies.get(tag);
    if (!t) return { count: 0, first: 0, last: 0, hooks: {} };
    return { count: t.count, first: t.first, last: t.last, hooks: Object.fromEntries(t.hooks) };
  },
  arrivals: ({ tag }: { tag: string }) => {
    const t = tallies.get(tag);
    return t?.arrivals ? [...t.arrivals.entries()] : [];
  },
  forget: ({ tag }: { tag: string }) => {
    tallies.delete(tag);
    tallies.delete(`${tag}-slow`);
    traced.delete(tag);
  },
});

process.on('SIGTERM', () => {
  for (const t of slowTimers) clearTimeout(t);
  for (const server of servers) server.closeAllConnections();
  process.exit(0);
});
