/**
 * Gets the headers and the raw body bytes out of whatever a web framework hands a handler:
 * a Fetch `Request`, a Node `IncomingMessage` (read here), an Express request after
 * `express.raw()`, a Fastify request with a buffer body parser, or a plain `{headers, body}`.
 * Signatures are over the exact bytes sent, so a body that was already parsed into an object
 * cannot be verified: that is a setup mistake and throws a TypeError that says how to fix it.
 */
import type { HeaderBag } from '../domain/signatures/index.js';

/** What `verifyRaw` takes: headers in any case, the body exactly as received. */
export interface RawRequest {
  headers: HeaderBag | FetchHeaders;
  body: string | Uint8Array;
}

/** The part of the Fetch `Headers` class that is used. */
export interface FetchHeaders {
  forEach(callback: (value: string, name: string) => void): void;
  get(name: string): string | null;
}

/** The part of the Fetch `Request` class that is used. */
export interface FetchRequestLike {
  headers: FetchHeaders;
  bodyUsed: boolean;
  clone(): { arrayBuffer(): Promise<ArrayBuffer> };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A readable stream of body chunks with headers (Node's IncomingMessage). */
export interface NodeRequestLike {
  headers: HeaderBag;
  readableEnded?: boolean;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

/**
 * A framework's request: Express (`body` a Buffer after `express.raw()`), Fastify (`body` a
 * Buffer with a buffer content-type parser, or `rawBody` from a raw-body plugin).
 */
export interface FrameworkRequestLike {
  headers: HeaderBag | FetchHeaders;
  body?: unknown;
  rawBody?: unknown;
}

/** Anything `verify` accepts (checked at run time: see readRequest). */
export type WebhookRequest = RawRequest | FetchRequestLike | NodeRequestLike | FrameworkRequestLike;

export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

function isBytes(value: unknown): value is string | Uint8Array {
  return typeof value === 'string' || value instanceof Uint8Array;
}

function isFetchHeaders(headers: unknown): headers is FetchHeaders {
  return typeof headers === 'object' && headers !== null && typeof (headers as FetchHeaders).get === 'function' && typeof (headers as FetchHeaders).forEach === 'function';
}

/** Plain header record from a Node/Express/Fastify header object or a Fetch `Headers`. */
export function headerBag(headers: HeaderBag | FetchHeaders): HeaderBag {
  if (!isFetchHeaders(headers)) return headers;
  const bag: Record<string, string> = {};
  // Fetch joins repeated headers with ", "; signature headers are single-valued anyway.
  headers.forEach((value, name) => {
    bag[name] = value;
  });
  return bag;
}

export function toBuffer(body: string | Uint8Array): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

const PARSED_BODY_HELP =
  'the request body was already parsed, but a signature covers the raw bytes: ' +
  'use express.raw({ type: "application/json" }) in Express, ' +
  "app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body)) in Fastify, " +
  'or pass { headers, body: <raw string or Buffer> }';

async function readStream(stream: NodeRequestLike, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Past the limit the rest is read and dropped rather than the stream destroyed, so the
  // caller can still answer (413) on the same connection.
  for await (const chunk of stream as AsyncIterable<unknown>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : toBuffer(chunk as Uint8Array);
    size += bytes.length;
    if (size <= maxBytes) chunks.push(bytes);
  }
  if (size > maxBytes) throw new BodyTooLargeError(`request body is larger than ${maxBytes} bytes`);
  return Buffer.concat(chunks);
}

/** Headers and raw body of any supported request; reads the body when it is a stream. */
export async function readRequest(request: WebhookRequest, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<{ headers: HeaderBag; body: Buffer }> {
  if (typeof request !== 'object' || request === null || !('headers' in request)) {
    throw new TypeError('verify: expected a request with headers (Fetch Request, Node IncomingMessage, Express/Fastify request or {headers, body})');
  }
  const headers = headerBag(request.headers);

  if (isFetchHeaders(request.headers) && typeof (request as FetchRequestLike).arrayBuffer === 'function') {
    const fetchRequest = request as FetchRequestLike;
    if (fetchRequest.bodyUsed) throw new TypeError('verify: the Request body was already read; call verify before request.json()/text(), or pass {headers, body}');
    // A clone leaves the caller's Request readable for request.json() afterwards.
    const body = Buffer.from(await fetchRequest.clone().arrayBuffer());
    if (body.length > maxBytes) throw new BodyTooLargeError(`request body is larger than ${maxBytes} bytes`);
    return { headers, body };
  }

  const raw = (request as { rawBody?: unknown }).rawBody;
  if (isBytes(raw)) return { headers, body: toBuffer(raw) };

  const body = (request as { body?: unknown }).body;
  if (isBytes(body)) return { headers, body: toBuffer(body) };

  const stream = request as NodeRequestLike;
  if (body === undefined && typeof stream[Symbol.asyncIterator] === 'function') {
    if (stream.readableEnded === true) throw new TypeError(`verify: the request stream was already read; ${PARSED_BODY_HELP}`);
    return { headers, body: await readStream(stream, maxBytes) };
  }

  throw new TypeError(`verify: ${body === undefined || body === null ? 'the request has no body' : PARSED_BODY_HELP}`);
}
