/**
 * The voiceflow profile (seed 000) end to end: Herald started with `--profile voiceflow`, a
 * webhook made through the API, every example of the catalog posted, and a receiver that checks
 * each request the way Voiceflow tells its users to (the `svix` package's Webhook.verify) and
 * gets exactly the seed's documented payloads. Then secret regeneration: the previous secret
 * still verifies within 24 h and no longer after.
 */
import { Webhook, WebhookVerificationError } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadProfile } from '../../src/profile/load-profile.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';
import { createOrganization, createWebhook, header, iso, postEvent } from '../helpers/seed-profiles.js';

/** The profile file as shipped (the running Herald loads the same). */
const PROFILE = loadProfile('voiceflow');

const ORG = 'LVkmPy8AE2';
const HOUR = 3_600_000;

const projectMetadata = { name: 'My support agent' };
const main = { alias: 'main', isLive: true, name: 'Main', trafficPercentage: 70 };
const optimize = { alias: 'optimizeglobalprompt', isLive: false, name: 'Optimize global prompt', trafficPercentage: 0 };
const user = { type: 'user', userEmail: 'user@voiceflow.com' };

/** The seed's "Example … payload" blocks, as documented. */
const SEED_EXAMPLES = [
  {
    data: {
      createdBy: user,
      organizationID: 'LVkmPy8AE2',
      projectID: '6a16f4549e4196323d8a49b9',
      projectMetadata: { name: 'My new project' },
      workspaceID: '95kwAZ63nO',
    },
    resource: 'organization-LVkmPy8AE2',
    time: 1779889237608,
    type: 'organization.project.created',
  },
  {
    data: {
      deletedBy: user,
      organizationID: 'LVkmPy8AE2',
      projectID: '6a16f4789e4196323d8a49c3',
      projectMetadata: { name: 'Legacy support agent' },
      workspaceID: '95kwAZ63nO',
    },
    resource: 'organization-LVkmPy8AE2',
    time: 1779889287387,
    type: 'organization.project.deleted',
  },
  {
    data: {
      createdBy: user,
      createdProjectEnvironmentID: '6a16f4dc9e4196323d8a49e5',
      createdProjectEnvironmentMetadata: optimize,
      organizationID: 'LVkmPy8AE2',
      projectID: '69e8b60a99c9a35e1a5e8872',
      projectMetadata,
      source: { environmentID: '69e8b60a99c9a35e1a5e8875', environmentMetadata: main, type: 'environment' },
      workspaceID: '95kwAZ63nO',
    },
    resource: 'organization-LVkmPy8AE2',
    time: 1779889372749,
    type: 'organization.project.environment.created',
  },
  {
    data: {
      organizationID: 'LVkmPy8AE2',
      projectID: '69e8b60a99c9a35e1a5e8872',
      projectMetadata,
      publishedBy: user,
      publishedProjectEnvironmentID: '69e8b60a99c9a35e1a5e8875',
      publishedProjectEnvironmentMetadata: main,
      publishedVersionIDAfter: '6a16f4b29e4196323d8a49db',
      publishedVersionIDBefore: '69e8e543ce546b913fc2c965',
      workspaceID: '95kwAZ63nO',
    },
    resource: 'organization-LVkmPy8AE2',
    time: 1779889330124,
    type: 'organization.project.environment.published',
  },
  {
    data: {
      organizationID: 'LVkmPy8AE2',
      projectID: '69e8b60a99c9a35e1a5e8872',
      projectMetadata,
      publishedBy: user,
      publishedProjectEnvironmentID: '6a16f4dc9e4196323d8a49e5',
      publishedProjectEnvironmentMetadata: optimize,
      publishedVersionIDAfter: '6a16f5129e4196323d8a49f1',
      publishedVersionIDBefore: '6a16f4dc9e4196323d8a49e3',
      workspaceID: '95kwAZ63nO',
    },
    resource: 'organization-LVkmPy8AE2',
    time: 1779889426435,
    type: 'organization.project.environment.published',
  },
  {
    data: {
      mergedBy: user,
      organizationID: 'LVkmPy8AE2',
      projectID: '69e8b60a99c9a35e1a5e8872',
      projectMetadata,
      sourceProjectEnvironmentID: '6a16f4dc9e4196323d8a49e5',
      sourceProjectEnvironmentMetadata: optimize,
      sourceProjectEnvironmentRemoved: true,
      targetProjectEnvironmentID: '69e8b60a99c9a35e1a5e8875',
      targetProjectEnvironmentMetadata: main,
      workspaceID: '95kwAZ63nO',
    },
    resource: 'organization-LVkmPy8AE2',
    time: 1779889488361,
    type: 'organization.project.environment.merged',
  },
  {
    data: {
      deletedBy: user,
      deletedProjectEnvironmentID: '69e8b64d99c9a35e1a5e888b',
      deletedProjectEnvironmentMetadata: { alias: 'feature-upselling', isLive: false, name: 'Old unused environment', trafficPercentage: 0 },
      organizationID: 'LVkmPy8AE2',
      projectID: '69e8b60a99c9a35e1a5e8872',
      projectMetadata,
      workspaceID: '95kwAZ63nO',
    },
    resource: 'organization-LVkmPy8AE2',
    time: 1779889527687,
    type: 'organization.project.environment.deleted',
  },
];

/** What a Voiceflow receiver does: verify with the svix package, then parse. */
function verify(secret: string, request: ReceivedRequest): unknown {
  return new Webhook(secret).verify(request.body, {
    'svix-id': header(request.headers, 'svix-id') ?? '',
    'svix-timestamp': header(request.headers, 'svix-timestamp') ?? '',
    'svix-signature': header(request.headers, 'svix-signature') ?? '',
  });
}

describe('voiceflow profile', () => {
  // One Herald on a hand-moved clock. Before the tests it is 25 h in the past, long enough to
  // regenerate two secrets 25 h and 23 h before now; then it is set to the real time, which the
  // svix package's 5-minute timestamp check needs.
  const clock = new ManualClock(Date.now() - 25 * HOUR);
  let h: TestHerald;
  const receivers: Receiver[] = [];
  const rotation = { org: 'rotation-org', recent: { id: '', old: '', current: '' }, old: { id: '', old: '', current: '' } };

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  beforeAll(async () => {
    h = await startHerald({ profile: 'voiceflow', clock, env: { HERALD_POLL_INTERVAL_MS: '20' } });
    await createOrganization(h, rotation.org);
    const r = await receiver();
    const rotate = async (id: string): Promise<string> => {
      const res = await h.call<{ secret: string }>('POST', `/v1/organizations/${rotation.org}/webhooks/${id}/rotate-secret`, {});
      expect(res.status).toBe(200);
      return res.body.secret;
    };
    for (const which of ['recent', 'old'] as const) {
      const webhook = await createWebhook(h, rotation.org, { url: `${r.url}/${which}` });
      rotation[which].id = webhook.id;
      rotation[which].old = webhook.secret;
    }
    rotation.old.current = await rotate(rotation.old.id); // 25 h before now
    clock.advance(2 * HOUR);
    rotation.recent.current = await rotate(rotation.recent.id); // 23 h before now
    clock.set(Date.now());
  });
  afterAll(async () => {
    await h.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('the catalog holds exactly the seed examples', () => {
    const catalog = PROFILE.catalog;
    expect(catalog.map((t) => t.name)).toEqual([
      'organization.project.created',
      'organization.project.deleted',
      'organization.project.environment.created',
      'organization.project.environment.published',
      'organization.project.environment.merged',
      'organization.project.environment.deleted',
    ]);
    const examples = catalog.flatMap((t) => t.examples.map((data) => ({ type: t.name, data })));
    expect(examples).toEqual(SEED_EXAMPLES.map(({ type, data }) => ({ type, data })));
  });

  it('delivers every example svix-signed, exactly as documented', async () => {
    clock.set(Date.now());
    const r = await receiver();
    await createOrganization(h, ORG);
    const webhook = await createWebhook(h, ORG, { url: `${r.url}/voiceflow` });
    expect(webhook.secret).toMatch(/^whsec_/);

    const deliveryIds: string[] = [];
    for (const example of SEED_EXAMPLES) {
      const posted = await postEvent(h, ORG, { type: example.type, data: example.data, time: iso(example.time) });
      expect(posted.deliveries).toHaveLength(1);
      deliveryIds.push(posted.deliveries[0]!.id);
    }
    const requests = await r.waitFor(SEED_EXAMPLES.length);
    for (const [i, example] of SEED_EXAMPLES.entries()) {
      const request = requests.find((q) => header(q.headers, 'svix-id') === deliveryIds[i]);
      expect(request, `request for ${example.type}`).toBeDefined();
      expect(verify(webhook.secret, request!)).toEqual(example);
      expect(JSON.parse(request!.body)).toEqual(example);
    }
  });

  it('keeps the previous secret valid for 24 hours after a regeneration, and not after', async () => {
    clock.set(Date.now());
    const example = SEED_EXAMPLES[0]!;
    const expected = { ...example, resource: `organization-${rotation.org}` };
    const posted = await postEvent(h, rotation.org, { type: example.type, data: example.data, time: iso(example.time) });
    expect(posted.deliveries).toHaveLength(2);
    const r = receivers[0]!;
    const requests = await r.waitFor(2);
    const recent = requests.find((q) => q.path === '/recent')!;
    const old = requests.find((q) => q.path === '/old')!;

    // Regenerated 23 h ago: both the new and the previous secret verify.
    expect(verify(rotation.recent.current, recent)).toEqual(expected);
    expect(verify(rotation.recent.old, recent)).toEqual(expected);
    expect(header(recent.headers, 'svix-signature')!.split(' ')).toHaveLength(2);

    // Regenerated 25 h ago: only the new one.
    expect(verify(rotation.old.current, old)).toEqual(expected);
    expect(() => verify(rotation.old.old, old)).toThrow(WebhookVerificationError);
    expect(header(old.headers, 'svix-signature')!.split(' ')).toHaveLength(1);
  });
});
