/**
 * The CLI's HTTP client for a running Herald: base URL and token resolution, JSON in and out,
 * and the mapping of every failure to an exit code (exit-codes.ts).
 *
 * Where the token comes from, first match wins: `--token`, `HERALD_TOKEN`, then the admin-token
 * file a local Herald writes (`$HERALD_DATA_DIR/admin-token`, default `./.herald/admin-token`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { CliError, usageError } from './errors.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ConnectionFlags {
  url?: string;
  token?: string;
  timeout?: number;
}

export interface Connection {
  url: URL;
  token: string | null;
  /** Where the token came from, for error hints. */
  tokenSource: string | null;
  timeoutMs: number;
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Connection {
  const text = flags.url ?? env.HERALD_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--url ${JSON.stringify(text)} is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url must be http:// or https://, got ${text}`);
  let token: string | null = null;
  let tokenSource: string | null = null;
  if (flags.token !== undefined && flags.token !== '') {
    token = flags.token;
    tokenSource = '--token';
  } else if (env.HERALD_TOKEN !== undefined && env.HERALD_TOKEN !== '') {
    token = env.HERALD_TOKEN;
    tokenSource = 'HERALD_TOKEN';
  } else {
    const file = join(cwd, env.HERALD_DATA_DIR ?? '.herald', 'admin-token');
    if (existsSync(file)) {
      const content = readFileSync(file, 'utf8').trim();
      if (content !== '') {
        token = content;
        tokenSource = file;
      }
    }
  }
  return { url, token, tokenSource, timeoutMs: flags.timeout ?? 30_000 };
}

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
}

interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown[] };
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

function describeDetail(detail: unknown): string {
  if (typeof detail === 'object' && detail !== null) {
    const d = detail as { path?: unknown; message?: unknown; field?: unknown };
    if (typeof d.message === 'string') {
      const where = [d.path, d.field].filter((p) => typeof p === 'string' && p !== '').join('/');
      return where !== '' ? `${where}: ${d.message}` : d.message;
    }
  }
  return JSON.stringify(detail);
}

/** The network error underneath undici's wrappers (AggregateError for happy-eyeballs, `cause`). */
function rootCause(error: unknown): { code?: string; message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return { code, message: current.message };
    if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
    else current = current.cause;
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class HeraldClient {
  readonly connection: Connection;
  readonly #agent: Agent;

  constructor(connection: Connection) {
    this.connection = connection;
    this.#agent = new Agent({
      connect: { timeout: connection.timeoutMs },
      headersTimeout: connection.timeoutMs,
      bodyTimeout: connection.timeoutMs,
      keepAliveTimeout: 1_000,
    });
  }

  static fromFlags(flags: ConnectionFlags): HeraldClient {
    return new HeraldClient(resolveConnection(flags));
  }

  /** The API URL of a path under /v1 (each segment given is escaped by the caller with `path`). */
  #target(path: string, query: CallOptions['query']): string {
    const url = new URL(this.connection.url.toString());
    // Keep a base path the user gave (a Herald behind a reverse proxy at /herald).
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1${path}`;
    url.search = '';
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  /**
   * One API call; resolves to the parsed JSON answer (null for 204). Every failure throws a
   * CliError with its exit code. 429 and 503 (nothing was done) are retried up to 3 times.
   */
  async call<T>(method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<T> {
    const target = this.#target(path, options.query);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.connection.token !== null) headers.authorization = `Bearer ${this.connection.token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(options.body);
    }
    for (let attempt = 1; ; attempt++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(target, { method, headers, body: payload, dispatcher: this.#agent });
      } catch (error) {
        throw this.#connectionError(error);
      }
      let text: string;
      try {
        text = await response.body.text();
      } catch (error) {
        throw this.#connectionError(error);
      }
      const status = response.statusCode;
      if ((status === 429 || status === 503) && attempt < 4) {
        const retryAfter = Number(response.headers['retry-after']);
        await sleep(Math.min(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 250 * attempt, 5_000));
        continue;
      }
      let parsed: unknown = null;
      if (text !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          if (status < 400) throw new CliError(`${method} ${target}: answer is not JSON (is ${this.connection.url.origin} a Herald?)`, EXIT.usage);
          parsed = null;
        }
      }
      if (status >= 400) throw this.#httpError(method, path, status, parsed, text);
      return parsed as T;
    }
  }

  /** Follows `nextCursor` and returns every item (at most `max`). */
  async all<T>(path: string, query: CallOptions['query'] = {}, max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: T[]; nextCursor: string | null } = await this.call('GET', path, { query: { ...query, limit: 250, ...(cursor ? { cursor } : {}) } });
      items.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor !== null && items.length < max);
    return items.slice(0, max);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  #connectionError(error: unknown): CliError {
    if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
      return new CliError(`no answer from Herald at ${this.connection.url.origin} within ${this.connection.timeoutMs} ms`, EXIT.unreachable);
    }
    const cause = rootCause(error);
    const hint = cause.code === 'ECONNREFUSED' ? ' (is it running? start it with `herald serve`, or pass --url / HERALD_URL)' : '';
    return new CliError(`cannot reach Herald at ${this.connection.url.origin}: ${cause.code ?? cause.message}${hint}`, EXIT.unreachable);
  }

  #httpError(method: string, path: string, status: number, parsed: unknown, text: string): CliError {
    const apiError = (parsed as ApiErrorBody | null)?.error;
    const message = apiError?.message ?? (text.trim().slice(0, 200) || `HTTP ${status}`);
    const code = apiError?.code ? ` ${apiError.code}` : '';
    const details = (apiError?.details ?? []).map(describeDetail);
    if (status === 401 && this.connection.token === null) {
      details.push('no token: pass --token, set HERALD_TOKEN, or run from the directory holding .herald/admin-token');
    } else if (status === 401 && this.connection.tokenSource !== null) {
      details.push(`token from ${this.connection.tokenSource}`);
    }
    return new CliError(`${method} /v1${path}: ${message} (HTTP ${status}${code})`, exitCodeForStatus(status), details);
  }
}

/** A path segment, escaped (organization ids and event-type names are the operator's strings). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** Runs `body` with a client from the flags, and closes it afterwards. */
export async function withClient<T>(flags: ConnectionFlags, body: (client: HeraldClient) => Promise<T>): Promise<T> {
  const client = HeraldClient.fromFlags(flags);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}
