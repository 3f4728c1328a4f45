import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { SCREENSHOT_DIR, launchBrowser } from './support/browser';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';

jest.setTimeout(90_000);

describe('the web pages (served by the gateway, in a real browser)', () => {
  let gateway: GatewayProcess;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  afterAll(async () => {
    await closeBrowser?.();
    await gateway?.dispose();
  });

  it('serves the pages, their shared script and the charting library', async () => {
    const script = await fetch(`${gateway.baseUrl}/ui/lib/jifen.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const uplot = await fetch(`${gateway.baseUrl}/ui/vendor/uplot/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(await uplot.text()).toContain('uPlot');
    expect((await fetch(`${gateway.baseUrl}/ui/no-such-page.html`)).status).toBe(404);
  });

  it('answers liveness and readiness without a token', async () => {
    const live = await fetch(`${gateway.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'alive' });
    const ready = await fetch(`${gateway.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', broker: true, database: true, subscriptions: true });
  });

  it('GET /api/v1/me names the token holder, and refuses without a token', async () => {
    const me = await fetch(`${gateway.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ name: 'bootstrap', role: 'admin', label: 'staff:bootstrap', communityId: null });
    expect((await fetch(`${gateway.baseUrl}/api/v1/me`)).status).toBe(401);
  });

  it('signs in with a token: a wrong one is refused with a message, the right one shows who is signed in', async () => {
    const page = await browser.newPage({ locale: 'zh-CN' });
    await page.goto(`${gateway.baseUrl}/ui/`);
    await page.fill('input[name=token]', 'not-a-real-token-000000000000');
    await page.click('button[type=submit]');
    await page.waitForSelector('.jifen-login .error:not(:empty)');
    expect(await page.textContent('.jifen-login .error')).toBe('令牌无效或已停用');

    await page.fill('input[name=token]', TEST_ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('main:not([hidden])');
    expect(await page.textContent('#who')).toBe('bootstrap (admin)');
    expect(await page.locator('nav a').allTextContents()).toEqual(['设备运维', '活动签到', '接口文档']);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'web-index.png') });

    // The token is kept for the tab: a reload does not ask again.
    await page.reload();
    await page.waitForSelector('main:not([hidden])');
    expect(await page.locator('.jifen-login').count()).toBe(0);
    await page.close();
  });
});
