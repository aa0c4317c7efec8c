/**
 * Checks a webhook's settings against the profile and the catalog, with the
 * reasons an API user needs (422). Pure: the caller passes what it looked up.
 */
import { resolveFilterPatterns, type AttributeRules } from '../domain/attributes.js';
import { isValidSubscriptionPattern } from '../domain/matching.js';
import { isSigningSecretKey, isWhsecSecret } from '../domain/secrets.js';
import { signatureHeaderNames } from '../domain/signatures/index.js';
import type { EventType, Format } from '../domain/types.js';
import { HeraldError } from '../errors.js';
import type { TargetVerdict } from '../ssrf/target-guard.js';

export const MAX_URL_LENGTH = 2048;
/** Custom headers a webhook may carry. */
export const MAX_CUSTOM_HEADERS = 50;

/**
 * Headers Herald sets itself or that belong to the connection (hop-by-hop,
 * RFC 9110 §7.6.1, and the HTTP/2 upgrade ones): a webhook may not set them.
 */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'proxy-authenticate',
  'http2-settings',
  'expect',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,4096}$/;

function invalid(code: string, message: string, details: unknown[] = []): HeraldError {
  return new HeraldError(422, code, message, details);
}

export function checkUrl(raw: string): void {
  if (raw.length > MAX_URL_LENGTH) throw invalid('invalid_url', `url is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('invalid_url', 'url is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid('invalid_url', `url scheme must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid('invalid_url', 'url must not carry credentials; use the webhook secret or custom headers');
  }
  if (url.hash !== '') throw invalid('invalid_url', 'url must not have a #fragment');
}

/**
 * The URL's host must not be, or resolve to, an address the SSRF guard refuses
 * (422 `blocked_url`, with the address and the range in `details`). A name that
 * does not resolve now is accepted: the guard checks again at every send.
 */
export async function checkUrlTarget(url: string, guard: { checkUrl(url: string): Promise<TargetVerdict> }): Promise<void> {
  const verdict = await guard.checkUrl(url);
  if (verdict.allowed) return;
  throw invalid(
    'blocked_url',
    `url: ${verdict.reason}; Herald does not deliver to such addresses unless the operator allows them (HERALD_ALLOW_PRIVATE_NETWORKS)`,
    [{ path: '/url', address: verdict.address, range: verdict.range }],
  );
}

/**
 * Exact names must be in the catalog. A deprecated type may stay subscribed
 * where it already was (`already`), but may not be newly subscribed.
 */
export function checkSubscriptions(events: readonly string[], catalog: ReadonlyMap<string, EventType>, already: readonly string[] = []): void {
  for (const pattern of events) {
    if (!isValidSubscriptionPattern(pattern)) {
      throw invalid('invalid_event_pattern', `events: ${JSON.stringify(pattern)} is not an event type name, group.* or *`);
    }
    if (pattern === '*' || pattern.endsWith('.*')) continue;
    const type = catalog.get(pattern);
    if (!type || type.archived) throw invalid('unknown_event_type', `events: ${JSON.stringify(pattern)} is not in the catalog`);
    if (type.deprecated && !already.includes(pattern)) {
      throw invalid('deprecated_event_type', `events: ${JSON.stringify(pattern)} is deprecated and takes no new subscriptions`);
    }
  }
}

export function checkHeaders(headers: Record<string, string>, format: Format): void {
  const signature = new Set(signatureHeaderNames(format.signature));
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw invalid('invalid_header', `headers: ${JSON.stringify(name)} is not a valid header name`);
    if (!HEADER_VALUE.test(value)) {
      throw invalid('invalid_header', `headers: the value of ${name} has control characters (CR/LF) or is too long`);
    }
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower) || signature.has(lower) || lower.startsWith('webhook-') || lower.startsWith('svix-')) {
      throw invalid('reserved_header', `headers: ${name} is set by Herald and cannot be overridden`);
    }
  }
}

/** Symmetric schemes with Standard Webhooks framing need whsec_ secrets; ed25519 signing needs whsk_ keys. */
export function checkSecret(secret: string, format: Format, signing: 'hmac' | 'ed25519'): void {
  const framed = format.signature.scheme === 'standard-webhooks' || format.signature.scheme === 'svix';
  if (signing === 'ed25519') {
    if (!framed) throw invalid('invalid_signing', `ed25519 signing needs a Standard Webhooks or Svix format, not ${format.signature.scheme}`);
    if (!isSigningSecretKey(secret)) throw invalid('invalid_secret', 'secret must be a whsk_ ed25519 secret key');
    return;
  }
  if (framed) {
    if (!isWhsecSecret(secret)) throw invalid('invalid_secret', 'secret must be whsec_ followed by base64 of 24–64 bytes');
    return;
  }
  if (secret.length < 8 || secret.length > 256 || /[\r\n]/.test(secret)) {
    throw invalid('invalid_secret', 'secret must be 8–256 characters without line breaks');
  }
}

export function resolveFormat(formats: Readonly<Record<string, Format>>, name: string | null, fallback: string): Format {
  const format = formats[name ?? fallback];
  if (!format) {
    throw invalid('unknown_format', `format ${JSON.stringify(name)} is not defined; known: ${Object.keys(formats).join(', ')}`);
  }
  return format;
}

/**
 * Filters on attributes the profile declares get their canonical spelling (an alias such as
 * Qovery's `DEPLOYMENT` is stored as `DEVELOPMENT`); a value that is not declared is a 422.
 */
export function normalizeFilters(filters: Record<string, string[]>, rules: AttributeRules): Record<string, string[]> {
  if (Object.keys(rules).length === 0) return filters;
  const resolved = resolveFilterPatterns(rules, filters);
  if (resolved.problems.length > 0) {
    throw invalid('invalid_filter', `filters: ${resolved.problems.map((p) => p.message).join('; ')}`, resolved.problems.map(({ path, message }) => ({ path, message })));
  }
  return resolved.filters;
}
