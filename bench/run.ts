/**
 * `npm run bench [-- --quick] [-- --only 1,2,…]`: Herald against the raw ceiling
 * and a BullMQ baseline, on one machine, in one run. See bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { claimDue } from '../src/store/queue/claim-due.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { dropDatabase, freshDatabase, setUpOrganization, startHerald, ADMIN_TOKEN, type HeraldProcess } from './herald.js';
import type { DirectPlan, HeraldPlan, LoadResult, QueuePlan } from './loadgen.js';
import { newSecret } from './payload.js';
import { BENCH_DIR, nowMs, startChild, type Child } from './rpc.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const onlyArg = argv.indexOf('--only');
const ONLY = onlyArg >= 0 ? new Set((argv[onlyArg + 1] ?? '').split(',').map(Number)) : null;
const batchArg = argv.indexOf('--batch');
/** Events per ingest request in the throughput scenarios ("posted in batches"). */
const BATCH = batchArg >= 0 ? Number(argv[batchArg + 1]) : 100;

const SIZE = QUICK
  ? { runs: 1, events: 1_000, fanoutEvents: 100, rate: 1_000, latencyS: 2, isolationEvents: 100, backlog: [1_000, 5_000, 10_000], backlogHooks: 10, drainS: 5, ingest: 1_000, pgEvents: 500, pgLatencyS: 2, waitS: 30, warmUpS: 0.5 }
  : { runs: 3, events: 20_000, fanoutEvents: 2_000, rate: 1_000, latencyS: 30, isolationEvents: 2_000, backlog: [10_000, 100_000, 1_000_000], backlogHooks: 50, drainS: 60, ingest: 20_000, pgEvents: 20_000, pgLatencyS: 30, waitS: 900, warmUpS: 3 };

const runsArg = argv.indexOf('--runs');
if (runsArg >= 0) SIZE.runs = Math.max(1, Math.min(10, Number(argv[runsArg + 1]) || 1));

const TTY = process.stdout.isTTY === true;
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Results

interface Row {
  scenario: string;
  metric: string;
  unit: string;
  values: number[];
  /** ≥ or ≤ a bar, on the median. */
  target?: { op: '>=' | '<='; value: number };
  note?: string;
}
const rows: Row[] = [];

function median(values: number[]): number {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.floor((s.length - 1) / 2)]!;
}

function record(row: Row): void {
  rows.push(row);
  log(`  ${row.scenario} · ${row.metric}: ${row.values.map((v) => fmt(v)).join(' / ')} ${row.unit}`);
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function status(row: Row): 'met' | 'missed' | '' {
  if (!row.target) return '';
  const m = median(row.values);
  if (!Number.isFinite(m)) return 'missed';
  return (row.target.op === '>=' ? m >= row.target.value : m <= row.target.value) ? 'met' : 'missed';
}

function spread(values: number[]): string {
  if (values.length === 0) return 'n/a';
  if (values.length === 1) return fmt(values[0]!);
  const s = [...values].sort((a, b) => a - b);
  return `${fmt(s[0]!)} / **${fmt(median(s))}** / ${fmt(s[s.length - 1]!)}`;
}

function table(color: boolean): string {
  const lines = [
    `| Scenario | Metric | ${SIZE.runs > 1 ? 'min / median / max' : 'value (1 run)'} | Target | Status |`,
    '|---|---|---:|---|---|',
  ];
  for (const r of rows) {
    const st = status(r);
    const shown = st === 'missed' ? (color ? '\x1b[31mmissed\x1b[0m' : '**missed**') : st === 'met' ? (color ? '\x1b[32mmet\x1b[0m' : 'met') : '';
    const target = r.target ? `${r.target.op === '>=' ? '≥' : '≤'} ${fmt(r.target.value)} ${r.unit}` : '';
    lines.push(`| ${r.scenario} | ${r.metric}${r.note ? ` (${r.note})` : ''} | ${spread(r.values)} ${r.unit} | ${target} | ${shown} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Plumbing

let receiver: Child;
let loadgen: Child;
let receiverPorts: number[] = [];
const receiverBase = (i = 0) => `http://127.0.0.1:${receiverPorts[i % receiverPorts.length]}`;
let tagCounter = 0;
const newTag = (name: string) => `${name}${++tagCounter}${Date.now().toString(36).slice(-4)}`;

interface Stats {
  count: number;
  first: number;
  last: number;
  hooks: Record<string, number>;
}

/** Waits until the receiver has `count` requests for `tag`; bounded by SIZE.waitS. */
async function arrivals(tag: string, count: number): Promise<Stats> {
  const deadline = Date.now() + SIZE.waitS * 1000;
  let stats = await receiver.call<Stats>('stats', { tag });
  while (stats.count < count && Date.now() < deadline) {
    await sleep(20);
    stats = await receiver.call<Stats>('stats', { tag });
  }
  if (stats.count < count) log(`  ! only ${stats.count} of ${count} deliveries for ${tag} arrived within ${SIZE.waitS} s`);
  return stats;
}

function hookUrls(tag: string, n: number, slow: number[] = []): string[] {
  return Array.from({ length: n }, (_, i) => `${receiverBase(i)}/${slow.includes(i) ? 'slow' : 'r'}/${tag}/${i}`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function latencies(tag: string, load: LoadResult, expected: number): Promise<number[]> {
  await arrivals(tag, expected);
  const arrived = new Map(await receiver.call<[number, number][]>('arrivals', { tag }));
  const acked = new Map<number, number>();
  for (const [seq, at] of load.acks) if (!acked.has(seq)) acked.set(seq, at);
  const out: number[] = [];
  const dump: string[] = [];
  for (const [seq, ack] of acked) {
    const at = arrived.get(seq);
    out.push(at === undefined ? Infinity : at - ack);
    if (process.env.BENCH_DUMP) dump.push(`${ack.toFixed(1)} ${at === undefined ? 'x' : (at - ack).toFixed(2)}`);
  }
  if (process.env.BENCH_DUMP) writeFileSync(`${process.env.BENCH_DUMP}.${tag}`, dump.join('\n'));
  return out.sort((a, b) => a - b);
}

function latencyRows(scenario: string, runs: number[][], target?: number): void {
  for (const p of [50, 90, 99]) {
    record({ scenario, metric: `p${p} ingest→arrival`, unit: 'ms', values: runs.map((r) => percentile(r, p)), ...(p === 99 && target !== undefined ? { target: { op: '<=', value: target } } : {}) });
  }
  record({ scenario, metric: 'max ingest→arrival', unit: 'ms', values: runs.map((r) => r[r.length - 1] ?? NaN) });
}

function loadErrors(load: LoadResult): void {
  if (load.errors > 0) log(`  ! ${load.errors} load errors, first: ${load.firstError}`);
}

// ---------------------------------------------------------------------------------------------
// Herald setups

interface Setup {
  base: string;
  processes: HeraldProcess[];
  stop(): Promise<void>;
}

const dirs: string[] = [];
function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `herald-bench-${name}-`));
  dirs.push(dir);
  return dir;
}

async function sqliteHerald(env: Record<string, string> = {}): Promise<Setup & { dataDir: string }> {
  const dataDir = tempDir('sqlite');
  const herald = await startHerald({ HERALD_DATA_DIR: dataDir, ...env });
  return { base: herald.url, processes: [herald], dataDir, stop: () => herald.stop() };
}

async function postgresHerald(workers: number): Promise<Setup> {
  const name = `herald_bench_${process.pid}_${workers}`;
  const url = await freshDatabase(name);
  const dataDir = tempDir('pg');
  const common = { HERALD_DATA_DIR: dataDir, HERALD_DATABASE_URL: url };
  const apiProcess = await startHerald({ ...common, HERALD_ROLE: 'api' });
  const workerProcesses = await Promise.all(Array.from({ length: workers }, () => startHerald({ ...common, HERALD_ROLE: 'worker' })));
  const processes = [apiProcess, ...workerProcesses];
  return {
    base: apiProcess.url,
    processes,
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
      await dropDatabase(name);
    },
  };
}

async function heraldLoad(base: string, org: string, plan: Omit<HeraldPlan, 'base' | 'token' | 'org'>): Promise<LoadResult> {
  const load = await loadgen.call<LoadResult>('herald', { ...plan, base, token: ADMIN_TOKEN, org } satisfies HeraldPlan);
  loadErrors(load);
  return load;
}

/** Scenario 1 shape: `events` events × `fanout` webhooks, posted in batches; deliveries/s first post → last arrival. */
async function heraldThroughput(setup: Setup, events: number, fanout: number): Promise<{ deliveries: number; ingest: number }> {
  const tag = newTag('tp');
  const org = `org_${tag}`;
  await setUpOrganization(setup.base, org, hookUrls(tag, fanout));
  const load = await heraldLoad(setup.base, org, { mode: 'burst', total: events, concurrency: BATCH > 0 ? 4 : 32, batch: BATCH, tag });
  const stats = await arrivals(tag, events * fanout);
  await receiver.call('forget', { tag });
  return { deliveries: (stats.count * 1000) / (stats.last - load.first), ingest: (load.sent * 1000) / (load.last - load.first) };
}

/**
 * A few seconds at the same rate, not measured, before a latency run: the baselines are measured
 * warm (after their throughput runs), and a freshly started Herald would otherwise spend the first
 * measured second compiling its hot path (JIT) and opening connections.
 */
async function heraldWarmUp(setup: Setup, rate: number): Promise<void> {
  const tag = newTag('warm');
  await setUpOrganization(setup.base, `org_${tag}`, hookUrls(tag, 1));
  const total = Math.round(rate * SIZE.warmUpS);
  await heraldLoad(setup.base, `org_${tag}`, { mode: 'steady', rate, total, concurrency: 64, batch: 0, tag });
  await arrivals(tag, total);
  await receiver.call('forget', { tag });
}

async function heraldLatency(setup: Setup, rate: number, seconds: number): Promise<number[]> {
  await heraldWarmUp(setup, rate);
  const tag = newTag('lat');
  const org = `org_${tag}`;
  await setUpOrganization(setup.base, org, hookUrls(tag, 1));
  await receiver.call('trace', { tag });
  const total = rate * seconds;
  const load = await heraldLoad(setup.base, org, { mode: 'steady', rate, total, concurrency: 64, batch: 0, tag, trace: true });
  const lat = await latencies(tag, load, total);
  await receiver.call('forget', { tag });
  return lat;
}

async function repeat<T>(what: string, fn: (run: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let run = 0; run < SIZE.runs; run++) {
    log(`${what}, run ${run + 1}/${SIZE.runs}`);
    out.push(await fn(run));
  }
  return out;
}

const wanted = (n: number) => ONLY === null || ONLY.has(n);

// ---------------------------------------------------------------------------------------------
// Scenarios

async function sqliteScenarios(): Promise<void> {
  if (wanted(1)) {
    const setup = await sqliteHerald();
    try {
      const one = await repeat('1. throughput SQLite, fan-out 1', () => heraldThroughput(setup, SIZE.events, 1));
      record({ scenario: '1. Throughput, SQLite', metric: `deliveries/s, ${SIZE.events.toLocaleString('en-US')} events × 1`, unit: '/s', values: one.map((r) => r.deliveries), target: { op: '>=', value: 5_000 } });
      record({ scenario: '1. Throughput, SQLite', metric: 'events accepted/s while delivering (fan-out 1)', unit: '/s', values: one.map((r) => r.ingest) });
      const ten = await repeat('1. throughput SQLite, fan-out 10', () => heraldThroughput(setup, SIZE.fanoutEvents, 10));
      record({ scenario: '1. Throughput, SQLite', metric: `deliveries/s, ${SIZE.fanoutEvents.toLocaleString('en-US')} events × 10`, unit: '/s', values: ten.map((r) => r.deliveries), target: { op: '>=', value: 5_000 } });
    } finally {
      await setup.stop();
    }
  }
  if (wanted(2)) {
    const setup = await sqliteHerald();
    try {
      const runs = await repeat('2. latency SQLite', () => heraldLatency(setup, SIZE.rate, SIZE.latencyS));
      latencyRows(`2. Latency, SQLite, ${SIZE.rate.toLocaleString('en-US')} events/s × ${SIZE.latencyS} s`, runs, 25);
    } finally {
      await setup.stop();
    }
  }
  if (wanted(5)) {
    const setup = await sqliteHerald();
    try {
      for (const hooks of [0, 10]) {
        const rates = await repeat(`5. ingest alone, ${hooks} webhooks`, async () => {
          const tag = newTag('ing');
          const org = `org_${tag}`;
          await setUpOrganization(setup.base, org, hookUrls(tag, hooks));
          const load = await heraldLoad(setup.base, org, { mode: 'burst', total: SIZE.ingest, concurrency: 32, batch: 0, tag });
          // Let the deliveries finish before the next run measures.
          if (hooks > 0) await arrivals(tag, SIZE.ingest * hooks);
          await receiver.call('forget', { tag });
          return (load.sent * 1000) / (load.last - load.first);
        });
        record({ scenario: '5. Ingest alone', metric: `events/s, POST /events at concurrency 32, ${hooks} webhooks`, unit: '/s', values: rates });
      }
    } finally {
      await setup.stop();
    }
  }
  if (wanted(3)) {
    const shares = await repeat('3. isolation', async () => {
      const measure = async (slow: boolean): Promise<number> => {
        const setup = await sqliteHerald();
        try {
          const tag = newTag('iso');
          const org = `org_${tag}`;
          // Webhook 0 is the odd one: slow, or healthy under another tag so `tag` counts only the nine.
          const urls = hookUrls(tag, 10, slow ? [0] : []);
          if (!slow) urls[0] = `${receiverBase(0)}/r/${tag}x/0`;
          await setUpOrganization(setup.base, org, urls);
          const load = await heraldLoad(setup.base, org, { mode: 'burst', total: SIZE.isolationEvents, concurrency: 4, batch: BATCH, tag });
          const stats = await arrivals(tag, SIZE.isolationEvents * 9);
          await receiver.call('forget', { tag });
          await receiver.call('forget', { tag: `${tag}x` });
          return (stats.count * 1000) / (stats.last - load.first);
        } finally {
          await setup.stop();
        }
      };
      const healthy = await measure(false);
      const withSlow = await measure(true);
      log(`  nine healthy webhooks: ${fmt(healthy)}/s all healthy, ${fmt(withSlow)}/s next to a 10 s webhook`);
      return (withSlow / healthy) * 100;
    });
    record({ scenario: '3. Isolation', metric: "nine healthy webhooks' throughput next to one answering in 10 s, share of all-healthy", unit: '%', values: shares, target: { op: '>=', value: 90 } });
  }
}

const CLAIM_SAMPLES = 31;

async function backlogScenario(): Promise<void> {
  if (!wanted(4)) return;
  const dataDir = tempDir('backlog');
  const tag = newTag('blg');
  const org = `org_${tag}`;
  const hooks = SIZE.backlogHooks;
  const checkpoints = SIZE.backlog;
  const total = checkpoints[checkpoints.length - 1]!;
  // "Receiver down": no dispatcher runs while the backlog piles up (an API-only process on the same
  // data dir), so every delivery stays pending and due, as if each had been refused and were due again.
  const apiOnly = await startHerald({ HERALD_DATA_DIR: dataDir, HERALD_ROLE: 'api' });
  const claimMs: number[][] = [];
  let peak = 0;
  try {
    const hookIds = await setUpOrganization(apiOnly.url, org, hookUrls(tag, hooks));
    const { db } = openSqlite({ file: join(dataDir, 'herald.db'), synchronous: 'normal' });
    try {
      let posted = 0;
      for (const pending of checkpoints) {
        const events = Math.ceil((pending - posted * hooks) / hooks);
        log(`4. backlog: piling up to ${pending.toLocaleString('en-US')} pending deliveries`);
        if (events > 0) await heraldLoad(apiOnly.url, org, { mode: 'burst', total: events, concurrency: 4, batch: BATCH > 0 ? BATCH : 0, tag });
        posted += events;
        // The claim a dispatcher runs (batch size 100, one webhook), timed, then rolled back.
        const times: number[] = [];
        // 5 untimed claims first (statement preparation, first page reads), then 31 timed ones over
        // different webhooks; the median is what is reported.
        for (let i = -5; i < CLAIM_SAMPLES; i++) {
          const t0 = performance.now();
          await db
            .transaction()
            .execute(async (trx) => {
              await claimDue(trx, { webhookId: hookIds[i % hooks]!, limit: 100, cap: 64 }, { now: Date.now(), leaseMs: 60_000, lease: 'bench', shared: false });
              throw new Error('rollback');
            })
            .catch(() => undefined);
          if (i >= 0) times.push(performance.now() - t0);
        }
        claimMs.push(times);
        record({ scenario: '4. Backlog', metric: `claim query at ${pending.toLocaleString('en-US')} pending (median of ${CLAIM_SAMPLES} claims of 100)`, unit: 'ms', values: [median(times)] });
      }
    } finally {
      await db.destroy();
    }
    peak = apiOnly.peakRssMiB();
    log(`  peak RSS of the API-only process that took the backlog: ${fmt(peak)} MiB`);
  } finally {
    await apiOnly.stop();
  }
  const first = median(claimMs[0] ?? []);
  const last = median(claimMs[claimMs.length - 1] ?? []);
  record({ scenario: '4. Backlog', metric: `claim time at ${total.toLocaleString('en-US')} ÷ at ${checkpoints[0]!.toLocaleString('en-US')}`, unit: '×', values: [last / first], target: { op: '<=', value: 2 } });

  // Receiver "up": a full Herald drains the backlog.
  log('4. backlog: draining');
  const herald = await startHerald({ HERALD_DATA_DIR: dataDir });
  try {
    const t0 = nowMs();
    const deadline = Date.now() + SIZE.drainS * 1000;
    let stats = await receiver.call<Stats>('stats', { tag });
    let maxRss = herald.peakRssMiB();
    while (stats.count < total && Date.now() < deadline) {
      await sleep(200);
      stats = await receiver.call<Stats>('stats', { tag });
      maxRss = Math.max(maxRss, herald.peakRssMiB());
    }
    const drained = stats.count;
    log(`  peak RSS of the draining Herald: ${fmt(maxRss)} MiB`);
    record({ scenario: '4. Backlog', metric: `drain rate (${drained.toLocaleString('en-US')} delivered in ${fmt((stats.last - t0) / 1000)} s from start)`, unit: '/s', values: [(drained * 1000) / (stats.last - t0)] });
    record({ scenario: '4. Backlog', metric: `peak RSS of Herald with ${total.toLocaleString('en-US')} pending`, unit: 'MiB', values: [Math.max(peak, maxRss)], target: { op: '<=', value: 300 } });
  } finally {
    await herald.stop();
    await receiver.call('forget', { tag });
  }
}

async function postgresScenarios(): Promise<void> {
  if (!wanted(6)) return;
  for (const workers of [1, 2]) {
    const setup = await postgresHerald(workers);
    const name = `6. PostgreSQL, 1 api + ${workers} worker${workers > 1 ? 's' : ''}`;
    try {
      const tp = await repeat(`${name}: throughput`, () => heraldThroughput(setup, SIZE.pgEvents, 1));
      record({ scenario: name, metric: `deliveries/s, ${SIZE.pgEvents.toLocaleString('en-US')} events × 1`, unit: '/s', values: tp.map((r) => r.deliveries), ...(workers === 2 ? { target: { op: '>=' as const, value: 3_000 } } : {}) });
      record({ scenario: name, metric: 'events accepted/s while delivering', unit: '/s', values: tp.map((r) => r.ingest) });
      const lat = await repeat(`${name}: latency`, () => heraldLatency(setup, SIZE.rate, SIZE.pgLatencyS));
      latencyRows(`${name}, ${SIZE.rate.toLocaleString('en-US')} events/s`, lat, 50);
    } finally {
      await setup.stop();
    }
  }
}

/** Scenario 7: the raw ceiling and BullMQ on scenarios 1 and 2. Answers the BullMQ fan-out-1 medians. */
async function baselines(): Promise<number> {
  if (!wanted(7)) return NaN;
  const secret = newSecret();
  const direct = async (events: number, fanout: number): Promise<number> => {
    const tag = newTag('raw');
    const load = await loadgen.call<LoadResult>('raw', { mode: 'burst', total: events, concurrency: 64, tag, urls: hookUrls(tag, fanout), secret } satisfies DirectPlan);
    loadErrors(load);
    const stats = await arrivals(tag, events * fanout);
    await receiver.call('forget', { tag });
    return (stats.count * 1000) / (stats.last - load.first);
  };
  const raw1 = await repeat('7. raw ceiling, fan-out 1', () => direct(SIZE.events, 1));
  record({ scenario: '7. Raw ceiling (undici, 64 at a time)', metric: `deliveries/s, ${SIZE.events.toLocaleString('en-US')} × 1`, unit: '/s', values: raw1 });
  const raw10 = await repeat('7. raw ceiling, fan-out 10', () => direct(SIZE.fanoutEvents, 10));
  record({ scenario: '7. Raw ceiling (undici, 64 at a time)', metric: `deliveries/s, ${SIZE.fanoutEvents.toLocaleString('en-US')} × 10`, unit: '/s', values: raw10 });
  const rawLat = await repeat('7. raw ceiling, latency', async () => {
    const tag = newTag('rawl');
    await receiver.call('trace', { tag });
    const total = SIZE.rate * SIZE.latencyS;
    const load = await loadgen.call<LoadResult>('raw', { mode: 'steady', rate: SIZE.rate, total, concurrency: 64, tag, urls: hookUrls(tag, 1), secret, trace: true } satisfies DirectPlan);
    const lat = await latencies(tag, load, total);
    await receiver.call('forget', { tag });
    return lat;
  });
  latencyRows('7. Raw ceiling, steady rate (send→arrival)', rawLat);

  const worker = await startChild('bullmq-worker.ts');
  let bull1: number[] = [];
  try {
    const queued = async (events: number, fanout: number): Promise<number> => {
      const tag = newTag('bull');
      const queue = `herald-bench-${tag}`;
      await worker.call('start', { queue, secret, concurrency: 64 });
      try {
        const load = await loadgen.call<LoadResult>('bullmq', { mode: 'burst', total: events, concurrency: 4, tag, queue, urls: hookUrls(tag, fanout) } satisfies QueuePlan);
        loadErrors(load);
        const stats = await arrivals(tag, events * fanout);
        await receiver.call('forget', { tag });
        return (stats.count * 1000) / (stats.last - load.first);
      } finally {
        await worker.call('stop', { queue });
      }
    };
    bull1 = await repeat('7. BullMQ, fan-out 1', () => queued(SIZE.events, 1));
    record({ scenario: '7. BullMQ baseline (worker concurrency 64)', metric: `deliveries/s, ${SIZE.events.toLocaleString('en-US')} × 1`, unit: '/s', values: bull1 });
    const bull10 = await repeat('7. BullMQ, fan-out 10', () => queued(SIZE.fanoutEvents, 10));
    record({ scenario: '7. BullMQ baseline (worker concurrency 64)', metric: `deliveries/s, ${SIZE.fanoutEvents.toLocaleString('en-US')} × 10`, unit: '/s', values: bull10 });
    const bullLat = await repeat('7. BullMQ, latency', async () => {
      const tag = newTag('bulll');
      const queue = `herald-bench-${tag}`;
      await receiver.call('trace', { tag });
      await worker.call('start', { queue, secret, concurrency: 64 });
      try {
        const total = SIZE.rate * SIZE.latencyS;
        const load = await loadgen.call<LoadResult>('bullmq', { mode: 'steady', rate: SIZE.rate, total, concurrency: 64, tag, queue, urls: hookUrls(tag, 1), trace: true } satisfies QueuePlan);
        loadErrors(load);
        const lat = await latencies(tag, load, total);
        await receiver.call('forget', { tag });
        return lat;
      } finally {
        await worker.call('stop', { queue });
      }
    });
    latencyRows('7. BullMQ baseline, steady rate (add→arrival)', bullLat);
  } finally {
    await worker.close();
  }
  return median(bull1);
}

// ---------------------------------------------------------------------------------------------

function machine(): string {
  const cpu = cpus();
  return `${hostname()}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

const started = Date.now();
const loadBefore = loadavg();

function report(partial: boolean): void {
  const loadAfter = loadavg();
  const header = [
    `# Herald benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC${QUICK ? ' (quick: small sizes, 1 run, for CI; not a measurement)' : ''}${partial ? ' (INTERRUPTED: partial)' : ''}`,
    '',
    `Machine: ${machine()}.`,
    `Load average (1/5/15 min) at start: ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}; at end: ${loadAfter.map((l) => l.toFixed(2)).join(' / ')}.`,
    `Ingest in batches of ${BATCH} events per request in scenarios 1, 3, 4 and 6 throughput; one event per request for latency and scenario 5. Took ${Math.round((Date.now() - started) / 1000)} s.`,
    '',
  ];
  const missed = rows.filter((r) => status(r) === 'missed').length;
  const footer = ['', `${rows.filter((r) => status(r) === 'met').length} targets met, ${missed} missed.`];
  process.stdout.write(`${[...header, table(TTY), ...footer].join('\n')}\n`);
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().slice(0, 10)}-${hostname()}${QUICK ? '-quick' : ''}${partial ? '-partial' : ''}.md`);
  writeFileSync(file, `${[...header, table(false), ...footer].join('\n')}\n`);
  log(`report written to ${file}`);
}

// Interrupted: report what was measured, then end (the exit handler kills Herald processes).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    report(true);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}

async function main(): Promise<void> {
  log(`Herald benchmark (${QUICK ? 'quick' : 'full'}; ${SIZE.runs} run${SIZE.runs > 1 ? 's' : ''} per scenario) on ${machine()}`);
  receiver = await startChild('receiver.ts');
  loadgen = await startChild('loadgen.ts');
  receiverPorts = await receiver.call<number[]>('ports');
  try {
    await sqliteScenarios();
    await backlogScenario();
    await postgresScenarios();
    const bull = await baselines();
    const herald1 = rows.find((r) => r.scenario.startsWith('1.') && r.metric.includes('× 1'));
    if (herald1 && Number.isFinite(bull)) {
      record({ scenario: '7. Herald ÷ BullMQ', metric: 'SQLite throughput, fan-out 1, medians', unit: '×', values: [median(herald1.values) / bull], target: { op: '>=', value: 1.5 } });
    }
  } finally {
    await loadgen.close();
    await receiver.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  report(false);
}

await main();
// Children are closed; nothing else should keep the process alive.
process.exit(0);
