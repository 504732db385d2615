import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../src/pipeline-wire.ts';
import { checkAll, checkReport, createHealthBoard, parseReport, rulesHealth, spoolHealth, CHECK_TIMEOUT_MS } from '../src/health.ts';

describe('health', () => {
  it('a check that throws or never answers is reported down, not thrown or awaited forever', async () => {
    const started = Date.now();
    const r = await checkAll({ a: () => ({ ok: true }), b: () => { throw new Error('boom'); }, c: () => new Promise(() => {}) });
    expect(r.a).toEqual({ ok: true });
    expect(r.b).toEqual({ ok: false, detail: 'health check failed: boom' });
    expect(r.c!.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(CHECK_TIMEOUT_MS + 1000);
  });

  it('the rules engine is down before it starts and when its periodic check is overdue', () => {
    const base = { started: true, lastTickAt: 10_000, tickEveryMs: 5000, lastEvaluationAt: 12_000, evaluated: 3, lagMs: 250, unsavedEvents: 0, activeAlerts: 1 };
    expect(rulesHealth({ ...base, started: false }, 12_000).ok).toBe(false);
    expect(rulesHealth(base, 12_000)).toMatchObject({ ok: true, detail: expect.stringContaining('newest reading 0.3 s old') });
    expect(rulesHealth(base, 10_000 + 3 * 5000 + 1)).toMatchObject({ ok: false, detail: expect.stringContaining('overdue') });
  });

  it('a full spool is down (acknowledgements withheld)', () => {
    expect(spoolHealth(10, 100).ok).toBe(true);
    expect(spoolHealth(100, 100).ok).toBe(false);
  });

  it('refuses reports that are not reports, and bounds what it keeps', () => {
    expect(parseReport('not json')).toBeUndefined();
    expect(parseReport(JSON.stringify({ service: 'rules', ts: 1, intervalMs: 0, components: {} }))).toBeUndefined();
    expect(parseReport(JSON.stringify({ service: 'rules', ts: 1, intervalMs: 100, components: { rules: { ok: 'yes' } } }))).toBeUndefined();
    expect(parseReport('x'.repeat(20_000))).toBeUndefined();
    const r = parseReport(JSON.stringify({ service: 'rules', ts: 1, intervalMs: 100, components: { rules: { ok: true, detail: 'd'.repeat(5000) } } }));
    expect(r!.components.rules!.detail!.length).toBe(300);
  });

  it('a service whose reports stop for 3 intervals is down; workers with a share are ok only when every one is', () => {
    let t = 0;
    const board = createHealthBoard(() => t);
    const report = (service: string, components: Record<string, { ok: boolean; detail?: string }>) => board.receive(JSON.stringify({ service, ts: t, intervalMs: 100, components }));
    expect(board.components(['broker']).broker).toEqual({ ok: false, detail: 'down: no service has reported it' });
    report('broker', { broker: { ok: true, detail: 'fine' } });
    report('rules-0of2', { rules: { ok: true } });
    report('rules-1of2', { rules: { ok: true } });
    t = 300;
    expect(board.components(['broker', 'rules'])).toMatchObject({ broker: { ok: true }, rules: { ok: true } });
    report('rules-0of2', { rules: { ok: true } });
    t = 301;
    const c = board.components(['broker', 'rules']);
    expect(c.broker).toMatchObject({ ok: false, detail: expect.stringContaining('broker: down, no report for 0.3 s') });
    expect(c.rules).toMatchObject({ ok: false, detail: expect.stringContaining('rules-1of2: down') });
  });

  it('a worker of the current layout that never reported is down; workers of an earlier layout are forgotten', () => {
    let t = 0;
    const board = createHealthBoard(() => t);
    const report = (service: string) => board.receive(JSON.stringify({ service, ts: t, intervalMs: 100, components: { rules: { ok: true } } }));
    report('rules-0of3');
    report('rules-2of3');
    expect(board.components(['rules']).rules).toMatchObject({ ok: false, detail: expect.stringContaining('rules-1of3: down, never reported') });
    // Re-divided into 2: the 3-worker reports (soon stale) no longer count once the new layout reports.
    t = 50;
    report('rules-0of2');
    report('rules-1of2');
    t = 1000;
    report('rules-0of2');
    report('rules-1of2');
    expect(board.components(['rules']).rules).toEqual({ ok: true, detail: 'rules-0of2: ok; rules-1of2: ok' });
  });

  it('an interchangeable replica (ingest@instance) that goes silent is down, then forgotten after 60 intervals', () => {
    let t = 0;
    const board = createHealthBoard(() => t);
    const report = (service: string) => board.receive(JSON.stringify({ service, ts: t, intervalMs: 100, components: { ingest: { ok: true }, spool: { ok: true } } }));
    report('ingest@a');
    report('ingest@b');
    t = 301;
    report('ingest@a');
    expect(board.components(['ingest']).ingest).toMatchObject({ ok: false, detail: expect.stringContaining('ingest@b: down, no report for 0.3 s') });
    for (t = 400; t <= 6100; t += 100) report('ingest@a');
    t = 6101;
    expect(board.components(['ingest', 'spool'])).toEqual({ ingest: { ok: true, detail: 'ingest@a: ok' }, spool: { ok: true, detail: 'ingest@a: ok' } });
  });

  it('checks a decoded report without stringifying it: a deeply nested value is refused, not a stack overflow', () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { c: deep };
    expect(checkReport({ service: 'rules', ts: 1, intervalMs: 100, components: deep })).toBeUndefined();
    expect(checkReport({ service: 'rules', ts: 1, intervalMs: 100, components: { rules: { ok: true } } })).toMatchObject({ service: 'rules' });
    // The same through the transport's decoder (it stringified the parsed value before).
    const n = 20_000;
    const raw = Buffer.from(`{"service":"rules","ts":1,"intervalMs":100,"components":${'{"c":'.repeat(n)}{}${'}'.repeat(n)}}`);
    expect(() => decodeEvent('service.health', raw)).not.toThrow();
    expect(decodeEvent('service.health', raw)).toBeUndefined();
  });
});
