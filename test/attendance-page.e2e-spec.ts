import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ApiClient, createCommunity, createDevice, createResidentWithCard } from './support/api-client';
import { SCREENSHOT_DIR, launchBrowser } from './support/browser';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(120_000);

describe(`the live attendance page, in a real browser — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let terminal: TestDevice;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  afterAll(async () => {
    await terminal?.close();
    await closeBrowser?.();
    await gateway?.dispose();
  });

  it('shows a tap through the broker without a reload: who is in, then who has left, with the counts', async () => {
    const api = new ApiClient(gateway.baseUrl);
    const communityId = await createCommunity(api, '页面社区');
    await api.ok('POST', `/api/v1/communities/${communityId}/activity-categories/defaults`);
    const siteId = (await api.ok<{ id: string }>('POST', `/api/v1/communities/${communityId}/sites`, { name: '文化广场' })).id;
    const device = await createDevice(api, communityId, 'terminal');
    await api.ok('PUT', `/api/v1/sites/${siteId}/terminals/${device.id}`);
    terminal = await TestDevice.connectRegistered(gateway.mqttUrl, device);
    const start = Math.floor(Date.now() / 60_000) * 60_000 - 50 * 60_000;
    const activity = await api.ok<{ id: string }>('POST', '/api/v1/activities', {
      communityId,
      siteId,
      categoryCode: 'C06-01',
      title: '夜间治安巡逻',
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 120 * 60_000).toISOString(),
      closesAfterMinutes: 60,
      policy: { kind: 'hours', pointsPerHour: 10, roundingMinutes: 15, minimumMinutes: 30 },
    });
    const resident = await createResidentWithCard(api, communityId, '欧阳娜娜');

    const page = await browser.newPage({ locale: 'zh-CN' });
    await page.goto(`${gateway.baseUrl}/ui/attendance.html?community=${communityId}&activity=${activity.id}`);
    await page.fill('input[name=token]', TEST_ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('#sheet:not([hidden])');
    await page.waitForSelector('#state.live');
    expect(await page.textContent('#count-total')).toBe('0');
    expect(await page.textContent('#activity-title')).toContain('夜间治安巡逻');

    // A tap at the terminal: the page shows the resident in, without reloading.
    let loads = 0;
    page.on('load', () => (loads += 1));
    const ack = await terminal.send({
      eventId: 'page-tap-1',
      seq: 1,
      occurredAt: new Date(start - 5 * 60_000).toISOString(),
      type: 'tap',
      cardUid: resident.cardUid,
    });
    expect(ack.result).toBe('credited');
    await page.waitForSelector(`#in tr[data-resident="${resident.residentId}"]`, { timeout: 10_000 });
    expect(await page.textContent('#count-in')).toBe('1');
    expect(await page.textContent('#in tbody')).toContain('欧阳娜娜');

    // The check-out: the resident moves to "left" with 45 minutes and 7 points.
    await terminal.send({
      eventId: 'page-tap-2',
      seq: 2,
      occurredAt: new Date(start + 45 * 60_000).toISOString(),
      type: 'tap',
      cardUid: resident.cardUid,
    });
    await page.waitForSelector(`#out tr[data-resident="${resident.residentId}"]`, { timeout: 10_000 });
    expect(await page.textContent('#count-in')).toBe('0');
    expect(await page.textContent('#count-out')).toBe('1');
    const cells = await page.locator(`#out tr[data-resident="${resident.residentId}"] td`).allTextContents();
    expect(cells.slice(3)).toEqual(['45', '7']);
    expect(loads).toBe(0);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'attendance-live.png'), fullPage: true });
    await page.close();
  });
});
