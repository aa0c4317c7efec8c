import type { JsonObject, JsonValue } from './types.js';

export interface SlackInput {
  type: string;
  organization: { id: string; name: string | null };
  data: JsonValue;
  /** A per-type template (from the catalog's `slack` entry), rendered by the envelope engine. */
}

function summarise(data: JsonValue): string {
  const text = JSON.stringify(data, null, 2);
  // Slack truncates long blocks; keep the message readable.
  return text.length > 2800 ? `${text.slice(0, 2800)}\n…` : text;
}

/** The generic Slack incoming-webhook message for an event type without a template of its own. */
export function defaultSlackMessage(input: SlackInput): JsonObject {
  const org = input.organization.name ?? input.organization.id;
  const title = `${input.type} for ${org}`;
  return {
    text: title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: '```' + summarise(input.data) + '```' } },
    ],
  };
}
