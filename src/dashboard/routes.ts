/**
 * The dashboard, served by Herald at `/`: server-rendered pages over the same
 * repositories the API uses. Operators log in with the admin token; an
 * organization arrives through a one-time portal link and sees only itself.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../api/context.js';
import { OrgParams, errorResponses } from '../api/schemas.js';
import { newId } from '../domain/ids.js';
import type { EventType, Webhook } from '../domain/types.js';
import { HeraldError, notFound } from '../errors.js';
import { recordEvent } from '../ingest/ingest.js';
import { listBuiltInProfiles, loadProfile } from '../profile/load-profile.js';
import { getDelivery, listAttempts, listDeliveries, queueRetry, recoverDeliveries, skipPendingDeliveries } from '../store/repositories/deliveries.js';
import { getEvent } from '../store/repositories/events.js';
import { getOrganization, insertOrganization, listOrganizations } from '../store/repositories/organizations.js';
import {
  deleteWebhook,
  getWebhook,
  getWebhookSecrets,
  insertWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookFields,
} from '../store/repositories/webhooks.js';
import { newSecretFor } from '../webhooks/new-secret.js';
import { checkHeaders, checkSubscriptions, checkUrl, checkUrlTarget, resolveFormat } from '../webhooks/validate-webhook.js';
import { DASHBOARD_CSS } from './assets.js';
import { bucketByHour } from './charts.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';
import {
  catalogPage,
  deleteWebhookPage,
  deliveryPage,
  errorPage,
  loginPage,
  organizationPage,
  organizationsPage,
  webhookFormPage,
  webhookPage,
  type WebhookFormValues,
} from './pages.js';
import { deliveryCounts, failingWebhooks, recentEvents, webhookAttemptsSince } from './queries.js';
import { consumePortalLink, createPortalLink, createSession, deleteSession, findSession, newToken, type Session, type Viewer } from './store.js';

export interface DashboardOptions {
  /**
   * CSP `frame-ancestors` sources of organization (portal) pages, e.g. `https://app.example.com`.
   * Operator pages are always `frame-ancestors 'none'`.
   * @defaultValue "'self'"
   */
  frameAncestors?: string;
  /** @defaultValue 12 h */
  operatorSessionTtlMs?: number;
  /** @defaultValue 8 h */
  portalSessionTtlMs?: number;
}

const SESSION_COOKIE = 'herald_session';
const LOGIN_COOKIE = 'herald_login';
const DEFAULT_PORTAL_LINK_TTL_S = 600;

const NOTICES: Record<string, string> = {
  created: 'Webhook created.',
  saved: 'Webhook saved.',
  enabled: 'Webhook enabled.',
  disabled: 'Webhook disabled; its queued deliveries are parked as skipped (recover sends them later).',
  'test-sent': 'Test event queued.',
  rotated: 'Secret rotated; the previous one keeps signing during the grace period.',
  deleted: 'Webhook deleted.',
  resent: 'A new attempt was queued.',
  recovered: 'Failed deliveries were re-queued.',
  'org-created': 'Organization created.',
};

type Form = Record<string, string>;

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in out)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/**
 * Operator cookies are always SameSite=Strict. A portal session embedded by another site (frame-ancestors
 * configured) lives in a third-party iframe, which needs SameSite=None — Secure and partitioned, so HTTPS
 * (Herald behind a TLS proxy) — or the browser would never send it back.
 */
function cookie(request: FastifyRequest, name: string, value: string, maxAgeS: number, crossSite: boolean): string {
  const site = crossSite ? 'SameSite=None; Secure; Partitioned' : `SameSite=Strict${isHttps(request) ? '; Secure' : ''}`;
  return `${name}=${value}; Path=/; HttpOnly; ${site}; Max-Age=${maxAgeS}`;
}

function formValue(form: Form, key: string): string {
  return typeof form[key] === 'string' ? form[key] : '';
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HeraldError(422, 'invalid_header', `header line ${JSON.stringify(line)} is not "Name: value"`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function splitEvents(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function dashboardRoutes(ctx: ApiContext, options: DashboardOptions = {}): FastifyPluginAsyncTypebox {
  const frameAncestors = options.frameAncestors?.trim() || "'self'";
  // Embedded by another site: the portal cookie must be sent from a third-party iframe.
  const portalCrossSite = frameAncestors !== "'self'" && frameAncestors !== "'none'";
  const operatorTtl = options.operatorSessionTtlMs ?? 12 * 3_600_000;
  const portalTtl = options.portalSessionTtlMs ?? 8 * 3_600_000;

  return async (app) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 65_536 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    async function sessionOf(request: FastifyRequest): Promise<Session | null> {
      const token = parseCookies(request.headers.cookie)[SESSION_COOKIE];
      return token ? findSession(ctx.db, token, ctx.clock.now()) : null;
    }

    function pageContext(request: FastifyRequest, session: Session | null, extra: Partial<PageContext> = {}): PageContext {
      const notice = (request.query as { notice?: string } | undefined)?.notice;
      return { viewer: session?.viewer ?? null, csrfToken: session?.csrfToken ?? '', notice: notice ? NOTICES[notice] : undefined, ...extra };
    }

    function send(reply: FastifyReply, viewer: Viewer | null, page: Html, status = 200): FastifyReply {
      const ancestors = viewer?.kind === 'organization' ? frameAncestors : "'none'";
      reply
        .status(status)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header(
          'content-security-policy',
          `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestors}`,
        );
      if (viewer?.kind !== 'organization') reply.header('x-frame-options', 'DENY');
      return reply.send(page.value);
    }

    /** The session of a page that needs one; null after answering with a redirect to the login page. */
    async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<Session | null> {
      const session = await sessionOf(request);
      if (!session) {
        await reply.redirect('/login', 303);
        return null;
      }
      return session;
    }

    /** Session plus CSRF check, for every POST. */
    async function requirePost(request: FastifyRequest, reply: FastifyReply): Promise<{ session: Session; form: Form } | null> {
      const session = await requireSession(request, reply);
      if (!session) return null;
      const form = (request.body ?? {}) as Form;
      if (!sameSecret(form._csrf, session.csrfToken)) throw new HeraldError(403, 'csrf', 'The form expired or did not come from this dashboard; reload the page and try again.');
      return { session, form };
    }

    /** The organization a viewer may see: another organization answers 404, as in the API. */
    async function visibleOrganization(session: Session, org: string) {
      if (session.viewer.kind === 'organization' && session.viewer.organizationId !== org) throw notFound('organization', org);
      const organization = await getOrganization(ctx.db, org);
      if (!organization) throw notFound('organization', org);
      return organization;
    }

    async function visibleWebhook(session: Session, org: string, id: string): Promise<Webhook> {
      await visibleOrganization(session, org);
      const webhook = await getWebhook(ctx.db, org, id);
      if (!webhook) throw notFound('webhook', id);
      return webhook;
    }

    function requireOperator(session: Session): void {
      if (session.viewer.kind !== 'operator') throw new HeraldError(404, 'not_found', 'This page does not exist.');
    }

    async function catalogMap(): Promise<Map<string, EventType>> {
      return new Map((await ctx.catalog.all()).map((t) => [t.name, t]));
    }

    const webhookUrl = (org: string, id: string) => `/orgs/${encodeURIComponent(org)}/webhooks/${encodeURIComponent(id)}`;

    app.setErrorHandler(async (error, request, reply) => {
      const status = error instanceof HeraldError ? error.status : (error as { statusCode?: number }).statusCode ?? 500;
      if (status >= 500) request.log.error({ err: error }, 'dashboard error');
      const session = await sessionOf(request).catch(() => null);
      const message = status >= 500 ? 'Something went wrong; the error was logged.' : error instanceof Error ? error.message : String(error);
      return send(reply, session?.viewer ?? null, errorPage(pageContext(request, session), status, message), status);
    });

    app.get('/dashboard.css', async (_request, reply) =>
      reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(DASHBOARD_CSS),
    );

    app.get('/', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      const target = session.viewer.kind === 'operator' ? '/orgs' : `/orgs/${encodeURIComponent(session.viewer.organizationId)}`;
      return reply.redirect(target, 303);
    });

    // ---- login and logout

    app.get('/login', async (request, reply) => {
      const csrf = newToken();
      reply.header('set-cookie', cookie(request, LOGIN_COOKIE, csrf, 3600, false));
      return send(reply, null, loginPage({ viewer: null, csrfToken: csrf }));
    });

    app.post('/login', async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const csrf = parseCookies(request.headers.cookie)[LOGIN_COOKIE];
      if (!sameSecret(form._csrf, csrf)) throw new HeraldError(403, 'csrf', 'The login form expired; reload the page and try again.');
      const principal = form.token ? await ctx.resolveToken(form.token) : null;
      if (principal?.kind !== 'admin') {
        return send(reply, null, loginPage({ viewer: null, csrfToken: csrf ?? '', error: 'That is not the admin token.' }), 401);
      }
      const { token } = await createSession(ctx.db, { kind: 'operator' }, operatorTtl, ctx.clock.now());
      reply.header('set-cookie', [cookie(request, SESSION_COOKIE, token, operatorTtl / 1000, false), cookie(request, LOGIN_COOKIE, '', 0, false)]);
      return reply.redirect('/orgs', 303);
    });

    app.post('/logout', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const token = parseCookies(request.headers.cookie)[SESSION_COOKIE];
      if (token) await deleteSession(ctx.db, token);
      reply.header('set-cookie', cookie(request, SESSION_COOKIE, '', 0, post.session.viewer.kind === 'organization' && portalCrossSite));
      return reply.redirect('/login', 303);
    });

    // ---- portal links

    app.get<{ Params: { token: string } }>('/portal/:token', async (request, reply) => {
      const org = await consumePortalLink(ctx.db, request.params.token, ctx.clock.now());
      if (org === null) throw new HeraldError(404, 'not_found', 'This portal link was used already or has expired; ask for a new one.');
      const viewer: Viewer = { kind: 'organization', organizationId: org };
      const { token } = await createSession(ctx.db, viewer, portalTtl, ctx.clock.now());
      reply.header('set-cookie', cookie(request, SESSION_COOKIE, token, portalTtl / 1000, portalCrossSite));
      const target = `/orgs/${encodeURIComponent(org)}`;
      // A page rather than a redirect: a SameSite=Strict cookie is not sent on a redirect that a cross-site link started.
      return send(
        reply,
        viewer,
        refreshPage(target, html`<p>Opening <a href="${target}">${org}</a>…</p>`),
      );
    });

    // ---- operator pages

    app.get<{ Querystring: { after?: string } }>('/orgs', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      requireOperator(session);
      const page = await listOrganizations(ctx.db, { limit: 50, after: request.query.after ?? null });
      const [failing, recent] = await Promise.all([failingWebhooks(ctx.db), recentEvents(ctx.db)]);
      return send(reply, session.viewer, organizationsPage(pageContext(request, session), { organizations: page.items, next: page.next, failing, recent }));
    });

    app.post('/orgs', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      requireOperator(post.session);
      const id = formValue(post.form, 'id').trim();
      if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/.test(id)) throw new HeraldError(422, 'invalid_id', 'An organization id is 1–200 letters, digits, _ . : -');
      const name = formValue(post.form, 'name').trim();
      const created = await insertOrganization(ctx.db, { id, name: name === '' ? null : name, metadata: {} }, ctx.clock.now());
      if (!created) throw new HeraldError(409, 'already_exists', `Organization ${id} exists already.`);
      return reply.redirect(`/orgs/${encodeURIComponent(id)}?notice=org-created`, 303);
    });

    // ---- organization pages (operator, or that organization's portal session)

    app.get<{ Params: { org: string } }>('/orgs/:org', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      const organization = await visibleOrganization(session, request.params.org);
      const webhooks = await listWebhooks(ctx.db, organization.id, { limit: 250, after: null });
      const counts = await deliveryCounts(ctx.db, organization.id);
      return send(reply, session.viewer, organizationPage(pageContext(request, session), { organization, webhooks: webhooks.items, counts }));
    });

    function formValues(form: Form): WebhookFormValues {
      return {
        url: formValue(form, 'url').trim(),
        description: formValue(form, 'description'),
        events: formValue(form, 'events'),
        headers: formValue(form, 'headers'),
        enabled: form.enabled === 'on',
      };
    }

    function valuesOf(w: Webhook): WebhookFormValues {
      return {
        url: w.url,
        description: w.description,
        events: w.events.join(', '),
        headers: Object.entries(w.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
        enabled: w.enabled,
      };
    }

    /** Validates the form the way the API validates a body; throws HeraldError with a message for the user. */
    async function checkedFields(values: WebhookFormValues, current: Webhook | null): Promise<Pick<WebhookFields, 'url' | 'description' | 'events' | 'headers' | 'enabled'>> {
      const fields = { url: values.url, description: values.description, events: splitEvents(values.events), headers: parseHeaders(values.headers), enabled: values.enabled };
      checkUrl(fields.url);
      const format = resolveFormat(ctx.profile.formats, current?.format ?? null, ctx.profile.defaultFormat);
      checkSubscriptions(fields.events, await catalogMap(), current?.events ?? []);
      checkHeaders(fields.headers, format);
      // A new URL's host must not be, or resolve to, an address the SSRF guard refuses (as in the API).
      if (fields.url !== current?.url) await checkUrlTarget(fields.url, ctx.targets);
      return fields;
    }

    app.get<{ Params: { org: string } }>('/orgs/:org/webhooks/new', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      const org = await visibleOrganization(session, request.params.org);
      const values = { url: '', description: '', events: '', headers: '', enabled: true };
      return send(reply, session.viewer, webhookFormPage(pageContext(request, session), org.id, values, null, await ctx.catalog.all()));
    });

    app.post<{ Params: { org: string } }>('/orgs/:org/webhooks', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const org = await visibleOrganization(post.session, request.params.org);
      const values = formValues(post.form);
      let fields;
      try {
        fields = await checkedFields(values, null);
      } catch (error) {
        if (!(error instanceof HeraldError) || error.status >= 500) throw error;
        const page = webhookFormPage(pageContext(request, post.session, { error: error.message }), org.id, values, null, await ctx.catalog.all());
        return send(reply, post.session.viewer, page, 422);
      }
      const format = resolveFormat(ctx.profile.formats, null, ctx.profile.defaultFormat);
      const id = newId('whk');
      const webhook = await insertWebhook(
        ctx.db,
        {
          ...fields,
          kind: 'standard',
          filters: {},
          format: null,
          rateLimit: null,
          timeoutMs: null,
          concurrency: null,
          retry: null,
          signing: 'hmac',
          metadata: {},
          id,
          organizationId: org.id,
          // Secrets are stored sealed, as the API stores them.
          secret: ctx.keyring.seal(newSecretFor(format, 'hmac'), id),
        },
        ctx.clock.now(),
      );
      ctx.webhookChanged(webhook.id);
      return reply.redirect(`${webhookUrl(org.id, webhook.id)}?notice=created`, 303);
    });

    async function showWebhook(request: FastifyRequest, reply: FastifyReply, session: Session, webhook: Webhook, secret: string | null, after: string | null) {
      const now = ctx.clock.now();
      const [deliveries, points] = await Promise.all([
        listDeliveries(ctx.db, webhook.organizationId, { webhookId: webhook.id }, { limit: 25, after }),
        webhookAttemptsSince(ctx.db, webhook.organizationId, webhook.id, now - 24 * 3_600_000),
      ]);
      const page = webhookPage(pageContext(request, session), { webhook, deliveries: deliveries.items, next: deliveries.next, buckets: bucketByHour(points, now), secret, now });
      return send(reply, session.viewer, page);
    }

    app.get<{ Params: { org: string; id: string }; Querystring: { after?: string } }>('/orgs/:org/webhooks/:id', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      const webhook = await visibleWebhook(session, request.params.org, request.params.id);
      return showWebhook(request, reply, session, webhook, null, request.query.after ?? null);
    });

    app.post<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id/secret', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const webhook = await visibleWebhook(post.session, request.params.org, request.params.id);
      const secrets = await getWebhookSecrets(ctx.db, webhook.organizationId, webhook.id);
      return showWebhook(request, reply, post.session, webhook, secrets ? ctx.keyring.open(secrets.current, webhook.id) : null, null);
    });

    app.get<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id/edit', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      const webhook = await visibleWebhook(session, request.params.org, request.params.id);
      return send(reply, session.viewer, webhookFormPage(pageContext(request, session), webhook.organizationId, valuesOf(webhook), webhook, await ctx.catalog.all()));
    });

    async function setEnabled(webhook: Webhook, enabled: boolean): Promise<void> {
      const now = ctx.clock.now();
      await ctx.db.transaction().execute(async (trx) => {
        await updateWebhook(trx, webhook.organizationId, webhook.id, { enabled }, now);
        if (!enabled && webhook.enabled) await skipPendingDeliveries(trx, webhook.id, now);
      });
      ctx.webhookChanged(webhook.id);
    }

    app.post<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const webhook = await visibleWebhook(post.session, request.params.org, request.params.id);
      const values = formValues(post.form);
      let fields;
      try {
        fields = await checkedFields(values, webhook);
      } catch (error) {
        if (!(error instanceof HeraldError) || error.status >= 500) throw error;
        const page = webhookFormPage(pageContext(request, post.session, { error: error.message }), webhook.organizationId, values, webhook, await ctx.catalog.all());
        return send(reply, post.session.viewer, page, 422);
      }
      const { enabled, ...rest } = fields;
      await updateWebhook(ctx.db, webhook.organizationId, webhook.id, rest, ctx.clock.now());
      if (enabled !== webhook.enabled) await setEnabled(webhook, enabled);
      ctx.webhookChanged(webhook.id);
      return reply.redirect(`${webhookUrl(webhook.organizationId, webhook.id)}?notice=saved`, 303);
    });

    for (const enabled of [true, false]) {
      app.post<{ Params: { org: string; id: string } }>(`/orgs/:org/webhooks/:id/${enabled ? 'enable' : 'disable'}`, async (request, reply) => {
        const post = await requirePost(request, reply);
        if (!post) return reply;
        const webhook = await visibleWebhook(post.session, request.params.org, request.params.id);
        await setEnabled(webhook, enabled);
        return reply.redirect(`${webhookUrl(webhook.organizationId, webhook.id)}?notice=${enabled ? 'enabled' : 'disabled'}`, 303);
      });
    }

    app.post<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id/rotate-secret', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const webhook = await visibleWebhook(post.session, request.params.org, request.params.id);
      const format = resolveFormat(ctx.profile.formats, webhook.format, ctx.profile.defaultFormat);
      const now = ctx.clock.now();
      const secret = ctx.keyring.seal(newSecretFor(format, webhook.signing), webhook.id);
      await rotateWebhookSecret(ctx.db, webhook.organizationId, webhook.id, secret, now + ctx.profile.delivery.rotationGraceS * 1000, now);
      ctx.webhookChanged(webhook.id);
      return reply.redirect(`${webhookUrl(webhook.organizationId, webhook.id)}?notice=rotated`, 303);
    });

    app.post<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id/test', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const webhook = await visibleWebhook(post.session, request.params.org, request.params.id);
      if (!webhook.enabled) throw new HeraldError(409, 'webhook_disabled', 'The webhook is disabled; enable it to send a test event.');
      const test = ctx.profile.testEvent;
      const type = await ctx.catalog.get(test.type);
      if (!type) throw new HeraldError(500, 'test_event_missing', `the profile's test event type ${test.type} is not in the catalog`);
      const now = ctx.clock.now();
      const result = await ctx.db
        .transaction()
        .execute((trx) => recordEvent(trx, { organizationId: webhook.organizationId, type: test.type, data: test.data }, type, now, { onlyTo: webhook }));
      ctx.deliveriesQueued([webhook.id]);
      const delivery = result.deliveries[0];
      const target = delivery ? `/orgs/${encodeURIComponent(webhook.organizationId)}/deliveries/${encodeURIComponent(delivery.id)}` : webhookUrl(webhook.organizationId, webhook.id);
      return reply.redirect(`${target}?notice=test-sent`, 303);
    });

    app.post<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id/recover', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const webhook = await visibleWebhook(post.session, request.params.org, request.params.id);
      if (!webhook.enabled) throw new HeraldError(409, 'webhook_disabled', 'The webhook is disabled; enable it before recovering.');
      const raw = formValue(post.form, 'since');
      const since = Date.parse(/Z|[+-]\d\d:\d\d$/.test(raw) ? raw : `${raw}Z`);
      const now = ctx.clock.now();
      if (!Number.isFinite(since) || since >= now) throw new HeraldError(422, 'invalid_window', 'Give a time in the past (UTC).');
      const count = await recoverDeliveries(ctx.db, webhook.id, since, now + 1, now);
      if (count > 0) ctx.deliveriesQueued([webhook.id]);
      return reply.redirect(`${webhookUrl(webhook.organizationId, webhook.id)}?notice=recovered`, 303);
    });

    app.get<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id/delete', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      const webhook = await visibleWebhook(session, request.params.org, request.params.id);
      return send(reply, session.viewer, deleteWebhookPage(pageContext(request, session), webhook));
    });

    app.post<{ Params: { org: string; id: string } }>('/orgs/:org/webhooks/:id/delete', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const webhook = await visibleWebhook(post.session, request.params.org, request.params.id);
      await ctx.db.transaction().execute((trx) => deleteWebhook(trx, webhook.organizationId, webhook.id, ctx.clock.now()));
      ctx.webhookChanged(webhook.id);
      return reply.redirect(`/orgs/${encodeURIComponent(webhook.organizationId)}?notice=deleted`, 303);
    });

    // ---- deliveries

    app.get<{ Params: { org: string; id: string } }>('/orgs/:org/deliveries/:id', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      const org = await visibleOrganization(session, request.params.org);
      const delivery = await getDelivery(ctx.db, org.id, request.params.id);
      if (!delivery) throw notFound('delivery', request.params.id);
      const [attempts, event, webhook] = await Promise.all([
        listAttempts(ctx.db, delivery.id),
        getEvent(ctx.db, org.id, delivery.eventId),
        getWebhook(ctx.db, org.id, delivery.webhookId),
      ]);
      return send(reply, session.viewer, deliveryPage(pageContext(request, session), { delivery, attempts, event, webhook }));
    });

    app.post<{ Params: { org: string; id: string } }>('/orgs/:org/deliveries/:id/resend', async (request, reply) => {
      const post = await requirePost(request, reply);
      if (!post) return reply;
      const org = await visibleOrganization(post.session, request.params.org);
      const outcome = await queueRetry(ctx.db, org.id, request.params.id, ctx.clock.now());
      if (outcome === 'not_found') throw notFound('delivery', request.params.id);
      if (outcome === 'in_flight') throw new HeraldError(409, 'attempt_in_flight', 'An attempt of this delivery is running right now; try again in a moment.');
      const delivery = await getDelivery(ctx.db, org.id, request.params.id);
      if (delivery) ctx.deliveriesQueued([delivery.webhookId]);
      return reply.redirect(`/orgs/${encodeURIComponent(org.id)}/deliveries/${encodeURIComponent(request.params.id)}?notice=resent`, 303);
    });

    // ---- event catalog

    async function showCatalog(request: FastifyRequest, reply: FastifyReply, session: Session, name: string) {
      const profiles = listBuiltInProfiles();
      if (!profiles.includes(ctx.profile.name)) profiles.unshift(ctx.profile.name);
      let types: EventType[];
      if (name === ctx.profile.name) {
        types = (await ctx.catalog.all()).filter((t) => !t.archived && !t.name.startsWith('herald.'));
      } else {
        // Only the built-in profiles by name: never a path from the URL.
        if (!profiles.includes(name)) throw notFound('profile', name);
        types = loadProfile(name).catalog;
      }
      return send(reply, session.viewer, catalogPage(pageContext(request, session), { profile: name, profiles, types, current: ctx.profile.name }));
    }

    app.get('/catalog', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      return showCatalog(request, reply, session, ctx.profile.name);
    });

    app.get<{ Params: { profile: string } }>('/catalog/:profile', async (request, reply) => {
      const session = await requireSession(request, reply);
      if (!session) return reply;
      return showCatalog(request, reply, session, request.params.profile);
    });
  };
}

/** A tiny page that moves on to `target` (same-site navigation, so the new Strict cookie is sent). */
function refreshPage(target: string, body: Html): Html {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${target}"><title>Herald</title><link rel="stylesheet" href="/dashboard.css"></head><body><main>${body}</main></body></html>`;
}

/** `POST /v1/organizations/:org/portal-links`: the operator's backend mints a one-time link to an organization's dashboard. */
export function portalLinkRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/organizations/:org/portal-links',
      {
        config: { access: 'operator' },
        schema: {
          tags: ['portal'],
          summary: "Create a one-time link that opens this organization's dashboard",
          params: OrgParams,
          body: Type.Optional(
            Type.Object(
              { expiresInS: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400, description: 'How long the link may be used; default 600' })) },
              { additionalProperties: false },
            ),
          ),
          response: { 201: Type.Object({ url: Type.String(), expiresAt: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = request.params.org;
        if (!(await getOrganization(ctx.db, org))) throw notFound('organization', org);
        const ttlS = request.body?.expiresInS ?? DEFAULT_PORTAL_LINK_TTL_S;
        const link = await createPortalLink(ctx.db, org, ttlS * 1000, ctx.clock.now());
        const url = `${request.protocol}://${request.host}/portal/${link.token}`;
        return reply.status(201).send({ url, expiresAt: new Date(link.expiresAt).toISOString() });
      },
    );
  };
}
