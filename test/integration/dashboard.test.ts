import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface Page {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A cookie jar of one: the dashboard needs only its session (and login) cookie. */
class Browser {
  cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async go(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Page> {
    const response = await request(path.startsWith('http') ? path : `${this.base}${path}`, {
      method,
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const setCookie = response.headers['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/.test(line)) this.cookies.delete(pair!.slice(0, eq));
      else this.cookies.set(pair!.slice(0, eq), value);
    }
    return { status: response.statusCode, body: await response.body.text(), headers: response.headers };
  }

  csrf(page: Page): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(page.body);
    if (!match?.[1]) throw new Error('no CSRF field on the page');
    return match[1];
  }
}

async function loginAsOperator(h: TestHerald): Promise<Browser> {
  const b = new Browser(h.url);
  const login = await b.go('GET', '/login');
  const answer = await b.go('POST', '/login', { _csrf: b.csrf(login), token: h.token });
  expect(answer.status).toBe(303);
  expect(answer.headers.location).toBe('/orgs');
  return b;
}

describe('dashboard', () => {
  let h: TestHerald;
  let receiver: Receiver;

  beforeEach(async () => {
    h = await startHerald();
    receiver = await startReceiver();
    await h.call('POST', '/v1/organizations', { id: 'acme', name: 'Acme <Corp>' });
    await h.call('POST', '/v1/organizations', { id: 'globex' });
  });
  afterEach(async () => {
    await h.stop();
    await receiver.close();
  });

  it('logs the operator in with the admin token: HttpOnly SameSite=Strict cookie, never framed', async () => {
    const anonymous = new Browser(h.url);
    expect((await anonymous.go('GET', '/orgs')).headers.location).toBe('/login');
    const login = await anonymous.go('GET', '/login');
    const wrong = await anonymous.go('POST', '/login', { _csrf: anonymous.csrf(login), token: 'nope' });
    expect(wrong.status).toBe(401);
    const noCsrf = await new Browser(h.url).go('POST', '/login', { token: h.token });
    expect(noCsrf.status).toBe(403);

    const b = new Browser(h.url);
    const form = await b.go('GET', '/login');
    const ok = await b.go('POST', '/login', { _csrf: b.csrf(form), token: h.token });
    const cookie = ([] as string[]).concat(ok.headers['set-cookie'] ?? []).find((c) => c.startsWith('herald_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const orgs = await b.go('GET', '/orgs');
    expect(orgs.status).toBe(200);
    expect(orgs.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(orgs.body).toContain('Acme &lt;Corp&gt;');
    expect(orgs.body).not.toContain('Acme <Corp>');
  });

  it('refuses a form without its CSRF token', async () => {
    const b = await loginAsOperator(h);
    const created = await b.go('POST', '/orgs/acme/webhooks', { url: `${receiver.url}/hook` });
    expect(created.status).toBe(403);
    const list = await h.call<{ data: unknown[] }>('GET', '/v1/organizations/acme/webhooks');
    expect(list.body.data).toHaveLength(0);
  });

  it('opens one organization through a one-time portal link, and only that organization', async () => {
    const minted = await h.call<{ url: string }>('POST', '/v1/organizations/acme/portal-links', { expiresInS: 60 });
    expect(minted.status).toBe(201);
    expect(minted.body.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/portal\//);
    expect((await h.call('POST', '/v1/organizations/nobody/portal-links', {})).status).toBe(404);

    const b = new Browser(h.url);
    const opened = await b.go('GET', minted.body.url);
    expect(opened.status).toBe(200);
    expect(opened.body).toContain('url=/orgs/acme');
    const page = await b.go('GET', '/orgs/acme');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(page.headers['x-frame-options']).toBeUndefined();

    expect((await b.go('GET', '/orgs/globex')).status).toBe(404);
    expect((await b.go('GET', '/orgs')).status).toBe(404);
    const hook = await h.call<{ id: string }>('POST', '/v1/organizations/globex/webhooks', { url: `${receiver.url}/g` });
    expect((await b.go('GET', `/orgs/globex/webhooks/${hook.body.id}`)).status).toBe(404);
    expect((await b.go('GET', `/orgs/acme/webhooks/${hook.body.id}`)).status).toBe(404);

    // One time only.
    expect((await new Browser(h.url).go('GET', minted.body.url)).status).toBe(404);
  });

  it('shows what a receiver answered escaped, never as markup', async () => {
    receiver.respond({ kind: 'status', status: 500, body: '<script>alert(1)</script>', headers: { 'x-evil': '<img src=x onerror=alert(2)>' } });
    const b = await loginAsOperator(h);
    const page = await b.go('GET', '/orgs/acme/webhooks/new');
    const created = await b.go('POST', '/orgs/acme/webhooks', { _csrf: b.csrf(page), url: `${receiver.url}/hook`, description: '"><b>x</b>', events: '', headers: '', enabled: 'on' });
    expect(created.status).toBe(303);
    const webhookPath = String(created.headers.location).replace(/\?.*$/, '');
    const webhookPage = await b.go('GET', webhookPath);
    expect(webhookPage.body).toContain('&quot;&gt;&lt;b&gt;x&lt;/b&gt;');
    const sent = await b.go('POST', `${webhookPath}/test`, { _csrf: b.csrf(webhookPage) });
    expect(sent.status).toBe(303);
    const deliveryPath = String(sent.headers.location).replace(/\?.*$/, '');
    const delivery = await eventually(async () => {
      const p = await b.go('GET', deliveryPath);
      return p.body.includes('Attempt #1') ? p : undefined;
    });
    expect(delivery.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(delivery.body).not.toContain('<script>');
    expect(delivery.body).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(delivery.body).not.toContain('<img');
  });
});

describe('dashboard embedding', () => {
  it('lets the configured origins frame portal pages, with a cookie a third-party iframe can send', async () => {
    const h = await startHerald({ env: { HERALD_DASHBOARD_FRAME_ANCESTORS: 'https://app.example.com' } });
    try {
      await h.call('POST', '/v1/organizations', { id: 'acme' });
      const minted = await h.call<{ url: string }>('POST', '/v1/organizations/acme/portal-links', {});
      const b = new Browser(h.url);
      const opened = await b.go('GET', minted.body.url);
      expect(opened.headers['content-security-policy']).toContain('frame-ancestors https://app.example.com');
      expect(String(opened.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=None; Secure; Partitioned/);
      const login = await new Browser(h.url).go('GET', '/login');
      expect(login.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(login.headers['x-frame-options']).toBe('DENY');
    } finally {
      await h.stop();
    }
  });
});
