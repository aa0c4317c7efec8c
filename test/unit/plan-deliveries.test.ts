import { describe, expect, it } from 'vitest';
import { isId } from '../../src/domain/ids.js';
import type { EventType, Webhook } from '../../src/domain/types.js';
import { planDeliveries } from '../../src/ingest/ingest.js';

const t0 = 1_700_000_000_000;

function webhook(id: string, fields: Partial<Webhook> = {}): Webhook {
  return {
    id,
    organizationId: 'org_1',
    url: 'https://example.com/in',
    kind: 'standard',
    description: '',
    enabled: true,
    events: [],
    filters: {},
    format: null,
    headers: {},
    rateLimit: null,
    timeoutMs: null,
    concurrency: null,
    retry: null,
    signing: 'hmac',
    metadata: {},
    failingSince: null,
    disabledReason: null,
    createdAt: t0,
    updatedAt: t0,
    ...fields,
  };
}

function type(name: string, deprecated = false): EventType {
  return { name, description: '', group: null, schema: null, examples: [], deprecated, archived: false, format: null, extra: {} };
}

const CREATED = type('deployment.created');
const event = (attributes: Record<string, string> = {}) => ({ type: 'deployment.created', attributes });

describe('planDeliveries', () => {
  it('plans one pending delivery, due now, per enabled webhook that matches', () => {
    const planned = planDeliveries([webhook('wh_all'), webhook('wh_exact', { events: ['deployment.created'] })], event(), CREATED, t0);
    expect(planned).toEqual([
      { id: expect.any(String), webhook_id: 'wh_all', status: 'pending', next_attempt_at: t0 },
      { id: expect.any(String), webhook_id: 'wh_exact', status: 'pending', next_attempt_at: t0 },
    ]);
    for (const d of planned) expect(isId(d.id, 'dlv')).toBe(true);
    expect(new Set(planned.map((d) => d.id)).size).toBe(2);
  });

  it('plans a skipped delivery, never due, for a disabled webhook that matches (recover sends it later)', () => {
    expect(planDeliveries([webhook('wh_off', { enabled: false })], event(), CREATED, t0)).toEqual([
      { id: expect.any(String), webhook_id: 'wh_off', status: 'skipped', next_attempt_at: null },
    ]);
  });

  it('leaves out webhooks subscribed to other types', () => {
    const planned = planDeliveries(
      [webhook('wh_other', { events: ['project.*'] }), webhook('wh_group', { events: ['deployment.*'] })],
      event(),
      CREATED,
      t0,
    );
    expect(planned.map((d) => d.webhook_id)).toEqual(['wh_group']);
  });

  it('leaves out webhooks whose attribute filters the event does not pass', () => {
    const planned = planDeliveries(
      [
        webhook('wh_prod', { filters: { environmentType: ['production'] } }),
        webhook('wh_preview', { filters: { environmentType: ['preview'] } }),
        webhook('wh_needs_project', { filters: { projectId: ['*'] } }),
      ],
      event({ environmentType: 'PRODUCTION' }),
      CREATED,
      t0,
    );
    expect(planned.map((d) => d.webhook_id)).toEqual(['wh_prod']);
  });

  it('delivers a deprecated type only to webhooks that name it exactly', () => {
    const legacy = type('deployment', true);
    const planned = planDeliveries(
      [webhook('wh_star', { events: ['*'] }), webhook('wh_default'), webhook('wh_named', { events: ['deployment'] })],
      { type: 'deployment', attributes: {} },
      legacy,
      t0,
    );
    expect(planned.map((d) => d.webhook_id)).toEqual(['wh_named']);
  });

  it('plans nothing for an organization without webhooks', () => {
    expect(planDeliveries([], event(), CREATED, t0)).toEqual([]);
  });
});
