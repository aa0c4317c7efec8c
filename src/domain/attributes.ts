/**
 * Event attributes a profile declares (`attributes:` in the profile file): the values webhook
 * filters match on, with optional canonical values, aliases, a fallback read from the event
 * data, and per-type availability listed in the catalog. Pure: ingest and the webhook API turn
 * the problems found here into 422 answers.
 *
 * Examples from the seed profiles:
 * - Qovery `environmentType`: values PRODUCTION, STAGING, DEVELOPMENT, PREVIEW; `DEPLOYMENT` is an
 *   alias of DEVELOPMENT (one Qovery page says DEPLOYMENT, the other DEVELOPMENT).
 * - Convocore `agentPlatform`: values convocore, vf; read from `data.agentPlatform` when the event
 *   has no such attribute; `catalogKey: platforms` makes `lead_captured` (platforms: [convocore])
 *   refuse an event for a `vf` agent.
 */
import type { EventType, JsonValue } from './types.js';

export interface AttributeRule {
  description: string;
  /** Canonical values; null accepts any value. */
  values: string[] | null;
  /** Other spelling -> canonical value. Matched case-insensitively. */
  aliases: Record<string, string>;
  /** Path in the event data read when the event does not carry the attribute; null: none. */
  fromData: string[] | null;
  /** Catalog key whose list (per event type) names the values that type is available for. */
  catalogKey: string | null;
}

export type AttributeRules = Readonly<Record<string, AttributeRule>>;

export interface AttributeProblem {
  code: 'invalid_attribute' | 'event_type_unavailable';
  /** Where the value came from: `/attributes/<name>` or `/data/<path>`. */
  path: string;
  message: string;
}

/**
 * The canonical spelling of a value: an alias becomes its target, a declared value gets its
 * declared case. null when the rule declares values and this is none of them.
 */
export function canonicalAttributeValue(rule: AttributeRule, value: string): string | null {
  const lower = value.toLowerCase();
  for (const alias of Object.keys(rule.aliases)) {
    if (alias.toLowerCase() === lower) return rule.aliases[alias] as string;
  }
  if (rule.values === null) return value;
  for (const known of rule.values) if (known.toLowerCase() === lower) return known;
  return null;
}

function describeValues(rule: AttributeRule): string {
  const values = (rule.values ?? []).join(', ');
  const aliases = Object.entries(rule.aliases).map(([alias, target]) => `${alias} = ${target}`);
  return aliases.length > 0 ? `${values} (aliases: ${aliases.join(', ')})` : values;
}

/** A scalar at `path` inside `data` as text; undefined when absent or not a string, number or boolean. */
function readData(data: JsonValue, path: readonly string[]): string | undefined {
  let value: JsonValue | undefined = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * An event's attributes after the profile's rules: declared attributes taken from the data when
 * missing, aliases resolved, values checked, and the event type's availability checked. Attributes
 * the profile does not declare pass through untouched.
 */
export function resolveEventAttributes(
  rules: AttributeRules,
  type: Pick<EventType, 'name' | 'extra'>,
  attributes: Readonly<Record<string, string>>,
  data: JsonValue,
): { attributes: Record<string, string>; problems: AttributeProblem[] } {
  const out: Record<string, string> = { ...attributes };
  const problems: AttributeProblem[] = [];
  for (const name of Object.keys(rules)) {
    const rule = rules[name] as AttributeRule;
    let raw: string | undefined;
    let path = `/attributes/${name}`;
    if (Object.hasOwn(attributes, name)) {
      raw = attributes[name];
    } else if (rule.fromData !== null) {
      raw = readData(data, rule.fromData);
      path = `/data/${rule.fromData.join('/')}`;
    }
    if (raw === undefined) continue;
    const value = canonicalAttributeValue(rule, raw);
    if (value === null) {
      problems.push({ code: 'invalid_attribute', path, message: `${name} ${JSON.stringify(raw)} is not one of ${describeValues(rule)}` });
      continue;
    }
    out[name] = value;
    const available = rule.catalogKey !== null ? type.extra[rule.catalogKey] : undefined;
    if (Array.isArray(available) && !available.some((v) => typeof v === 'string' && v.toLowerCase() === value.toLowerCase())) {
      problems.push({
        code: 'event_type_unavailable',
        path,
        message: `event type ${type.name} is not available for ${name} ${JSON.stringify(value)} (only for: ${available.join(', ')})`,
      });
    }
  }
  return { attributes: out, problems };
}

/**
 * A webhook's filters after the profile's rules: a pattern without `*` on a declared attribute
 * gets its canonical spelling (so `DEPLOYMENT` is stored as `DEVELOPMENT`); one that is not a
 * declared value is a problem. Wildcard patterns and undeclared attributes pass through.
 */
export function resolveFilterPatterns(
  rules: AttributeRules,
  filters: Readonly<Record<string, readonly string[]>>,
): { filters: Record<string, string[]>; problems: AttributeProblem[] } {
  const out: Record<string, string[]> = {};
  const problems: AttributeProblem[] = [];
  for (const name of Object.keys(filters)) {
    const patterns = filters[name] ?? [];
    const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
    if (rule === undefined) {
      out[name] = [...patterns];
      continue;
    }
    out[name] = patterns.map((pattern, index) => {
      if (pattern.includes('*')) return pattern;
      const value = canonicalAttributeValue(rule, pattern);
      if (value !== null) return value;
      problems.push({
        code: 'invalid_attribute',
        path: `/filters/${name}/${index}`,
        message: `${name} ${JSON.stringify(pattern)} is not one of ${describeValues(rule)}`,
      });
      return pattern;
    });
  }
  return { filters: out, problems };
}
