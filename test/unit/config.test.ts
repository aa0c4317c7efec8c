import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { CONFIG_DEFAULTS, CONFIG_OPTIONS, ConfigError, resolveConfig, type ResolveConfigInput } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function write(text: string, ext = '.yaml'): string {
  const file = join(dir, `c${++counter}${ext}`);
  writeFileSync(file, text);
  return file;
}

function configError(input: ResolveConfigInput): ConfigError {
  try {
    resolveConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the configuration to be rejected');
}

const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** Encryption keys: base64 of 32 bytes. */
const KEY = Buffer.alloc(32, 7).toString('base64');
const OLD_KEY = Buffer.alloc(32, 9).toString('base64');

describe('resolveConfig: layers', () => {
  it('defaults when nothing is set', () => {
    const config = resolveConfig({ env: {} });
    expect(config).toEqual(CONFIG_DEFAULTS);
    expect(config).toEqual({
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
      maxPayloadBytes: 262144,
      apiRateLimit: 1000,
      apiRateBurst: 2000,
      operatorWebhook: null,
      dispatcher: { batchSize: 100, lookahead: 64, maxInFlight: 512, leaseMs: 60000, pollIntervalMs: 1000, shutdownGraceMs: 10000 },
      autoDisableAfterS: null,
      responseBodyLimitBytes: 4096,
      dashboardFrameAncestors: null,
    });
  });

  it('is deeply frozen', () => {
    const config = resolveConfig({ env: { HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.1' } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.dispatcher)).toBe(true);
    expect(Object.isFrozen(config.allowPrivateNetworks)).toBe(true);
  });

  it('defaults < file < environment < flags', () => {
    const file = write(`
host: 0.0.0.0
port: 1000
logLevel: warn
role: worker
retentionDays: 7
dispatcher:
  batchSize: 5
  leaseMs: 2000
`);
    const config = resolveConfig({
      file,
      env: { HERALD_PORT: '2000', HERALD_LOG_LEVEL: 'debug', HERALD_LEASE_MS: '3000', HERALD_DATA_DIR: '/var/lib/herald' },
      flags: { port: '3000', dataDir: '/srv/herald' },
    });
    expect(config.host).toBe('0.0.0.0'); // file
    expect(config.role).toBe('worker'); // file
    expect(config.retentionDays).toBe(7); // file
    expect(config.dispatcher).toEqual({ batchSize: 5, lookahead: 64, maxInFlight: 512, leaseMs: 3000, pollIntervalMs: 1000, shutdownGraceMs: 10000 });
    expect(config.logLevel).toBe('debug'); // env over file
    expect(config.port).toBe(3000); // flag over env over file
    expect(config.dataDir).toBe('/srv/herald'); // flag over env
    expect(config.profile).toBe('standard'); // default
  });

  it('finds the file from --config, then HERALD_CONFIG; file: null means none', () => {
    const fromFlag = write('port: 1111');
    const fromEnv = write('port: 2222');
    expect(resolveConfig({ env: { HERALD_CONFIG: fromEnv }, flags: { config: fromFlag } }).port).toBe(1111);
    expect(resolveConfig({ env: { HERALD_CONFIG: fromEnv } }).port).toBe(2222);
    expect(resolveConfig({ file: null, env: { HERALD_CONFIG: fromEnv } }).port).toBe(8080);
  });

  it('reads JSON files, nested operatorWebhook and explicit nulls', () => {
    const file = write(
      JSON.stringify({ databaseUrl: null, operatorWebhook: { url: 'https://ops.example.com/hook', secret: WHSEC }, autoDisableAfterS: 60 }),
      '.json',
    );
    const config = resolveConfig({ file, env: {} });
    expect(config.operatorWebhook).toEqual({ url: 'https://ops.example.com/hook', secret: WHSEC });
    expect(config.autoDisableAfterS).toBe(60);
    expect(config.databaseUrl).toBeNull();
  });

  it('takes every option from the environment', () => {
    const config = resolveConfig({
      env: {
        HERALD_HOST: '::',
        HERALD_PORT: '0',
        HERALD_DATA_DIR: 'data',
        HERALD_DATABASE_URL: 'postgres://herald:pw@localhost:5432/herald',
        HERALD_PROFILE: './my-profile.yaml',
        HERALD_ADMIN_TOKEN: 'admin-token',
        HERALD_ENCRYPTION_KEY: KEY,
        HERALD_PREVIOUS_ENCRYPTION_KEYS: ` ${OLD_KEY} ,, ${KEY}`,
        HERALD_ALLOW_PRIVATE_NETWORKS: ' 127.0.0.1 , 10.0.0.0/8,,::1, fd00::/8 ',
        HERALD_ROLE: 'api',
        HERALD_LOG_LEVEL: 'silent',
        HERALD_DATABASE_POOL_SIZE: '20',
        HERALD_STATEMENT_TIMEOUT_MS: '5000',
        HERALD_RETENTION_DAYS: '90',
        HERALD_MAX_PAYLOAD_BYTES: '1024',
        HERALD_API_RATE_LIMIT: '5',
        HERALD_API_RATE_BURST: '10',
        HERALD_OPERATOR_WEBHOOK_URL: 'http://127.0.0.1:9999/ops',
        HERALD_OPERATOR_WEBHOOK_SECRET: WHSEC,
        HERALD_DISPATCHER_BATCH_SIZE: '10',
        HERALD_DISPATCHER_LOOKAHEAD: '0',
        HERALD_DISPATCHER_MAX_IN_FLIGHT: '20',
        HERALD_LEASE_MS: '500',
        HERALD_POLL_INTERVAL_MS: '50',
        HERALD_SHUTDOWN_GRACE_MS: '0',
        HERALD_AUTO_DISABLE_AFTER_S: '3600',
        HERALD_RESPONSE_BODY_LIMIT_BYTES: '0',
        HERALD_DASHBOARD_FRAME_ANCESTORS: "https://app.example.com 'self'",
      },
    });
    expect(config).toEqual({
      host: '::',
      port: 0,
      dataDir: 'data',
      databaseUrl: 'postgres://herald:pw@localhost:5432/herald',
      profile: './my-profile.yaml',
      adminToken: 'admin-token',
      encryptionKey: KEY,
      previousEncryptionKeys: [OLD_KEY, KEY],
      // Bare addresses become single-host CIDRs.
      allowPrivateNetworks: ['127.0.0.1/32', '10.0.0.0/8', '::1/128', 'fd00::/8'],
      role: 'api',
      logLevel: 'silent',
      databasePoolSize: 20,
      statementTimeoutMs: 5000,
      retentionDays: 90,
      maxPayloadBytes: 1024,
      apiRateLimit: 5,
      apiRateBurst: 10,
      operatorWebhook: { url: 'http://127.0.0.1:9999/ops', secret: WHSEC },
      dispatcher: { batchSize: 10, lookahead: 0, maxInFlight: 20, leaseMs: 500, pollIntervalMs: 50, shutdownGraceMs: 0 },
      autoDisableAfterS: 3600,
      responseBodyLimitBytes: 0,
      dashboardFrameAncestors: "https://app.example.com 'self'",
    });
  });

  it('treats empty environment variables as unset', () => {
    const config = resolveConfig({ env: { HERALD_DATABASE_URL: '', HERALD_PORT: '' } });
    expect(config.databaseUrl).toBeNull();
    expect(config.port).toBe(8080);
  });

  it('accepts camelCase and kebab-case flags, typed or as strings, and ignores other keys', () => {
    const config = resolveConfig({
      env: {},
      flags: { port: 4000, 'log-level': 'trace', allowPrivateNetworks: ['127.0.0.1', '10.0.0.0/8,192.168.0.0/16'], leaseMs: '1500', open: true, host: undefined },
    });
    expect(config.port).toBe(4000);
    expect(config.logLevel).toBe('trace');
    expect(config.allowPrivateNetworks).toEqual(['127.0.0.1/32', '10.0.0.0/8', '192.168.0.0/16']);
    expect(config.dispatcher.leaseMs).toBe(1500);
    expect(config.host).toBe('127.0.0.1');
  });

  it('describes every option with its env variable, flag and default', () => {
    const port = CONFIG_OPTIONS.find((o) => o.key === 'port');
    expect(port).toMatchObject({ env: 'HERALD_PORT', flag: '--port', defaultValue: 8080 });
    expect(CONFIG_OPTIONS.find((o) => o.key === 'adminToken')?.flag).toBeNull();
    expect(CONFIG_OPTIONS.find((o) => o.key === 'dispatcher.leaseMs')).toMatchObject({ env: 'HERALD_LEASE_MS', defaultValue: 60000 });
    for (const option of CONFIG_OPTIONS) expect(option.description).not.toBe('');
  });
});

describe('resolveConfig: errors name the option and its source', () => {
  it('environment', () => {
    expect(configError({ env: { HERALD_PORT: 'abc' } }).message).toBe('HERALD_PORT: must be an integer between 0 and 65535 (got "abc")');
    expect(configError({ env: { HERALD_PORT: '65536' } }).message).toBe('HERALD_PORT: must be an integer between 0 and 65535 (got "65536")');
    expect(configError({ env: { HERALD_ROLE: 'boss' } }).message).toBe('HERALD_ROLE: must be one of all, api, worker (got "boss")');
    expect(configError({ env: { HERALD_LOG_LEVEL: 'verbose' } }).message).toBe(
      'HERALD_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    );
    expect(configError({ env: { HERALD_RETENTION_DAYS: '0' } }).message).toBe('HERALD_RETENTION_DAYS: must be an integer between 1 and 36500 (got "0")');
    expect(configError({ env: { HERALD_DISPATCHER_BATCH_SIZE: '1.5' } }).message).toBe(
      'HERALD_DISPATCHER_BATCH_SIZE: must be an integer between 1 and 10000 (got "1.5")',
    );
    expect(configError({ env: { HERALD_AUTO_DISABLE_AFTER_S: '-1' } }).message).toBe('HERALD_AUTO_DISABLE_AFTER_S: must be an integer >= 1 (got "-1")');
  });

  it('flags', () => {
    expect(configError({ env: {}, flags: { port: 'x' } }).message).toBe('--port: must be an integer between 0 and 65535 (got "x")');
    expect(configError({ env: {}, flags: { dataDir: '' } }).message).toBe('--data-dir: must be a non-empty string (got "")');
    expect(configError({ env: {}, flags: { shutdownGraceMs: -5 } }).message).toBe('--shutdown-grace-ms: must be an integer between 0 and 3600000 (got -5)');
  });

  it('file values, unknown keys (with a suggestion) and nested keys', () => {
    const file = write('prot: 80\nport: "eighty"\ndispatcher:\n  batchSize: 0\n  leaseMS: 10\nfoo: 1\n');
    const err = configError({ file, env: {} });
    expect(err.message.split('\n')).toEqual([
      `${file}: unknown option "prot" (did you mean "port"?)`,
      `${file}: unknown option "dispatcher.leaseMS" (did you mean "dispatcher.leaseMs"?)`,
      `${file}: unknown option "foo"`,
      `${file}: port: must be an integer between 0 and 65535 (got "eighty")`,
      `${file}: dispatcher.batchSize: must be an integer between 1 and 10000 (got 0)`,
    ]);
    expect(err.issues.map((i) => i.option)).toEqual(['prot', 'dispatcher.leaseMS', 'foo', 'port', 'dispatcher.batchSize']);
  });

  it('file shape: not a mapping, dispatcher not a mapping, bad YAML, missing file', () => {
    expect(configError({ file: write('- a\n- b\n'), env: {} }).message).toMatch(/: must be a mapping of options/);
    const dispatcher = write('dispatcher: 5\n');
    expect(configError({ file: dispatcher, env: {} }).message).toBe(
      `${dispatcher}: dispatcher: must be a mapping with keys batchSize, lookahead, maxInFlight, leaseMs, pollIntervalMs, shutdownGraceMs`,
    );
    expect(configError({ file: write('port: [\n'), env: {} }).message).toMatch(/: invalid YAML: /);
    const missing = join(dir, 'missing.yaml');
    expect(configError({ env: { HERALD_CONFIG: missing } }).message).toMatch(new RegExp(`^HERALD_CONFIG: cannot read config file ${missing}: ENOENT`));
    expect(configError({ env: {}, flags: { config: missing } }).message).toMatch(/^--config: cannot read config file/);
  });

  it('allow-list entries must be CIDRs', () => {
    const err = configError({ env: { HERALD_ALLOW_PRIVATE_NETWORKS: '127.0.0.1,10.0.0.0/33,localhost' } });
    expect(err.message.split('\n')).toEqual([
      'HERALD_ALLOW_PRIVATE_NETWORKS: "10.0.0.0/33" is not a CIDR (address/prefix, e.g. 10.0.0.0/8, fd00::/8, or a bare address such as 127.0.0.1)',
      'HERALD_ALLOW_PRIVATE_NETWORKS: "localhost" is not a CIDR (address/prefix, e.g. 10.0.0.0/8, fd00::/8, or a bare address such as 127.0.0.1)',
    ]);
  });

  it('operator webhook: both halves, an http(s) URL and a whsec_ secret (never echoed)', () => {
    expect(configError({ env: { HERALD_OPERATOR_WEBHOOK_URL: 'https://ops.example.com' } }).message).toBe(
      'HERALD_OPERATOR_WEBHOOK_SECRET: required when the operator webhook URL is set (by HERALD_OPERATOR_WEBHOOK_URL)',
    );
    expect(configError({ env: { HERALD_OPERATOR_WEBHOOK_SECRET: WHSEC } }).message).toBe(
      'HERALD_OPERATOR_WEBHOOK_URL: required when the operator webhook secret is set (by HERALD_OPERATOR_WEBHOOK_SECRET)',
    );
    const err = configError({ env: { HERALD_OPERATOR_WEBHOOK_URL: 'ftp://ops', HERALD_OPERATOR_WEBHOOK_SECRET: 'hunter2' } });
    expect(err.message.split('\n')).toEqual([
      'HERALD_OPERATOR_WEBHOOK_URL: must be an http(s) URL (got "ftp://ops")',
      'HERALD_OPERATOR_WEBHOOK_SECRET: must be a Standard Webhooks secret whsec_<base64> (got a value of 7 characters)',
    ]);
    expect(err.message).not.toContain('hunter2');
  });

  it('encryption keys must be base64 of 32 bytes, never echoed', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    const err = configError({ env: { HERALD_ENCRYPTION_KEY: short, HERALD_PREVIOUS_ENCRYPTION_KEYS: `${OLD_KEY},not-a-key` } });
    expect(err.message.split('\n')).toEqual([
      'HERALD_ENCRYPTION_KEY: must be base64 of 32 bytes (openssl rand -base64 32) (got a value of 24 characters)',
      'HERALD_PREVIOUS_ENCRYPTION_KEYS: key 2 must be base64 of 32 bytes (got a value of 9 characters)',
    ]);
    expect(err.message).not.toContain(short);
    expect(resolveConfig({ env: { HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64url') } }).encryptionKey).toHaveLength(43);
  });

  it('API rate limit: a non-negative integer, 0 turns it off', () => {
    expect(resolveConfig({ env: { HERALD_API_RATE_LIMIT: '0' } }).apiRateLimit).toBe(0);
    expect(configError({ env: { HERALD_API_RATE_LIMIT: '-1' } }).message).toBe('HERALD_API_RATE_LIMIT: must be an integer between 0 and 1000000 (got "-1")');
    expect(configError({ env: {}, flags: { apiRateBurst: '0' } }).message).toBe('--api-rate-burst: must be an integer between 1 and 10000000 (got "0")');
  });

  it('database URL must have a scheme, without echoing it', () => {
    const err = configError({ env: { HERALD_DATABASE_URL: 'secret-password@db' } });
    expect(err.message).toMatch(/^HERALD_DATABASE_URL: must be a database URL such as postgres:\/\//);
    expect(err.message).not.toContain('secret-password');
  });

  it('reports every problem at once, from every source', () => {
    const file = write('retentionDays: 0\n');
    const err = configError({ file, env: { HERALD_PORT: 'abc' }, flags: { role: 'everything' } });
    expect(err.issues.map((i) => i.source)).toEqual(['HERALD_PORT', '--role', `${file}: retentionDays`]);
  });
});
