import { html, type Html, type Part } from './html.js';
import type { Viewer } from './store.js';

export interface PageContext {
  viewer: Viewer | null;
  csrfToken: string;
  /** One-line message after an action (from the `?notice=` of a redirect). */
  notice?: string | undefined;
  error?: string | undefined;
}

/** A hidden CSRF field and the form around it; every state-changing form goes through here. */
export function form(ctx: PageContext, action: string, body: Part, attrs: { className?: string } = {}): Html {
  return html`<form method="post" action="${action}"${attrs.className ? html` class="${attrs.className}"` : null}><input type="hidden" name="_csrf" value="${ctx.csrfToken}">${body}</form>`;
}

/** A one-button form. */
export function button(ctx: PageContext, action: string, label: string, className = ''): Html {
  return form(ctx, action, html`<button type="submit" class="${className}">${label}</button>`);
}

export function statusBadge(status: string): Html {
  return html`<span class="badge s-${status}">${status}</span>`;
}

export function layout(ctx: PageContext, title: string, body: Part): Html {
  const viewer = ctx.viewer;
  const nav =
    viewer === null
      ? null
      : viewer.kind === 'operator'
        ? html`<a href="/orgs">Organizations</a><a href="/catalog">Event catalog</a>`
        : html`<a href="/orgs/${encodeURIComponent(viewer.organizationId)}">Webhooks</a><a href="/catalog">Event catalog</a>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Herald</title><link rel="stylesheet" href="/dashboard.css"></head>
<body><header class="top"><a class="brand" href="/">Herald</a>${nav}${
    viewer !== null ? form(ctx, '/logout', html`<button type="submit">Log out</button>`) : null
  }</header>
<main>${ctx.notice ? html`<p class="flash" role="status">${ctx.notice}</p>` : null}${ctx.error ? html`<p class="flash error" role="alert">${ctx.error}</p>` : null}${body}</main></body></html>`;
}
