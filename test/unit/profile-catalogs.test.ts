/**
 * The shipped profiles' catalogs: every example (and the test event) validates against its own
 * type's schema, each seed profile holds the types its seed documents, and the engine features
 * the seeds need (attribute rules, Slack templates, legacy formats) are wired as documented.
 */
import { describe, expect, it } from 'vitest';
import { canonicalAttributeValue, resolveEventAttributes, resolveFilterPatterns } from '../../src/domain/attributes.js';
import { compileEnvelope, type EnvelopeContext } from '../../src/domain/envelope.js';
import type { JsonObject } from '../../src/domain/types.js';
import { compileEventSchema } from '../../src/profile/event-schema.js';
import { listBuiltInProfiles, loadProfile } from '../../src/profile/load-profile.js';

const SEED_PROFILES = ['voiceflow', 'convocore', 'qovery', 'vercel'];

describe('built-in profiles', () => {
  it('ship standard and the four seed profiles', () => {
    expect(listBuiltInProfiles()).toEqual(expect.arrayContaining(['standard', ...SEED_PROFILES]));
  });

  for (const name of listBuiltInProfiles()) {
    describe(name, () => {
      const profile = loadProfile(name);

      it('has at least one example per event type, each valid against its own schema', () => {
        expect(profile.catalog.length).toBeGreaterThan(0);
        for (const type of profile.catalog) {
          const validate = compileEventSchema(type.schema);
          expect(type.schema, `${type.name} has a schema`).not.toBeNull();
          expect(type.examples.length, `${type.name} has examples`).toBeGreaterThan(0);
          type.examples.forEach((example, i) => {
            expect(validate(example), `${type.name} example ${i}`).toEqual([]);
          });
        }
      });

      it('has a test event whose data validates against its type', () => {
        const type = profile.catalog.find((t) => t.name === profile.testEvent.type);
        expect(type).toBeDefined();
        expect(compileEventSchema(type!.schema)(profile.testEvent.data)).toEqual([]);
      });

      it("rejects data that breaks a type's schema", () => {
        const withRequired = profile.catalog.find((t) => Array.isArray(t.schema?.required) && (t.schema.required as unknown[]).length > 0);
        expect(withRequired).toBeDefined();
        expect(compileEventSchema(withRequired!.schema)({}).length).toBeGreaterThan(0);
      });
    });
  }
});

describe('seed catalogs and policies', () => {
  it('voiceflow: six organization.project.* types, svix signing, default schedule, 24 h grace', () => {
    const p = loadProfile('voiceflow');
    expect(p.catalog.map((t) => t.name).every((n) => n.startsWith('organization.project.'))).toBe(true);
    expect(p.catalog).toHaveLength(6);
    expect(p.formats.default!.signature).toEqual({ scheme: 'svix' });
    expect(p.delivery.retry).toEqual({ kind: 'schedule', delaysS: [5, 300, 1800, 7200, 18000, 36000, 36000], jitter: 0.2 });
    expect(p.delivery.rotationGraceS).toBe(86_400);
  });

  it('convocore: 15 types with categories and platforms, unsigned, 200 within 60 s, one attempt', () => {
    const p = loadProfile('convocore');
    expect(p.catalog).toHaveLength(15);
    for (const type of p.catalog) expect(typeof type.extra.category, type.name).toBe('string');
    const convocoreOnly = p.catalog.filter((t) => JSON.stringify(t.extra.platforms) === '["convocore"]').map((t) => t.name);
    expect(convocoreOnly.sort()).toEqual(['form_submitted', 'lead_captured']);
    expect(p.formats.default!.signature).toEqual({ scheme: 'none' });
    expect(p.delivery).toMatchObject({ timeoutMs: 60_000, success: { kind: 'statuses', statuses: [200] }, retry: { kind: 'none' } });
    expect(p.testEvent).toEqual({ type: 'webhook_test', data: { message: 'This is a test event' } });
  });

  it('qovery: four DEPLOYMENT_* types with payloadType and Slack templates, Qovery-Secret header', () => {
    const p = loadProfile('qovery');
    expect(p.catalog.map((t) => t.name)).toEqual(['DEPLOYMENT_STARTED', 'DEPLOYMENT_CANCELLED', 'DEPLOYMENT_SUCCESSFUL', 'DEPLOYMENT_FAILURE']);
    for (const type of p.catalog) {
      expect(type.extra.payloadType).toBe('DEPLOYMENT');
      expect(type.extra.slack).toMatchObject({ text: expect.any(String), blocks: expect.any(Array) });
    }
    expect(p.formats.default!.signature).toEqual({ scheme: 'header-secret', header: 'Qovery-Secret' });
  });

  it('vercel: 60 current and 13 legacy types, sha1 signature, 30 s timeout, exponential retries for 24 h', () => {
    const p = loadProfile('vercel');
    const legacy = p.catalog.filter((t) => t.deprecated);
    expect(p.catalog.length - legacy.length).toBe(60);
    expect(legacy).toHaveLength(13);
    for (const type of legacy) expect(type.format, type.name).toBe('legacy');
    for (const type of p.catalog.filter((t) => !t.deprecated)) expect(type.format, type.name).toBeNull();
    const signature = { scheme: 'hmac', algorithm: 'sha1', encoding: 'hex', header: 'x-vercel-signature', prefix: '' };
    expect(p.formats.default!.signature).toEqual(signature);
    expect(p.formats.legacy!.signature).toEqual(signature);
    expect(p.delivery).toMatchObject({ timeoutMs: 30_000, success: { kind: '2xx' }, retry: { kind: 'exponential', maxAgeS: 86_400 } });
  });
});

describe('attribute rules of the seed profiles', () => {
  it('qovery: DEPLOYMENT is DEVELOPMENT, values get their declared case, unknown types are refused', () => {
    const rules = loadProfile('qovery').attributes;
    const environment = rules.environmentType!;
    expect(canonicalAttributeValue(environment, 'DEPLOYMENT')).toBe('DEVELOPMENT');
    expect(canonicalAttributeValue(environment, 'production')).toBe('PRODUCTION');
    expect(canonicalAttributeValue(environment, 'QA')).toBeNull();
    expect(resolveFilterPatterns(rules, { environmentType: ['deployment', 'PROD*'], projectName: ['front*'] })).toEqual({
      filters: { environmentType: ['DEVELOPMENT', 'PROD*'], projectName: ['front*'] },
      problems: [],
    });
    const type = { name: 'DEPLOYMENT_STARTED', extra: {} };
    const data = { project: { id: 'p1', name: 'Frontend' }, environment: { mode: 'DEPLOYMENT' } };
    expect(resolveEventAttributes(rules, type, {}, data)).toEqual({
      attributes: { projectId: 'p1', projectName: 'Frontend', environmentType: 'DEVELOPMENT' },
      problems: [],
    });
    expect(resolveEventAttributes(rules, type, { environmentType: 'QA' }, data).problems).toEqual([
      {
        code: 'invalid_attribute',
        path: '/attributes/environmentType',
        message: 'environmentType "QA" is not one of PRODUCTION, STAGING, DEVELOPMENT, PREVIEW (aliases: DEPLOYMENT = DEVELOPMENT)',
      },
    ]);
  });

  it('convocore: a Convocore-only type is refused for a vf agent, from an attribute or from the data', () => {
    const p = loadProfile('convocore');
    const lead = p.catalog.find((t) => t.name === 'lead_captured')!;
    const agent = p.catalog.find((t) => t.name === 'agent_created')!;
    expect(resolveEventAttributes(p.attributes, lead, { agentPlatform: 'vf' }, {}).problems.map((x) => x.code)).toEqual(['event_type_unavailable']);
    expect(resolveEventAttributes(p.attributes, lead, {}, { agentPlatform: 'vf' }).problems[0]?.path).toBe('/data/agentPlatform');
    expect(resolveEventAttributes(p.attributes, lead, { agentPlatform: 'vg' }, {})).toEqual({ attributes: { agentPlatform: 'convocore' }, problems: [] });
    expect(resolveEventAttributes(p.attributes, agent, {}, { agentPlatform: 'vf' })).toEqual({ attributes: { agentPlatform: 'vf' }, problems: [] });
    // Types that are not about an agent have no platform list: anything goes.
    const organisation = p.catalog.find((t) => t.name === 'organisation_created')!;
    expect(resolveEventAttributes(p.attributes, organisation, { agentPlatform: 'vf' }, {}).problems).toEqual([]);
  });
});

describe('templates of the seed profiles', () => {
  const context = (type: string, data: JsonObject, extra: JsonObject = {}): EnvelopeContext => ({
    event: { id: 'evt_1', type, data, attributes: { environmentType: 'PRODUCTION', region: 'iad1' }, time: '2024-06-10T16:00:00.000Z', timeMs: 1718035200000 },
    delivery: { id: 'dlv_1', attempt: 1 },
    webhook: { id: 'whk_1', secret: 'secret-1', metadata: {} },
    organization: { id: 'LVkmPy8AE2', name: null, metadata: { clientId: 'oac_1', teamId: 'team_1' } },
    eventType: { name: type, group: null, ...extra },
  });

  it('every Slack template renders a {text, blocks} message from its own example', () => {
    for (const name of SEED_PROFILES) {
      for (const type of loadProfile(name).catalog) {
        if (type.extra.slack === undefined) continue;
        const message = compileEnvelope(type.extra.slack)(context(type.name, type.examples[0] as JsonObject, type.extra)) as JsonObject;
        expect(Object.keys(message), type.name).toEqual(['text', 'blocks']);
        expect(JSON.stringify(message)).not.toContain('{{');
      }
    }
  });

  it('each seed envelope renders the documented top-level keys', () => {
    const keys = (profile: string, format: string, extra: JsonObject = {}): string[] =>
      Object.keys(compileEnvelope(loadProfile(profile).formats[format]!.envelope)(context('t', { a: 1 }, extra)) as JsonObject);
    expect(keys('voiceflow', 'default')).toEqual(['type', 'data', 'resource', 'time']);
    expect(keys('convocore', 'default')).toEqual(['type', 'payload']);
    expect(keys('qovery', 'default', { payloadType: 'DEPLOYMENT' })).toEqual(['created_at', 'event_type', 'payload_type', 'payload_id', 'payload']);
    expect(keys('vercel', 'default')).toEqual(['type', 'id', 'createdAt', 'region', 'payload']);
    expect(keys('vercel', 'legacy')).toEqual(['type', 'id', 'createdAt', 'region', 'clientId', 'ownerId', 'teamId', 'userId', 'webhookId', 'payload']);
  });
});
