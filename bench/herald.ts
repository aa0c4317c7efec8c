/** Herald as child processes (the built CLI), plus the API calls that set a run up. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { EVENT_TYPE } from './payload.js';
import { REPO_ROOT } from './rpc.js';

export const ADMIN_TOKEN = 'hrld_admin_bench_token_0123456789abcdef';
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
const CLI = join(REPO_ROOT, 'dist', 'cli', 'index.js');
/** The V8 flags of `npm start` and of the `herald` command's shebang (README "Performance"). */
const HERALD_NODE_FLAGS = ['--max-semi-space-size=8'];

export interface HeraldProcess {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Peak resident set (VmHWM) so far, MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/** Herald processes still running: killed if the bench itself ends early. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startHerald(env: Record<string, string>, extraArgs: string[] = []): Promise<HeraldProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  // BENCH_CPU_PROF=<dir>: every Herald process writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  // Launched as `npm start` and the `herald` command launch it (see HERALD_NODE_FLAGS).
  const child = spawn(process.execPath, [...HERALD_NODE_FLAGS, ...profile, ...extraArgs, CLI, 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...inherited,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
      HERALD_ENCRYPTION_KEY: ENCRYPTION_KEY,
      HERALD_API_RATE_LIMIT: '0',
      HERALD_LOG_LEVEL: 'info',
      HERALD_SHUTDOWN_GRACE_MS: '500',
      HERALD_DISPATCHER_MAX_IN_FLIGHT: '512',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Herald did not start within 60 s:\n${output.slice(-20).join('\n')}`));
    }, 60_000);
    const onLine = (line: string): void => {
      if (output.length < 200) output.push(line);
      if (!line.includes('Herald is listening')) return;
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not JSON: keep waiting
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (output.length < 200) output.push(line);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`Herald exited before listening:\n${output.slice(-20).join('\n')}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    process: child,
    peakRssMiB() {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) / 1024 : NaN;
      } catch {
        return NaN;
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** An organization with `urls.length` webhooks (concurrency 64) subscribed to the bench event type. */
export async function setUpOrganization(base: string, org: string, urls: string[]): Promise<string[]> {
  await api(base, 'PUT', `/event-types/${EVENT_TYPE}`, { description: 'Benchmark event' });
  await api(base, 'POST', '/organizations', { id: org });
  const ids: string[] = [];
  for (const url of urls) {
    const hook = await api<{ id: string }>(base, 'POST', `/organizations/${org}/webhooks`, { url, events: [EVENT_TYPE], concurrency: 64 });
    ids.push(hook.id);
  }
  return ids;
}

/** A fresh PostgreSQL database for one setup. */
export async function freshDatabase(name: string): Promise<string> {
  const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
