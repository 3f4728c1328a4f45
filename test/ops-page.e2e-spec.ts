import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Browser } from 'playwright-core';
import { deviceTopic } from '../libs/protocol/src';
import { ApiClient, createCommunity, createDevice } from './support/api-client';
import { SCREENSHOT_DIR, launchBrowser } from './support/browser';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { isScaled } from './support/test-mode';

jest.setTimeout(120_000);

describe('the ops page (in a real browser)', () => {
  let gateway: GatewayProcess;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({
      // Heartbeat 2 s: silent for 3 s means offline; the offline alert 1 s later.
      env: { HEALTH_HEARTBEAT_SECONDS: '2', HEALTH_TICK_MS: '200', ALERT_OFFLINE_SECONDS: '1', HEALTH_SAMPLE_SECONDS: '1' },
    });
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  afterAll(async () => {
    await closeBrowser?.();
    await gateway?.dispose();
  });

  it('shows a device going offline live, and its alert acknowledged from the page', async () => {
    const api = new ApiClient(gateway.baseUrl);
    const communityId = await createCommunity(api);
    const registered = await createDevice(api, communityId, 'bin');
    await api.ok('PATCH', `/api/v1/fleet/${registered.id}/settings`, { site: '北门' });
    // The link stays up (keep-alive pings) after the readings: only silence takes the device offline.
    const device = mqtt.connect(gateway.mqttUrl, {
      clientId: registered.id,
      username: registered.id,
      password: registered.password,
      protocolVersion: isScaled ? 5 : 4,
      keepalive: 1,
      reconnectPeriod: 0,
    });
    await new Promise((resolve) => device.once('connect', resolve));
    await device.publishAsync(deviceTopic(registered.id, 'status'), '{"state":"online"}', { qos: 1, retain: true });

    const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    await page.goto(`${gateway.baseUrl}/ui/ops.html`);
    await page.fill('input[name=token]', TEST_ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('#ops:not([hidden])');
    expect(await page.textContent('h1')).toBe('设备运维');
    const row = `#fleet tr[data-device="${registered.id}"]`;

    for (const fill of [40, 55, 70]) {
      await device.publishAsync(deviceTopic(registered.id, 'telemetry'), JSON.stringify({ fillPercent: fill, temperatureC: 18 }), {
        qos: 1,
      });
      await new Promise((r) => setTimeout(r, 300));
    }
    await page.waitForSelector(`${row} [data-state=online]`, { timeout: 15_000 });
    expect(await page.textContent(`${row} td:nth-child(3)`)).toBe('北门');
    await page.evaluate('window.notReloaded = true');

    // Silence: offline within 1.5 heartbeats (+ a tick and the stream's half-second batching).
    const silentSince = Date.now();
    await page.waitForSelector(`${row} [data-state=offline]`, { timeout: 10_000 });
    const offlineAfterMs = Date.now() - silentSince;
    expect(offlineAfterMs).toBeLessThan(6000);
    expect(device.connected).toBe(true);
    expect(await page.evaluate('window.notReloaded === true')).toBe(true);

    const alertItem = `#alerts li[data-subject="${registered.id}"][data-cause=offline]`;
    await page.waitForSelector(alertItem, { timeout: 10_000 });
    await page.click(`${alertItem} button[data-action=acknowledge]`);
    await page.waitForSelector(`${alertItem}[data-status=acknowledged]`, { timeout: 15_000 });
    const alerts = await api.ok<{ alerts: { cause: string; status: string; acknowledgedBy: string }[] }>(
      'GET',
      `/api/v1/alerts?deviceId=${registered.id}&cause=offline`,
    );
    expect(alerts.alerts).toEqual([expect.objectContaining({ status: 'acknowledged', acknowledgedBy: 'staff:bootstrap' })]);

    // The detail: status history with its reasons and the telemetry chart.
    await page.click(row);
    await page.waitForSelector('#detail:not([hidden]) .history li[data-reason=timeout]');
    expect(await page.locator('#detail .history li').count()).toBeGreaterThanOrEqual(2);
    await page.waitForSelector('#detail .uplot canvas');
    await page.click('#detail button[data-command=reboot]');
    await page.waitForFunction("(document.querySelector('#detail .commands .result')?.textContent ?? '…') !== '…'");

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'ops-page.png'), fullPage: true });
    await page.close();
    device.end(true);
  });
});
