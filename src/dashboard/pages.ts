/** Page bodies: plain functions from data to escaped HTML. */
import type { Attempt, Delivery, EventType, HeraldEvent, JsonValue, Organization, Webhook } from '../domain/types.js';
import { attemptTimeline, latencyChart, successRateChart, type HourBucket } from './charts.js';
import { html, isoTime, prettyBody, type Html } from './html.js';
import { button, form, layout, statusBadge, type PageContext } from './layout.js';
import type { RecentEvent, WebhookHealth } from './queries.js';

const enc = encodeURIComponent;
const orgPath = (org: string) => `/orgs/${enc(org)}`;
const webhookPath = (org: string, id: string) => `${orgPath(org)}/webhooks/${enc(id)}`;
const deliveryPath = (org: string, id: string) => `${orgPath(org)}/deliveries/${enc(id)}`;

export function loginPage(ctx: PageContext): Html {
  return layout(
    ctx,
    'Log in',
    html`<section class="login"><h1>Herald dashboard</h1>
<p class="muted">Log in with the operator's admin token (<code>HERALD_ADMIN_TOKEN</code>, or the token Herald printed and saved in its data dir on first start).</p>
${form(ctx, '/login', html`<label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p><button type="submit" class="primary">Log in</button></p>`)}</section>`,
  );
}

export function errorPage(ctx: PageContext, status: number, message: string): Html {
  return layout(ctx, `${status}`, html`<h1>${status === 404 ? 'Not found' : `Error ${status}`}</h1><p>${message}</p><p><a href="/">Back</a></p>`);
}

function fanOut(d: RecentEvent['deliveries']): Html {
  return html`${d.succeeded ? html`<span class="badge s-succeeded">${d.succeeded} ok</span> ` : null}${
    d.failed ? html`<span class="badge s-failed">${d.failed} failed</span> ` : null
  }${d.pending ? html`<span class="badge s-pending">${d.pending} pending</span> ` : null}${d.other ? html`<span class="badge">${d.other} other</span>` : null}${
    d.succeeded + d.failed + d.pending + d.other === 0 ? html`<span class="muted">no webhook</span>` : null
  }`;
}

export function organizationsPage(
  ctx: PageContext,
  data: { organizations: Organization[]; next: string | null; failing: WebhookHealth[]; recent: RecentEvent[] },
): Html {
  return layout(
    ctx,
    'Organizations',
    html`<h1>Operator overview</h1>
${data.failing.length > 0 ? html`<h2>Failing webhooks</h2><table><thead><tr><th>Webhook</th><th>Organization</th><th>URL</th><th>Failing since</th></tr></thead><tbody>
${data.failing.map(
  (w) => html`<tr><td><a href="${webhookPath(w.organizationId, w.webhookId)}">${w.webhookId}</a> ${w.enabled ? statusBadge('failing') : statusBadge('disabled')}</td><td>${w.organizationId}</td><td><code>${w.url}</code></td><td>${isoTime(w.failingSince)}</td></tr>`,
)}</tbody></table>` : null}
<h2>Organizations</h2>
<table><thead><tr><th>Id</th><th>Name</th><th>Created</th></tr></thead><tbody>
${data.organizations.length === 0 ? html`<tr><td colspan="3" class="muted">No organization yet.</td></tr>` : null}
${data.organizations.map((o) => html`<tr><td><a href="${orgPath(o.id)}">${o.id}</a></td><td>${o.name ?? ''}</td><td>${isoTime(o.createdAt)}</td></tr>`)}
</tbody></table>
${data.next !== null ? html`<p><a href="/orgs?after=${enc(data.next)}">Next page →</a></p>` : null}
<details><summary>Create an organization</summary>${form(
      ctx,
      '/orgs',
      html`<label for="org-id">Id</label><input id="org-id" name="id" type="text" required pattern="[A-Za-z0-9][A-Za-z0-9_.:\\-]{0,199}">
<label for="org-name">Name</label><input id="org-name" name="name" type="text"><p><button type="submit" class="primary">Create</button></p>`,
    )}</details>
<h2>Recent events</h2>
<table><thead><tr><th>Event</th><th>Organization</th><th>Type</th><th>Time</th><th>Fan-out</th></tr></thead><tbody>
${data.recent.length === 0 ? html`<tr><td colspan="5" class="muted">No event yet.</td></tr>` : null}
${data.recent.map((e) => html`<tr><td><code>${e.id}</code></td><td><a href="${orgPath(e.organizationId)}">${e.organizationId}</a></td><td>${e.type}</td><td>${isoTime(e.time)}</td><td>${fanOut(e.deliveries)}</td></tr>`)}
</tbody></table>`,
  );
}

export function organizationPage(
  ctx: PageContext,
  data: { organization: Organization; webhooks: Webhook[]; counts: Map<string, Record<string, number>> },
): Html {
  const org = data.organization;
  return layout(
    ctx,
    org.name ?? org.id,
    html`<h1>${org.name ?? org.id} <span class="muted">${org.name ? org.id : ''}</span></h1>
${ctx.viewer?.kind === 'operator' ? html`<p class="muted">Operator view. <a href="/orgs">All organizations</a></p>` : null}
<h2>Webhooks</h2>
<p><a class="button" href="${orgPath(org.id)}/webhooks/new">+ Add a webhook</a></p>
<table><thead><tr><th>Endpoint</th><th>Status</th><th>Events</th><th>Deliveries</th></tr></thead><tbody>
${data.webhooks.length === 0 ? html`<tr><td colspan="4" class="muted">No webhook yet.</td></tr>` : null}
${data.webhooks.map((w) => {
  const c = data.counts.get(w.id) ?? {};
  return html`<tr><td><a href="${webhookPath(org.id, w.id)}"><code>${w.url}</code></a><br><span class="muted">${w.description}</span></td>
<td>${statusBadge(w.enabled ? 'enabled' : 'disabled')} ${w.failingSince !== null ? statusBadge('failing') : null}</td>
<td>${w.events.length === 0 ? html`<span class="muted">all</span>` : w.events.join(', ')}</td>
<td>${c.succeeded ? html`<span class="badge s-succeeded">${c.succeeded} ok</span> ` : null}${c.failed ? html`<span class="badge s-failed">${c.failed} failed</span> ` : null}${c.pending ? html`<span class="badge s-pending">${c.pending} pending</span>` : null}</td></tr>`;
})}
</tbody></table>`,
  );
}

export interface WebhookFormValues {
  url: string;
  description: string;
  events: string;
  headers: string;
  enabled: boolean;
}

export function webhookFormPage(ctx: PageContext, org: string, values: WebhookFormValues, webhook: Webhook | null, types: EventType[]): Html {
  const action = webhook ? webhookPath(org, webhook.id) : `${orgPath(org)}/webhooks`;
  return layout(
    ctx,
    webhook ? 'Edit webhook' : 'New webhook',
    html`<h1>${webhook ? html`Edit webhook <code>${webhook.id}</code>` : 'New webhook'}</h1>
${form(
  ctx,
  action,
  html`<label for="url">Endpoint URL</label><input id="url" name="url" type="url" required value="${values.url}" placeholder="https://example.com/webhooks">
<label for="description">Description</label><input id="description" name="description" type="text" value="${values.description}">
<label for="events">Event types</label><input id="events" name="events" type="text" value="${values.events}" list="event-types" placeholder="deployment.created, project.*">
<p class="hint">Comma-separated names, <code>group.*</code> or <code>*</code>; empty = every type. <a href="/catalog">See the catalog</a>.</p>
<datalist id="event-types">${types.map((t) => html`<option value="${t.name}">`)}</datalist>
<label for="headers">Custom headers</label><textarea id="headers" name="headers" placeholder="X-Team: a">${values.headers}</textarea>
<p class="hint">One <code>Name: value</code> per line.</p>
<label><input type="checkbox" name="enabled" value="on"${values.enabled ? html` checked` : null}> Enabled</label>
<p><button type="submit" class="primary">${webhook ? 'Save' : 'Create webhook'}</button> <a href="${webhook ? webhookPath(org, webhook.id) : orgPath(org)}">Cancel</a></p>`,
)}`,
  );
}

export function webhookPage(
  ctx: PageContext,
  data: { webhook: Webhook; deliveries: Delivery[]; next: string | null; buckets: HourBucket[]; secret: string | null; now: number },
): Html {
  const w = data.webhook;
  const base = webhookPath(w.organizationId, w.id);
  const since = new Date(data.now - 86_400_000).toISOString().slice(0, 16);
  return layout(
    ctx,
    `Webhook ${w.id}`,
    html`<p><a href="${orgPath(w.organizationId)}">← ${w.organizationId}</a></p>
<h1>Webhook <code>${w.id}</code> ${statusBadge(w.enabled ? 'enabled' : 'disabled')} ${w.failingSince !== null ? statusBadge('failing') : null}</h1>
<table><tbody>
<tr><th>URL</th><td><code>${w.url}</code></td></tr>
<tr><th>Description</th><td>${w.description}</td></tr>
<tr><th>Events</th><td>${w.events.length === 0 ? 'all' : w.events.join(', ')}</td></tr>
<tr><th>Custom headers</th><td>${Object.entries(w.headers).map(([k, v]) => html`<code>${k}: ${v}</code><br>`)}</td></tr>
<tr><th>Format</th><td>${w.format ?? 'profile default'}</td></tr>
${w.disabledReason ? html`<tr><th>Disabled because</th><td>${w.disabledReason}</td></tr>` : null}
${data.secret !== null ? html`<tr><th>Signing secret</th><td><code class="secret">${data.secret}</code></td></tr>` : null}
</tbody></table>
<div class="actions">
<a class="button" href="${base}/edit">Edit</a>
${button(ctx, `${base}/${w.enabled ? 'disable' : 'enable'}`, w.enabled ? 'Disable' : 'Enable')}
${button(ctx, `${base}/test`, 'Send test event', 'primary')}
${button(ctx, `${base}/rotate-secret`, 'Rotate secret')}
${form(ctx, `${base}/secret`, html`<button type="submit">Reveal secret</button>`)}
<a class="button" href="${base}/delete">Delete…</a>
</div>
<h2>Last 24 hours</h2>
<div class="charts"><figure>${successRateChart(data.buckets)}<figcaption class="muted">Success rate per hour</figcaption></figure>
<figure>${latencyChart(data.buckets)}<figcaption class="muted">Latency per hour (p50 solid, p95 dashed)</figcaption></figure></div>
<h2>Recover failed deliveries</h2>
${form(
  ctx,
  `${base}/recover`,
  html`<label for="since">Failed or skipped since (UTC)</label><input id="since" name="since" type="datetime-local" value="${since}" required>
<p><button type="submit">Recover failed since…</button></p>`,
)}
<h2>Deliveries</h2>
<table><thead><tr><th>Delivery</th><th>Status</th><th>Attempts</th><th>Created</th><th>Next attempt</th></tr></thead><tbody>
${data.deliveries.length === 0 ? html`<tr><td colspan="5" class="muted">No delivery yet.</td></tr>` : null}
${data.deliveries.map(
  (d) => html`<tr><td><a href="${deliveryPath(w.organizationId, d.id)}"><code>${d.id}</code></a></td><td>${statusBadge(d.status)}</td><td>${d.attemptCount}</td><td>${isoTime(d.createdAt)}</td><td>${isoTime(d.nextAttemptAt)}</td></tr>`,
)}
</tbody></table>
${data.next !== null ? html`<p><a href="${base}?after=${enc(data.next)}">Older deliveries →</a></p>` : null}`,
  );
}

export function deleteWebhookPage(ctx: PageContext, w: Webhook): Html {
  const base = webhookPath(w.organizationId, w.id);
  return layout(
    ctx,
    'Delete webhook',
    html`<h1>Delete webhook <code>${w.id}</code>?</h1>
<p>Deliveries to <code>${w.url}</code> stop; queued ones are cancelled. The delivery log stays until retention removes it. This cannot be undone.</p>
<div class="actions">${button(ctx, `${base}/delete`, 'Delete this webhook', 'danger')}<a class="button" href="${base}">Cancel</a></div>`,
  );
}

function headerTable(headers: Record<string, string>): Html {
  const entries = Object.entries(headers);
  if (entries.length === 0) return html`<p class="muted">none</p>`;
  return html`<table class="headers"><tbody>${entries.map(([k, v]) => html`<tr><th><code>${k}</code></th><td><code>${v}</code></td></tr>`)}</tbody></table>`;
}

function attemptBlock(a: Attempt, open: boolean): Html {
  const outcome = a.responseStatus !== null ? `HTTP ${a.responseStatus}` : 'no response';
  return html`<details class="attempt" id="attempt-${a.attemptNumber}"${open ? html` open` : null}>
<summary>Attempt #${a.attemptNumber} · ${outcome}${a.error ? html` · error class <span class="badge s-failed">${a.error}</span>` : null} · ${a.durationMs} ms · ${isoTime(a.at)}</summary>
${a.errorMessage ? html`<p class="flash error">${a.errorMessage}</p>` : null}
<div class="grid2"><section><h3>Request</h3><p><code>POST ${a.requestUrl}</code></p>${headerTable(a.requestHeaders)}<pre class="request-body">${prettyBody(a.requestBody)}</pre></section>
<section><h3>Response</h3><p>${outcome} in ${a.durationMs} ms</p>${headerTable(a.responseHeaders)}<pre class="response-body">${prettyBody(a.responseBody)}</pre></section></div>
</details>`;
}

export function deliveryPage(ctx: PageContext, data: { delivery: Delivery; attempts: Attempt[]; event: HeraldEvent | null; webhook: Webhook | null }): Html {
  const d = data.delivery;
  const newestFirst = [...data.attempts].reverse();
  return layout(
    ctx,
    `Delivery ${d.id}`,
    html`<p><a href="${webhookPath(d.organizationId, d.webhookId)}">← webhook ${d.webhookId}</a></p>
<h1>Delivery <code>${d.id}</code> ${statusBadge(d.status)}</h1>
<table><tbody>
<tr><th>Event</th><td><code>${d.eventId}</code> ${data.event ? html`(${data.event.type}, ${isoTime(data.event.time)})` : null}</td></tr>
<tr><th>Endpoint</th><td><code>${data.webhook?.url ?? '(deleted webhook)'}</code></td></tr>
<tr><th>Attempts</th><td>${d.attemptCount}</td></tr>
<tr><th>Next attempt</th><td>${isoTime(d.nextAttemptAt)}</td></tr>
</tbody></table>
<div class="actions">${button(ctx, `${deliveryPath(d.organizationId, d.id)}/resend`, 'Resend', 'primary')}</div>
<h2>Timeline</h2>${attemptTimeline(data.attempts, d.nextAttemptAt)}
<h2>Attempts</h2>
${newestFirst.length === 0 ? html`<p class="muted">No attempt yet${d.status === 'pending' ? ' — it is queued' : ''}.</p>` : null}
${newestFirst.map((a, i) => attemptBlock(a, i === 0))}
${data.event ? html`<h2>Event data</h2><pre class="event-data">${JSON.stringify(data.event.data, null, 2)}</pre>` : null}`,
  );
}

interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  description: string;
}

function typeOf(schema: Record<string, unknown>): string {
  const t = schema.type;
  let out = Array.isArray(t) ? t.join(' | ') : typeof t === 'string' ? t : schema.oneOf || schema.anyOf ? 'one of' : schema.$ref ? String(schema.$ref) : 'any';
  if (Array.isArray(schema.enum)) out += ` (${schema.enum.map((v) => JSON.stringify(v)).join(', ')})`;
  if (schema.const !== undefined) out += ` = ${JSON.stringify(schema.const)}`;
  if (typeof schema.format === 'string') out += ` (${schema.format})`;
  return out;
}

/** Flattens a JSON Schema's properties into rows (nested objects and arrays of objects get dotted paths). */
export function schemaFields(schema: JsonValue | null, prefix = '', depth = 0, out: FieldRow[] = []): FieldRow[] {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema) || depth > 6) return out;
  const props = schema.properties;
  if (props === null || typeof props !== 'object' || Array.isArray(props)) return out;
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  for (const [name, sub] of Object.entries(props)) {
    if (sub === null || typeof sub !== 'object' || Array.isArray(sub)) continue;
    const path = prefix ? `${prefix}.${name}` : name;
    out.push({ path, type: typeOf(sub), required: required.has(name), description: typeof sub.description === 'string' ? sub.description : '' });
    schemaFields(sub, path, depth + 1, out);
    const items = sub.items;
    if (items && typeof items === 'object' && !Array.isArray(items)) schemaFields(items, `${path}[]`, depth + 1, out);
  }
  return out;
}

export function catalogPage(ctx: PageContext, data: { profile: string; profiles: string[]; types: EventType[]; current: string }): Html {
  const groups = new Map<string, EventType[]>();
  for (const t of data.types) {
    const group = t.group ?? 'other';
    groups.set(group, [...(groups.get(group) ?? []), t]);
  }
  const sortedGroups = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
  return layout(
    ctx,
    `Event catalog — ${data.profile}`,
    html`<h1>Event catalog <span class="muted">· profile ${data.profile}</span></h1>
<p>Profiles: ${data.profiles.map((p, i) => html`${i > 0 ? ' · ' : ''}${p === data.profile ? html`<strong>${p}</strong>` : html`<a href="/catalog/${enc(p)}">${p}</a>`}${p === data.current ? html` <span class="muted">(this Herald)</span>` : null}`)}</p>
<p class="muted">${data.types.length} event types in ${groups.size} groups.</p>
<nav><ul>${sortedGroups.map(([g, ts]) => html`<li><a href="#group-${g}">${g}</a> (${ts.length})</li>`)}</ul></nav>
${sortedGroups.map(
  ([group, types]) => html`<section class="catalog-group" id="group-${group}"><h2>${group}</h2>
${types.map((t) => {
  const fields = schemaFields(t.schema);
  const example = t.examples[0];
  return html`<article class="event-type" id="type-${t.name}"><h3><code>${t.name}</code>${t.deprecated ? html` <span class="badge s-failed">deprecated</span>` : null}${t.archived ? html` <span class="badge">archived</span>` : null}</h3>
<p>${t.description}</p>
${fields.length > 0 ? html`<table class="fields"><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${fields.map((f) => html`<tr><td><code>${f.path}</code></td><td>${f.type}</td><td>${f.required ? 'yes' : ''}</td><td>${f.description}</td></tr>`)}</tbody></table>` : html`<p class="muted">No schema: any JSON object.</p>`}
${example !== undefined ? html`<details><summary>Example payload</summary><pre>${JSON.stringify(example, null, 2)}</pre></details>` : null}</article>`;
})}</section>`,
)}`,
  );
}
