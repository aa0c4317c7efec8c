/**
 * Which webhooks get an event, through the API: subscriptions by exact name,
 * `group.*` and `*` (empty = every non-deprecated type), attribute filters
 * (AND across keys, OR within, `*` wildcard, case-insensitive values, a missing
 * attribute never matches), and deprecated types (kept by exact subscribers,
 * never picked up by wildcards, never newly subscribed).
 *
 * Matching happens at ingest, so the 202 answer's `deliveries` is the set of
 * webhooks the event goes to; one test also follows the requests to a receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectApiError } from '../helpers/api.js';
import { createWebhook, patchWebhook, postEvent, setupOrganization, waitForDelivery } from '../helpers/deliveries.js';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

describe('subscription matching', () => {
  let h: TestHerald;
  let receiver: Receiver;

  beforeAll(async () => {
    h = await startHerald();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await h.stop();
  });

  /** The webhook ids an event of `type` (with `attributes`) goes to, by the names given to them. */
  async function recipients(org: string, names: Record<string, string>, type: string, attributes: Record<string, string> = {}): Promise<string[]> {
    const posted = await postEvent(h, org, { type, data: {}, attributes });
    const byId = new Map(Object.entries(names).map(([name, id]) => [id, name]));
    return posted.deliveries.map((d) => byId.get(d.webhookId) ?? d.webhookId).sort();
  }

  it('matches exact names, group.* and * wildcards, and treats no events as every type', async () => {
    const org = 'filters-types';
    const types = ['deployment.created', 'deployment.succeeded', 'deployment.step.finished', 'deployments.archived', 'project.created'];
    await setupOrganization(h, org, types);
    const url = `${receiver.url}/types`;
    const names = {
      exact: (await createWebhook(h, org, { url, events: ['deployment.created'] })).id,
      group: (await createWebhook(h, org, { url, events: ['deployment.*'] })).id,
      star: (await createWebhook(h, org, { url, events: ['*'] })).id,
      empty: (await createWebhook(h, org, { url, events: [] })).id,
      absent: (await createWebhook(h, org, { url })).id,
      list: (await createWebhook(h, org, { url, events: ['project.created', 'deployment.succeeded'] })).id,
    };
    const everyType = ['absent', 'empty', 'star'];

    expect(await recipients(org, names, 'deployment.created')).toEqual(['exact', 'group', ...everyType].sort());
    expect(await recipients(org, names, 'deployment.succeeded')).toEqual(['group', 'list', ...everyType].sort());
    // `group.*` covers nested names, but only below its own dot.
    expect(await recipients(org, names, 'deployment.step.finished')).toEqual(['group', ...everyType].sort());
    expect(await recipients(org, names, 'deployments.archived')).toEqual(everyType);
    expect(await recipients(org, names, 'project.created')).toEqual(['list', ...everyType].sort());
  });

  it('refuses subscriptions to unknown types and malformed patterns', async () => {
    const org = 'filters-invalid';
    await setupOrganization(h, org, ['known.type']);
    const url = `${receiver.url}/invalid`;
    expectApiError(await h.call('POST', `/v1/organizations/${org}/webhooks`, { url, events: ['unknown.type'] }), 422, 'unknown_event_type');
    expectApiError(await h.call('POST', `/v1/organizations/${org}/webhooks`, { url, events: ['known*'] }), 422, 'invalid_event_pattern');
    expectApiError(await h.call('POST', `/v1/organizations/${org}/webhooks`, { url, events: ['.*'] }), 422, 'invalid_event_pattern');
  });

  it('filters on attributes: OR within a key, AND across keys, wildcards, any case, missing attribute never matches', async () => {
    const org = 'filters-attributes';
    const type = 'build.finished';
    await setupOrganization(h, org, [type]);
    const names = {
      project: (await createWebhook(h, org, { url: `${receiver.url}/attr/project`, filters: { projectName: ['front*', 'API'] } })).id,
      both: (
        await createWebhook(h, org, {
          url: `${receiver.url}/attr/both`,
          filters: { projectName: ['front*'], environmentType: ['PRODUCTION'] },
        })
      ).id,
      all: (await createWebhook(h, org, { url: `${receiver.url}/attr/all` })).id,
    };

    const cases: [Record<string, string>, string[]][] = [
      [{ projectName: 'Frontend' }, ['all', 'project']],
      [{ projectName: 'front' }, ['all', 'project']],
      [{ projectName: 'api' }, ['all', 'project']],
      [{ projectName: 'API' }, ['all', 'project']],
      [{ projectName: 'backend' }, ['all']],
      // `API` is a whole value, not a prefix.
      [{ projectName: 'api-gateway' }, ['all']],
      [{}, ['all']],
      [{ environmentType: 'production' }, ['all']],
      [{ projectName: 'frontend', environmentType: 'production' }, ['all', 'both', 'project']],
      [{ projectName: 'FRONTEND-v2', environmentType: 'Production' }, ['all', 'both', 'project']],
      [{ projectName: 'frontend', environmentType: 'preview' }, ['all', 'project']],
      [{ projectName: 'backend', environmentType: 'PRODUCTION' }, ['all']],
    ];
    const expectedPaths: string[] = [];
    for (const [attributes, expected] of cases) {
      expect(await recipients(org, names, type, attributes), JSON.stringify(attributes)).toEqual(expected);
      expectedPaths.push(...expected.map((name) => `/attr/${name}`));
    }

    // What the receiver gets is exactly what ingest matched.
    const attributeRequests = () => receiver.requests.filter((r) => r.path.startsWith('/attr/')).map((r) => r.path);
    await eventually(async () => attributeRequests().length >= expectedPaths.length, 15_000, 'the matched requests');
    expect(attributeRequests().sort()).toEqual(expectedPaths.sort());

    // Changing a webhook's filters changes what it gets from then on.
    await patchWebhook(h, org, names.project, { filters: { projectName: ['back*'] } });
    expect(await recipients(org, names, type, { projectName: 'backend' })).toEqual(['all', 'project']);
    expect(await recipients(org, names, type, { projectName: 'frontend' })).toEqual(['all']);
  });

  it('delivers a deprecated type only to exact subscribers, and refuses new subscriptions to it', async () => {
    const org = 'filters-deprecated';
    await setupOrganization(h, org, ['billing.legacy_charge', 'billing.charge']);
    const url = `${receiver.url}/deprecated`;
    const names = {
      exact: (await createWebhook(h, org, { url, events: ['billing.legacy_charge'] })).id,
      group: (await createWebhook(h, org, { url, events: ['billing.*'] })).id,
      star: (await createWebhook(h, org, { url, events: ['*'] })).id,
      empty: (await createWebhook(h, org, { url })).id,
    };
    // Before deprecation, every subscriber gets it.
    expect(await recipients(org, names, 'billing.legacy_charge')).toEqual(['empty', 'exact', 'group', 'star']);

    const deprecated = await h.call<{ deprecated: boolean }>('PUT', '/v1/event-types/billing.legacy_charge', {
      description: 'Replaced by billing.charge',
      deprecated: true,
    });
    expect(deprecated.status).toBe(200);
    expect(deprecated.body.deprecated).toBe(true);

    const posted = await postEvent(h, org, { type: 'billing.legacy_charge', data: { amount: 1 } });
    expect(posted.deliveries.map((d) => d.webhookId)).toEqual([names.exact]);
    // The exact subscriber really receives it.
    await waitForDelivery(h, org, posted.deliveries[0]!.id, (d) => d.status === 'succeeded', 'the deprecated event to be delivered');
    // Other types still reach the wildcards.
    expect(await recipients(org, names, 'billing.charge')).toEqual(['empty', 'group', 'star']);

    // No new subscription to it: neither on create nor by PATCH...
    expectApiError(await h.call('POST', `/v1/organizations/${org}/webhooks`, { url, events: ['billing.legacy_charge'] }), 422, 'deprecated_event_type');
    expectApiError(
      await h.call('PATCH', `/v1/organizations/${org}/webhooks/${names.group}`, { events: ['billing.*', 'billing.legacy_charge'] }),
      422,
      'deprecated_event_type',
    );
    // ...but a webhook that had it keeps it through changes.
    const kept = await patchWebhook(h, org, names.exact, { events: ['billing.legacy_charge', 'billing.charge'], description: 'still here' });
    expect(kept.events).toEqual(['billing.legacy_charge', 'billing.charge']);
    expect(await recipients(org, names, 'billing.legacy_charge')).toEqual(['exact']);
  });
});
