import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/src/store/store.ts';
import type { RulesEngine } from '../../rules/src/engine.ts';
import type { HazardwatchApp } from '../src/app.ts';
import { feed, readingNow, startApp, stopApp, tokensFor, type AppFixture } from './app-fixture.ts';

/** Route tests with inject(), against a real SQLite store and the real rules engine. */
describe('API routes and jurisdiction scoping', () => {
  let f: AppFixture & { rules: RulesEngine };
  let store: Store;
  let rules: RulesEngine;
  let hw: HazardwatchApp;
  let tokens: Record<string, string> = {};

  const reading = (id: string, valueStd: number, ts?: number) => readingNow(f.registry, id, valueStd, ts);
  const get = async (user: string, url: string) => {
    const res = await hw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[user]}` } });
    return { status: res.statusCode, body: res.json() as unknown };
  };

  beforeAll(async () => {
    f = await startApp('hw-api-', { rules: true, loadHistory: true });
    ({ store, rules, hw } = f);
    tokens = await tokensFor(hw, ['city', 'district', 'township', 'officer']);
    // Red alerts at a Liguo plant (the township inspector's) and at a Dawu plant (not theirs).
    await feed(f, [reading('cement-liguo.dust-resp-1', 9), reading('chem-dawu.h2s-1', 30), reading('coal-liuxin.noise-1', 82)]);
  });
  afterAll(() => stopApp(f));

  it('refuses a wrong password with a coded 401 and a bad body with the field named', async () => {
    const wrong = await hw.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'city', password: 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'HW_ERR_BAD_LOGIN' });
    const bad = await hw.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'city' } });
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { message: string }).message).toContain('password');
    const noToken = await hw.app.inject({ method: 'GET', url: '/api/alerts' });
    expect(noToken.statusCode).toBe(401);
  });

  it('scopes enterprises, sensors and alerts to the jurisdiction subtree', async () => {
    const ents = (u: string) => get(u, '/api/enterprises').then((r) => (r.body as { id: string }[]).map((e) => e.id).sort());
    expect(await ents('city')).toHaveLength(6);
    expect(await ents('district')).toEqual(['buildmat-liuxin', 'cement-liguo', 'coal-liuxin', 'foundry-liguo']);
    expect(await ents('township')).toEqual(['cement-liguo', 'foundry-liguo']);
    expect(await ents('officer')).toEqual(['cement-liguo']);
    const alerts = (u: string) => get(u, '/api/alerts?state=active').then((r) => (r.body as { sensorId: string }[]).map((a) => a.sensorId));
    expect(await alerts('city')).toEqual(expect.arrayContaining(['cement-liguo.dust-resp-1', 'chem-dawu.h2s-1']));
    expect(await alerts('township')).toContain('cement-liguo.dust-resp-1');
    expect(await alerts('township')).not.toContain('chem-dawu.h2s-1');
    const sensors = (await get('township', '/api/sensors')).body as { id: string; status: string; last: unknown; limits: unknown }[];
    expect(sensors.every((s) => s.id.startsWith('cement-liguo.') || s.id.startsWith('foundry-liguo.'))).toBe(true);
    const dust = sensors.find((s) => s.id === 'cement-liguo.dust-resp-1')!;
    expect(dust).toMatchObject({ status: 'ok', last: { valueStd: 9 }, limits: { pcTwa: { value: 1.5 } } });
  });

  it('answers 404 for another township’s sensor, history or alert, exactly as for one that does not exist', async () => {
    const other = await get('township', '/api/sensors/chem-dawu.h2s-1/readings?from=0&to=1000');
    const none = await get('township', '/api/sensors/no-such-sensor/readings?from=0&to=1000');
    expect(other.status).toBe(404);
    expect(none.status).toBe(404);
    expect((other.body as { code: string }).code).toBe((none.body as { code: string }).code);
    const foreign = rules.activeAlerts().find((a) => a.sensorId === 'chem-dawu.h2s-1')!;
    const ack = await hw.app.inject({ method: 'POST', url: `/api/alerts/${encodeURIComponent(foreign.id)}/ack`, headers: { authorization: `Bearer ${tokens.township}` }, payload: { note: 'not mine' } });
    expect(ack.statusCode).toBe(404);
    expect(rules.activeAlerts().find((a) => a.id === foreign.id)!.state).toBe('open');
    expect((await get('township', '/api/sensors/chem-dawu.h2s-1/exposure')).status).toBe(404);
    expect((await get('township', '/api/kpi?jurisdiction=xz-jiawang-dawu')).status).toBe(404);
  });

  it('shows the noise dose % beside the profile\'s 8-h level on live exposure (issue 12 item 2)', async () => {
    const { status, body } = await get('city', '/api/sensors/coal-liuxin.noise-1/exposure');
    expect(status).toBe(200);
    const cur = (body as { current: { dosePct: number; lex8h: number } }).current;
    // GBZ 2.2 equal energy: LEX,8h = 10·lg(D/100) + 85.
    expect(cur.dosePct).toBeGreaterThan(0);
    expect(cur.lex8h).toBeCloseTo(10 * Math.log10(cur.dosePct / 100) + 85, 9);
    const list = (await get('city', '/api/sensors')).body as { id: string; exposure: { dosePct?: number } | null }[];
    // The real clock runs between the two requests (the last reading's hold grows): the list shows a dose too.
    expect(list.find((s) => s.id === 'coal-liuxin.noise-1')!.exposure!.dosePct).toBeGreaterThan(0);
  });

  it('lets the enterprise safety officer acknowledge an alert of their own plant, recording who and the note', async () => {
    const mine = rules.activeAlerts().find((a) => a.sensorId === 'cement-liguo.dust-resp-1')!;
    const res = await hw.app.inject({ method: 'POST', url: `/api/alerts/${encodeURIComponent(mine.id)}/ack`, headers: { authorization: `Bearer ${tokens.officer}` }, payload: { note: '已停机检修除尘器' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ state: 'acknowledged', ackBy: 'officer', ackNote: '已停机检修除尘器' });
    await rules.flush();
    const history = await store.queryAlertEvents({ alertId: mine.id });
    expect(history.map((e) => [e.kind, e.by ?? null])).toEqual([['raised', null], ['acknowledged', 'officer']]);
  });

  it('serves reading history aggregated per interval, and validates the range', async () => {
    const t = Date.now();
    await store.writeReadings([reading('cement-liguo.noise-1', 80, t - 120_000), reading('cement-liguo.noise-1', 90, t - 110_000), reading('cement-liguo.noise-1', 70, t - 30_000)]);
    const step = 60_000;
    const from = Math.floor((t - 120_000) / step) * step;
    const res = await get('township', `/api/sensors/cement-liguo.noise-1/readings?from=${from}&to=${t}&intervalMs=${step}&fn=max`);
    const points = (res.body as { points: { ts: number; value: number | null }[] }).points;
    expect(points.filter((p) => p.value !== null).map((p) => p.value)).toEqual(expect.arrayContaining([90, 70]));
    const bad = await get('township', `/api/sensors/cement-liguo.noise-1/readings?from=10&to=5`);
    expect(bad.status).toBe(400);
    expect((bad.body as { message: string }).message).toContain('querystring/to');
  });

  it('computes the monitoring pass rate per jurisdiction against the plan target, and grades enterprises', async () => {
    const res = await get('city', '/api/kpi');
    const rows = res.body as { jurisdictionId: string; points: number; passing: number; failing: number; notAssessed: number; passRatePct: number; dataCompletenessPct: number; targetPct: number; meetsTarget: boolean }[];
    const city = rows.find((r) => r.jurisdictionId === 'xz')!;
    expect(city.points).toBe(f.registry.current.sensors.size);
    // Two monitoring points exceeded (red): dust at Liguo cement, H2S at Dawu chemical.
    // Issue 12 item 6: the other points have a reading or none in 30 days, so they are not
    // assessed (they used to count as passing, overstating the rate).
    expect(city.failing).toBe(2);
    expect(city.passing).toBe(0);
    expect(city.notAssessed).toBe(city.points - 2);
    expect(city.passRatePct).toBe(0);
    expect(city.dataCompletenessPct).toBeLessThan(1);
    expect(city.targetPct).toBe(85);
    const liguo = rows.find((r) => r.jurisdictionId === 'xz-tongshan-liguo')!;
    expect(liguo.failing).toBe(1);
    expect((await get('officer', '/api/kpi')).status).toBe(403);
    const ents = (await get('city', '/api/enterprises')).body as { id: string; grade: number | null }[];
    expect(ents.find((e) => e.id === 'cement-liguo')!.grade).not.toBeNull();
  });

  const post = async (user: string, url: string, payload: unknown) => {
    const res = await hw.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokens[user]}` }, payload: payload as object });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  it('filters alerts by agent, jurisdiction and level, and pages them with the total in x-total-count', async () => {
    const page = await hw.app.inject({ method: 'GET', url: '/api/alerts?limit=1&offset=0', headers: { authorization: `Bearer ${tokens.city}` } });
    const total = Number(page.headers['x-total-count']);
    expect(total).toBeGreaterThanOrEqual(2);
    expect(page.json()).toHaveLength(1);
    const rest = (await get('city', `/api/alerts?limit=1000&offset=1`)).body as unknown[];
    expect(rest).toHaveLength(total - 1);
    const h2s = (await get('city', '/api/alerts?agent=gas.h2s')).body as { agent: string }[];
    expect(h2s.length).toBeGreaterThan(0);
    expect(h2s.every((a) => a.agent === 'gas.h2s')).toBe(true);
    const jiawang = (await get('city', '/api/alerts?jurisdiction=xz-jiawang')).body as { enterpriseId: string }[];
    expect(jiawang.map((a) => a.enterpriseId)).toContain('chem-dawu');
    expect(jiawang.every((a) => a.enterpriseId === 'chem-dawu')).toBe(true);
    const bad = await get('city', '/api/alerts?level=purple');
    expect(bad.status).toBe(400);
    expect((bad.body as { message: string }).message).toContain('level');
  });

  it('resolves with a reason (regulators only), takes comments from the officer, and reads every action back from the audit log', async () => {
    const mine = rules.activeAlerts().find((a) => a.sensorId === 'cement-liguo.dust-resp-1')!;
    const url = `/api/alerts/${encodeURIComponent(mine.id)}`;
    const comment = await post('officer', `${url}/comment`, { note: '更换滤筒，加强湿式作业' });
    expect(comment.status).toBe(200);
    const officerResolve = await post('officer', `${url}/resolve`, { reason: 'false-alarm', note: '' });
    expect(officerResolve.status).toBe(403);
    const badReason = await post('township', `${url}/resolve`, { reason: 'bored', note: '' });
    expect(badReason.status).toBe(400);
    expect(String(badReason.body.message)).toContain('reason');
    const resolved = await post('township', `${url}/resolve`, { reason: 'exceedance', note: '已责令整改' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ state: 'cleared', resolution: { by: 'township', reason: 'exceedance', note: '已责令整改' } });
    // Acting on a resolved alert is a conflict, not a silent no-op.
    expect((await post('township', `${url}/comment`, { note: 'again' })).status).toBe(409);
    expect((await post('township', `${url}/ack`, { note: '' })).status).toBe(409);
    // A foreign alert: 404, as for an unknown id, for every action.
    const foreign = rules.activeAlerts().find((a) => a.sensorId === 'chem-dawu.h2s-1')!;
    expect((await post('township', `/api/alerts/${encodeURIComponent(foreign.id)}/resolve`, { reason: 'false-alarm', note: 'x' })).status).toBe(404);
    expect((await post('township', `/api/alerts/${encodeURIComponent(foreign.id)}/comment`, { note: 'x' })).status).toBe(404);
    expect((await get('township', `/api/alerts/${encodeURIComponent(foreign.id)}`)).status).toBe(404);
    await rules.flush();
    const audit = (await get('township', '/api/audit')).body as { kind: string; by: string; note: string; reason?: string; alertId: string }[];
    expect(audit.filter((e) => e.alertId === mine.id).map((e) => [e.kind, e.by, e.note, e.reason ?? null])).toEqual([
      ['resolved', 'township', '已责令整改', 'exceedance'],
      ['commented', 'officer', '更换滤筒，加强湿式作业', null],
      ['acknowledged', 'officer', '已停机检修除尘器', null],
    ]);
    // The Dawu township's actions are not in the Liguo inspector's log, and the city sees Liguo's.
    expect(audit.every((e) => !e.alertId.includes('chem-dawu'))).toBe(true);
    expect(((await get('city', '/api/audit')).body as { alertId: string }[]).filter((e) => e.alertId === mine.id)).toHaveLength(3);
    const one = (await get('township', url)).body as { alert: { state: string }; events: { kind: string }[] };
    expect(one.alert.state).toBe('cleared');
    expect(one.events.map((e) => e.kind)).toEqual(['raised', 'acknowledged', 'commented', 'resolved']);
  });

  it('documents every route in OpenAPI, served with its UI at /docs', async () => {
    const doc = (await hw.app.inject({ method: 'GET', url: '/docs/json' })).json() as { openapi: string; paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/api/login', '/api/health', '/api/jurisdictions', '/api/enterprises', '/api/sensors', '/api/sensors/{id}/readings', '/api/sensors/{id}/exposure', '/api/alerts', '/api/alerts/{id}', '/api/alerts/{id}/ack', '/api/alerts/{id}/resolve', '/api/alerts/{id}/comment', '/api/audit', '/api/kpi', '/metrics']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths['/api/alerts/{id}/resolve']!.post!.responses!)).toEqual(expect.arrayContaining(['200', '403', '409']));
    const ui = await hw.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });
});
