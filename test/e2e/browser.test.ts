import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../clients.ts';
import { spawnAll, type SpawnedAll } from '../spawn-all.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Build the dashboard if dist/ is missing or older than its sources. */
function ensureDashboardBuilt() {
  const dist = join(ROOT, 'dashboard/dist/index.html');
  const newest = (dir: string): number => Math.max(...readdirSync(dir, { withFileTypes: true }).map((d) => (d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs)));
  const sources = Math.max(newest(join(ROOT, 'dashboard/src')), statSync(join(ROOT, 'dashboard/index.html')).mtimeMs);
  if (!existsSync(dist) || statSync(dist).mtimeMs < sources) execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * The regulator's board in real headless Chromium (Debian's), against the all-in-one
 * with its simulated gateways running, plus one gateway of the test's own to make a
 * deterministic red alert.
 */
describe('dashboard in Chromium', () => {
  let hw: SpawnedAll;
  let browser: Browser;
  let gw: MqttClient;

  beforeAll(async () => {
    ensureDashboardBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    hw = await spawnAll({ HW_SIMULATE_ENABLED: 'true', HW_SIMULATE_INCIDENT_EVERY_S: '0', HW_SIMULATE_INTERVAL_MS: '1000' });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    gw = await connectGateway(hw.mqttPort, 'cement-liguo');
  });
  afterAll(async () => {
    await gw?.endAsync();
    await browser?.close();
    expect(await hw?.stop()).toBe(0);
  });

  async function loggedIn(username: string, viewport = { width: 1366, height: 768 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${hw.httpPort}/`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', 'hazardwatch');
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#board:not([hidden])');
    await page.waitForSelector('#conn[data-state=on]');
    return page;
  }

  it('shows a red alert live to two regulators, and an acknowledgement in one session reaches the other', async () => {
    const township = await loggedIn('township');
    const district = await loggedIn('district');
    // Chinese by default.
    expect(await township.textContent('h1')).toContain('职业病危害');

    const sentAt = Date.now();
    await gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: sentAt, readings: [{ sensor: 'cement-liguo.dust-resp-1', value: 9, unit: 'mg/m3' }] }), { qos: 1 });
    const row = 'tr[data-alert-id^="cement-liguo.dust-resp-1:peak:"]';
    await township.waitForSelector(`${row}[data-state=open]`, { timeout: 10_000 });
    await district.waitForSelector(`${row}[data-state=open]`, { timeout: 10_000 });
    // Impossible to miss: the red banner is shown and the row is marked red.
    expect(await township.isVisible('#red-banner')).toBe(true);
    expect(await township.getAttribute(row, 'class')).toContain('level-red');
    await township.screenshot({ path: join(ARTIFACTS, 'board-red-1366x768.png') });

    // Acknowledge in the township session, with a note.
    township.once('dialog', (d) => void d.accept('现场已通风，复测中'));
    await township.click(`${row} button.ack`);
    await township.waitForSelector(`${row}[data-state=acknowledged]`);
    // The district session sees it change, live, without reloading.
    await district.waitForSelector(`${row}[data-state=acknowledged]`, { timeout: 10_000 });
    expect(await district.textContent(row)).toContain('township');
    await district.screenshot({ path: join(ARTIFACTS, 'board-acknowledged-district.png') });
  });

  it('switches to English, and lays out on a wall display', async () => {
    const page = await loggedIn('city', { width: 1920, height: 1080 });
    await page.click('#lang');
    expect(await page.textContent('h1')).toContain('Workplace hazard monitoring');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    // No horizontal scrolling on the wall display.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'board-en-1920x1080.png') });
  });
});
