import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

describe('POST /events/batch', () => {
  let h: TestHerald;
  let receiver: Receiver;

  beforeEach(async () => {
    h = await startHerald();
    receiver = await startReceiver();
    await h.call('PUT', '/v1/event-types/deployment.created', { description: 'A deployment was created' });
    await h.call('POST', '/v1/organizations', { id: 'acme' });
  });
  afterEach(async () => {
    await h.stop();
    await receiver.close();
  });

  it('stores every event with the single-event answer per item, deduplicates operator ids, and delivers them all', async () => {
    await h.call('POST', '/v1/organizations/acme/webhooks', { url: `${receiver.url}/a` });
    await h.call('POST', '/v1/organizations/acme/webhooks', { url: `${receiver.url}/b` });
    const first = await h.call<{ id: string }>('POST', '/v1/organizations/acme/events', { type: 'deployment.created', data: { n: 0 }, id: 'ext-0' });
    const batch = await h.call<{ events: { id: string; deliveries: { id: string; webhookId: string }[] }[] }>('POST', '/v1/organizations/acme/events/batch', {
      events: [
        { type: 'deployment.created', data: { n: 1 } },
        { type: 'deployment.created', data: { n: 2 }, id: 'ext-2' },
        { type: 'deployment.created', data: { n: 0 }, id: 'ext-0' },
        { type: 'deployment.created', data: { n: 2 }, id: 'ext-2' },
      ],
    });
    expect(batch.status).toBe(202);
    const events = batch.body.events;
    expect(events).toHaveLength(4);
    expect(events[0]!.deliveries).toHaveLength(2);
    expect(events[2]!.id).toBe(first.body.id);
    expect(events[3]!.id).toBe(events[1]!.id);
    await receiver.waitFor(2 * 3);
    const got = await eventually(async () => {
      const res = await h.call<{ status: string }>('GET', `/v1/organizations/acme/deliveries/${events[0]!.deliveries[1]!.id}`);
      return res.body.status === 'succeeded' ? res.body : undefined;
    });
    expect(got.status).toBe('succeeded');
  });

  it('rejects the whole batch when one event is invalid, and stores none of it', async () => {
    const res = await h.call<{ error: { code: string; message: string } }>('POST', '/v1/organizations/acme/events/batch', {
      events: [
        { type: 'deployment.created', data: { n: 1 } },
        { type: 'no.such.type', data: {} },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('events/1');
    const listed = await h.call<{ data: unknown[] }>('GET', '/v1/organizations/acme/events');
    expect(listed.body.data).toHaveLength(0);
  });
});
