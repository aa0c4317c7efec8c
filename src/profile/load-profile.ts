/**
 * Loads a profile file, validates it (schema, then cross-references), fills the defaults and
 * returns a deeply frozen Profile. Every problem is reported with the file, the JSON path
 * inside it and what is wrong, all at once, so a broken profile is fixed in one pass.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { findPackageRoot } from '../package-root.js';

import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, type Document } from 'yaml';

import type { AttributeRule } from '../domain/attributes.js';
import { validateEnvelopeTemplate } from '../domain/envelope.js';
import type { DeliveryPolicy, EventType, Format, JsonObject, JsonValue } from '../domain/types.js';
import { normalizeDeliveryPolicy } from './delivery-policy.js';
import { compileEventSchema, formatIssues, type EventDataValidator } from './event-schema.js';
import { ProfileFileSchema, type AttributeRuleInput, type EventTypeEntry, type ProfileFile } from './profile-schema.js';
import { pointer, schemaIssues, type SchemaIssue } from './schema-errors.js';

export interface Profile {
  name: string;
  description: string;
  catalog: EventType[];
  formats: Record<string, Format>;
  defaultFormat: string;
  testEvent: { type: string; data: JsonValue };
  delivery: DeliveryPolicy;
  /** Declared event attributes (filters match on them): canonical values, aliases, fallback from data, availability. */
  attributes: Record<string, AttributeRule>;
  /** Default Slack message template for kind `slack` (types may have their own in `extra.slack`); null: generic message. */
  slack: JsonValue | null;
  /** Absolute path of the file the profile was read from. */
  source: string;
}

export interface ProfileIssue extends SchemaIssue {
  /** 1-based line in the file, when the path could be located (YAML only). */
  line?: number;
}

/** A profile that cannot be used. `message` has one line per issue: `<file>: <json path>: <what is wrong>`. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  /** The file as shown in the message (relative to the working directory when inside it). */
  readonly file: string;
  readonly issues: readonly ProfileIssue[];

  constructor(file: string, issues: readonly ProfileIssue[], message?: string) {
    super(
      message ??
        issues.map((i) => `${file}: ${i.path}: ${i.message}${i.line !== undefined ? ` (line ${i.line})` : ''}`).join('\n'),
    );
    this.file = file;
    this.issues = issues;
  }
}

export interface LoadProfileOptions {
  /** Where bare profile names are looked up. Default: `<package root>/profiles`. */
  profilesDir?: string;
}

const PROFILE_EXTENSIONS = ['.yaml', '.yml', '.json'];

function builtInDir(opts?: LoadProfileOptions): string {
  return opts?.profilesDir ?? join(findPackageRoot(), 'profiles');
}

/** Names of the profiles shipped in `profiles/` (or `profilesDir`), sorted. */
export function listBuiltInProfiles(opts?: LoadProfileOptions): string[] {
  const dir = builtInDir(opts);
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((f) => PROFILE_EXTENSIONS.includes(extname(f)))
    .map((f) => f.slice(0, -extname(f).length));
  return [...new Set(names)].sort();
}

function isPath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || nameOrPath.includes(sep) || PROFILE_EXTENSIONS.includes(extname(nameOrPath));
}

function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function resolveFile(nameOrPath: string, opts?: LoadProfileOptions): string {
  if (isPath(nameOrPath)) {
    const file = resolve(nameOrPath);
    if (!existsSync(file)) {
      const available = listBuiltInProfiles(opts).join(', ') || '(none)';
      throw new ProfileError(display(file), [], `${nameOrPath}: profile file not found (built-in profiles: ${available})`);
    }
    return file;
  }
  const dir = builtInDir(opts);
  for (const ext of PROFILE_EXTENSIONS) {
    const file = join(dir, `${nameOrPath}${ext}`);
    if (existsSync(file)) return file;
  }
  const available = listBuiltInProfiles(opts).join(', ') || '(none)';
  throw new ProfileError(
    display(join(dir, `${nameOrPath}.yaml`)),
    [],
    `unknown profile "${nameOrPath}": no ${display(join(dir, `${nameOrPath}.yaml`))}; built-in profiles: ${available} (or give a path to a profile file)`,
  );
}

interface Parsed {
  data: unknown;
  /** Line of a JSON path in the source, when known. */
  lineOf: (path: string) => number | undefined;
}

function parseFile(file: string, shown: string): Parsed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProfileError(shown, [], `${shown}: cannot read the profile: ${(err as Error).message}`);
  }
  if (extname(file) === '.json') {
    try {
      return { data: JSON.parse(text) as unknown, lineOf: () => undefined };
    } catch (err) {
      throw new ProfileError(shown, [], `${shown}: invalid JSON: ${(err as Error).message}`);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ProfileError(shown, [], doc.errors.map((e) => `${shown}: invalid YAML: ${e.message}`).join('\n'));
  }
  let data: unknown;
  try {
    // Catalogs reuse schema parts through anchors (`*team`); the default alias budget (100)
    // is meant for untrusted input and is too small for a profile of 70 types.
    data = doc.toJS({ maxAliasCount: 10_000 });
  } catch (err) {
    throw new ProfileError(shown, [], `${shown}: invalid YAML: ${(err as Error).message}`);
  }
  return { data, lineOf: (path) => yamlLine(doc, lineCounter, path) };
}

function yamlLine(doc: Document, lineCounter: LineCounter, path: string): number | undefined {
  const segments = path === '/' || path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  // A missing key (a `required` issue) has no node: fall back to its nearest parent.
  for (let n = segments.length; n >= 0; n--) {
    const keys = segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node: unknown = n === 0 ? doc.contents : doc.getIn(keys, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lineCounter.linePos(range[0]).line;
  }
  return undefined;
}

// Strict: a typo in Herald's own schema must fail loudly. allErrors + verbose: see schema-errors.
const validateProfileFile = new Ajv({ allErrors: true, verbose: true, strict: true }).compile<ProfileFile>(ProfileFileSchema);

const ENTRY_KEYS = new Set(['name', 'description', 'group', 'schema', 'examples', 'example', 'deprecated', 'format']);

function toEventType(entry: EventTypeEntry): EventType {
  const extra: JsonObject = {};
  for (const [key, value] of Object.entries(entry)) if (!ENTRY_KEYS.has(key)) extra[key] = value as JsonValue;
  const dot = entry.name.lastIndexOf('.');
  const examples = [...(entry.example !== undefined ? [entry.example] : []), ...(entry.examples ?? [])] as JsonValue[];
  return {
    name: entry.name,
    description: entry.description ?? '',
    group: entry.group !== undefined ? entry.group : dot > 0 ? entry.name.slice(0, dot) : null,
    schema: (entry.schema ?? null) as JsonObject | null,
    examples,
    deprecated: entry.deprecated ?? false,
    archived: false,
    format: entry.format ?? null,
    extra,
  };
}

function checkReferences(file: ProfileFile, catalog: EventType[], formats: Record<string, Format>): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const formatNames = Object.keys(formats);
  const known = `formats: ${formatNames.join(', ')}`;
  const defaultFormat = file.defaultFormat ?? 'default';
  if (!(defaultFormat in formats)) {
    issues.push({
      path: '/defaultFormat',
      message:
        file.defaultFormat === undefined
          ? `is required when no format is named "default" (${known})`
          : `"${defaultFormat}" is not a format of this profile (${known})`,
    });
  }
  const firstIndex = new Map<string, number>();
  catalog.forEach((type, i) => {
    const previous = firstIndex.get(type.name);
    if (previous !== undefined) issues.push({ path: pointer('catalog', i, 'name'), message: `duplicate event type "${type.name}" (also ${pointer('catalog', previous)})` });
    else firstIndex.set(type.name, i);
    if (type.format !== null && !(type.format in formats)) {
      issues.push({ path: pointer('catalog', i, 'format'), message: `"${type.format}" is not a format of this profile (${known})` });
    }
  });
  if (!firstIndex.has(file.testEvent.type)) {
    issues.push({ path: '/testEvent/type', message: `"${file.testEvent.type}" is not in the catalog` });
  }
  for (const [name, format] of Object.entries(formats)) {
    for (const problem of validateEnvelopeTemplate(format.envelope)) {
      issues.push({ path: pointer('formats', name, 'envelope'), message: problem });
    }
  }
  // Slack templates are envelope templates too: a broken one fails the start, not a delivery.
  if (file.slack !== undefined) {
    for (const problem of validateEnvelopeTemplate(file.slack as JsonValue)) issues.push({ path: '/slack', message: problem });
  }
  file.catalog.forEach((entry, i) => {
    if (entry.slack === undefined) return;
    for (const problem of validateEnvelopeTemplate(entry.slack as JsonValue)) issues.push({ path: pointer('catalog', i, 'slack'), message: problem });
  });
  return issues;
}

function toAttributeRule(input: AttributeRuleInput): AttributeRule {
  return {
    description: input.description ?? '',
    values: input.values ? [...input.values] : null,
    aliases: { ...(input.aliases ?? {}) },
    fromData: input.fromData !== undefined ? input.fromData.split('.') : null,
    catalogKey: input.catalogKey ?? null,
  };
}

/** Aliases must lead to declared values, and each type's availability list must name declared values. */
function checkAttributes(file: ProfileFile, catalog: EventType[]): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const [name, rule] of Object.entries(file.attributes ?? {})) {
    const values = rule.values;
    const declared = (value: string): boolean => values === undefined || values.includes(value);
    for (const [alias, target] of Object.entries(rule.aliases ?? {})) {
      if (!declared(target)) {
        issues.push({ path: pointer('attributes', name, 'aliases', alias), message: `"${target}" is not one of the values (${(values ?? []).join(', ')})` });
      }
    }
    const key = rule.catalogKey;
    if (key === undefined) continue;
    catalog.forEach((type, i) => {
      if (!Object.hasOwn(type.extra, key)) return;
      const list = type.extra[key];
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
        issues.push({ path: pointer('catalog', i, key), message: `must be a list of ${name} values (attributes.${name}.catalogKey)` });
        return;
      }
      for (const value of list as string[]) {
        if (!declared(value)) issues.push({ path: pointer('catalog', i, key), message: `"${value}" is not a value of attribute ${name} (${(values ?? []).join(', ')})` });
      }
    });
  }
  return issues;
}

function checkExamples(file: ProfileFile, catalog: EventType[]): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const validators = new Map<string, EventDataValidator>();
  // Types that share a schema through a YAML anchor share one object: compile it once.
  const compiled = new Map<object, EventDataValidator>();
  catalog.forEach((type, i) => {
    let validate: EventDataValidator;
    try {
      const known = type.schema !== null ? compiled.get(type.schema) : undefined;
      validate = known ?? compileEventSchema(type.schema);
      if (type.schema !== null) compiled.set(type.schema, validate);
    } catch (err) {
      issues.push({ path: pointer('catalog', i, 'schema'), message: `invalid JSON Schema: ${(err as Error).message}` });
      return;
    }
    if (!validators.has(type.name)) validators.set(type.name, validate);
    const entry = file.catalog[i];
    // Point at the key the author wrote: `example` (shorthand) or `examples/<n>`.
    const offset = entry?.example !== undefined ? 1 : 0;
    type.examples.forEach((example, j) => {
      const problems = validate(example);
      if (problems.length === 0) return;
      const path = offset === 1 && j === 0 ? pointer('catalog', i, 'example') : pointer('catalog', i, 'examples', j - offset);
      issues.push({ path, message: `does not match the event type's schema: ${formatIssues(problems)}` });
    });
  });
  const validateTest = validators.get(file.testEvent.type);
  const problems = validateTest?.(file.testEvent.data ?? {}) ?? [];
  if (problems.length > 0) {
    issues.push({ path: '/testEvent/data', message: `does not match the schema of "${file.testEvent.type}": ${formatIssues(problems)}` });
  }
  return issues;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Loads a profile by built-in name (`standard`, `vercel`: `<profilesDir>/<name>.yaml`) or by
 * path (anything with a `/` or ending in .yaml, .yml or .json; relative to the working
 * directory). Throws ProfileError listing every problem found.
 */
export function loadProfile(nameOrPath: string, opts?: LoadProfileOptions): Profile {
  const source = resolveFile(nameOrPath, opts);
  const shown = display(source);
  const parsed = parseFile(source, shown);
  const fail = (issues: SchemaIssue[]): never => {
    throw new ProfileError(
      shown,
      issues.map((i) => {
        const line = parsed.lineOf(i.path);
        return line === undefined ? i : { ...i, line };
      }),
    );
  };

  if (!validateProfileFile(parsed.data)) fail(schemaIssues((validateProfileFile.errors ?? []) as ErrorObject[]));
  const file = parsed.data as ProfileFile;

  const catalog = file.catalog.map(toEventType);
  const formats: Record<string, Format> = {};
  for (const [name, f] of Object.entries(file.formats)) {
    const signature = f.signature.scheme === 'hmac' ? { ...f.signature, prefix: f.signature.prefix ?? '' } : f.signature;
    formats[name] = { name, envelope: f.envelope as JsonValue, signature };
  }

  const issues = [...checkReferences(file, catalog, formats), ...checkAttributes(file, catalog), ...checkExamples(file, catalog)];
  if (issues.length > 0) fail(issues);

  return deepFreeze<Profile>({
    name: file.name,
    description: file.description ?? '',
    catalog,
    formats,
    defaultFormat: file.defaultFormat ?? 'default',
    testEvent: { type: file.testEvent.type, data: (file.testEvent.data ?? {}) as JsonValue },
    delivery: normalizeDeliveryPolicy(file.delivery),
    attributes: Object.fromEntries(Object.entries(file.attributes ?? {}).map(([name, rule]) => [name, toAttributeRule(rule)])),
    slack: file.slack !== undefined ? (file.slack as JsonValue) : null,
    source,
  });
}
