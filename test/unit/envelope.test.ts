import { describe, expect, it } from 'vitest';
import {
  compileEnvelope,
  EnvelopeTemplateError,
  envelopeTemplatePaths,
  validateEnvelopeTemplate,
} from '../../src/domain/envelope.js';
import type { EnvelopeContext } from '../../src/domain/envelope.js';
import type { JsonValue } from '../../src/domain/types.js';

function context(overrides: Partial<EnvelopeContext['event']> = {}): EnvelopeContext {
  return {
    event: {
      id: 'evt_01',
      type: 'deployment.created',
      data: { deployment: { id: 'dpl_1', url: 'x.vercel.app' }, count: 3, tags: ['a', 'b'] },
      attributes: { region: 'iad1', projectName: 'web' },
      time: '2025-01-02T03:04:05.678Z',
      timeMs: 1735787045678,
      ...overrides,
    },
    delivery: { id: 'dlv_01', attempt: 2 },
    webhook: { id: 'wh_01', secret: 'whsec_abc', metadata: { team: 'core' } },
    organization: { id: 'LVkmPy8AE2', name: 'Acme', metadata: {} },
    eventType: { name: 'deployment.created', group: 'deployment', payloadType: 'DEPLOYMENT' },
  };
}

const render = (template: JsonValue, ctx = context()) => compileEnvelope(template)(ctx);

describe('compileEnvelope', () => {
  it('replaces a string that is exactly {{path}} with the value, keeping its JSON type', () => {
    expect(
      render({
        type: '{{event.type}}',
        createdAt: '{{event.timeMs}}',
        payload: '{{event.data}}',
        attempt: '{{delivery.attempt}}',
        tags: '{{event.data.tags}}',
      }),
    ).toEqual({
      type: 'deployment.created',
      createdAt: 1735787045678,
      payload: context().event.data,
      attempt: 2,
      tags: ['a', 'b'],
    });
  });

  it('renders a missing path as null so the key survives JSON.stringify', () => {
    const out = render({ region: '{{event.attributes.missing}}', deep: '{{event.data.a.b.c.d}}' });
    expect(out).toEqual({ region: null, deep: null });
    expect(JSON.stringify(out)).toBe('{"region":null,"deep":null}');
  });

  it('allows spaces inside the braces', () => {
    expect(render({ id: '{{ event.id }}' })).toEqual({ id: 'evt_01' });
  });

  it('interpolates placeholders inside longer strings as text', () => {
    expect(render({ resource: 'organization-{{organization.id}}' })).toEqual({ resource: 'organization-LVkmPy8AE2' });
    expect(render('{{event.type}} #{{delivery.attempt}} ok={{event.data.count}}')).toBe('deployment.created #2 ok=3');
  });

  it('interpolates objects as JSON and null or missing values as empty text', () => {
    expect(render('d={{event.data.deployment}};n={{organization.metadata.none}};t={{event.data.tags}}')).toBe(
      'd={"id":"dpl_1","url":"x.vercel.app"};n=;t=["a","b"]',
    );
    const ctx = context();
    ctx.organization.name = null;
    expect(render('name:{{organization.name}}', ctx)).toBe('name:');
  });

  it('spreads an object into its parent with "..." (Convocore payload)', () => {
    const ctx = context({ data: { message: 'hi', id: 7 } });
    expect(
      render({ type: '{{event.type}}', payload: { '...': '{{event.data}}', workspaceSecret: '{{webhook.secret}}' } }, ctx),
    ).toEqual({ type: 'deployment.created', payload: { message: 'hi', id: 7, workspaceSecret: 'whsec_abc' } });
  });

  it('lets later keys override spread keys and spread keys override earlier ones', () => {
    const ctx = context({ data: { a: 'data-a', b: 'data-b', c: 'data-c' } });
    const out = render({ a: 'template-a', '...': '{{event.data}}', b: 'template-b' }, ctx);
    expect(out).toEqual({ a: 'data-a', b: 'template-b', c: 'data-c' });
    // Overridden keys keep their first position, as with a JS object spread.
    expect(JSON.stringify(out)).toBe('{"a":"data-a","b":"template-b","c":"data-c"}');
  });

  it('spreads nothing when the spread value is not an object', () => {
    expect(render({ '...': '{{event.data.tags}}', x: 1 })).toEqual({ x: 1 });
    expect(render({ '...': '{{event.data.missing}}', x: 1 })).toEqual({ x: 1 });
    expect(render({ '...': '{{event.type}}', x: 1 })).toEqual({ x: 1 });
  });

  it('spreads a literal object too', () => {
    expect(render({ a: 1, '...': { b: '{{event.id}}', c: true } })).toEqual({ a: 1, b: 'evt_01', c: true });
  });

  it('copies numbers, booleans, null, nested arrays and objects as they are', () => {
    const template = { n: 1.5, t: true, f: false, z: null, list: [1, 'two', { three: [3] }], nested: { a: { b: 'c' } } };
    expect(render(template)).toEqual(template);
  });

  it('renders placeholders inside arrays', () => {
    expect(render(['{{event.id}}', 'static', { d: '{{delivery.id}}' }])).toEqual(['evt_01', 'static', { d: 'dlv_01' }]);
  });

  it('keeps the key order of the template in the serialized output', () => {
    const out = render({ z: '{{event.type}}', a: 1, m: '{{event.id}}', b: { y: 2, x: '{{delivery.id}}' } });
    expect(JSON.stringify(out)).toBe('{"z":"deployment.created","a":1,"m":"evt_01","b":{"y":2,"x":"dlv_01"}}');
  });

  it('produces the Vercel envelope byte for byte', () => {
    const template = {
      type: '{{event.type}}',
      id: '{{delivery.id}}',
      createdAt: '{{event.timeMs}}',
      region: '{{event.attributes.region}}',
      payload: '{{event.data}}',
    };
    const ctx = context({ data: { deployment: { id: 'dpl_1' } } });
    expect(JSON.stringify(render(template, ctx))).toBe(
      '{"type":"deployment.created","id":"dlv_01","createdAt":1735787045678,"region":"iad1","payload":{"deployment":{"id":"dpl_1"}}}',
    );
  });

  it('produces the Qovery envelope with event type fields', () => {
    const template = {
      created_at: '{{event.time}}',
      event_type: '{{event.type}}',
      payload_type: '{{eventType.payloadType}}',
      payload_id: '{{event.data.deployment.id}}',
      payload: '{{event.data}}',
    };
    expect(render(template)).toMatchObject({
      created_at: '2025-01-02T03:04:05.678Z',
      payload_type: 'DEPLOYMENT',
      payload_id: 'dpl_1',
    });
  });

  it('reads only own properties, never inherited ones', () => {
    expect(render({ a: '{{event.data.constructor}}', b: '{{event.data.toString}}' })).toEqual({ a: null, b: null });
    expect(render('x{{event.data.constructor}}y')).toBe('xy');
  });

  it('keeps a "__proto__" key from spread data as a plain property', () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as JsonValue;
    const out = render({ '...': '{{event.data}}' }, context({ data })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true},"ok":1}');
  });

  it('renders a fresh top-level object for every delivery', () => {
    const renderer = compileEnvelope({ id: '{{delivery.id}}', constant: { a: 1 } });
    const a = renderer(context()) as Record<string, JsonValue>;
    const ctx = context();
    ctx.delivery.id = 'dlv_02';
    const b = renderer(ctx) as Record<string, JsonValue>;
    expect(a).not.toBe(b);
    expect(a.id).toBe('dlv_01');
    expect(b.id).toBe('dlv_02');
  });

  it('shares constant parts of the template frozen, so they cannot be corrupted', () => {
    const out = render({ id: '{{delivery.id}}', constant: { a: 1 } }) as { constant: Record<string, number> };
    expect(Object.isFrozen(out.constant)).toBe(true);
  });

  it('compiles a template without placeholders to its constant value', () => {
    expect(render({ hello: 'world', n: [1] })).toEqual({ hello: 'world', n: [1] });
    expect(render('plain')).toBe('plain');
  });

  it('throws EnvelopeTemplateError listing the problems of an invalid template', () => {
    expect(() => compileEnvelope({ a: '{{secret.key}}' })).toThrow(EnvelopeTemplateError);
    try {
      compileEnvelope({ a: '{{secret.key}}', b: 'x {{event.id' });
    } catch (error) {
      expect((error as EnvelopeTemplateError).problems).toHaveLength(2);
    }
  });
});

describe('envelopeTemplatePaths', () => {
  it('lists every path once, in order of first use', () => {
    expect(
      envelopeTemplatePaths({
        type: '{{event.type}}',
        resource: 'organization-{{ organization.id }}',
        payload: { '...': '{{event.data}}', again: '{{event.type}}' },
        list: ['{{delivery.id}}'],
      }),
    ).toEqual(['event.type', 'organization.id', 'event.data', 'delivery.id']);
  });

  it('returns nothing for a template without placeholders', () => {
    expect(envelopeTemplatePaths({ a: 1, b: 'text' })).toEqual([]);
  });
});

describe('validateEnvelopeTemplate', () => {
  it('accepts the seed envelopes', () => {
    const templates: JsonValue[] = [
      { type: '{{event.type}}', data: '{{event.data}}', resource: 'organization-{{organization.id}}', time: '{{event.time}}' },
      { type: '{{event.type}}', payload: { '...': '{{event.data}}', workspaceSecret: '{{webhook.secret}}' } },
      {
        created_at: '{{event.time}}',
        event_type: '{{event.type}}',
        payload_type: '{{eventType.payloadType}}',
        payload_id: '{{event.data.id}}',
        payload: '{{event.data}}',
      },
      { meta: '{{webhook.metadata.team}}', org: '{{organization.name}}', attempt: '{{delivery.attempt}}' },
    ];
    for (const t of templates) expect(validateEnvelopeTemplate(t)).toEqual([]);
  });

  it('reports unknown path roots', () => {
    const problems = validateEnvelopeTemplate({ a: '{{secrets.current}}' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('$.a');
    expect(problems[0]).toContain('unknown root "secrets"');
  });

  it('reports unknown fields of the fixed roots and paths into scalar fields', () => {
    expect(validateEnvelopeTemplate({ a: '{{event.tpye}}' })[0]).toContain('unknown field {{event.tpye}}');
    expect(validateEnvelopeTemplate({ a: '{{event.id.x}}' })[0]).toContain('not an object');
  });

  it('allows any field under eventType and any depth under data, attributes and metadata', () => {
    expect(
      validateEnvelopeTemplate(['{{eventType.platforms.0}}', '{{event.data.a.b.c}}', '{{webhook.metadata.x.y}}']),
    ).toEqual([]);
  });

  it('reports malformed placeholders', () => {
    expect(validateEnvelopeTemplate('x {{event.id')[0]).toContain('unclosed "{{"');
    expect(validateEnvelopeTemplate('{{}}')[0]).toContain('malformed placeholder');
    expect(validateEnvelopeTemplate('{{event..id}}')[0]).toContain('malformed placeholder');
    expect(validateEnvelopeTemplate('{{ {{event.id}}')[0]).toContain('malformed placeholder');
  });

  it('reports a spread whose value is not a single path or an object', () => {
    expect(validateEnvelopeTemplate({ '...': 'text' })[0]).toContain('"..."');
    expect(validateEnvelopeTemplate({ '...': 'a{{event.data}}' })[0]).toContain('"..."');
    expect(validateEnvelopeTemplate({ '...': [1] })[0]).toContain('"..."');
  });

  it('points at nested locations in its messages', () => {
    expect(validateEnvelopeTemplate({ a: [{ 'b-c': '{{nope}}' }] })[0]).toMatch(/^\$\.a\[0\]\["b-c"\]:/);
  });
});
