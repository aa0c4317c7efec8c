/**
 * The receiver library: does a request really come from Herald (or any sender of these schemes)?
 *
 *   const result = await verify(request, { secret: process.env.WEBHOOK_SECRET });
 *   if (!result.ok) return reply(401);
 *   const event = result.payload;
 *
 * Signatures are compared in constant time; timestamped schemes (standard-webhooks, svix) refuse
 * requests older or newer than `toleranceS` (replay protection). Nothing here touches the network
 * or Herald's server code, so importing it is cheap.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_TOLERANCE_S, STANDARD_WEBHOOKS_HEADERS, SVIX_HEADERS, verifyRequest } from '../domain/signatures/index.js';
import type { HeaderBag } from '../domain/signatures/index.js';
import type { SignatureScheme } from '../domain/types.js';
import { BodyTooLargeError, headerBag, readRequest, toBuffer, type RawRequest, type WebhookRequest } from './read-request.js';
import { describeScheme, normalizeScheme, PROFILE_PRESETS, type ProfilePreset, type ResolvedScheme, type SchemeOption } from './schemes.js';

export interface VerifyOptions {
  /** The signature scheme; default `standard-webhooks` (Herald's default). */
  scheme?: SchemeOption;
  /** A built-in profile's wire format instead of `scheme` (e.g. `vercel`, `convocore`). */
  profile?: ProfilePreset;
  /** The webhook's secret: `whsec_…`, `whpk_…` for ed25519 webhooks, or the plain string. */
  secret?: string;
  /** Several secrets, any of which may match (e.g. both sides of a rotation you started). */
  secrets?: readonly string[];
  /** Accepted clock difference for timestamped schemes, in seconds; default 300. */
  toleranceS?: number;
  /**
   * Dot path of a JSON body field that must equal the secret, for senders that put the secret in
   * the body instead of signing (Convocore: `payload.workspaceSecret`, set by `profile: 'convocore'`).
   */
  bodySecret?: string;
  /** The receiver's clock (epoch ms or a Date); default now. For tests and replays of captured requests. */
  now?: number | Date;
  /** Largest body read from a stream, in bytes; default 5 MiB. */
  maxBodyBytes?: number;
}

export type VerifyResult =
  | {
      ok: true;
      /** The raw body, as text. */
      body: string;
      /** The body parsed as JSON; undefined when it is not JSON. */
      payload: unknown;
      /** The message id of timestamped schemes (`webhook-id`/`svix-id`: Herald's delivery id, the same on retries); null otherwise. */
      id: string | null;
      /** The signed timestamp (unix seconds) of timestamped schemes; null otherwise. */
      timestamp: number | null;
      /** Which scheme verified, e.g. `standard-webhooks` or `hmac sha1 hex x-vercel-signature`. */
      scheme: string;
    }
  | {
      ok: false;
      /** Why not, for logs (never send it back to the caller). */
      reason: string;
      body: string;
    };

function resolveOptions(options: VerifyOptions): { resolved: ResolvedScheme; secrets: string[] } {
  if (typeof options !== 'object' || options === null) throw new TypeError('verify: options are required');
  if (options.scheme !== undefined && options.profile !== undefined) throw new TypeError('verify: give scheme or profile, not both');
  let resolved: ResolvedScheme;
  if (options.profile !== undefined) {
    const preset = Object.hasOwn(PROFILE_PRESETS, options.profile) ? PROFILE_PRESETS[options.profile] : undefined;
    if (!preset) throw new TypeError(`verify: unknown profile ${JSON.stringify(options.profile)}: expected one of ${Object.keys(PROFILE_PRESETS).join(', ')}`);
    resolved = { scheme: preset.scheme, bodySecret: options.bodySecret ?? preset.bodySecret };
  } else {
    resolved = { scheme: normalizeScheme(options.scheme ?? 'standard-webhooks'), bodySecret: options.bodySecret ?? null };
  }
  const secrets = [...(options.secret !== undefined ? [options.secret] : []), ...(options.secrets ?? [])].filter(
    (s) => typeof s === 'string' && s !== '',
  );
  if (secrets.length === 0 && (resolved.scheme.scheme !== 'none' || resolved.bodySecret !== null)) {
    throw new TypeError(`verify: a secret is needed for ${describeScheme(resolved.scheme)}${resolved.bodySecret !== null ? ` (body field ${resolved.bodySecret})` : ''}`);
  }
  return { resolved, secrets };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Does the body field at `path` equal one of the secrets? Every secret is compared (constant time). */
function checkBodySecret(payload: unknown, path: string, secrets: readonly string[]): string | null {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return `body has no ${path} field`;
    }
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value !== 'string') return `body field ${path} is not a string`;
  const given = digest(value);
  let match = false;
  for (const secret of secrets) if (timingSafeEqual(given, digest(secret))) match = true;
  return match ? null : `body field ${path} does not match the secret`;
}

function single(headers: HeaderBag, name: string): string | null {
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value = headers[key];
    return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? null) : null;
  }
  return null;
}

/** The message id and timestamp headers of the timestamped schemes. */
function messageMeta(scheme: SignatureScheme, headers: HeaderBag): { id: string | null; timestamp: number | null } {
  const names = scheme.scheme === 'standard-webhooks' ? STANDARD_WEBHOOKS_HEADERS : scheme.scheme === 'svix' ? SVIX_HEADERS : null;
  if (names === null) return { id: null, timestamp: null };
  const ts = single(headers, names.timestamp);
  return { id: single(headers, names.id), timestamp: ts !== null && /^\d+$/.test(ts) ? Number(ts) : null };
}

function check(resolved: ResolvedScheme, secrets: string[], headers: HeaderBag, raw: Buffer, options: VerifyOptions): VerifyResult {
  const body = raw.toString('utf8');
  const now = options.now instanceof Date ? options.now.getTime() : options.now;
  const signature = verifyRequest(resolved.scheme, {
    headers,
    body: raw,
    secrets,
    toleranceS: options.toleranceS ?? DEFAULT_TOLERANCE_S,
    ...(now !== undefined ? { now } : {}),
  });
  if (!signature.ok) return { ok: false, reason: signature.reason, body };
  const payload = parseJson(body);
  if (resolved.bodySecret !== null) {
    if (payload === undefined) return { ok: false, reason: 'body is not JSON', body };
    const problem = checkBodySecret(payload, resolved.bodySecret, secrets);
    if (problem !== null) return { ok: false, reason: problem, body };
  }
  const scheme = resolved.bodySecret !== null && resolved.scheme.scheme === 'none' ? `body secret ${resolved.bodySecret}` : describeScheme(resolved.scheme);
  return { ok: true, body, payload, scheme, ...messageMeta(resolved.scheme, headers) };
}

/**
 * Verifies a request whose raw body you already have (synchronous). `headers` may be a Node
 * header object or a Fetch `Headers`; `body` the exact string or bytes received.
 * Throws a TypeError for wrong options (no secret, unknown scheme); an invalid request is
 * `{ok: false, reason}`.
 */
export function verifyRaw(request: RawRequest, options: VerifyOptions): VerifyResult {
  const { resolved, secrets } = resolveOptions(options);
  if (!(typeof request.body === 'string' || request.body instanceof Uint8Array)) {
    throw new TypeError('verifyRaw: body must be the raw string or bytes received, not a parsed object');
  }
  return check(resolved, secrets, headerBag(request.headers), toBuffer(request.body), options);
}

/**
 * Verifies any request: a Fetch `Request` (read from a clone, so you can still call
 * `request.json()`), a Node `IncomingMessage` (its body is read here: use `result.body`
 * afterwards), an Express request after `express.raw()`, a Fastify request with a buffer body, or
 * `{headers, body}`. Resolves to `{ok: true, body, payload, id, timestamp}` or `{ok: false, reason}`.
 */
export async function verify(request: WebhookRequest, options: VerifyOptions): Promise<VerifyResult> {
  const { resolved, secrets } = resolveOptions(options);
  let read: { headers: HeaderBag; body: Buffer };
  try {
    read = await readRequest(request, options.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { ok: false, reason: error.message, body: '' };
    throw error;
  }
  return check(resolved, secrets, read.headers, read.body, options);
}
