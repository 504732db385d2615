import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../core/src/agents.ts';
import { HwError } from '../../core/src/errors.ts';
import { buildRegistry, type Registry, type RegistryFile } from '../../core/src/registry.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import { importRegistryFile, ImportRefused } from '../src/registry-import.ts';
import { loadRegistry } from '../src/registry-load.ts';
import type { Records } from '../src/records.ts';
import type { JurisdictionRecord } from '../src/repos/jurisdictions.ts';
import { contractEngines } from './engines.ts';

/** Issue 14 item 1: one suite, run on SQLite and on a real PostgreSQL. */
const ROOT = new URL('../..', import.meta.url).pathname;
const catalogue = loadCatalogue();
const demoFile = () => parseYaml(readFileSync(join(ROOT, 'examples/registry.yaml'), 'utf8')) as RegistryFile;
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof HwError ? err.code : `uncoded: ${(err as Error).message}`;
  }
};

const counts = async (r: Records) => {
  const out: Record<string, number> = {};
  for (const t of ['jurisdictions', 'enterprises', 'gateways', 'sensors', 'users', 'audit_log', 'settings'] as const) {
    out[t] = Number((await r.db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  }
  return out;
};

/**
 * A registry as comparable data. Lists come back from the records in id order, not the
 * file's: every list of rows with ids (at any depth, the maps' values included) is put in
 * id order on both sides; maps become entries in key order.
 */
const idOrder = (v: unknown): unknown => {
  if (Array.isArray(v)) {
    const items = v.map(idOrder);
    const ids = items.every((x) => typeof (x as { id?: unknown })?.id === 'string');
    return ids ? [...items].sort((a, b) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1)) : items;
  }
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, idOrder(x)]));
  return v;
};
function comparable(reg: Registry) {
  const entries = <V>(m: ReadonlyMap<string, V>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, idOrder(x)]);
  return {
    file: idOrder({ ...reg.file, users: [...reg.file.users].sort((a, b) => (a.username < b.username ? -1 : 1)) }),
    jurisdictions: entries(reg.jurisdictions),
    enterprises: entries(reg.enterprises),
    gateways: entries(reg.gateways),
    sensors: entries(reg.sensors),
    users: entries(reg.users),
    ancestors: [...reg.jurisdictions.keys()].sort().map((j) => reg.ancestors(j)),
    visible: [...reg.users.values()].map((u) => [u.username, [...reg.visibleEnterprises(u)].sort()]).sort(),
  };
}

function alertEvent(alertId: string, kind: AlertEvent['kind'], ts: number, extra: Partial<AlertEvent> = {}): AlertEvent {
  return {
    alertId, kind, ts, ...extra,
    alert: {
      id: alertId, sensorId: 's1', rule: 'stel', enterpriseId: 'e1', gatewayId: 'gw1', agent: 'gas.co', townshipId: 't1',
      level: 'red', state: kind === 'acknowledged' ? 'acknowledged' : kind === 'cleared' ? 'cleared' : 'open', openedAt: T0, updatedAt: ts,
      reason: { metric: 'reading', value: 40, limit: 30, unit: 'mg/m3', source: 'GBZ 2.1-2019' },
    },
  };
}

/** nation → province → city → county → township → grid (5 levels below the root), with a sibling branch. */
const deepTree: JurisdictionRecord[] = [
  { id: 'cn', name: '中国', level: 'nation' },
  { id: 'js', parentId: 'cn', name: '江苏省', level: 'province' },
  { id: 'tz', parentId: 'js', name: '泰州市', level: 'city', kpiTargetPct: 90 },
  { id: 'tx', parentId: 'tz', name: '泰兴市', level: 'county-level city' },
  { id: 'hq', parentId: 'tx', name: '黄桥镇', level: 'township' },
  { id: 'hq-g1', parentId: 'hq', name: '第一网格', nameEn: 'Grid 1', level: 'street grid' },
  { id: 'jj', parentId: 'tz', name: '靖江市', level: 'county-level city' },
  { id: 'jj-park', parentId: 'jj', name: '靖江经济开发区', level: 'industrial park' },
];

const engines = contractEngines();

for (const engine of engines) {
  describe(`records contract: ${engine.name}`, () => {
    it('migrates an empty database up to the latest schema, once', async () => {
      const r = await engine.fresh();
      expect(await r.start()).toEqual(['001-records']);
      expect(await r.start()).toEqual([]);
      const tables = (await r.db.introspection.getTables()).map((t) => t.name);
      for (const t of ['jurisdictions', 'enterprises', 'gateways', 'sensors', 'users', 'alerts', 'alert_events', 'audit_log', 'settings']) expect(tables).toContain(t);
      expect(Object.values(await counts(r)).every((n) => n === 0)).toBe(true);
    });

    it('keeps a jurisdiction tree six levels deep: ancestors, subtrees, enterprises within, and a loop refused', async () => {
      const r = await engine.fresh();
      await r.start();
      await r.jurisdictions.put(deepTree);
      expect((await r.jurisdictions.ancestors('hq-g1')).map((j) => [j.id, j.depth])).toEqual([['hq-g1', 0], ['hq', 1], ['tx', 2], ['tz', 3], ['js', 4], ['cn', 5]]);
      expect((await r.jurisdictions.ancestors('tz'))[0]).toEqual({ id: 'tz', parentId: 'js', name: '泰州市', level: 'city', kpiTargetPct: 90, depth: 0 });
      const underJs = await r.jurisdictions.subtree('js', { limit: 100 });
      expect(underJs.items.map((j) => [j.id, j.depth])).toEqual([['hq', 3], ['hq-g1', 4], ['jj', 2], ['jj-park', 3], ['js', 0], ['tx', 2], ['tz', 1]]);
      expect((await r.jurisdictions.subtree('tx', { limit: 100 })).items.map((j) => j.id)).toEqual(['hq', 'hq-g1', 'tx']);

      const ent = (id: string, jurisdictionId: string) => ({ id, name: id, industry: 'chemical', jurisdictionId, timezone: 'Asia/Shanghai', shifts: [] });
      await r.enterprises.put([ent('e-grid', 'hq-g1'), ent('e-park', 'jj-park'), ent('e-town', 'hq')], T0);
      expect((await r.enterprises.list({ limit: 10 }, { within: 'tx' })).items.map((e) => e.id)).toEqual(['e-grid', 'e-town']);
      expect((await r.enterprises.list({ limit: 10 }, { within: 'tz' })).items.map((e) => e.id)).toEqual(['e-grid', 'e-park', 'e-town']);
      expect((await r.enterprises.list({ limit: 10 }, { within: 'jj' })).items.map((e) => e.id)).toEqual(['e-park']);

      // Hanging the province under its own grid would make a loop: refused, and nothing moved.
      expect(await code(r.jurisdictions.put([{ ...deepTree[1]!, parentId: 'hq-g1' }]))).toBe('HW_ERR_BAD_REQUEST');
      expect((await r.jurisdictions.get('js'))?.parentId).toBe('cn');
    });

    it('imports the demo registry and loads back an equal Registry; a second import changes nothing', async () => {
      const r = await engine.fresh();
      await r.start();
      const raw = demoFile();
      const summary = await importRegistryFile(r, raw, catalogue, { at: T0, actor: 'admin', address: '127.0.0.1' });
      expect(summary.sensors).toBeGreaterThan(20);
      const expected = comparable(buildRegistry(raw, catalogue));
      expect(comparable(await loadRegistry(r, catalogue))).toEqual(expected);

      await importRegistryFile(r, raw, catalogue, { at: T0 + 1000 });
      expect(comparable(await loadRegistry(r, catalogue))).toEqual(expected);
      const audit = await r.audit.list({ limit: 10 });
      expect(audit.items.map((e) => [e.action, e.actor, e.after])).toEqual([
        ['registry.import', 'system', summary],
        ['registry.import', 'admin', summary],
      ]);
      // The rotation time of an unchanged secret is kept by the re-import.
      expect((await r.gateways.get('coal-liuxin', 'gw1'))?.secretRotatedAt).toBe(T0);
    });

    it('loads only rows in force: a disabled gateway drops its sensors, and a re-import does not revive it', async () => {
      const r = await engine.fresh();
      await r.start();
      const raw = demoFile();
      await importRegistryFile(r, raw, catalogue, { at: T0 });
      expect(await r.gateways.setDisabled('coal-liuxin', 'gw1', true, T0 + 1)).toBe(true);
      await importRegistryFile(r, raw, catalogue, { at: T0 + 2 });
      const reg = await loadRegistry(r, catalogue);
      expect(reg.gateways.has('coal-liuxin/gw1')).toBe(false);
      expect([...reg.sensors.values()].filter((s) => s.enterpriseId === 'coal-liuxin' && s.gatewayId === 'gw1')).toEqual([]);
      expect(reg.enterprises.has('coal-liuxin')).toBe(true);
    });

    it('refuses a file with bad rows, naming each row, index and field, and writes nothing', async () => {
      const r = await engine.fresh();
      await r.start();
      const raw = demoFile();
      const sensor = raw.enterprises[1]!.gateways[0]!.sensors[2]!;
      sensor.max = sensor.min;
      raw.users[0]!.scope = 'nowhere';
      delete (raw.enterprises[0] as Partial<RegistryFile['enterprises'][number]>).industry;
      let err: unknown;
      try {
        await importRegistryFile(r, raw, catalogue, { at: T0 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImportRefused);
      expect((err as ImportRefused).code).toBe('HW_ERR_IMPORT_REFUSED');
      // Schema errors are reported first, alone (the rules need well-formed rows).
      const schemaProblems = (err as ImportRefused).problems;
      expect(schemaProblems.length).toBeGreaterThan(0);
      for (const p of schemaProblems) expect(p).toMatchObject({ row: '/enterprises/0', table: 'enterprises', index: 0, field: 'industry' });
      raw.enterprises[0]!.industry = 'coal-mine';
      try {
        await importRegistryFile(r, raw, catalogue, { at: T0 });
      } catch (e) {
        err = e;
      }
      expect((err as ImportRefused).problems).toEqual([
        { row: '/enterprises/1/gateways/0/sensors/2', table: 'sensors', index: 2, field: 'max', reason: `sensor ${sensor.id}: max must be above min` },
        { row: '/users/0', table: 'users', index: 0, field: 'scope', reason: expect.stringContaining('scope nowhere') },
      ]);
      expect(Object.values(await counts(r)).every((n) => n === 0)).toBe(true);
    });

    it('leaves nothing behind when the transaction fails after the rows were written', async () => {
      const r = await engine.fresh();
      await r.start();
      // The audit entry, written last in the same transaction, is refused (actor too long).
      expect(await code(importRegistryFile(r, demoFile(), catalogue, { at: T0, actor: 'x'.repeat(300) }))).toBe('HW_ERR_FIELD_TOO_LONG');
      expect(Object.values(await counts(r)).every((n) => n === 0)).toBe(true);
    });

    it('keeps two events of one alert in the same millisecond, stores a redelivered one once, and never rolls the state back', async () => {
      const r = await engine.fresh();
      await r.start();
      await r.alerts.appendEvents([alertEvent('a1', 'raised', T0)]);
      await r.alerts.appendEvents([
        { ...alertEvent('a1', 'commented', T0 + 5, { by: 'township', note: 'first' }), dedupKey: '1700000000000-0' },
        { ...alertEvent('a1', 'commented', T0 + 5, { by: 'city', note: 'second' }), dedupKey: '1700000000000-1' },
      ]);
      expect(await r.alerts.appendEvents([{ ...alertEvent('a1', 'commented', T0 + 5, { by: 'township', note: 'first' }), dedupKey: '1700000000000-0' }])).toBe(0);
      await r.alerts.appendEvents([alertEvent('a1', 'acknowledged', T0 + 9, { by: 'township' })]);
      // Late: an older event is history, not the alert's state.
      await r.alerts.appendEvents([alertEvent('a1', 'escalated', T0 + 7)]);
      const events = await r.alerts.events({ limit: 10 }, { alertId: 'a1' });
      expect(events.items.map((e) => [e.kind, e.ts, e.by, e.note])).toEqual([
        ['raised', T0, undefined, undefined],
        ['commented', T0 + 5, 'township', 'first'],
        ['commented', T0 + 5, 'city', 'second'],
        ['acknowledged', T0 + 9, 'township', undefined],
        ['escalated', T0 + 7, undefined, undefined],
      ]);
      expect((await r.alerts.get('a1'))?.state).toBe('acknowledged');
      expect((await r.alerts.list({ limit: 10 }, { states: ['open'] })).items).toEqual([]);
      expect((await r.alerts.list({ limit: 10 }, { states: ['open', 'acknowledged'], enterpriseId: 'e1' })).items.map((a) => a.id)).toEqual(['a1']);
    });

    it('detects a tampered audit entry and names it; concurrent appends still form one chain', async () => {
      const r = await engine.fresh();
      await r.start();
      await Promise.all(Array.from({ length: 20 }, (_, i) => r.audit.append([{ ts: T0 + i, actor: `u${i}`, address: '10.0.0.1', action: 'user.disable', target: `user:x${i}`, before: { disabled: false }, after: { disabled: true } }])));
      const good = await r.audit.verify();
      expect(good).toMatchObject({ ok: true, entries: 20 });
      await sql`UPDATE audit_log SET after_json = ${'{"disabled":false}'} WHERE seq = 7`.execute(r.db);
      expect(await r.audit.verify()).toMatchObject({ ok: false, seq: 7, entries: 6 });
      // Restored, the chain checks out again; removing an entry is named too.
      await sql`UPDATE audit_log SET after_json = ${'{"disabled":true}'} WHERE seq = 7`.execute(r.db);
      expect(await r.audit.verify()).toEqual(good);
      await sql`DELETE FROM audit_log WHERE seq = 12`.execute(r.db);
      expect(await r.audit.verify()).toMatchObject({ ok: false, seq: 12 });
    });

    it('pages every list within 1 … 5000 rows and refuses other sizes with HW_ERR_BAD_RANGE', async () => {
      const r = await engine.fresh();
      await r.start();
      await r.jurisdictions.put([{ id: 't', name: 't', level: 'township' }]);
      await r.enterprises.put(Array.from({ length: 12 }, (_, i) => ({ id: `e${String(i).padStart(2, '0')}`, name: 'e', industry: 'x', jurisdictionId: 't', timezone: 'Asia/Shanghai', shifts: [] })), T0);
      const seen: string[] = [];
      const sizes: number[] = [];
      let after: string | undefined;
      do {
        const page = await r.enterprises.list(after === undefined ? { limit: 5 } : { limit: 5, after });
        sizes.push(page.items.length);
        seen.push(...page.items.map((e) => e.id));
        after = page.next;
      } while (after !== undefined);
      expect(sizes).toEqual([5, 5, 2]);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `e${String(i).padStart(2, '0')}`));

      // Alerts opened in the same millisecond page by id, newest first, none twice.
      await r.alerts.appendEvents(Array.from({ length: 7 }, (_, i) => alertEvent(`a${i}`, 'raised', T0)));
      const p1 = await r.alerts.list({ limit: 4 });
      const p2 = await r.alerts.list({ limit: 4, after: p1.next! });
      expect([...p1.items, ...p2.items].map((a) => a.id)).toEqual(['a6', 'a5', 'a4', 'a3', 'a2', 'a1', 'a0']);
      expect(p2.next).toBeUndefined();

      for (const limit of [0, -1, 5001, 1.5, Number.NaN]) {
        expect(await code(r.enterprises.list({ limit })), String(limit)).toBe('HW_ERR_BAD_RANGE');
        expect(await code(r.alerts.list({ limit })), String(limit)).toBe('HW_ERR_BAD_RANGE');
        expect(await code(r.audit.list({ limit })), String(limit)).toBe('HW_ERR_BAD_RANGE');
      }
      expect(await code(r.sensors.list({ limit: 10, after: 'x'.repeat(201) }))).toBe('HW_ERR_BAD_RANGE');
      expect(await code(r.alerts.list({ limit: 10, after: 'not-a-cursor' }))).toBe('HW_ERR_BAD_RANGE');
      expect((await r.enterprises.list({ limit: 5000 })).items).toHaveLength(12);
    });
  });
}
