import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import type { AttemptErrorClass } from '../domain/types.js';
import { classifyError, errorMessage } from './classify-error.js';

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** An attempt's outcome as data: a failed request is a result, not an exception. */
export interface SendResult {
  status: number | null;
  headers: Record<string, string>;
  /** The first `responseBodyLimitBytes` of the answer. */
  body: string | null;
  durationMs: number;
  error: AttemptErrorClass | null;
  errorMessage: string | null;
}

export interface Sender {
  send(request: OutgoingRequest): Promise<SendResult>;
  /** Waits for requests in flight, then closes the pools. */
  close(): Promise<void>;
  /** Aborts requests in flight at once (shutdown after the grace period). */
  destroy(): Promise<void>;
}

export interface SenderOptions {
  responseBodyLimitBytes: number;
  /** Keep-alive connections per origin. @defaultValue 32 */
  connectionsPerOrigin?: number;
  /** undici connect options (the SSRF guard plugs in here). */
  connect?: Agent.Options['connect'];
}

/** Reading past this much of an answer is pointless: drop the connection instead. */
const DRAIN_LIMIT_BYTES = 256 * 1024;

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let seen = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (keptBytes < limit) {
      const part = chunk.length > limit - keptBytes ? chunk.subarray(0, limit - keptBytes) : chunk;
      kept.push(part);
      keptBytes += part.length;
    }
    if (seen > DRAIN_LIMIT_BYTES) {
      body.destroy();
      break;
    }
  }
  const bytes = Buffer.concat(kept, keptBytes);
  // A cut inside a UTF-8 character would decode to U+FFFD: keep whole characters only.
  return (seen > keptBytes ? bytes.subarray(0, wholeUtf8Length(bytes)) : bytes).toString('utf8');
}

/** Length of `bytes` without a trailing incomplete UTF-8 sequence. */
function wholeUtf8Length(bytes: Buffer): number {
  let start = bytes.length - 1;
  while (start > 0 && bytes.length - start < 4 && ((bytes[start] as number) & 0xc0) === 0x80) start--;
  if (start < 0) return 0;
  const lead = bytes[start] as number;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return start + size > bytes.length ? start : bytes.length;
}

/**
 * Sends attempts through one undici Agent: a keep-alive pool per origin.
 * Redirects are never followed (a 3xx is recorded as it is).
 */
export function createSender(options: SenderOptions): Sender {
  const agent = new Agent({
    connections: options.connectionsPerOrigin ?? 32,
    keepAliveTimeout: 30_000,
    pipelining: 1,
    ...(options.connect !== undefined ? { connect: options.connect } : {}),
  });
  return {
    async send(request) {
      const started = performance.now();
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (error) {
        return { status: null, headers: {}, body: null, durationMs: 0, error: 'connect', errorMessage: errorMessage(error) };
      }
      // The whole attempt has one deadline. Not AbortSignal.timeout: its timer lives on for the
      // full timeout after the attempt is over, and at thousands of attempts a second those
      // timers (and what they hold) were most of the heap.
      const abort = new AbortController();
      const deadline = setTimeout(() => abort.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), request.timeoutMs);
      try {
        const response = await agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'POST',
          headers: request.headers,
          body: request.body,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
          signal: abort.signal,
        });
        const body = await readLimited(response.body, options.responseBodyLimitBytes);
        return {
          status: response.statusCode,
          headers: flattenHeaders(response.headers),
          body,
          durationMs: Math.round(performance.now() - started),
          error: null,
          errorMessage: null,
        };
      } catch (error) {
        return {
          status: null,
          headers: {},
          body: null,
          durationMs: Math.round(performance.now() - started),
          error: classifyError(error),
          errorMessage: errorMessage(error),
        };
      } finally {
        clearTimeout(deadline);
      }
    },
    async close() {
      await agent.close();
    },
    async destroy() {
      await agent.destroy();
    },
  };
}
