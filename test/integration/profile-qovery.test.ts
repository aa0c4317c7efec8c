/**
 * The qovery profile (seeds 002 and 003) end to end: every example posted and received as
 * {created_at, event_type, payload_type, payload_id, payload} with the secret in `Qovery-Secret`,
 * as Qovery tells its users; filters on project id, project name (case-insensitive, wildcards)
 * and environment type, ANDed, with DEPLOYMENT accepted as DEVELOPMENT; the Slack message of a
 * `slack` webhook; past executions through the deliveries API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/domain/types.js';
import { loadProfile } from '../../src/profile/load-profile.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { createOrganization, createWebhook, header, iso, postEvent, waitForDelivery, type Delivery } from '../helpers/seed-profiles.js';

/** The profile file as shipped (the running Herald loads the same). */
const PROFILE = loadProfile('qovery');

/** Keys of the standard payload, as seed 003 documents them. */
const ENVELOPE_KEYS = ['created_at', 'event_type', 'payload_type', 'payload_id', 'payload'];
const PAYLOAD_KEYS = ['id', 'current_status', 'desired_status', 'organization', 'project', 'environment', 'applications', 'databases', 'containers', 'jobs', 'logs'];

const TIME = Date.parse('2024-06-10T16:00:00.000Z');

/** A deployment payload for a project and environment (the profile's example, re-aimed). */
function deployment(projectName: string, mode: string, projectId = 'prj-1'): JsonObject {
  const example = PROFILE.catalog[0]!.examples[0] as JsonObject;
  return {
    ...example,
    project: { id: projectId, name: projectName },
    environment: { id: `env-${mode.toLowerCase()}`, name: mode.toLowerCase(), mode },
  };
}

describe('qovery profile', () => {
  let h: TestHerald;
  const receivers: Receiver[] = [];
  let orgs = 0;

  beforeAll(async () => {
    h = await startHerald({ profile: 'qovery', env: { HERALD_POLL_INTERVAL_MS: '20' } });
  });
  afterAll(async () => {
    await h.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function setupOrg(): Promise<{ org: string; receiver: Receiver }> {
    const org = `qovery-org-${++orgs}`;
    await createOrganization(h, org);
    const receiver = await startReceiver();
    receivers.push(receiver);
    return { org, receiver };
  }

  it('delivers every example with the Qovery-Secret header, in the documented structure', async () => {
    const { org, receiver } = await setupOrg();
    // target_secret is optional: one webhook sets its own, the other gets a generated one.
    const own = await createWebhook(h, org, { url: `${receiver.url}/own`, secret: 'my-qovery-target-secret' });
    const generated = await createWebhook(h, org, { url: `${receiver.url}/generated`, events: ['DEPLOYMENT_STARTED', 'DEPLOYMENT_CANCELLED', 'DEPLOYMENT_SUCCESSFUL', 'DEPLOYMENT_FAILURE'] });
    expect(own.secret).toBe('my-qovery-target-secret');

    const catalog = PROFILE.catalog;
    expect(catalog.map((t) => t.name)).toEqual(['DEPLOYMENT_STARTED', 'DEPLOYMENT_CANCELLED', 'DEPLOYMENT_SUCCESSFUL', 'DEPLOYMENT_FAILURE']);
    const examples = catalog.flatMap((t) => t.examples.map((data) => ({ type: t.name, data })));
    const eventIds = new Map<string, string>();
    for (const example of examples) {
      const posted = await postEvent(h, org, { ...example, time: iso(TIME) });
      expect(posted.deliveries).toHaveLength(2);
      eventIds.set(example.type, posted.id);
    }
    const requests = await receiver.waitFor(examples.length * 2);
    for (const request of requests) {
      // What a Qovery receiver does: compare the header with the secret it configured.
      const expected = request.path === '/own' ? own.secret : generated.secret;
      expect(header(request.headers, 'qovery-secret')).toBe(expected);
      const body = JSON.parse(request.body) as { event_type: string; payload: JsonObject };
      expect(Object.keys(body)).toEqual(ENVELOPE_KEYS);
      expect(Object.keys(body.payload)).toEqual(PAYLOAD_KEYS);
      const example = examples.find((e) => e.type === body.event_type)!;
      expect(body).toEqual({
        created_at: '2024-06-10T16:00:00.000Z',
        event_type: example.type,
        payload_type: 'DEPLOYMENT',
        payload_id: eventIds.get(example.type),
        payload: example.data,
      });
    }
  });

  it('filters on project name (wildcard, case-insensitive), project id and environment type, ANDed', async () => {
    const { org, receiver } = await setupOrg();
    const url = `${receiver.url}/hook`;
    const front = await createWebhook(h, org, { url, filters: { projectName: ['front*'] } });
    const production = await createWebhook(h, org, { url, filters: { environmentType: ['PRODUCTION'] } });
    const frontProduction = await createWebhook(h, org, { url, filters: { projectName: ['front*'], environmentType: ['PRODUCTION'] } });
    const byId = await createWebhook(h, org, { url, filters: { projectId: ['prj-backend'] } });
    // Seed 002 spells the development type DEPLOYMENT: accepted, stored as DEVELOPMENT.
    const development = await h.call<{ id: string; filters: Record<string, string[]> }>('POST', `/v1/organizations/${org}/webhooks`, {
      url,
      filters: { environmentType: ['DEPLOYMENT'] },
    });
    expect(development.status).toBe(201);
    expect(development.body.filters).toEqual({ environmentType: ['DEVELOPMENT'] });

    const matched = async (data: JsonObject, attributes?: Record<string, string>): Promise<string[]> => {
      const posted = await postEvent(h, org, { type: 'DEPLOYMENT_STARTED', data, ...(attributes ? { attributes } : {}) });
      return posted.deliveries.map((d) => d.webhookId).sort();
    };
    const sorted = (...ids: string[]) => ids.sort();

    // Attributes come from the payload when not posted (project.name, project.id, environment.mode).
    expect(await matched(deployment('Frontend', 'PRODUCTION'))).toEqual(sorted(front.id, production.id, frontProduction.id));
    expect(await matched(deployment('backend', 'PRODUCTION', 'prj-backend'))).toEqual(sorted(production.id, byId.id));
    expect(await matched(deployment('FRONT-office', 'STAGING'))).toEqual(sorted(front.id));
    expect(await matched(deployment('frontend', 'DEVELOPMENT'))).toEqual(sorted(front.id, development.body.id));
    // Posted attributes win over the payload; DEPLOYMENT is DEVELOPMENT there too.
    expect(await matched(deployment('backend', 'STAGING'), { projectName: 'Frontend', environmentType: 'DEPLOYMENT' })).toEqual(
      sorted(front.id, development.body.id),
    );
    expect(await matched(deployment('backend', 'PREVIEW'))).toEqual([]);

    const refused = await h.call<{ error: { code: string; message: string } }>('POST', `/v1/organizations/${org}/webhooks`, {
      url,
      filters: { environmentType: ['QA'] },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('invalid_filter');
    expect(refused.body.error.message).toContain('PRODUCTION, STAGING, DEVELOPMENT, PREVIEW');
  });

  it('sends a Slack message naming the project, environment, status and a console link to a slack webhook', async () => {
    const { org, receiver } = await setupOrg();
    const slack = await createWebhook(h, org, { url: `${receiver.url}/services/T000/B000/XXXX`, kind: 'slack', events: ['DEPLOYMENT_FAILURE'] });
    const data = deployment('Frontend', 'PRODUCTION');
    data.current_status = 'DEPLOYMENT_ERROR';
    const posted = await postEvent(h, org, { type: 'DEPLOYMENT_FAILURE', data });
    expect(posted.deliveries.map((d) => d.webhookId)).toEqual([slack.id]);
    const [request] = await receiver.waitFor(1);
    const message = JSON.parse(request!.body) as {
      text: string;
      blocks: { type: string; text?: { text: string }; fields?: { type: string; text: string }[]; elements?: { type: string; url: string }[] }[];
    };
    expect(Object.keys(message)).toEqual(['text', 'blocks']);
    expect(message.text).toBe('Deployment failed: Frontend / production (DEPLOYMENT_ERROR)');
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions']);
    expect(message.blocks[0]!.text!.text).toBe(':x: Deployment failed');
    expect(message.blocks[1]!.fields!.map((f) => f.text)).toEqual([
      '*Project*\nFrontend',
      '*Environment*\nproduction (PRODUCTION)',
      '*Status*\nDEPLOYMENT_ERROR',
      '*Organization*\nAcme',
    ]);
    const organization = data.organization as { id: string };
    expect(message.blocks[2]!.elements![0]!.url).toBe(
      `https://console.qovery.com/organization/${organization.id}/project/prj-1/environment/env-production/overview`,
    );
    // A Slack incoming webhook gets plain JSON: no secret header.
    expect(header(request!.headers, 'qovery-secret')).toBeUndefined();
  });

  it('shows past executions with their status through the deliveries API', async () => {
    const { org, receiver } = await setupOrg();
    receiver.respond((index) => ({ kind: 'status', status: index === 0 ? 200 : 503 }));
    const webhook = await createWebhook(h, org, { url: `${receiver.url}/hook` });
    const ok = await postEvent(h, org, { type: 'DEPLOYMENT_SUCCESSFUL', data: deployment('Frontend', 'PRODUCTION') });
    await waitForDelivery(h, org, ok.deliveries[0]!.id, (d) => d.status === 'succeeded', 'the first delivery');
    const failing = await postEvent(h, org, { type: 'DEPLOYMENT_FAILURE', data: deployment('Frontend', 'PRODUCTION') });
    await waitForDelivery(h, org, failing.deliveries[0]!.id, (d) => d.attemptCount === 1, 'the first attempt');

    const list = await h.call<{ data: Delivery[] }>('GET', `/v1/organizations/${org}/webhooks/${webhook.id}/deliveries`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((d) => [d.id, d.status])).toEqual([
      [failing.deliveries[0]!.id, 'pending'],
      [ok.deliveries[0]!.id, 'succeeded'],
    ]);
    const detail = await waitForDelivery(h, org, failing.deliveries[0]!.id, (d) => d.attempts.length === 1, 'the attempt log');
    expect(detail.attempts[0]).toMatchObject({ responseStatus: 503, error: 'status' });
    // The receiver gets the secret in Qovery-Secret; the attempt log never keeps it.
    expect(receiver.requests.at(-1)!.headers['qovery-secret']).toBe(webhook.secret);
    expect(detail.attempts[0]!.requestHeaders['qovery-secret']).toBe('[redacted]');
    expect(JSON.stringify(detail)).not.toContain(webhook.secret);
    expect(JSON.parse(detail.attempts[0]!.requestBody)).toMatchObject({ event_type: 'DEPLOYMENT_FAILURE', payload_type: 'DEPLOYMENT' });
  });

  it('keeps payloadType and the Slack template when the operator replaces a type through the API', async () => {
    const type = PROFILE.catalog.find((t) => t.name === 'DEPLOYMENT_CANCELLED')!;
    const put = await h.call('PUT', '/v1/event-types/DEPLOYMENT_CANCELLED', { description: 'Cancelled by someone', schema: type.schema, examples: type.examples });
    expect(put.status).toBe(200);
    const got = await h.call<Record<string, unknown>>('GET', '/v1/event-types/DEPLOYMENT_CANCELLED');
    expect(got.body).toMatchObject({ description: 'Cancelled by someone', payloadType: 'DEPLOYMENT', slack: type.extra.slack });
  });
});
