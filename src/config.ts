/**
 * Herald's configuration: one typed, frozen object resolved once at start from
 * defaults < config file < environment (`HERALD_*`) < command-line flags.
 *
 * Every problem is reported at once, each line naming the option as the user wrote it
 * (`HERALD_PORT`, `--port`, `herald.yaml: dispatcher.batchSize`) and what is expected.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { extname, isAbsolute, relative, resolve } from 'node:path';

import { Ajv, type ErrorObject } from 'ajv';
import { Type, type Static } from 'typebox';
import { parse as parseYaml } from 'yaml';

import { parseEncryptionKey } from './encryption/keyring.js';

export const ROLES = ['all', 'api', 'worker'] as const;
/** `api` serves HTTP only, `worker` delivers only, `all` does both. */
export type Role = (typeof ROLES)[number];

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DispatcherConfig {
  /**
   * Deliveries claimed per query.
   * @defaultValue 100
   */
  readonly batchSize: number;
  /**
   * Rows per webhook claimed ahead of its free slots, sent as slots free (fewer, larger claims).
   * @defaultValue 64
   */
  readonly lookahead: number;
  /**
   * Deliveries held per process, across all webhooks: in flight or waiting for a slot.
   * @defaultValue 512
   */
  readonly maxInFlight: number;
  /**
   * How long a claim holds a delivery; a crashed worker's claims come back after it.
   * @defaultValue 60000
   */
  readonly leaseMs: number;
  /**
   * Idle poll interval when no wake-up arrives (LISTEN/NOTIFY or in-process ingest).
   * @defaultValue 1000
   */
  readonly pollIntervalMs: number;
  /**
   * On shutdown, how long in-flight requests may finish before their leases are released.
   * @defaultValue 10000
   */
  readonly shutdownGraceMs: number;
}

export interface OperatorWebhookConfig {
  /** http(s) URL that receives Herald's operational events (`herald.webhook.disabled`…). */
  readonly url: string;
  /** Standard Webhooks secret (`whsec_<base64>`) that signs them. */
  readonly secret: string;
}

/** The resolved configuration. Deeply frozen. */
export interface HeraldConfig {
  /**
   * Interface the HTTP server listens on. `HERALD_HOST`, `--host`.
   * @defaultValue '127.0.0.1'
   */
  readonly host: string;
  /**
   * HTTP port; 0 picks a free one. `HERALD_PORT`, `--port`.
   * @defaultValue 8080
   */
  readonly port: number;
  /**
   * Directory of the SQLite database, the generated admin token and encryption key file.
   * Relative paths are relative to the working directory. `HERALD_DATA_DIR`, `--data-dir`.
   * @defaultValue './.herald'
   */
  readonly dataDir: string;
  /**
   * `postgres://…` to use PostgreSQL; null means SQLite in `dataDir`.
   * `HERALD_DATABASE_URL`, `--database-url`.
   * @defaultValue null
   */
  readonly databaseUrl: string | null;
  /**
   * Built-in profile name or path to a profile file. `HERALD_PROFILE`, `--profile`.
   * @defaultValue 'standard'
   */
  readonly profile: string;
  /**
   * Admin API token; null means generated, saved in `dataDir` and printed on first start.
   * `HERALD_ADMIN_TOKEN` (no flag: command lines are visible to other users).
   * @defaultValue null
   */
  readonly adminToken: string | null;
  /**
   * Key that encrypts signing secrets at rest (AES-256-GCM): base64 of 32 bytes
   * (`openssl rand -base64 32`). Null means a key file generated in `dataDir`;
   * required with `databaseUrl`, since processes sharing PostgreSQL do not share a data dir.
   * `HERALD_ENCRYPTION_KEY` (no flag).
   * @defaultValue null
   */
  readonly encryptionKey: string | null;
  /**
   * Earlier encryption keys, still accepted to open secrets while `herald rotate-encryption-key`
   * re-encrypts them under `encryptionKey`. `HERALD_PREVIOUS_ENCRYPTION_KEYS` (comma-separated; no flag).
   * @defaultValue []
   */
  readonly previousEncryptionKeys: readonly string[];
  /**
   * CIDRs that webhook URLs may reach although private/loopback (SSRF guard allow-list).
   * A bare address is read as a single host (`/32`, `/128`); the resolved list always has
   * a prefix. `HERALD_ALLOW_PRIVATE_NETWORKS` (comma-separated), `--allow-private-networks`.
   * @defaultValue []
   */
  readonly allowPrivateNetworks: readonly string[];
  /**
   * What this process does. `HERALD_ROLE`, `--role`.
   * @defaultValue 'all'
   */
  readonly role: Role;
  /**
   * Log level. `HERALD_LOG_LEVEL`, `--log-level`.
   * @defaultValue 'info'
   */
  readonly logLevel: LogLevel;
  /**
   * PostgreSQL connections per process. `HERALD_DATABASE_POOL_SIZE`, `--database-pool-size`.
   * @defaultValue 10
   */
  readonly databasePoolSize: number;
  /**
   * Longest a PostgreSQL statement may run before it is cancelled. `HERALD_STATEMENT_TIMEOUT_MS`, `--statement-timeout-ms`.
   * @defaultValue 30000
   */
  readonly statementTimeoutMs: number;
  /**
   * Events and attempts older than this are purged. `HERALD_RETENTION_DAYS`, `--retention-days`.
   * @defaultValue 30
   */
  readonly retentionDays: number;
  /**
   * Largest accepted event body. `HERALD_MAX_PAYLOAD_BYTES`, `--max-payload-bytes`.
   * @defaultValue 262144
   */
  readonly maxPayloadBytes: number;
  /**
   * API requests per second each token may make (a token bucket per token and process); 0 turns
   * the limit off. Over it the API answers 429 with `Retry-After`. `HERALD_API_RATE_LIMIT`, `--api-rate-limit`.
   * @defaultValue 1000
   */
  readonly apiRateLimit: number;
  /**
   * Requests a token may make at once above the rate (the bucket's size). `HERALD_API_RATE_BURST`, `--api-rate-burst`.
   * @defaultValue 2000
   */
  readonly apiRateBurst: number;
  /**
   * Where Herald sends its own operational events; null sends none.
   * `HERALD_OPERATOR_WEBHOOK_URL` (`--operator-webhook-url`) + `HERALD_OPERATOR_WEBHOOK_SECRET`.
   * @defaultValue null
   */
  readonly operatorWebhook: OperatorWebhookConfig | null;
  /** Delivery loop tuning. */
  readonly dispatcher: DispatcherConfig;
  /**
   * Overrides the profile's auto-disable period (seconds); null keeps the profile's.
   * `HERALD_AUTO_DISABLE_AFTER_S`, `--auto-disable-after-s`.
   * @defaultValue null
   */
  readonly autoDisableAfterS: number | null;
  /**
   * Bytes of each response body kept in the delivery log.
   * `HERALD_RESPONSE_BODY_LIMIT_BYTES`, `--response-body-limit-bytes`.
   * @defaultValue 4096
   */
  readonly responseBodyLimitBytes: number;
  /**
   * CSP `frame-ancestors` sources allowed to embed an organization's dashboard (portal links),
   * e.g. `https://app.example.com`; null: `'self'`. Operator pages are never embeddable.
   * `HERALD_DASHBOARD_FRAME_ANCESTORS`, `--dashboard-frame-ancestors`.
   * @defaultValue null
   */
  readonly dashboardFrameAncestors: string | null;
}

export const CONFIG_DEFAULTS: HeraldConfig = deepFreeze({
  host: '127.0.0.1',
  port: 8080,
  dataDir: './.herald',
  databaseUrl: null,
  profile: 'standard',
  adminToken: null,
  encryptionKey: null,
  previousEncryptionKeys: [],
  allowPrivateNetworks: [],
  role: 'all',
  logLevel: 'info',
  databasePoolSize: 10,
  statementTimeoutMs: 30_000,
  retentionDays: 30,
  maxPayloadBytes: 262_144,
  apiRateLimit: 1000,
  apiRateBurst: 2000,
  operatorWebhook: null,
  dispatcher: { batchSize: 100, lookahead: 64, maxInFlight: 512, leaseMs: 60_000, pollIntervalMs: 1000, shutdownGraceMs: 10_000 },
  autoDisableAfterS: null,
  responseBodyLimitBytes: 4096,
  dashboardFrameAncestors: null,
});

const D = CONFIG_DEFAULTS;
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T, description: string) =>
  Type.Union([schema, Type.Null()], { description, default: null });

/** The schema of HeraldConfig (and of the config file, where every key is optional). */
export const HeraldConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: D.host, description: 'Interface the HTTP server listens on.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: D.port, description: 'HTTP port; 0 picks a free one.' }),
    dataDir: Type.String({ minLength: 1, default: D.dataDir, description: 'Directory of the SQLite database and generated keys.' }),
    databaseUrl: nullable(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9+.-]*://' }), 'postgres://… to use PostgreSQL; null: SQLite in dataDir.'),
    profile: Type.String({ minLength: 1, default: D.profile, description: 'Built-in profile name or path to a profile file.' }),
    adminToken: nullable(Type.String({ minLength: 1 }), 'Admin API token; null: generated on first start.'),
    encryptionKey: nullable(Type.String({ minLength: 1 }), 'Key that encrypts signing secrets at rest (base64 of 32 bytes); null: a generated key file.'),
    previousEncryptionKeys: Type.Array(Type.String(), { default: [], description: 'Earlier encryption keys, accepted while rotating keys.' }),
    allowPrivateNetworks: Type.Array(Type.String(), { default: [], description: 'CIDRs that webhook URLs may reach although private.' }),
    role: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], { default: D.role, description: 'What this process does.' }),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: D.logLevel, description: 'Log level.' },
    ),
    databasePoolSize: Type.Integer({ minimum: 1, maximum: 1000, default: D.databasePoolSize, description: 'PostgreSQL connections per process.' }),
    statementTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: D.statementTimeoutMs, description: 'Longest a PostgreSQL statement may run.' }),
    retentionDays: Type.Integer({ minimum: 1, maximum: 36500, default: D.retentionDays, description: 'Days events and attempts are kept.' }),
    maxPayloadBytes: Type.Integer({ minimum: 1, maximum: 104_857_600, default: D.maxPayloadBytes, description: 'Largest accepted event body.' }),
    apiRateLimit: Type.Integer({ minimum: 0, maximum: 1_000_000, default: D.apiRateLimit, description: 'API requests per second per token; 0: no limit.' }),
    apiRateBurst: Type.Integer({ minimum: 1, maximum: 10_000_000, default: D.apiRateBurst, description: 'API requests a token may make at once above the rate.' }),
    operatorWebhook: nullable(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://[^\\s]+$', description: 'http(s) URL of the operational webhook.' }),
          secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$', description: 'Its signing secret, whsec_<base64>.' }),
        },
        { additionalProperties: false },
      ),
      "Where Herald sends its own operational events; null: none.",
    ),
    dispatcher: Type.Object(
      {
        batchSize: Type.Integer({ minimum: 1, maximum: 10_000, default: D.dispatcher.batchSize, description: 'Deliveries claimed per query.' }),
        lookahead: Type.Integer({ minimum: 0, maximum: 10_000, default: D.dispatcher.lookahead, description: 'Rows per webhook claimed ahead of free slots.' }),
        maxInFlight: Type.Integer({ minimum: 1, maximum: 100_000, default: D.dispatcher.maxInFlight, description: 'Requests in flight per process.' }),
        leaseMs: Type.Integer({ minimum: 1, maximum: 86_400_000, default: D.dispatcher.leaseMs, description: 'How long a claim holds a delivery.' }),
        pollIntervalMs: Type.Integer({ minimum: 1, maximum: 3_600_000, default: D.dispatcher.pollIntervalMs, description: 'Idle poll interval.' }),
        shutdownGraceMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: D.dispatcher.shutdownGraceMs, description: 'Time in-flight requests get on shutdown.' }),
      },
      { additionalProperties: false, description: 'Delivery loop tuning.' },
    ),
    autoDisableAfterS: nullable(Type.Integer({ minimum: 1 }), "Overrides the profile's auto-disable period, seconds; null keeps the profile's."),
    responseBodyLimitBytes: Type.Integer({ minimum: 0, maximum: 1_048_576, default: D.responseBodyLimitBytes, description: 'Response body bytes kept per attempt.' }),
    dashboardFrameAncestors: nullable(Type.String({ minLength: 1, maxLength: 2000, pattern: '^[^;,\\r\\n]+$' }), "CSP frame-ancestors sources that may embed organization dashboards; null: 'self'."),
  },
  { additionalProperties: false, description: 'Herald configuration.' },
);

// Compile-time guard: the schema and the documented interface must describe the same thing.
const _schemaMatchesInterface = (value: Static<typeof HeraldConfigSchema>): HeraldConfig => value;

/** One problem with the configuration. */
export interface ConfigIssue {
  /** Dotted option key, e.g. `dispatcher.batchSize`. */
  option: string;
  /** Where the bad value came from: `HERALD_PORT`, `--port`, `herald.yaml: port`. */
  source: string;
  message: string;
}

/** Invalid configuration. `message` has one line per issue: `<source>: <what is wrong>`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((i) => `${i.source}: ${i.message}`).join('\n'));
    this.issues = issues;
  }
}

interface OptionSpec {
  /** Dotted key into HeraldConfig. */
  key: string;
  env: string;
  /** Null for secrets: command lines are visible to every user of the machine (`ps`). */
  flag: string | null;
  /** What a valid value looks like, when the schema alone says it badly. */
  expect?: string;
  /** Never echo the value in messages. */
  secret?: boolean;
}

const SPECS: readonly OptionSpec[] = [
  { key: 'host', env: 'HERALD_HOST', flag: '--host' },
  { key: 'port', env: 'HERALD_PORT', flag: '--port' },
  { key: 'dataDir', env: 'HERALD_DATA_DIR', flag: '--data-dir' },
  { key: 'databaseUrl', env: 'HERALD_DATABASE_URL', flag: '--database-url', expect: 'a database URL such as postgres://user:password@host:5432/herald', secret: true },
  { key: 'profile', env: 'HERALD_PROFILE', flag: '--profile' },
  { key: 'adminToken', env: 'HERALD_ADMIN_TOKEN', flag: null, secret: true },
  { key: 'encryptionKey', env: 'HERALD_ENCRYPTION_KEY', flag: null, expect: 'base64 of 32 bytes (openssl rand -base64 32)', secret: true },
  { key: 'previousEncryptionKeys', env: 'HERALD_PREVIOUS_ENCRYPTION_KEYS', flag: null, expect: 'base64 keys of 32 bytes, comma-separated', secret: true },
  { key: 'allowPrivateNetworks', env: 'HERALD_ALLOW_PRIVATE_NETWORKS', flag: '--allow-private-networks', expect: 'a list of CIDRs such as 10.0.0.0/8, 127.0.0.1/32 or fd00::/8' },
  { key: 'role', env: 'HERALD_ROLE', flag: '--role' },
  { key: 'logLevel', env: 'HERALD_LOG_LEVEL', flag: '--log-level' },
  { key: 'databasePoolSize', env: 'HERALD_DATABASE_POOL_SIZE', flag: '--database-pool-size' },
  { key: 'statementTimeoutMs', env: 'HERALD_STATEMENT_TIMEOUT_MS', flag: '--statement-timeout-ms' },
  { key: 'retentionDays', env: 'HERALD_RETENTION_DAYS', flag: '--retention-days' },
  { key: 'maxPayloadBytes', env: 'HERALD_MAX_PAYLOAD_BYTES', flag: '--max-payload-bytes' },
  { key: 'apiRateLimit', env: 'HERALD_API_RATE_LIMIT', flag: '--api-rate-limit' },
  { key: 'apiRateBurst', env: 'HERALD_API_RATE_BURST', flag: '--api-rate-burst' },
  { key: 'operatorWebhook.url', env: 'HERALD_OPERATOR_WEBHOOK_URL', flag: '--operator-webhook-url', expect: 'an http(s) URL' },
  { key: 'operatorWebhook.secret', env: 'HERALD_OPERATOR_WEBHOOK_SECRET', flag: null, expect: 'a Standard Webhooks secret whsec_<base64>', secret: true },
  { key: 'dispatcher.batchSize', env: 'HERALD_DISPATCHER_BATCH_SIZE', flag: '--dispatcher-batch-size' },
  { key: 'dispatcher.lookahead', env: 'HERALD_DISPATCHER_LOOKAHEAD', flag: '--dispatcher-lookahead' },
  { key: 'dispatcher.maxInFlight', env: 'HERALD_DISPATCHER_MAX_IN_FLIGHT', flag: '--dispatcher-max-in-flight' },
  { key: 'dispatcher.leaseMs', env: 'HERALD_LEASE_MS', flag: '--lease-ms' },
  { key: 'dispatcher.pollIntervalMs', env: 'HERALD_POLL_INTERVAL_MS', flag: '--poll-interval-ms' },
  { key: 'dispatcher.shutdownGraceMs', env: 'HERALD_SHUTDOWN_GRACE_MS', flag: '--shutdown-grace-ms' },
  { key: 'autoDisableAfterS', env: 'HERALD_AUTO_DISABLE_AFTER_S', flag: '--auto-disable-after-s' },
  { key: 'responseBodyLimitBytes', env: 'HERALD_RESPONSE_BODY_LIMIT_BYTES', flag: '--response-body-limit-bytes' },
  { key: 'dashboardFrameAncestors', env: 'HERALD_DASHBOARD_FRAME_ANCESTORS', flag: '--dashboard-frame-ancestors', expect: "CSP sources such as https://app.example.com 'self'" },
];

/** Environment variable and flag that name the config file. */
export const CONFIG_FILE_ENV = 'HERALD_CONFIG';
export const CONFIG_FILE_FLAG = '--config';

type SchemaNode = Record<string, unknown>;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema of one option (the non-null branch of a nullable one). */
function leafSchema(key: string): SchemaNode {
  let node: SchemaNode = HeraldConfigSchema as unknown as SchemaNode;
  for (const part of key.split('.')) {
    if (Array.isArray(node.anyOf)) node = (node.anyOf as SchemaNode[]).find((b) => b.type === 'object') ?? node;
    node = (node.properties as Record<string, SchemaNode>)[part] as SchemaNode;
  }
  if (Array.isArray(node.anyOf)) {
    const branches = (node.anyOf as SchemaNode[]).filter((b) => b.type !== 'null');
    if (branches.length === 1 && branches[0]) return branches[0];
  }
  return node;
}

function expectation(spec: OptionSpec): string {
  if (spec.expect) return spec.expect;
  const node = leafSchema(spec.key);
  if (Array.isArray(node.anyOf)) return `one of ${(node.anyOf as SchemaNode[]).map((b) => String(b.const)).join(', ')}`;
  if (node.type === 'integer') {
    const { minimum: min, maximum: max } = node as { minimum?: number; maximum?: number };
    if (min !== undefined && max !== undefined) return `an integer between ${min} and ${max}`;
    if (min !== undefined) return `an integer >= ${min}`;
    return 'an integer';
  }
  if (node.type === 'string') return 'a non-empty string';
  return `a valid ${String(node.type)}`;
}

/** Public description of every option, for `--help` and docs. */
export interface ConfigOptionInfo {
  key: string;
  env: string;
  flag: string | null;
  description: string;
  defaultValue: unknown;
}

export const CONFIG_OPTIONS: readonly ConfigOptionInfo[] = deepFreeze(
  SPECS.map((spec) => {
    const [head, tail] = spec.key.split('.') as [string, string | undefined];
    const outer = (HeraldConfigSchema.properties as unknown as Record<string, SchemaNode>)[head] as SchemaNode;
    const description = String(leafSchema(spec.key).description ?? outer.description ?? '');
    const defaults = CONFIG_DEFAULTS as unknown as Record<string, unknown>;
    const defaultValue = tail === undefined ? defaults[head] : isObject(defaults[head]) ? (defaults[head] as Record<string, unknown>)[tail] : null;
    return { key: spec.key, env: spec.env, flag: spec.flag, description, defaultValue };
  }),
);

// ----------------------------------------------------------------------------------------------
// Reading the layers

interface Layered {
  value: unknown;
  /** The value as the user wrote it, for messages. */
  raw: unknown;
  source: string;
}

/** Strings from the environment or the command line, turned into the option's type. */
function fromText(spec: OptionSpec, text: string): unknown {
  const node = leafSchema(spec.key);
  if (node.type === 'integer') return /^\s*[+-]?\d+\s*$/.test(text) ? Number(text.trim()) : text;
  if (node.type === 'array') return text.split(',');
  return text;
}

function normalizeList(value: unknown): unknown {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value.flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])) : value;
  if (!Array.isArray(items)) return items;
  return items.map((v) => (typeof v === 'string' ? v.trim() : v)).filter((v) => v !== '');
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const temp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = temp;
    }
  }
  return row[b.length] as number;
}

function unknownOption(key: string, shown: string, known: readonly string[]): ConfigIssue {
  const best = known.map((k) => ({ k, d: levenshtein(key.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
  const hint = best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best.k}"?)` : '';
  return { option: key, source: shown, message: `unknown option "${key}"${hint}` };
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function readConfigFile(file: string, origin: string): { shown: string; data: Record<string, unknown> } {
  const abs = resolve(file);
  const shown = displayPath(abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError([{ option: 'config', source: origin, message: `cannot read config file ${shown}: ${(err as Error).message}` }]);
  }
  let data: unknown;
  try {
    data = extname(abs) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([{ option: 'config', source: shown, message: `invalid ${extname(abs) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}` }]);
  }
  if (data === null || data === undefined) return { shown, data: {} };
  if (!isObject(data)) throw new ConfigError([{ option: 'config', source: shown, message: 'must be a mapping of options (see HeraldConfig)' }]);
  return { shown, data };
}

/** File values by dotted key; unknown keys become issues. */
function flattenFile(data: Record<string, unknown>, shown: string, issues: ConfigIssue[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const leafKeys = SPECS.map((s) => s.key);
  const topKeys = [...new Set(leafKeys.map((k) => k.split('.')[0] as string))];
  for (const [key, value] of Object.entries(data)) {
    const nested = leafKeys.filter((k) => k.startsWith(`${key}.`));
    if (leafKeys.includes(key)) {
      out.set(key, value);
    } else if (nested.length > 0) {
      if (value === null && key === 'operatorWebhook') {
        for (const k of nested) out.set(k, null);
      } else if (!isObject(value)) {
        issues.push({ option: key, source: `${shown}: ${key}`, message: `must be a mapping with keys ${nested.map((k) => k.slice(key.length + 1)).join(', ')}` });
      } else {
        for (const [child, childValue] of Object.entries(value)) {
          const full = `${key}.${child}`;
          if (nested.includes(full)) out.set(full, childValue);
          else issues.push(unknownOption(full, shown, nested));
        }
      }
    } else {
      issues.push(unknownOption(key, shown, topKeys));
    }
  }
  return out;
}

function camelCase(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

// ----------------------------------------------------------------------------------------------
// Checks the schema cannot express

function normalizeCidr(entry: string): string | null {
  const slash = entry.lastIndexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return null;
  const bits = version === 4 ? 32 : 128;
  if (slash === -1) return `${address}/${bits}`;
  const prefix = entry.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= bits ? `${address}/${Number(prefix)}` : null;
}

function got(spec: OptionSpec, raw: unknown): string {
  if (spec.secret) return typeof raw === 'string' ? ` (got a value of ${raw.length} characters)` : '';
  return ` (got ${JSON.stringify(raw) ?? String(raw)})`;
}

/** Options with checks of their own above the schema's; the schema's message would repeat them. */
const CHECKED_APART = new Set(['allowPrivateNetworks', 'encryptionKey', 'previousEncryptionKeys']);

const validateConfig = new Ajv({ allErrors: true, strict: true }).compile(HeraldConfigSchema);

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const [head, tail] = key.split('.') as [string, string | undefined];
  if (tail === undefined) target[head] = value;
  else ((target[head] ??= {}) as Record<string, unknown>)[tail] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export interface ResolveConfigInput {
  /**
   * Config file (YAML, or JSON by extension). Undefined: taken from the `config` flag, then
   * `HERALD_CONFIG`. Null: no file even if those are set.
   */
  file?: string | null;
  /** Environment; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Parsed command-line options by name, camelCase (`dataDir`, as commander gives them) or
   * kebab-case (`data-dir`); undefined values are ignored, and so are keys that are not options.
   */
  flags?: Partial<Record<string, unknown>>;
}

/** Resolves defaults < file < environment < flags into a validated, frozen HeraldConfig; throws ConfigError. */
export function resolveConfig(input: ResolveConfigInput = {}): HeraldConfig {
  const env = input.env ?? process.env;
  const flags = new Map<string, unknown>();
  for (const [name, value] of Object.entries(input.flags ?? {})) if (value !== undefined) flags.set(camelCase(name), value);

  const issues: ConfigIssue[] = [];
  const layers = new Map<string, Layered>();
  for (const spec of SPECS) {
    const [head, tail] = spec.key.split('.') as [string, string | undefined];
    const defaults = CONFIG_DEFAULTS as unknown as Record<string, unknown>;
    const value = tail === undefined ? defaults[head] : isObject(defaults[head]) ? (defaults[head] as Record<string, unknown>)[tail] : null;
    layers.set(spec.key, { value, raw: value, source: 'default' });
  }

  const configFlag = flags.get('config');
  const fileOrigin = input.file !== undefined ? 'config file' : configFlag !== undefined ? CONFIG_FILE_FLAG : CONFIG_FILE_ENV;
  const file = input.file !== undefined ? input.file : ((configFlag as string | undefined) ?? (env[CONFIG_FILE_ENV] || null));
  if (file !== null) {
    const { shown, data } = readConfigFile(String(file), fileOrigin);
    for (const [key, value] of flattenFile(data, shown, issues)) layers.set(key, { value, raw: value, source: `${shown}: ${key}` });
  }

  for (const spec of SPECS) {
    const text = env[spec.env];
    // An empty variable counts as unset (`HERALD_DATABASE_URL=` in a compose file).
    if (text !== undefined && text !== '') layers.set(spec.key, { value: fromText(spec, text), raw: text, source: spec.env });
    const flagValue = spec.flag === null ? undefined : flags.get(camelCase(spec.flag));
    if (flagValue !== undefined) {
      const value = typeof flagValue === 'string' ? fromText(spec, flagValue) : flagValue;
      layers.set(spec.key, { value, raw: flagValue, source: spec.flag as string });
    }
  }

  const layer = (key: string): Layered => layers.get(key) as Layered;
  const spec = (key: string): OptionSpec => SPECS.find((s) => s.key === key) as OptionSpec;

  const networks = layer('allowPrivateNetworks');
  const list = normalizeList(networks.value);
  if (Array.isArray(list)) {
    const cidrs: unknown[] = [];
    for (const item of list) {
      const cidr = typeof item === 'string' ? normalizeCidr(item) : null;
      if (cidr === null) {
        const message = `${JSON.stringify(item)} is not a CIDR (address/prefix, e.g. 10.0.0.0/8, fd00::/8, or a bare address such as 127.0.0.1)`;
        issues.push({ option: 'allowPrivateNetworks', source: networks.source, message });
      }
      cidrs.push(cidr ?? item);
    }
    networks.value = cidrs;
  }

  // Encryption keys are base64 of exactly 32 bytes; like every secret, never echoed.
  const currentKey = layer('encryptionKey');
  if (typeof currentKey.value === 'string' && parseEncryptionKey(currentKey.value) === null) {
    const keySpec = spec('encryptionKey');
    issues.push({ option: 'encryptionKey', source: currentKey.source, message: `must be ${expectation(keySpec)}${got(keySpec, currentKey.raw)}` });
  }
  const previousKeys = layer('previousEncryptionKeys');
  const keyList = normalizeList(previousKeys.value);
  if (Array.isArray(keyList)) {
    previousKeys.value = keyList;
    keyList.forEach((item, index) => {
      if (typeof item === 'string' && parseEncryptionKey(item) !== null) return;
      const size = typeof item === 'string' ? ` (got a value of ${item.length} characters)` : '';
      issues.push({ option: 'previousEncryptionKeys', source: previousKeys.source, message: `key ${index + 1} must be base64 of 32 bytes${size}` });
    });
  }

  const config: Record<string, unknown> = {};
  for (const s of SPECS) if (!s.key.startsWith('operatorWebhook.')) setPath(config, s.key, layer(s.key).value);

  // Both halves of the operator webhook, or neither.
  const url = layer('operatorWebhook.url');
  const secret = layer('operatorWebhook.secret');
  const hasUrl = url.value !== null && url.value !== undefined;
  const hasSecret = secret.value !== null && secret.value !== undefined;
  if (hasUrl && !hasSecret) {
    const source = secret.source === 'default' ? spec('operatorWebhook.secret').env : secret.source;
    issues.push({ option: 'operatorWebhook.secret', source, message: `required when the operator webhook URL is set (by ${url.source})` });
  } else if (hasSecret && !hasUrl) {
    const source = url.source === 'default' ? spec('operatorWebhook.url').env : url.source;
    issues.push({ option: 'operatorWebhook.url', source, message: `required when the operator webhook secret is set (by ${secret.source})` });
  }
  config.operatorWebhook = hasUrl || hasSecret ? { url: url.value, secret: secret.value } : null;

  if (!validateConfig(config)) {
    const failing = new Set<string>();
    for (const error of (validateConfig.errors ?? []) as ErrorObject[]) {
      const key = error.instancePath.slice(1).split('/').slice(0, 2).join('.');
      const match = SPECS.find((s) => s.key === key) ?? SPECS.find((s) => s.key === key.split('.')[0]);
      if (match) failing.add(match.key);
    }
    for (const key of failing) {
      const s = spec(key);
      const { raw, source } = layer(key);
      // A missing half of the operator webhook is already reported above.
      if ((key === 'operatorWebhook.url' && !hasUrl) || (key === 'operatorWebhook.secret' && !hasSecret)) continue;
      if (CHECKED_APART.has(key) && issues.some((i) => i.option === key)) continue;
      issues.push({ option: key, source, message: `must be ${expectation(s)}${got(s, raw)}` });
    }
  }

  if (issues.length > 0) {
    // In option order, whatever check found them; unknown file keys (no spec) first.
    const rank = (i: ConfigIssue) => SPECS.findIndex((s) => s.key === i.option);
    throw new ConfigError(issues.map((i, n) => ({ i, n })).sort((a, b) => rank(a.i) - rank(b.i) || a.n - b.n).map(({ i }) => i));
  }
  // Rebuilt in the schema's key order, so logs and dumps read like the documentation.
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(HeraldConfigSchema.properties)) ordered[key] = config[key];
  return deepFreeze(ordered) as unknown as HeraldConfig;
}
