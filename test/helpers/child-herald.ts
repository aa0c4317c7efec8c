/**
 * Runs the built Herald (`node dist/cli/index.js serve`) as a child process,
 * for tests that must kill it for real. Needs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = join(REPO_ROOT, 'dist', 'cli', 'index.js');

/** Throws a clear error when dist/ has not been built. */
export function requireBuiltCli(): string {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: this test runs the built Herald. Run \`npm run build\` first (\`npm test\` does it).`);
  }
  return CLI_PATH;
}

export interface ChildHerald {
  url: string;
  process: ChildProcess;
  /** Every stdout/stderr line so far (JSON log lines when not a TTY). */
  output: string[];
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no shutdown code runs. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ChildHeraldOptions {
  dataDir: string;
  adminToken: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export async function startChildHerald(options: ChildHeraldOptions): Promise<ChildHerald> {
  const cli = requireBuiltCli();
  // The child's config comes only from what the test says, not from the developer's shell.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));
  const child = spawn(process.execPath, [cli, 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...inherited,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_DATA_DIR: options.dataDir,
      HERALD_ADMIN_TOKEN: options.adminToken,
      HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
      // Processes sharing a PostgreSQL database need one key (the one test/helpers/herald.ts uses).
      HERALD_ENCRYPTION_KEY: 'aGVyYWxkLXRlc3QtZW5jcnlwdGlvbi1rZXktMzJieXQ=',
      // Throughput tests post thousands of events a second with one token: no API rate limit unless a test sets one.
      HERALD_API_RATE_LIMIT: '0',
      HERALD_LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Herald did not log "Herald is listening" within ${options.startTimeoutMs ?? 15_000} ms:\n${output.join('\n')}`));
    }, options.startTimeoutMs ?? 15_000);
    const onLine = (line: string): void => {
      output.push(line);
      if (!line.includes('Herald is listening')) return;
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a JSON line: keep waiting
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`Herald exited (code ${code}, signal ${signal}) before listening:\n${output.join('\n')}`));
    });
  });

  return {
    url,
    process: child,
    output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
