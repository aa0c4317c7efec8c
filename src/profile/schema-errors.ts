/**
 * Turns Ajv errors into a short list of `{path, message}` a person can act on.
 *
 * Ajv reports every branch of a failed `anyOf`, which buries the one useful line under
 * noise ("must be equal to constant" ×5). We narrow each union to the branch the value
 * was aiming at: by a tag property whose value is a `const` in every branch (`scheme`,
 * `kind`), else by JSON type; when nothing fits, one line lists what would.
 */
import type { ErrorObject } from 'ajv';

export interface SchemaIssue {
  /** JSON pointer inside the validated document; `/` for the root. */
  path: string;
  message: string;
}

type SchemaNode = Record<string, unknown>;

const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(schemaType: unknown, value: unknown): boolean {
  if (schemaType === undefined) return true;
  const types = Array.isArray(schemaType) ? schemaType : [schemaType];
  const actual = jsonType(value);
  return types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
}

function describeBranch(branch: SchemaNode): string {
  if ('const' in branch) return JSON.stringify(branch.const);
  switch (branch.type) {
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    case 'integer':
      return 'an integer';
    case 'null':
      return 'null';
    case undefined:
      return 'a valid value';
    default:
      return `a ${String(branch.type)}`;
  }
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** JSON pointer from raw segments (escapes `~` and `/`). */
export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${escapePointer(String(s))}`).join('');
}

const displayPath = (p: string): string => (p === '' ? '/' : p);

/** The property whose `const` tells the branches apart, if the union has one. */
function findTag(branches: SchemaNode[]): string | null {
  const first = branches[0];
  if (!first || !isNode(first.properties)) return null;
  for (const key of Object.keys(first.properties)) {
    const tagged = branches.every((b) => isNode(b.properties) && isNode(b.properties[key]) && 'const' in b.properties[key]);
    if (tagged) return key;
  }
  return null;
}

type Narrowed = { branch: number } | { issue: SchemaIssue };

function narrowUnion(union: ErrorObject): Narrowed {
  const branches = (Array.isArray(union.schema) ? union.schema : []).filter(isNode);
  const value: unknown = union.data;
  const tag = findTag(branches);
  if (tag !== null) {
    const allowed = branches.map((b) => (b.properties as Record<string, SchemaNode>)[tag]?.const);
    const list = allowed.map(String).join(', ');
    if (!isNode(value)) return { issue: { path: displayPath(union.instancePath), message: `must be an object with "${tag}": one of ${list}` } };
    const index = allowed.findIndex((a) => a === value[tag]);
    if (index >= 0) return { branch: index };
    const path = `${union.instancePath}${pointer(tag)}`;
    return { issue: { path, message: value[tag] === undefined ? `is required (one of ${list})` : `must be one of ${list}` } };
  }
  const candidates = branches
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => typeMatches(b.type, value) && (!('const' in b) || b.const === value));
  if (candidates.length === 1 && candidates[0]) return { branch: candidates[0].i };
  const message = branches.every((b) => 'const' in b)
    ? `must be one of ${branches.map((b) => String(b.const)).join(', ')}`
    : `must be ${branches.map(describeBranch).join(' or ')}`;
  return { issue: { path: displayPath(union.instancePath), message } };
}

function isInside(error: ErrorObject, union: ErrorObject): boolean {
  const instanceInside = error.instancePath === union.instancePath || error.instancePath.startsWith(`${union.instancePath}/`);
  return instanceInside && error.schemaPath.startsWith(`${union.schemaPath}/`);
}

function inBranch(error: ErrorObject, union: ErrorObject, branch: number): boolean {
  const base = `${union.schemaPath}/${branch}`;
  return error.schemaPath === base || error.schemaPath.startsWith(`${base}/`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function messageFor(e: ErrorObject): SchemaIssue {
  const p = e.params as Record<string, unknown>;
  const path = displayPath(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = isNode(e.parentSchema) && isNode(e.parentSchema.properties) ? Object.keys(e.parentSchema.properties) : [];
      const hint = known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
      return { path: e.instancePath + pointer(String(p.additionalProperty)), message: `unknown key${hint}` };
    }
    case 'required':
      return { path: e.instancePath + pointer(String(p.missingProperty)), message: 'is required' };
    case 'type': {
      const t = String(p.type);
      return { path, message: `must be ${t === 'array' || t === 'object' || t === 'integer' ? 'an' : 'a'} ${t}` };
    }
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'minItems':
      return { path, message: p.limit === 1 ? 'must not be empty' : `must have at least ${plural(Number(p.limit), 'item')}` };
    case 'minProperties':
      return { path, message: p.limit === 1 ? 'must not be empty' : `must have at least ${plural(Number(p.limit), 'key')}` };
    case 'minLength':
      return { path, message: p.limit === 1 ? 'must not be empty' : `must be at least ${plural(Number(p.limit), 'character')} long` };
    case 'pattern':
      return { path, message: `must match the pattern ${String(p.pattern)}` };
    default:
      return { path, message: (e.message ?? 'is invalid').replace('NOT', 'not') };
  }
}

/**
 * Readable issues from Ajv errors. The validator must be compiled with `allErrors: true`
 * and `verbose: true` (union narrowing reads `error.schema` and `error.data`).
 */
export function schemaIssues(errors: readonly ErrorObject[]): SchemaIssue[] {
  let remaining = [...errors];
  const synthetic: SchemaIssue[] = [];
  // Outer unions first: discarding a branch also discards the unions nested in it.
  const unions = remaining.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (!remaining.includes(union)) continue;
    const narrowed = narrowUnion(union);
    if ('branch' in narrowed) {
      remaining = remaining.filter((e) => e !== union && (!isInside(e, union) || inBranch(e, union, narrowed.branch)));
    } else {
      remaining = remaining.filter((e) => e !== union && !isInside(e, union));
      synthetic.push(narrowed.issue);
    }
  }
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const issue of [...remaining.map(messageFor), ...synthetic]) {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
