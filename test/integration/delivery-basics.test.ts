import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

describe('delivery basics', () => {
  let h: TestHerald;
  let receiver: Receiver;

  beforeEach(async () => {
    h = await startHerald();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await h.stop();
    await receiver.close();
  });

  it('delivers a posted event, signed so that the standardwebhooks package verifies it', async () => {
    await h.call('PUT', '/v1/event-types/deployment.created', { description: 'A deployment was created' });
    await h.call('POST', '/v1/organizations', { id: 'acme' });
    const created = await h.call<{ id: string }>('POST', '/v1/organizations/acme/webhooks', { url: `${receiver.url}/hook` });
    expect(created.status).toBe(201);
    const secret = (await h.call<{ secret: string }>('GET', `/v1/organizations/acme/webhooks/${created.body.id}/secret`)).body.secret;

    const posted = await h.call<{ id: string; deliveries: { id: string }[] }>('POST', '/v1/organizations/acme/events', {
      type: 'deployment.created',
      data: { deploymentId: 'd1' },
    });
    expect(posted.status).toBe(202);
    expect(posted.body.deliveries).toHaveLength(1);

    const [request] = await receiver.waitFor(1);
    const payload = new StandardWebhook(secret).verify(request!.body, request!.headers as Record<string, string>) as Record<string, unknown>;
    expect(payload).toMatchObject({ type: 'deployment.created', data: { deploymentId: 'd1' } });
    expect(request!.headers['webhook-id']).toBe(posted.body.deliveries[0]!.id);

    const delivery = await eventually(async () => {
      const res = await h.call<{ status: string; attempts: unknown[] }>('GET', `/v1/organizations/acme/deliveries/${posted.body.deliveries[0]!.id}`);
      return res.body.status === 'succeeded' ? res.body : undefined;
    });
    expect(delivery.attempts).toHaveLength(1);
  });
});
