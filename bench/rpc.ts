/**
 * A tiny request/answer channel over the IPC pipe of a child process: the bench
 * drives its receiver, load generators and BullMQ worker with it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(BENCH_DIR, '..');

interface Call {
  id: number;
  cmd: string;
  args: unknown;
}
interface Answer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface Child {
  readonly process: ChildProcess;
  call<T>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Starts `bench/<script>` (TypeScript, through tsx) and waits for its `ready` message. */
export async function startChild(script: string, env: Record<string, string> = {}): Promise<Child> {
  const child = fork(join(BENCH_DIR, script), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let next = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s`)), 30_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
  });
  child.on('message', (raw) => {
    const answer = raw as Answer;
    const waiting = pending.get(answer.id);
    if (!waiting) return;
    pending.delete(answer.id);
    clearTimeout(waiting.timer);
    if (answer.ok) waiting.resolve(answer.result);
    else waiting.reject(new Error(`${script}: ${answer.error}`));
  });
  child.once('exit', (code) => {
    for (const w of pending.values()) {
      clearTimeout(w.timer);
      w.reject(new Error(`${script} exited (${code})`));
    }
    pending.clear();
  });
  return {
    process: child,
    call<T>(cmd: string, args: unknown = {}, timeoutMs = 600_000): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ id, cmd, args } satisfies Call);
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child side: answers calls with `handlers`, then says it is ready. */
export function serveCalls(handlers: Record<string, (args: never) => unknown>): void {
  process.on('message', (raw) => {
    const call = raw as Call;
    const handler = handlers[call.cmd];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown command ${call.cmd}`);
        const result = await handler(call.args as never);
        process.send?.({ id: call.id, ok: true, result } satisfies Answer);
      } catch (error) {
        process.send?.({ id: call.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies Answer);
      }
    })();
  });
  // The parent going away ends the child: no orphans.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
