/**
 * The convocore profile (seed 001) end to end: every catalog example posted and received as
 * {type, payload: {...data, createdAt, workspaceSecret}}, checked the way Convocore tells its
 * users (the workspace secret in the body) and against the seed's samples; one attempt only,
 * where only HTTP 200 counts; Convocore-only types refused for VoiceFlow agents; the test event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load-profile.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';
import { createOrganization, createWebhook, iso, postEvent, waitForDelivery } from '../helpers/seed-profiles.js';

/** The profile file as shipped (the running Herald loads the same). */
const PROFILE = loadProfile('convocore');

const CREATED_AT = 1718035200000;

/**
 * The seed's samples as documented. The copy of the seed has its e-mail addresses obfuscated
 * ("[email protected]"); the profile's examples use example.com addresses, and so do these.
 */
const SEED_SAMPLES = [
  {
    type: 'agent_created',
    payload: {
      agentId: 'agent_123456',
      agentName: 'Customer Support Bot',
      agentPlatform: 'vf',
      operation: 'created',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'message_received',
    payload: {
      agentId: 'agent_123456',
      agentName: 'Customer Support Bot',
      convoId: 'convo_789012',
      messageContent: 'Hello, I need help with my order',
      channel: 'whatsapp',
      messageType: 'text',
      from: '+1234567890',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'organisation_created',
    payload: {
      organisationId: 'org_345678',
      organisationName: 'Acme Corporation',
      operation: 'created',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'client_created',
    payload: {
      organisationId: 'org_345678',
      organisationName: 'Acme Corporation',
      clientId: 'client_901234',
      clientName: 'John Doe',
      clientEmail: 'john.doe@example.com',
      operation: 'created',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'lead_captured',
    payload: {
      agentId: 'agent_123456',
      agentName: 'Sales Bot',
      leadName: 'Jane Smith',
      leadEmail: 'jane.smith@example.com',
      leadPhone: '+9876543210',
      channel: 'web-chat',
      operation: 'captured',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'form_submitted',
    payload: {
      agentId: 'agent_123456',
      agentName: 'Support Bot',
      convoId: 'convo_789012',
      formType: 'ui_engine_form',
      formData: { name: 'John Doe', email: 'john.doe@example.com', message: 'I need help with my order' },
      channel: 'webchat',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'chat_delegated',
    payload: {
      agentId: 'agent_123456',
      agentName: 'Support Bot',
      convoId: 'convo_789012',
      assignedToUserId: 'user_456789',
      assignedToUserName: 'Support Agent',
      assignedToUserEmail: 'support.agent@example.com',
      delegatedByUserId: 'user_111222',
      delegatedByUserName: 'Manager',
      customerName: 'Jane Doe',
      customerEmail: 'jane.doe@example.com',
      customerPhone: '+1234567890',
      channel: 'webchat',
      operation: 'delegated',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'bug_reported',
    payload: {
      agentId: 'agent_123456',
      agentName: 'Support Bot',
      convoId: 'convo_789012',
      bugDescription: 'The bot is not responding to user inputs correctly',
      imageUrl: 'https://cdn.voiceglow.org/bug-reports/user_123/1234567890.png',
      reportedByUserId: 'user_345678',
      reportedByUserName: 'John Doe',
      reportedByUserEmail: 'john.doe@example.com',
      channel: 'webchat',
      operation: 'reported',
      createdAt: 1718035200000,
      workspaceSecret: 'your_workspace_secret',
    },
  },
  {
    type: 'webhook_test',
    payload: { message: 'This is a test event', createdAt: 1718035200000, workspaceSecret: 'your_workspace_secret' },
  },
];

/** message_received's data as the operator posts it (no createdAt, no workspaceSecret). */
const MESSAGE = {
  agentId: 'agent_123456',
  convoId: 'convo_789012',
  messageContent: 'Hello, I need help with my order',
  channel: 'whatsapp',
};

interface Body {
  type: string;
  payload: Record<string, unknown> & { workspaceSecret?: unknown; createdAt?: unknown };
}

/** What a Convocore receiver does: parse, then compare the workspace secret with its own. */
function receive(request: ReceivedRequest, workspaceSecret: string): Body {
  const body = JSON.parse(request.body) as Body;
  expect(body.payload.workspaceSecret).toBe(workspaceSecret);
  return body;
}

describe('convocore profile', () => {
  let h: TestHerald;
  const receivers: Receiver[] = [];
  let orgs = 0;

  beforeAll(async () => {
    h = await startHerald({ profile: 'convocore', env: { HERALD_POLL_INTERVAL_MS: '20' } });
  });
  afterAll(async () => {
    await h.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function setup(webhook: Record<string, unknown> = {}): Promise<{ org: string; receiver: Receiver; id: string; secret: string }> {
    const org = `workspace-${++orgs}`;
    await createOrganization(h, org);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const created = await createWebhook(h, org, { url: `${receiver.url}/convocore`, ...webhook });
    return { org, receiver, ...created };
  }

  it('has the 15 event types in their categories, with the seed samples as examples', () => {
    const catalog = PROFILE.catalog;
    expect(catalog).toHaveLength(15);
    expect(new Set(catalog.map((t) => t.group))).toEqual(
      new Set(['agent', 'message', 'organisation', 'client', 'lead', 'form', 'chat', 'bug', 'test']),
    );
    for (const sample of SEED_SAMPLES) {
      const { createdAt: _createdAt, workspaceSecret: _secret, ...data } = sample.payload;
      expect(catalog.find((t) => t.name === sample.type)?.examples, sample.type).toContainEqual(data);
    }
  });

  it('delivers every example with the workspace secret in the body, exactly as documented', async () => {
    const { org, receiver, secret } = await setup();
    const examples = PROFILE.catalog.flatMap((t) => t.examples.map((data) => ({ type: t.name, data })));
    expect(examples).toHaveLength(15);
    for (const example of examples) {
      const posted = await postEvent(h, org, { ...example, time: iso(CREATED_AT) });
      expect(posted.deliveries).toHaveLength(1);
    }
    const requests = await receiver.waitFor(examples.length);
    const bodies = requests.map((request) => receive(request, secret));
    for (const example of examples) {
      const body = bodies.find((b) => b.type === example.type);
      expect(body, example.type).toEqual({
        type: example.type,
        payload: { ...(example.data as object), createdAt: CREATED_AT, workspaceSecret: secret },
      });
    }
    for (const sample of SEED_SAMPLES) {
      const body = bodies.find((b) => b.type === sample.type);
      expect(body).toEqual({ type: sample.type, payload: { ...sample.payload, workspaceSecret: secret } });
      // Same keys in the documented order: createdAt, then workspaceSecret, close the payload.
      expect(Object.keys(body!.payload)).toEqual(Object.keys(sample.payload));
    }
    // No signature header: the secret in the body is the only proof.
    expect(Object.keys(requests[0]!.headers).filter((name) => /signature|secret/i.test(name))).toEqual([]);
  });

  it('makes one attempt only, and counts only HTTP 200 as success', async () => {
    for (const status of [201, 204, 500]) {
      const { org, receiver } = await setup();
      receiver.respond({ kind: 'status', status });
      const posted = await postEvent(h, org, { type: 'message_received', data: MESSAGE });
      const delivery = await waitForDelivery(h, org, posted.deliveries[0]!.id, (d) => d.status !== 'pending', `a ${status} to settle`);
      expect(delivery.status, `answer ${status}`).toBe('failed');
      expect(delivery.attemptCount).toBe(1);
      expect(delivery.nextAttemptAt).toBeNull();
      expect(delivery.attempts.map((a) => a.responseStatus)).toEqual([status]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.requests).toHaveLength(1);
    }
    const { org } = await setup();
    const posted = await postEvent(h, org, { type: 'message_received', data: MESSAGE });
    const ok = await waitForDelivery(h, org, posted.deliveries[0]!.id, (d) => d.status !== 'pending', 'a 200 to settle');
    expect(ok.status).toBe('succeeded');
  });

  it('refuses a Convocore-only event type for a VoiceFlow agent with a clear 422', async () => {
    const { org, receiver } = await setup();
    const lead = PROFILE.catalog.find((t) => t.name === 'lead_captured')!.examples[0];
    const refused = await h.call<{ error: { code: string; message: string } }>('POST', `/v1/organizations/${org}/events`, {
      type: 'lead_captured',
      data: lead,
      attributes: { agentPlatform: 'vf' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('event_type_unavailable');
    expect(refused.body.error.message).toBe('event type lead_captured is not available for agentPlatform "vf" (only for: convocore)');

    // The platform may also come from the data (agent events carry agentPlatform: "vg" | "vf").
    const agent = await postEvent(h, org, { type: 'agent_created', data: { agentId: 'a1', agentPlatform: 'vg', operation: 'created' } });
    expect(agent.deliveries).toHaveLength(1);
    // A Convocore agent's lead goes through; "vg" is Convocore's own spelling of its platform.
    const ok = await postEvent(h, org, { type: 'lead_captured', data: lead, attributes: { agentPlatform: 'vg' } });
    expect(ok.deliveries).toHaveLength(1);
    const event = await h.call<{ attributes: Record<string, string> }>('GET', `/v1/organizations/${org}/events/${ok.id}`);
    expect(event.body.attributes).toEqual({ agentPlatform: 'convocore' });
    await receiver.waitFor(2);
  });

  it('sends webhook_test {message, createdAt, workspaceSecret} as the test event', async () => {
    const { org, id, receiver, secret } = await setup();
    const test = await h.call<{ deliveryId: string }>('POST', `/v1/organizations/${org}/webhooks/${id}/test`);
    expect(test.status).toBe(202);
    const [request] = await receiver.waitFor(1);
    const body = receive(request!, secret);
    expect(body).toEqual({
      type: 'webhook_test',
      payload: { message: 'This is a test event', createdAt: expect.any(Number), workspaceSecret: secret },
    });
    expect(Math.abs((body.payload.createdAt as number) - Date.now())).toBeLessThan(60_000);
    const delivery = await waitForDelivery(h, org, test.body.deliveryId, (d) => d.status !== 'pending', 'the test delivery');
    expect(delivery.status).toBe('succeeded');
  });
});
