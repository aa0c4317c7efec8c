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
import type { LookupAll } from '../../src/ssrf/target-guard.js';
import { createTestDatabase } from './postgres.js';

export interface TestHerald {
  herald: Herald;
  url: string;
  dataDir: string;
  token: string;
  call<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Record<string, string | string[] | undefined> }>;
  stop(): Promise<void>;
}

/** The store integration tests run on: the vitest project sets HERALD_TEST_DIALECT (sqlite by default). */
export const TEST_DIALECT: 'sqlite' | 'postgres' = process.env.HERALD_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';

/**
 * The encryption key every test Herald gets (base64 of 32 bytes): processes that share a
 * PostgreSQL database must share a key, and a fixed one lets a test reopen a data dir.
 */
export const TEST_ENCRYPTION_KEY = 'aGVyYWxkLXRlc3QtZW5jcnlwdGlvbi1rZXktMzJieXQ=';

export interface TestHeraldOptions {
  /** Replaces the SSRF guard's DNS lookup (names resolve without a DNS server). */
  lookup?: LookupAll;
  clock?: Clock;
  env?: Record<string, string>;
  profile?: string;
  dataDir?: string;
}

export async function startHerald(options: TestHeraldOptions = {}): Promise<TestHerald> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-test-'));
  // On PostgreSQL every Herald gets a database of its own, dropped when it stops.
  const database = TEST_DIALECT === 'postgres' && !options.env?.HERALD_DATABASE_URL ? await createTestDatabase() : null;
  const config = resolveConfig({
    file: null,
    env: {
      HERALD_DATA_DIR: dataDir,
      HERALD_PORT: '0',
      HERALD_ADMIN_TOKEN: 'test-admin-token',
      HERALD_LOG_LEVEL: 'silent',
      HERALD_POLL_INTERVAL_MS: '200',
      HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
      HERALD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      ...(options.profile ? { HERALD_PROFILE: options.profile } : {}),
      ...(database ? { HERALD_DATABASE_URL: database.url } : {}),
      ...options.env,
    },
  });
  const herald = await createHerald({
    config,
    logger: pino({ level: 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
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
      await database?.drop();
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
