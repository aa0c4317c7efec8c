import { compileEnvelope, type EnvelopeContext, type EnvelopeRenderer } from '../domain/envelope.js';
import { signRequest } from '../domain/signatures/index.js';
import { defaultSlackMessage } from '../domain/slack.js';
import type { EventType, Format, HeraldEvent, JsonValue, Organization, Webhook, WebhookSecrets } from '../domain/types.js';
import type { Profile } from '../profile/load-profile.js';

export interface RenderInput {
  deliveryId: string;
  attemptNumber: number;
  event: HeraldEvent;
  webhook: Webhook;
  secrets: WebhookSecrets;
  organization: Organization;
  eventType: EventType | null;
  now: number;
}

export interface RenderedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The format of Herald's own operational events: Standard Webhooks, whatever the profile. */
export const OPERATIONAL_FORMAT: Format = {
  name: 'herald-operational',
  envelope: { type: '{{event.type}}', timestamp: '{{event.time}}', data: '{{event.data}}' },
  signature: { scheme: 'standard-webhooks' },
};

/**
 * Turns a claimed delivery into the exact bytes and headers to send. Each
 * format's envelope is compiled once; rendering is property lookups.
 */
export class RequestRenderer {
  readonly #profile: Profile;
  readonly #userAgent: string;
  readonly #systemOrganizationId: string;
  readonly #compiled = new Map<Format, (ctx: EnvelopeContext) => JsonValue>();
  /** Compiled Slack templates by template object (catalog reloads bring new objects; old ones are collected). */
  readonly #slackCompiled = new WeakMap<object, EnvelopeRenderer | null>();

  constructor(profile: Profile, options: { userAgent: string; systemOrganizationId: string }) {
    this.#profile = profile;
    this.#userAgent = options.userAgent;
    this.#systemOrganizationId = options.systemOrganizationId;
  }

  formatFor(webhook: Webhook, eventType: EventType | null): Format {
    if (webhook.organizationId === this.#systemOrganizationId) return OPERATIONAL_FORMAT;
    const formats = this.#profile.formats;
    const name = webhook.format ?? eventType?.format ?? this.#profile.defaultFormat;
    return formats[name] ?? formats[this.#profile.defaultFormat] ?? OPERATIONAL_FORMAT;
  }

  #envelope(format: Format): (ctx: EnvelopeContext) => JsonValue {
    let render = this.#compiled.get(format);
    if (!render) {
      render = compileEnvelope(format.envelope);
      this.#compiled.set(format, render);
    }
    return render;
  }

  /**
   * The Slack template for a type: its catalog `slack` entry, else the profile's `slack`; null
   * when neither exists or the template does not compile (then the generic message is sent).
   */
  #slackTemplate(eventType: EventType | null): EnvelopeRenderer | null {
    const own = eventType?.extra.slack;
    const template = own !== null && typeof own === 'object' ? own : this.#profile.slack;
    if (template === null || typeof template !== 'object') return null;
    let render = this.#slackCompiled.get(template);
    if (render === undefined) {
      try {
        render = compileEnvelope(template);
      } catch {
        render = null;
      }
      this.#slackCompiled.set(template, render);
    }
    return render;
  }

  render(input: RenderInput): RenderedRequest {
    const { event, webhook, secrets, organization, eventType } = input;
    const format = this.formatFor(webhook, eventType);
    const ctx: EnvelopeContext = {
      event: {
        id: event.id,
        type: event.type,
        data: event.data,
        attributes: event.attributes,
        time: new Date(event.time).toISOString(),
        timeMs: event.time,
      },
      delivery: { id: input.deliveryId, attempt: input.attemptNumber },
      webhook: { id: webhook.id, secret: secrets.current, metadata: webhook.metadata },
      organization: { id: organization.id, name: organization.name, metadata: organization.metadata },
      eventType: { ...(eventType?.extra ?? {}), name: event.type, group: eventType?.group ?? null },
    };
    let payload: JsonValue;
    if (webhook.kind === 'slack') {
      const slack = this.#slackTemplate(eventType);
      payload = slack !== null ? slack(ctx) : defaultSlackMessage({ type: event.type, organization, data: event.data });
    } else {
      payload = this.#envelope(format)(ctx);
    }
    const body = JSON.stringify(payload);
    const signing = [secrets.current];
    if (secrets.previous !== null && secrets.previousExpiresAt !== null && secrets.previousExpiresAt > input.now) {
      signing.push(secrets.previous);
    }
    const signature =
      webhook.kind === 'slack'
        ? {}
        : signRequest(format.signature, {
            id: input.deliveryId,
            timestampS: Math.floor(input.now / 1000),
            body,
            secrets: signing,
          });
    return {
      url: webhook.url,
      // Custom headers first: the API refuses names that would clash with these.
      headers: { ...webhook.headers, 'content-type': 'application/json', 'user-agent': this.#userAgent, ...signature },
      body,
    };
  }
}
