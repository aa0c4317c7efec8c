import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { DEFAULT_RETRY_POLICY } from '../../src/domain/retry-policy.js';
import { compileEventSchema } from '../../src/profile/event-schema.js';
import { listBuiltInProfiles, loadProfile, ProfileError } from '../../src/profile/load-profile.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function write(text: string, ext = '.yaml'): string {
  const file = join(dir, `p${++counter}${ext}`);
  writeFileSync(file, text);
  return file;
}

/** A valid profile; `patch` replaces whole top-level blocks. */
function profileYaml(patch: Partial<Record<'catalog' | 'formats' | 'defaultFormat' | 'testEvent' | 'delivery' | 'extra', string>> = {}): string {
  return [
    'name: t',
    patch.catalog ??
      `catalog:
  - name: thing.happened
    schema: {type: object, properties: {message: {type: string}}, required: [message]}
    examples: [{message: hi}]`,
    patch.formats ??
      `formats:
  default:
    envelope: {type: "{{event.type}}", data: "{{event.data}}"}
    signature: {scheme: standard-webhooks}`,
    patch.defaultFormat ?? 'defaultFormat: default',
    patch.testEvent ?? 'testEvent: {type: thing.happened, data: {message: test}}',
    patch.delivery ?? '',
    patch.extra ?? '',
  ].join('\n');
}

function loadError(file: string): ProfileError {
  try {
    loadProfile(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return err as ProfileError;
  }
  throw new Error(`expected ${file} to be rejected`);
}

function isDeeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen);
}

describe('standard profile', () => {
  it('loads by name with the default delivery policy', () => {
    const p = loadProfile('standard');
    expect(p.name).toBe('standard');
    expect(p.source).toMatch(/profiles[/\\]standard\.yaml$/);
    expect(p.defaultFormat).toBe('default');
    expect(p.formats.default).toEqual({
      name: 'default',
      envelope: { type: '{{event.type}}', timestamp: '{{event.time}}', data: '{{event.data}}' },
      signature: { scheme: 'standard-webhooks' },
    });
    expect(p.delivery).toEqual({
      timeoutMs: 30000,
      retry: DEFAULT_RETRY_POLICY,
      success: { kind: '2xx' },
      rotationGraceS: 86400,
      autoDisableAfterS: 432000,
      concurrency: 10,
    });
    expect(p.testEvent).toEqual({ type: 'webhook.test', data: { message: 'This is a test event from Herald' } });
  });

  it('has webhook.test in its catalog, with a schema its example and the test event satisfy', () => {
    const p = loadProfile('standard');
    expect(p.catalog.map((t) => t.name)).toEqual(['webhook.test']);
    const [type] = p.catalog;
    expect(type).toMatchObject({ group: 'webhook', deprecated: false, archived: false, format: null, extra: {} });
    expect(type?.description).toMatch(/test/);
    const validate = compileEventSchema(type?.schema ?? null);
    expect(type?.examples.length).toBeGreaterThan(0);
    for (const example of type?.examples ?? []) expect(validate(example)).toEqual([]);
    expect(validate(p.testEvent.data)).toEqual([]);
    expect(validate({ message: 3 })).toEqual([{ path: '/message', message: 'must be a string' }]);
  });

  it('is deeply frozen', () => {
    const p = loadProfile('standard');
    expect(isDeeplyFrozen(p)).toBe(true);
    expect(() => {
      (p.catalog as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it('is listed among the built-in profiles', () => {
    expect(listBuiltInProfiles()).toContain('standard');
  });
});

describe('loading', () => {
  it('fills defaults: group from the name, extra keys, example shorthand, hmac prefix, exponential retry', () => {
    const file = write(
      profileYaml({
        catalog: `catalog:
  - name: thing.happened
    examples: [{message: a}]
  - name: project.domain.created
    example: {x: 1}
    examples: [{x: 2}]
    payloadType: DOMAIN
    platforms: [web]
  - name: agent_created
    group: agent
  - name: DEPLOYMENT_STARTED
    deprecated: true
    format: legacy`,
        formats: `formats:
  default:
    envelope: {type: "{{event.type}}"}
    signature: {scheme: hmac, algorithm: sha1, encoding: hex, header: x-vercel-signature}
  legacy:
    envelope: {"...": "{{event.data}}"}
    signature: {scheme: header-secret, header: Qovery-Secret}`,
        testEvent: 'testEvent: {type: thing.happened}',
        delivery: 'delivery: {retry: {kind: exponential, maxAgeS: 7200}, success: [200, 200, 204], timeoutMs: 60000}',
      }),
    );
    const p = loadProfile(file);
    expect(p.source).toBe(file);
    expect(p.description).toBe('');
    const byName = Object.fromEntries(p.catalog.map((t) => [t.name, t]));
    expect(byName['thing.happened']).toMatchObject({ group: 'thing', schema: null, description: '' });
    expect(byName['project.domain.created']).toMatchObject({
      group: 'project.domain',
      examples: [{ x: 1 }, { x: 2 }],
      extra: { payloadType: 'DOMAIN', platforms: ['web'] },
    });
    expect(byName['agent_created']?.group).toBe('agent');
    expect(byName['DEPLOYMENT_STARTED']).toMatchObject({ group: null, deprecated: true, format: 'legacy' });
    expect(p.formats.default?.signature).toEqual({ scheme: 'hmac', algorithm: 'sha1', encoding: 'hex', header: 'x-vercel-signature', prefix: '' });
    expect(p.testEvent).toEqual({ type: 'thing.happened', data: {} });
    expect(p.delivery).toEqual({
      timeoutMs: 60000,
      retry: { kind: 'exponential', initialS: 60, factor: 2, maxDelayS: 3600, maxAgeS: 7200, jitter: 0.2 },
      success: { kind: 'statuses', statuses: [200, 204] },
      rotationGraceS: 86400,
      autoDisableAfterS: 432000,
      concurrency: 10,
    });
  });

  it('reads JSON profiles', () => {
    const file = write(
      JSON.stringify({
        name: 'j',
        catalog: [{ name: 'a.b' }],
        formats: { default: { envelope: { type: '{{event.type}}' }, signature: { scheme: 'none' } } },
        testEvent: { type: 'a.b', data: {} },
        delivery: { retry: { kind: 'none' } },
      }),
      '.json',
    );
    expect(loadProfile(file).delivery.retry).toEqual({ kind: 'none' });
  });

  it('looks bare names up in profilesDir', () => {
    writeFileSync(join(dir, 'custom.yaml'), profileYaml());
    expect(loadProfile('custom', { profilesDir: dir }).name).toBe('t');
    expect(listBuiltInProfiles({ profilesDir: dir })).toContain('custom');
  });
});

describe('profile errors name the file, the path and the reason', () => {
  it('an unknown signature scheme lists the schemes', () => {
    const file = write(
      profileYaml({
        formats: `formats:
  default:
    envelope: {type: "{{event.type}}"}
    signature: {scheme: hmac-sha256}`,
      }),
    );
    const err = loadError(file);
    expect(err.file).toBe(file);
    expect(err.message).toBe(`${file}: /formats/default/signature/scheme: must be one of standard-webhooks, svix, hmac, header-secret, none (line 9)`);
    expect(err.issues).toEqual([
      { path: '/formats/default/signature/scheme', message: 'must be one of standard-webhooks, svix, hmac, header-secret, none', line: 9 },
    ]);
  });

  it('an incomplete hmac signature reports only the hmac branch', () => {
    const file = write(
      profileYaml({
        formats: `formats:
  default:
    envelope: {}
    signature: {scheme: hmac, algorithm: md5, encoding: hex, headr: x-sig}`,
      }),
    );
    const lines = loadError(file).message.split('\n');
    expect(lines).toEqual([
      expect.stringContaining(`${file}: /formats/default/signature/algorithm: must be one of sha1, sha256, sha512`),
      expect.stringContaining(`${file}: /formats/default/signature/header: is required`),
      expect.stringContaining(`${file}: /formats/default/signature/headr: unknown key (known keys: scheme, algorithm, encoding, header, prefix)`),
    ]);
  });

  it('defaultFormat must name a format', () => {
    const err = loadError(write(profileYaml({ defaultFormat: 'defaultFormat: legacy' })));
    expect(err.message).toContain(': /defaultFormat: "legacy" is not a format of this profile (formats: default)');
  });

  it('an example that does not match its schema is reported with its index and the reason', () => {
    const file = write(
      profileYaml({
        catalog: `catalog:
  - name: thing.happened
    schema: {type: object, properties: {message: {type: string}, count: {type: integer}}, required: [message]}
    examples: [{message: ok}, {message: 3, count: 1.5}]`,
      }),
    );
    expect(loadError(file).message).toContain(
      `${file}: /catalog/0/examples/1: does not match the event type's schema: /count: must be an integer; /message: must be a string`,
    );
  });

  it('an unknown template root is reported on the envelope', () => {
    const err = loadError(
      write(
        profileYaml({
          formats: `formats:
  default:
    envelope: {type: "{{event.type}}", who: "{{customer.id}}"}
    signature: {scheme: svix}`,
        }),
      ),
    );
    expect(err.message).toMatch(/: \/formats\/default\/envelope: \$\.who: unknown root "customer"/);
  });

  it('cross-references: test event type, catalog formats, duplicate names, test event data', () => {
    const file = write(
      profileYaml({
        catalog: `catalog:
  - name: thing.happened
    schema: {type: object, required: [message]}
  - name: thing.happened
    format: legacy`,
        testEvent: 'testEvent: {type: other.thing}',
      }),
    );
    const { issues } = loadError(file);
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      '/catalog/1/name: duplicate event type "thing.happened" (also /catalog/0)',
      '/catalog/1/format: "legacy" is not a format of this profile (formats: default)',
      '/testEvent/type: "other.thing" is not in the catalog',
    ]);
    const dataErr = loadError(write(profileYaml({ testEvent: 'testEvent: {type: thing.happened, data: {}}' })));
    expect(dataErr.message).toContain('/testEvent/data: does not match the schema of "thing.happened": /message: is required');
  });

  it('delivery policy bounds: empty schedule, jitter, timeout, success, unknown keys', () => {
    const file = write(
      profileYaml({
        delivery: `delivery:
  retry: {kind: schedule, delaysS: [], jitter: 1}
  timeoutMs: 90000
  success: 3xx
  retries: 3`,
      }),
    );
    const messages = loadError(file).issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        '/delivery/retry/delaysS: must not be empty',
        '/delivery/retry/jitter: must be < 1',
        '/delivery/timeoutMs: must be <= 60000',
        '/delivery/success: must be "2xx" or an array',
        expect.stringMatching(/^\/delivery\/retries: unknown key/),
      ]),
    );
    const negative = loadError(write(profileYaml({ delivery: 'delivery: {retry: {kind: schedule, delaysS: [5, -1]}}' })));
    expect(negative.message).toContain('/delivery/retry/delaysS/1: must be > 0');
    const kind = loadError(write(profileYaml({ delivery: 'delivery: {retry: {kind: linear}}' })));
    expect(kind.message).toContain('/delivery/retry/kind: must be one of schedule, exponential, none');
  });

  it('an invalid event schema is reported on the schema', () => {
    const file = write(
      profileYaml({
        catalog: `catalog:
  - name: thing.happened
    schema: {type: objekt}`,
        testEvent: 'testEvent: {type: thing.happened}',
      }),
    );
    expect(loadError(file).message).toContain(`${file}: /catalog/0/schema: invalid JSON Schema:`);
  });

  it('unknown top-level keys and missing required ones', () => {
    const err = loadError(write('name: x\ncatalogue: []\nformats: {}\n'));
    expect(err.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(
      expect.arrayContaining([
        '/catalog: is required',
        '/testEvent: is required',
        '/formats: must not be empty',
        expect.stringMatching(/^\/catalogue: unknown key \(known keys: name, description, catalog/),
      ]),
    );
  });

  it('invalid YAML', () => {
    const file = write('name: [\n');
    expect(loadError(file).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid YAML: .*line`));
  });

  it('an unknown built-in name lists the available profiles', () => {
    const err = loadError('no-such-profile');
    expect(err.message).toMatch(/^unknown profile "no-such-profile": no .*no-such-profile\.yaml; built-in profiles: .*standard/);
  });

  it('a missing file path lists the available profiles too', () => {
    const err = loadError(join(dir, 'missing.yaml'));
    expect(err.message).toContain('profile file not found (built-in profiles: ');
    expect(err.message).toContain('standard');
  });
});
