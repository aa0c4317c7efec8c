/**
 * Subscription matching: which webhooks get an event. Runs at ingest for every webhook of the
 * organization, so patterns are compiled once and cached.
 */

export interface MatchableEventType {
  name: string;
  deprecated: boolean;
}

/**
 * True when the event type is selected by the subscription patterns.
 * - exact name, `group.*` (any name starting with `group.`, nested groups too) or `*`;
 * - no patterns = every non-deprecated type;
 * - a deprecated type is only delivered to webhooks naming it exactly, so that wildcards
 *   never pick up a type that is being phased out.
 */
export function matchesEventType(patterns: readonly string[], type: MatchableEventType): boolean {
  if (patterns.length === 0) return !type.deprecated;
  const name = type.name;
  for (const pattern of patterns) {
    if (pattern === name) return true;
    if (type.deprecated) continue;
    if (pattern === '*') return true;
    // `group.*` keeps its dot as the prefix, so `deployment.*` does not match `deploymentx` or `deployment`.
    if (pattern.endsWith('.*') && name.length > pattern.length - 1 && name.startsWith(pattern.slice(0, -1))) {
      return true;
    }
  }
  return false;
}

/**
 * A valid entry of a webhook's `events`: `*`, `prefix.*`, or a name. `*` may appear only as the
 * whole pattern or as the last segment; no whitespace, no empty segments (`a..b`, `.a`, `a.`).
 */
export function isValidSubscriptionPattern(p: string): boolean {
  if (p === '*') return true;
  const name = p.endsWith('.*') ? p.slice(0, -2) : p;
  if (name.length === 0 || name.includes('*')) return false;
  if (/\s/.test(name)) return false;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return name.split('.').every((segment) => segment.length > 0);
}

// Bounded so that a stream of distinct patterns cannot grow memory without limit.
const PATTERN_CACHE_LIMIT = 10_000;
const patternCache = new Map<string, RegExp>();

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function compileAttributePattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    const source = pattern.split('*').map(escapeRegExp).join('.*');
    // `s`: `*` also spans newlines; `i`: filters are case-insensitive.
    re = new RegExp(`^${source}$`, 'is');
    if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

/** One attribute filter pattern against one value: `*` matches any run of characters, case-insensitive. */
export function matchesAttributePattern(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  return compileAttributePattern(pattern).test(value);
}

/**
 * Attribute filters: AND across keys, OR within a key. A key with no patterns is ignored; an event
 * without the attribute does not match a filter on it. Attribute names are compared exactly
 * (case-sensitive); only values are case-insensitive.
 */
export function matchesFilters(
  filters: Readonly<Record<string, readonly string[]>>,
  attributes: Readonly<Record<string, string>>,
): boolean {
  for (const key of Object.keys(filters)) {
    const patterns = filters[key];
    if (patterns === undefined || patterns.length === 0) continue;
    // hasOwn: an attribute named like an Object.prototype member must not be "present" by inheritance.
    const value = Object.hasOwn(attributes, key) ? attributes[key] : undefined;
    if (typeof value !== 'string') return false;
    let matched = false;
    for (const pattern of patterns) {
      if (matchesAttributePattern(pattern, value)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

/** Whether a webhook receives an event: its type subscription and its attribute filters. */
export function webhookMatches(
  webhook: { events: readonly string[]; filters: Readonly<Record<string, readonly string[]>> },
  event: { type: string; attributes: Readonly<Record<string, string>> },
  eventType: MatchableEventType,
): boolean {
  // `eventType` is the catalog entry of `event.type`; its name is what the patterns are about.
  return matchesEventType(webhook.events, eventType) && matchesFilters(webhook.filters, event.attributes);
}
