import type { EventType } from '../domain/types.js';

/** The organization that holds Herald's own operational webhook; operators cannot name one like it. */
export const SYSTEM_ORGANIZATION_ID = '_herald';

/** Herald's own events, delivered to the operator's operational webhook. */
export const OPERATIONAL_EVENT_TYPES: readonly EventType[] = [
  {
    name: 'herald.delivery.failing',
    description: 'A delivery failed for the fourth time in a row; retries go on.',
  },
  { name: 'herald.delivery.exhausted', description: 'A delivery failed and has no attempts left.' },
  { name: 'herald.delivery.recovered', description: 'A delivery succeeded after failed attempts.' },
  {
    name: 'herald.webhook.disabled',
    description: 'A webhook was disabled after failing without a single success for the auto-disable period.',
  },
].map((t) => ({
  ...t,
  group: 'herald',
  schema: null,
  examples: [],
  deprecated: false,
  archived: false,
  format: null,
  extra: {},
}));

/** The attempt after which `herald.delivery.failing` is sent. */
export const FAILING_AFTER_ATTEMPTS = 4;
