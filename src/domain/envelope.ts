/**
 * Declarative envelope templates (DESIGN.md "Profiles"). A template is plain JSON with `{{path}}`
 * placeholders; it is compiled once per format into closures, so rendering one delivery is only
 * property lookups and object construction. No operator code runs here.
 */
import type { JsonObject, JsonValue } from './types.js';

export interface EnvelopeContext {
  event: {
    id: string;
    type: string;
    data: JsonValue;
    attributes: Record<string, string>;
    /** ISO 8601. */
    time: string;
    timeMs: number;
  };
  delivery: { id: string; attempt: number };
  webhook: { id: string; secret: string; metadata: JsonObject };
  organization: { id: string; name: string | null; metadata: JsonObject };
  /** The catalog entry: name and group plus the type's free-form `extra` (payloadType, …) spread in. */
  eventType: { name: string; group: string | null } & JsonObject;
}

export type EnvelopeRenderer = (ctx: EnvelopeContext) => JsonValue;

export const SPREAD_KEY = '...';

type Root = keyof EnvelopeContext;
/** What may follow a root: `scalar` fields end the path, `nested` ones may be followed by more. */
type FieldKind = 'scalar' | 'nested';
const ROOT_FIELDS: Record<Root, Record<string, FieldKind> | null> = {
  event: { id: 'scalar', type: 'scalar', data: 'nested', attributes: 'nested', time: 'scalar', timeMs: 'scalar' },
  delivery: { id: 'scalar', attempt: 'scalar' },
  webhook: { id: 'scalar', secret: 'scalar', metadata: 'nested' },
  organization: { id: 'scalar', name: 'scalar', metadata: 'nested' },
  // Event types carry profile-defined fields (payloadType, platforms, …): anything goes.
  eventType: null,
};

function isRoot(name: string): name is Root {
  return Object.hasOwn(ROOT_FIELDS, name);
}

export class EnvelopeTemplateError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid envelope template: ${problems.join('; ')}`);
    this.name = 'EnvelopeTemplateError';
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing template strings

type Part = { kind: 'text'; text: string } | { kind: 'path'; path: string; segments: string[] };

const SEGMENT = /^[^\s{}]+$/;

/** Splits a template string into text and `{{path}}` parts, collecting syntax problems. */
function parseString(s: string, where: string, problems: string[] | null): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('{{', i);
    if (open === -1) {
      parts.push({ kind: 'text', text: s.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'text', text: s.slice(i, open) });
    const close = s.indexOf('}}', open + 2);
    if (close === -1) {
      problems?.push(`${where}: unclosed "{{" in ${JSON.stringify(s)}`);
      parts.push({ kind: 'text', text: s.slice(open) });
      break;
    }
    const path = s.slice(open + 2, close).trim();
    const segments = path.split('.');
    if (path === '' || !segments.every((seg) => SEGMENT.test(seg))) {
      problems?.push(`${where}: malformed placeholder ${JSON.stringify(s.slice(open, close + 2))}`);
      parts.push({ kind: 'text', text: s.slice(open, close + 2) });
    } else {
      parts.push({ kind: 'path', path, segments });
    }
    i = close + 2;
  }
  return parts;
}

function checkPath(segments: string[], where: string, problems: string[]): void {
  const [root, field] = segments;
  if (root === undefined || !isRoot(root)) {
    problems.push(
      `${where}: unknown root ${JSON.stringify(root)} in {{${segments.join('.')}}} ` +
        '(expected event, delivery, webhook, organization or eventType)',
    );
    return;
  }
  const fields = ROOT_FIELDS[root];
  if (fields === null || field === undefined) return;
  const kind = Object.hasOwn(fields, field) ? fields[field] : undefined;
  if (kind === undefined) {
    problems.push(`${where}: unknown field {{${root}.${field}}} (known: ${Object.keys(fields).join(', ')})`);
  } else if (kind === 'scalar' && segments.length > 2) {
    problems.push(`${where}: {{${segments.join('.')}}} goes inside ${root}.${field}, which is not an object`);
  }
}

function childWhere(where: string, key: string | number): string {
  if (typeof key === 'number') return `${where}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${where}.${key}` : `${where}[${JSON.stringify(key)}]`;
}

/** Exactly one `{{path}}` and nothing else: the value keeps its JSON type. */
function singlePath(parts: Part[]): Extract<Part, { kind: 'path' }> | null {
  const only = parts.length === 1 ? parts[0] : undefined;
  return only !== undefined && only.kind === 'path' ? only : null;
}

function isPlainObject(v: unknown): v is Record<string, JsonValue> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function walk(
  template: JsonValue,
  where: string,
  onString: (s: string, where: string, isSpread: boolean) => void,
  onProblem: (problem: string) => void,
  isSpread = false,
): void {
  if (typeof template === 'string') {
    onString(template, where, isSpread);
  } else if (Array.isArray(template)) {
    template.forEach((item, index) => walk(item, childWhere(where, index), onString, onProblem));
  } else if (isPlainObject(template)) {
    for (const key of Object.keys(template)) {
      const value = template[key] as JsonValue;
      const spread = key === SPREAD_KEY;
      if (spread && !(typeof value === 'string' || isPlainObject(value))) {
        onProblem(`${childWhere(where, key)}: "${SPREAD_KEY}" must be a "{{path}}" or an object`);
      }
      walk(value, childWhere(where, key), onString, onProblem, spread);
    }
  } else if (!(template === null || typeof template === 'number' || typeof template === 'boolean')) {
    onProblem(`${where}: not a JSON value`);
  }
}

/** Every `{{path}}` the template uses, in order of first appearance. */
export function envelopeTemplatePaths(template: JsonValue): string[] {
  const seen = new Set<string>();
  walk(
    template,
    '$',
    (s, where) => {
      for (const part of parseString(s, where, null)) if (part.kind === 'path') seen.add(part.path);
    },
    () => undefined,
  );
  return [...seen];
}

/** Human-readable problems with a template (empty when it is valid). */
export function validateEnvelopeTemplate(template: JsonValue): string[] {
  const problems: string[] = [];
  walk(
    template,
    '$',
    (s, where, isSpread) => {
      const parts = parseString(s, where, problems);
      for (const part of parts) if (part.kind === 'path') checkPath(part.segments, where, problems);
      if (isSpread && singlePath(parts) === null) {
        problems.push(`${where}: "${SPREAD_KEY}" must be exactly one "{{path}}"`);
      }
    },
    (problem) => problems.push(problem),
  );
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Compiling

type Getter = (ctx: EnvelopeContext) => unknown;

// Own properties only: a path like `event.data.constructor` must not reach Object.prototype.
function step(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function compileGetter(segments: string[]): Getter {
  const root = segments[0] as Root;
  const rest = segments.slice(1);
  const [a, b, c] = rest;
  // Specialised for the usual depths so the common paths are straight-line code.
  switch (rest.length) {
    case 0:
      return (ctx) => ctx[root];
    case 1:
      return (ctx) => step(ctx[root], a as string);
    case 2:
      return (ctx) => step(step(ctx[root], a as string), b as string);
    case 3:
      return (ctx) => step(step(step(ctx[root], a as string), b as string), c as string);
    default:
      return (ctx) => {
        let value: unknown = ctx[root];
        for (const key of rest) value = step(value, key);
        return value;
      };
  }
}

function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return value === null ? '' : JSON.stringify(value);
    default:
      return '';
  }
}

/** Assigns so that a `__proto__` key becomes an own property instead of changing the prototype. */
function setKey(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** A compiled node: either a constant (shared, frozen) or a render function. */
type Node = { constant: true; value: JsonValue } | { constant: false; render: EnvelopeRenderer };

function deepFreeze<T extends JsonValue>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function compileString(s: string): Node {
  const parts = parseString(s, '$', null);
  const single = singlePath(parts);
  if (single !== null) {
    const get = compileGetter(single.segments);
    // Missing -> null, never undefined, so JSON.stringify keeps the key.
    return {
      constant: false,
      render: (ctx) => {
        const value = get(ctx);
        return value === undefined ? null : (value as JsonValue);
      },
    };
  }
  if (!parts.some((p) => p.kind === 'path')) return { constant: true, value: s };
  // texts[0] getter[0] texts[1] getter[1] … texts[n]
  const texts: string[] = [''];
  const getters: Getter[] = [];
  for (const part of parts) {
    if (part.kind === 'text') texts[texts.length - 1] += part.text;
    else {
      getters.push(compileGetter(part.segments));
      texts.push('');
    }
  }
  return {
    constant: false,
    render: (ctx) => {
      let out = texts[0] as string;
      for (let i = 0; i < getters.length; i++) {
        out += toText((getters[i] as Getter)(ctx)) + (texts[i + 1] as string);
      }
      return out;
    },
  };
}

function compileNode(template: JsonValue): Node {
  if (typeof template === 'string') return compileString(template);
  if (Array.isArray(template)) {
    const items = template.map(compileNode);
    if (items.every((n) => n.constant)) {
      return { constant: true, value: deepFreeze(items.map((n) => (n.constant ? n.value : null))) };
    }
    const renders = items.map((n): EnvelopeRenderer => (n.constant ? () => n.value : n.render));
    return { constant: false, render: (ctx) => renders.map((r) => r(ctx)) };
  }
  if (isPlainObject(template)) return compileObject(template);
  return { constant: true, value: template };
}

interface Entry {
  key: string;
  spread: boolean;
  node: Node;
}

function compileObject(template: Record<string, JsonValue>): Node {
  const entries: Entry[] = Object.keys(template).map((key) => ({
    key,
    spread: key === SPREAD_KEY,
    node: compileNode(template[key] as JsonValue),
  }));
  if (entries.every((e) => e.node.constant && !e.spread)) {
    const value: Record<string, JsonValue> = {};
    for (const e of entries) if (e.node.constant) setKey(value, e.key, e.node.value);
    return { constant: true, value: deepFreeze(value) };
  }
  const keys = entries.map((e) => e.key);
  const spreads = entries.map((e) => e.spread);
  const renders = entries.map(({ node }): EnvelopeRenderer => {
    if (!node.constant) return node.render;
    const value = node.value;
    return () => value;
  });
  const hasProtoKey = keys.includes('__proto__');
  const count = entries.length;
  return {
    constant: false,
    render: (ctx) => {
      const out: Record<string, JsonValue> = {};
      for (let i = 0; i < count; i++) {
        const value = (renders[i] as EnvelopeRenderer)(ctx);
        if (spreads[i]) {
          // Like JS spread: the object's keys land here; later keys override, a non-object adds nothing.
          if (isPlainObject(value)) for (const k of Object.keys(value)) setKey(out, k, value[k] as JsonValue);
        } else if (hasProtoKey) {
          setKey(out, keys[i] as string, value);
        } else {
          out[keys[i] as string] = value;
        }
      }
      return out;
    },
  };
}

/**
 * Compiles a template into a render function. Throws EnvelopeTemplateError when
 * validateEnvelopeTemplate reports problems, so a bad profile fails at start, not per delivery.
 *
 * The output may share structure with the context (e.g. `event.data`) and with frozen constant
 * parts of the template: serialize it, do not mutate it. Key order follows the template, with
 * one JS caveat: integer-like keys ("1", "42") always come first in any JS object.
 */
export function compileEnvelope(template: JsonValue): EnvelopeRenderer {
  const problems = validateEnvelopeTemplate(template);
  if (problems.length > 0) throw new EnvelopeTemplateError(problems);
  const node = compileNode(template);
  if (node.constant) {
    const value = node.value;
    return () => value;
  }
  return node.render;
}
