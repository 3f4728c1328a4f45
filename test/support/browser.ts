import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium (apt-get install chromium; .ci/run installs it). */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * A headless Chromium for the page tests. The background-networking flags keep
 * it from dialling out (this machine's network is closed; every refused
 * connection costs time). Playwright gives it a fresh temporary profile.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser, close: () => browser.close() };
}

/** Where page tests leave their screenshots (CI keeps the workspace; people look at them). */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'test-results');
