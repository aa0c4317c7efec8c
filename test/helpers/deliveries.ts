/**
 * Typed API shortcuts for the delivery-behaviour tests: set up an organization
 * with event types, create webhooks, post events, read deliveries and wait for
 * one to reach a state. Every call asserts the status it expects, so a broken
 * setup fails where it happens, with the answer in the message.
 */
import { expect } from 'vitest';
import { eventually, type TestHerald } from './herald.js';

export interface AttemptView {
  id: string;
  attemptNumber: number;
  at: string;
  durationMs: number;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
  error: string | null;
  errorMessage: string | null;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  webhookId: string;
  organizationId: string;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  attempts: AttemptView[];
}

export interface WebhookView {
  id: string;
  organizationId: string;
  url: string;
  enabled: boolean;
  events: string[];
  filters: Record<string, string[]>;
  concurrency: number | null;
  timeoutMs: number | null;
  signing: string;
  failingSince: string | null;
  disabledReason: string | null;
}

export interface PostedEvent {
  id: string;
  deliveries: { id: string; webhookId: string }[];
}

/** A retry schedule fast enough for tests: `n` retries 50 ms apart, no jitter. */
export function fastRetries(n: number): { kind: 'schedule'; delaysS: number[]; jitter: number } {
  return { kind: 'schedule', delaysS: Array.from({ length: n }, () => 0.05), jitter: 0 };
}

/** Creates (or replaces) event types and an organization. */
export async function setupOrganization(h: TestHerald, org: string, eventTypes: string[] = []): Promise<void> {
  for (const name of eventTypes) {
    const res = await h.call('PUT', `/v1/event-types/${name}`, { description: `${name} (test)` });
    expect([200, 201], `PUT event type ${name}: ${JSON.stringify(res.body)}`).toContain(res.status);
  }
  const res = await h.call('POST', '/v1/organizations', { id: org });
  expect(res.status, `POST organization ${org}: ${JSON.stringify(res.body)}`).toBe(201);
}

export async function createWebhook(h: TestHerald, org: string, body: Record<string, unknown>): Promise<WebhookView> {
  const res = await h.call<WebhookView>('POST', `/v1/organizations/${org}/webhooks`, body);
  expect(res.status, `create webhook: ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
}

export async function getWebhook(h: TestHerald, org: string, id: string): Promise<WebhookView> {
  const res = await h.call<WebhookView>('GET', `/v1/organizations/${org}/webhooks/${id}`);
  expect(res.status, `get webhook: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

export async function patchWebhook(h: TestHerald, org: string, id: string, patch: Record<string, unknown>): Promise<WebhookView> {
  const res = await h.call<WebhookView>('PATCH', `/v1/organizations/${org}/webhooks/${id}`, patch);
  expect(res.status, `patch webhook: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

export async function postEvent(h: TestHerald, org: string, body: Record<string, unknown>): Promise<PostedEvent> {
  const res = await h.call<PostedEvent>('POST', `/v1/organizations/${org}/events`, { data: {}, ...body });
  expect(res.status, `post event: ${JSON.stringify(res.body)}`).toBe(202);
  return res.body;
}

export async function getDelivery(h: TestHerald, org: string, id: string): Promise<DeliveryView> {
  const res = await h.call<DeliveryView>('GET', `/v1/organizations/${org}/deliveries/${id}`);
  expect(res.status, `get delivery: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

/** Polls a delivery until `ready` holds; the last state seen is in the timeout message. */
export async function waitForDelivery(
  h: TestHerald,
  org: string,
  id: string,
  ready: (d: DeliveryView) => boolean,
  what = 'delivery state',
  timeoutMs = 15_000,
): Promise<DeliveryView> {
  let last: DeliveryView | null = null;
  try {
    return await eventually(
      async () => {
        last = await getDelivery(h, org, id);
        return ready(last) ? last : undefined;
      },
      timeoutMs,
      what,
    );
  } catch (error) {
    const seen = last as DeliveryView | null;
    const summary = seen
      ? { status: seen.status, attemptCount: seen.attemptCount, nextAttemptAt: seen.nextAttemptAt, attempts: seen.attempts.map((a) => [a.responseStatus, a.error]) }
      : null;
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(summary)}`);
  }
}

/** Waits until the delivery has this many attempts recorded and its outcome is settled (no lease). */
export function waitForAttempts(h: TestHerald, org: string, id: string, count: number): Promise<DeliveryView> {
  return waitForDelivery(h, org, id, (d) => d.attempts.length >= count && d.attemptCount >= count, `${count} attempts of ${id}`);
}
