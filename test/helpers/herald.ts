/**
 * Starts a real Herald in the test process: its own temporary data dir,
 * a random port, a silent logger. `call` talks to its API with the admin token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import type { Clock } from '../../src/clock.js';
import { resolveConfig } from '../../src/config.js';
import { createHerald, type Herald } from '../../src/main.js';

export interface TestHerald {
  herald: Herald;
  url: string;
  dataDir: string;
  token: string;
  call<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Record<string, string | string[] | undefined> }>;
  stop(): Promise<void>;
}

export interface TestHeraldOptions {
  clock?: Clock;
  env?: Record<string, string>;
  profile?: string;
  dataDir?: string;
}

export async function startHerald(options: TestHeraldOptions = {}): Promise<TestHerald> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-test-'));
  const config = resolveConfig({
    file: null,
    env: {
      HERALD_DATA_DIR: dataDir,
      HERALD_PORT: '0',
      HERALD_ADMIN_TOKEN: 'test-admin-token',
      HERALD_LOG_LEVEL: 'silent',
      HERALD_POLL_INTERVAL_MS: '200',
      HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
      ...(options.profile ? { HERALD_PROFILE: options.profile } : {}),
      ...options.env,
    },
  });
  const herald = await createHerald({ config, logger: pino({ level: 'silent' }), ...(options.clock ? { clock: options.clock } : {}) });
  await herald.start();
  const url = herald.url ?? '';
  const token = herald.adminToken;
  return {
    herald,
    url,
    dataDir,
    token,
    async call(method, path, body, headers = {}) {
      const response = await request(`${url}${path}`, {
        method: method as 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await response.body.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.statusCode, body: parsed as never, headers: response.headers };
    },
    async stop() {
      await herald.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
