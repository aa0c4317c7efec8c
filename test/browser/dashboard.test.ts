/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core,
 * headless, talking only to 127.0.0.1. Saves the screenshots the README shows.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load-profile.js';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Reloads until `selector` shows `text` (the dashboard has no live updates without JavaScript). */
async function reloadUntil(page: Page, selector: string, text: string | RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const contents = await page.locator(selector).allTextContents();
    if (contents.some((c) => (typeof text === 'string' ? c.includes(text) : text.test(c)))) return;
    if (Date.now() > deadline) throw new Error(`"${selector}" never showed ${String(text)}; last: ${JSON.stringify(contents)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await page.reload();
  }
}

describe('dashboard in a browser', () => {
  let h: TestHerald;
  let receiver: Receiver;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    h = await startHerald();
    receiver = await startReceiver();
    await h.call('POST', '/v1/organizations', { id: 'acme', name: 'Acme Inc.' });
    await h.call('POST', '/v1/organizations', { id: 'globex', name: 'Globex' });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await h?.stop();
  });

  it('logs in, creates a webhook, sends a test event, resends after the receiver fails', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${h.url}/`);
    await expect.poll(() => page.url()).toContain('/login');
    await shot(page, 'login', false);
    await page.fill('#token', h.token);
    await page.click('button:has-text("Log in")');
    await page.waitForURL(/\/orgs$/);
    await shot(page, 'organizations');

    await page.click('a:has-text("acme")');
    await page.waitForURL(/\/orgs\/acme$/);
    await page.click('text=Add a webhook');
    await page.fill('#url', `${receiver.url}/hook`);
    await page.fill('#description', 'deploy notifications');
    await page.click('button:has-text("Create webhook")');
    await page.waitForURL(/\/orgs\/acme\/webhooks\/whk_[^/]+\?notice=created$/);
    const webhookUrl = page.url().replace(/\?.*$/, '');

    await page.click('button:has-text("Send test event")');
    await page.waitForURL(/\/orgs\/acme\/deliveries\/dlv_/);
    await reloadUntil(page, "h1 .badge", "succeeded").catch(async (e: unknown) => { console.log(await page.locator("main").innerText()); throw e; });
    expect(receiver.requests).toHaveLength(1);
    // Open its attempt: request and response side by side.
    const first = page.locator('#attempt-1');
    await expect.poll(() => first.getAttribute('open')).not.toBeNull();
    expect(await first.locator('summary').textContent()).toContain('HTTP 200');
    expect(await first.locator('.request-body').textContent()).toContain('"type"');
    await shot(page, 'delivery-succeeded');

    // The receiver starts failing; resend makes a second attempt that shows the failure.
    receiver.respond({ kind: 'status', status: 500, body: '{"error":"database is down"}' });
    await page.click('button:has-text("Resend")');
    await page.waitForURL(/notice=resent/);
    await reloadUntil(page, 'details.attempt summary', 'Attempt #2');
    const second = page.locator('#attempt-2');
    expect(await second.locator('summary').textContent()).toContain('HTTP 500');
    expect(await second.locator('.response-body').textContent()).toContain('"error": "database is down"');
    expect(await page.locator('#attempt-1').count()).toBe(1);
    expect(await page.locator('svg.timeline circle').count()).toBeGreaterThanOrEqual(2);
    await shot(page, 'delivery-attempts');

    await page.goto(webhookUrl);
    expect(await page.locator('svg.chart').count()).toBe(2);
    await shot(page, 'webhook');
    await context.close();
  });

  it('opens a portal link as an organization and cannot see another one', async () => {
    const minted = await h.call<{ url: string }>('POST', '/v1/organizations/globex/portal-links', { expiresInS: 120 });
    expect(minted.status).toBe(201);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(minted.body.url);
    await page.waitForURL(/\/orgs\/globex$/);
    expect(await page.locator('h1').textContent()).toContain('Globex');
    await shot(page, 'portal');

    const other = await page.goto(`${h.url}/orgs/acme`);
    expect(other?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toContain('Not found');
    expect((await page.goto(`${h.url}/orgs`))?.status()).toBe(404);

    // The link was for one use only.
    const again = await (await browser.newContext()).newPage();
    expect((await again.goto(minted.body.url))?.status()).toBe(404);
    await context.close();
  });

  it("lists every type of the vercel profile on its catalog page", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${h.url}/login`);
    await page.fill('#token', h.token);
    await page.click('button:has-text("Log in")');
    await page.waitForURL(/\/orgs$/);
    await page.goto(`${h.url}/catalog/vercel`);
    const shown = new Set(await page.locator('article.event-type h3 code').allTextContents());
    const expected = loadProfile('vercel').catalog.map((t) => t.name);
    expect(expected.length).toBeGreaterThan(5);
    for (const name of expected) expect(shown, name).toContain(name);
    expect(await page.locator('table.fields').count()).toBeGreaterThan(0);
    await shot(page, 'catalog', false);
    await context.close();
  });
});
