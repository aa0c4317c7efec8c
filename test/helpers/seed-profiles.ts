/**
 * API shortcuts for the seed-profile tests (voiceflow, convocore, qovery, vercel): create an
 * organization and webhooks, post events, read deliveries. Each call checks the status it
 * expects, so a broken step fails where it happens, with Herald's answer in the message.
 */
import { expect } from 'vitest';
import { eventually, type TestHerald } from './herald.js';

export interface Attempt {
  id: string;
  at: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseStatus: number | null;
  error: string | null;
}

export interface Delivery {
  id: string;
  eventId: string;
  webhookId: string;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  attemptCount: number;
  nextAttemptAt: string | null;
  attempts: Attempt[];
}

export interface Posted {
  id: string;
  deliveries: { id: string; webhookId: string }[];
}

function expectStatus(res: { status: number; body: unknown }, status: number, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
}

export async function createOrganization(h: TestHerald, id: string, metadata: Record<string, unknown> = {}): Promise<void> {
  expectStatus(await h.call('POST', '/v1/organizations', { id, metadata }), 201, `create organization ${id}`);
}

/** Creates a webhook and returns its id and signing secret. */
export async function createWebhook(h: TestHerald, org: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const created = await h.call<{ id: string }>('POST', `/v1/organizations/${org}/webhooks`, body);
  expectStatus(created, 201, 'create webhook');
  const secret = await h.call<{ secret: string }>('GET', `/v1/organizations/${org}/webhooks/${created.body.id}/secret`);
  expectStatus(secret, 200, 'get secret');
  return { id: created.body.id, secret: secret.body.secret };
}

export async function postEvent(h: TestHerald, org: string, body: Record<string, unknown>): Promise<Posted> {
  const res = await h.call<Posted>('POST', `/v1/organizations/${org}/events`, body);
  expectStatus(res, 202, `post ${String(body.type)}`);
  return res.body;
}

export async function getDelivery(h: TestHerald, org: string, id: string): Promise<Delivery> {
  const res = await h.call<Delivery>('GET', `/v1/organizations/${org}/deliveries/${id}`);
  expectStatus(res, 200, `get delivery ${id}`);
  return res.body;
}

export async function waitForDelivery(h: TestHerald, org: string, id: string, done: (d: Delivery) => boolean, what: string): Promise<Delivery> {
  return eventually(async () => {
    const delivery = await getDelivery(h, org, id);
    return done(delivery) ? delivery : undefined;
  }, 10_000, what);
}

/** The one header value (Node gives arrays only for repeated headers). */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
