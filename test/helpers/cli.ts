/**
 * Runs the built `herald` binary (`node dist/cli/index.js`) for CLI tests: one-shot commands
 * with their exit code and output, and long-running ones (`listen`) with their lines as they come.
 * The environment holds no HERALD_* variable of the developer's shell, and the working
 * directory is a fresh temporary one (so no ./.herald/admin-token is picked up by accident).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI_PATH, REPO_ROOT, requireBuiltCli } from './child-herald.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let checked = false;

/**
 * The built binary, failing clearly when dist/ is missing or older than the CLI and receiver
 * sources (the tests would otherwise run yesterday's code).
 */
export function requireFreshCli(): string {
  const cli = requireBuiltCli();
  if (checked) return cli;
  const built = statSync(CLI_PATH).mtimeMs;
  for (const dir of ['src/cli', 'src/receiver']) {
    if (newestMtime(join(REPO_ROOT, dir)) > built) {
      throw new Error(`${CLI_PATH} is older than ${dir}/: run \`npm run build\` first (\`npm test\` does it).`);
    }
  }
  checked = true;
  return cli;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not). */
  json<T = unknown>(): T;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Written to stdin (then closed). */
  input?: string;
  timeoutMs?: number;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));
  return { ...inherited, NO_COLOR: '1', ...extra };
}

const tempDirs: string[] = [];
let defaultCwd: string | null = null;

function scratchDir(): string {
  defaultCwd ??= tempDir('herald-cli-');
  return defaultCwd;
}

/** A temporary directory, removed by removeTempDirs (call it in afterAll). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  defaultCwd = null;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const cli = requireFreshCli();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: options.cwd ?? scratchDir(), env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herald ${args.join(' ')} did not finish within ${options.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`herald ${args.join(' ')}: stdout is not JSON (exit ${code})\nstdout: ${stdout}\nstderr: ${stderr}`);
          }
        },
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface RunningCli {
  process: ChildProcess;
  stdoutLines: string[];
  stderrLines: string[];
  /** Resolves with the first stdout line (from `from` on) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, options?: { timeoutMs?: number; from?: number }): Promise<string>;
  /** SIGINT (what Ctrl-C sends), then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running command; resolves once a stderr line matches `ready` (e.g. the listen banner). */
export async function startCli(args: string[], ready: RegExp, options: CliOptions = {}): Promise<RunningCli & { readyMatch: RegExpExecArray }> {
  const cli = requireFreshCli();
  const child = spawn(process.execPath, [cli, ...args], { cwd: options.cwd ?? scratchDir(), env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const wakers = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdoutLines.push(line);
    for (const wake of wakers) wake();
  });
  const readyMatch = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herald ${args.join(' ')}: no line matching ${ready} within ${options.timeoutMs ?? 15_000} ms\n${stderrLines.join('\n')}`));
    }, options.timeoutMs ?? 15_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrLines.push(line);
      const match = ready.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`herald ${args.join(' ')} exited with ${code} before it was ready:\n${stderrLines.join('\n')}`));
    });
  });
  return {
    process: child,
    stdoutLines,
    stderrLines,
    readyMatch,
    async waitForLine(match, { timeoutMs = 15_000, from = 0 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = stdoutLines.slice(from).find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no matching line within ${timeoutMs} ms; stdout:\n${stdoutLines.join('\n')}\nstderr:\n${stderrLines.join('\n')}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            wakers.delete(wake);
            resolve();
          };
          wakers.add(wake);
          setTimeout(wake, 100);
        });
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
