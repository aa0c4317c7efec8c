import type { Clock } from '../clock.js';
import { newId } from '../domain/ids.js';
import type { DeliveryPolicy, HeraldEvent, Organization } from '../domain/types.js';
import type { Catalog } from '../ingest/catalog.js';
import type { ClaimedDelivery } from '../store/queue/claim-due.js';
import { decideSettlement } from './decide-settlement.js';
import { redactSecrets } from './redact-attempt.js';
import type { RequestRenderer } from './render-request.js';
import type { Sender } from './sender.js';
import type { Settler } from './settler.js';
import type { WebhookCache } from './webhook-cache.js';

/** A claimed delivery with its event, read when it was claimed (null: the event is gone). */
export interface ClaimedWork extends ClaimedDelivery {
  event: HeraldEvent | null;
}

export interface DeliverBatchDeps {
  loadOrganization(id: string): Promise<Organization | null>;
  webhooks: WebhookCache;
  catalog: Catalog;
  renderer: RequestRenderer;
  sender: Sender;
  settler: Settler;
  policy: DeliveryPolicy;
  /** Operator override of the profile's auto-disable period (seconds); null keeps the profile's. */
  autoDisableAfterS: number | null;
  clock: Clock;
  onAttempt?(result: { durationMs: number; error: string | null; status: number | null }): void;
}

/**
 * Makes one attempt for every delivery of a claimed batch: render, sign,
 * send, decide what follows, settle. `onSettled` fires per delivery once its
 * outcome is committed.
 */
export async function deliverBatch(
  deps: DeliverBatchDeps,
  batch: readonly ClaimedWork[],
  onSettled: (delivery: ClaimedWork, retryAt: number | null) => void,
): Promise<void> {
  await Promise.all(
    batch.map(async (delivery) => {
      const cached = await deps.webhooks.get(delivery.webhookId);
      const event = delivery.event;
      const organization = await deps.loadOrganization(delivery.organizationId);
      if (!cached || !event || !organization) {
        await deps.settler.settle({ kind: 'park', deliveryId: delivery.id, lease: delivery.lease, status: 'cancelled' });
        onSettled(delivery, null);
        return;
      }
      const { webhook, secrets } = cached;
      if (!webhook.enabled) {
        await deps.settler.settle({ kind: 'park', deliveryId: delivery.id, lease: delivery.lease, status: 'skipped' });
        onSettled(delivery, null);
        return;
      }
      const attemptNumber = delivery.attemptCount + 1;
      const at = deps.clock.now();
      const eventType = await deps.catalog.get(event.type);
      const request = deps.renderer.render({
        deliveryId: delivery.id,
        attemptNumber,
        event,
        webhook,
        secrets,
        organization,
        eventType,
        now: at,
      });
      const timeoutMs = webhook.timeoutMs ?? deps.policy.timeoutMs;
      const result = await deps.sender.send({ ...request, timeoutMs });
      deps.onAttempt?.(result);
      const now = deps.clock.now();
      const logged = redactSecrets(request, [secrets.current, secrets.previous]);
      const settlement = decideSettlement({
        result,
        success: deps.policy.success,
        retry: webhook.retry ?? deps.policy.retry,
        attemptNumber,
        eventTime: delivery.eventTime,
        now,
      });
      await deps.settler.settle({
        kind: 'attempt',
        webhookId: webhook.id,
        eventId: event.id,
        wasFailing: delivery.failing,
        autoDisableAfterMs: (deps.autoDisableAfterS ?? deps.policy.autoDisableAfterS) * 1000,
        input: {
          deliveryId: delivery.id,
          organizationId: delivery.organizationId,
          lease: delivery.lease,
          attemptNumber,
          settlement,
          attempt: {
            id: newId('att'),
            at,
            durationMs: result.durationMs,
            requestUrl: request.url,
            requestHeaders: logged.headers,
            requestBody: logged.body,
            responseStatus: result.status,
            responseHeaders: result.headers,
            responseBody: result.body,
            error: result.error ?? (settlement.kind === 'succeeded' ? null : 'status'),
            errorMessage: result.errorMessage,
          },
        },
      });
      onSettled(delivery, settlement.kind === 'retry' ? settlement.at : null);
    }),
  );
}
