import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { topics } from '../../core/src/topics.ts';
import { loadCatalogue } from '../../core/src/agents.ts';
import { dict } from '../../dashboard/src/i18n.ts';
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
  /** Content-Security-Policy violations reported by any page (the board must run under its CSP). */
  const cspViolations: string[] = [];

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
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    const res = await page.goto(`http://127.0.0.1:${hw.httpPort}/`);
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
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

    // Acknowledge in the township session, with a note, in the board's own dialog.
    await township.click(`${row} button.ack`);
    await township.waitForSelector('#action-dialog[open]');
    expect(await township.isVisible('#reason-wrap')).toBe(false);
    await township.fill('#action-dialog textarea[name=note]', '现场已通风，复测中');
    await township.screenshot({ path: join(ARTIFACTS, 'board-ack-dialog.png') });
    await township.click('#action-confirm');
    await township.waitForSelector(`${row}[data-state=acknowledged]`);
    // The district session sees it change, live, without reloading.
    await district.waitForSelector(`${row}[data-state=acknowledged]`, { timeout: 10_000 });
    expect(await district.textContent(row)).toContain('township');
    await district.screenshot({ path: join(ARTIFACTS, 'board-acknowledged-district.png') });

    // The district regulator resolves it with a reason; it leaves both boards.
    await district.click(`${row} button.resolve`);
    await district.waitForSelector('#action-dialog[open]');
    await district.selectOption('#action-dialog select[name=reason]', 'exceedance');
    await district.fill('#action-dialog textarea[name=note]', '已责令停产整改');
    await district.click('#action-confirm');
    await district.waitForSelector(row, { state: 'detached' });
    await township.waitForSelector(row, { state: 'detached', timeout: 10_000 });
    const audit = await (await fetch(`http://127.0.0.1:${hw.httpPort}/api/audit`, { headers: { authorization: `Bearer ${await township.evaluate(() => sessionStorage.getItem('hw.token'))}` } })).json() as { kind: string; by: string; reason?: string; note: string }[];
    expect(audit.slice(0, 2).map((e) => [e.kind, e.by, e.reason ?? null, e.note])).toEqual([['resolved', 'district', 'exceedance', '已责令停产整改'], ['acknowledged', 'township', null, '现场已通风，复测中']]);
  });

  it('names the hazard in Chinese and English (not its key), states the rule in words, dates every time, and opens the alert\'s whole history', async () => {
    const agent = loadCatalogue().agents.get('dust.cement.total')!;
    const township = await loggedIn('township');
    await gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: Date.now(), readings: [{ sensor: 'cement-liguo.dust-total-1', value: 60, unit: 'mg/m3' }] }), { qos: 1 });
    const row = 'tr[data-alert-id^="cement-liguo.dust-total-1:peak:"]';
    await township.waitForSelector(`${row}[data-state=open]`, { timeout: 10_000 });
    expect(await township.textContent(`${row} td.col-agent`)).toBe(agent.name);
    // Shown on the laptop screen, not hidden as a column that does not fit.
    expect(await township.isVisible(`${row} td.col-agent`)).toBe(true);
    expect(await township.isVisible(`${row} td.col-rule`)).toBe(true);
    expect(await township.textContent(`${row} td.col-rule`)).toBe(dict.zh['rule-peak']);
    expect(await township.textContent('#alert-rows')).not.toContain('dust.cement.total');
    // A date on the time, not only hh:mm.
    const since = (await township.textContent(`${row} td.col-since`))!;
    expect(since).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(since.slice(0, 4)).toBe(String(new Date().getFullYear()));

    // Acknowledge and comment through the board, then open the history.
    await township.click(`${row} button.ack`);
    await township.fill('#action-dialog textarea[name=note]', '已佩戴防尘口罩');
    await township.click('#action-confirm');
    await township.waitForSelector(`${row}[data-state=acknowledged]`);
    await township.click(`${row} button.comment`);
    await township.fill('#action-dialog textarea[name=note]', '除尘器滤袋已更换');
    await township.click('#action-confirm');
    await township.waitForSelector('#action-dialog[open]', { state: 'detached' });
    await township.click(`${row} button.history`);
    await township.waitForSelector('#history-dialog[open] #history-events li[data-kind=commented]');
    const events = await township.$$eval('#history-events li', (lis) => lis.map((li) => ({ kind: (li as HTMLElement).dataset.kind, text: li.textContent ?? '', time: li.querySelector('time')?.textContent ?? '' })));
    expect(events.map((e) => e.kind)).toEqual(['raised', 'acknowledged', 'commented']);
    for (const e of events) expect(e.time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(events[0]!.text).toContain(dict.zh['event-raised']);
    expect(events[1]!.text).toContain('township');
    expect(events[1]!.text).toContain('已佩戴防尘口罩');
    expect(events[2]!.text).toContain('除尘器滤袋已更换');
    expect(await township.textContent('#history-alert')).toContain(agent.name);
    await township.screenshot({ path: join(ARTIFACTS, 'alert-history-dialog.png') });
    await township.click('#history-close');

    // English: the English name and rule.
    await township.click('#lang');
    expect(await township.textContent(`${row} td.col-agent`)).toBe(agent.nameEn);
    expect(await township.textContent(`${row} td.col-rule`)).toBe(dict.en['rule-peak']);
    await township.click(`${row} button.history`);
    await township.waitForSelector('#history-dialog[open] #history-events li[data-kind=acknowledged]');
    expect(await township.textContent('#history-events li[data-kind=acknowledged]')).toContain(dict.en['event-acknowledged']);
    await township.click('#history-close');
    await township.click('#lang');
  });

  it('an enterprise officer sees no resolve button; the officer can acknowledge but resolving is for regulators', async () => {
    const officer = await loggedIn('officer');
    expect(await officer.isVisible('#filter-wrap')).toBe(false);
    const rows = await officer.$$eval('#alert-rows tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.alertId ?? ''));
    expect(rows.every((id) => id.startsWith('cement-liguo.'))).toBe(true);
    expect(await officer.$$('#alert-rows button.resolve')).toHaveLength(0);
  });

  it('lists enterprises with grades, draws a sensor trend with its limit lines and live readings, shows the plan KPI, and filters by jurisdiction', async () => {
    const city = await loggedIn('city');
    await city.click('#tabs button[data-tab=enterprises]');
    await city.waitForSelector('#enterprise-rows tr[data-enterprise-id=cement-liguo]');
    expect(await city.$$('#enterprise-rows tr')).toHaveLength(6);
    await city.waitForFunction(() => /^[0ⅠⅡⅢⅣ]$/.test(document.querySelector('#enterprise-rows tr[data-enterprise-id=cement-liguo] .grade')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await city.screenshot({ path: join(ARTIFACTS, 'enterprises-1366x768.png') });

    // Jurisdiction filter: Dawu subdistrict only.
    await city.selectOption('#jurisdiction', 'xz-jiawang-dawu');
    expect(await city.$$eval('#enterprise-rows tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.enterpriseId))).toEqual(['chem-dawu', 'furniture-dawu']);
    await city.selectOption('#jurisdiction', '');

    // Sensor view: SO2 at the cement plant, history plus live, with PC-TWA and PC-STEL lines.
    await city.click('#enterprise-rows tr[data-enterprise-id=cement-liguo] a');
    await city.waitForSelector('#sensor-rows li[data-sensor-id="cement-liguo.so2-1"]');
    await city.click('#sensor-rows li[data-sensor-id="cement-liguo.so2-1"]');
    // The chart of this sensor, not of the one the view opened first (a horizontal line has no height: attached, not 'visible').
    await city.waitForSelector('#chart[data-sensor-id="cement-liguo.so2-1"] line[data-limit=pcTwa]', { state: 'attached' });
    expect(await city.$$('#chart line[data-limit=pcStel]')).toHaveLength(1);
    // The simulated gateway keeps publishing: live points arrive over the socket.
    await city.waitForSelector('#chart polyline.live', { state: 'attached', timeout: 15_000 });
    await city.waitForFunction(() => (document.querySelector('#chart polyline.live')?.getAttribute('points') ?? '').split(' ').length >= 2, undefined, { timeout: 15_000 });
    expect(await city.textContent('#chart-legend')).toContain('PC-STEL');
    await city.screenshot({ path: join(ARTIFACTS, 'sensor-trend-1366x768.png') });

    // Plan KPI against the target.
    await city.click('#tabs button[data-tab=kpi]');
    await city.waitForSelector('#kpi-rows tr[data-jurisdiction-id=xz]');
    expect(await city.textContent('#kpi-rows tr[data-jurisdiction-id=xz]')).toMatch(/\d+\.\d%.*85%/);
    expect(await city.$$('#kpi-rows tr')).toHaveLength(6);
    await city.screenshot({ path: join(ARTIFACTS, 'kpi-1366x768.png') });
    // Nothing overflows sideways on the laptop.
    expect(await city.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
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

  it('runs the whole board under its Content-Security-Policy: no violation in any page of this file', async () => {
    const page = await loggedIn('township');
    await page.click('[data-tab=sensors]');
    await page.waitForTimeout(1000);
    expect(cspViolations).toEqual([]);
  });
});
