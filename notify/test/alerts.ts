import { loadCatalogue, type Catalogue } from '../../core/src/agents.ts';
import { buildRegistry } from '../../core/src/registry.ts';
import type { Alert, AlertEvent } from '../../core/src/types.ts';
import { demo } from '../../test/fixtures.ts';
import { buildMessage, type MessageContext } from '../src/render-message.ts';

/** 2026-12-02 14:05 in Asia/Shanghai (UTC+8, no DST). */
export const WORKED_TS = Date.UTC(2026, 11, 2, 6, 5);

/**
 * The worked alert (ids as rules/src/alert-manager.ts makes them, `<sensor>:<rule>:<opened ms>`): a red MAC exceedance of hydrogen sulphide at the return airway of the
 * demo registry's Liuxin coal mine, 15.2 mg/m3 against the GBZ 2.1-2019 MAC of 10 mg/m3.
 */
export function workedEvent(over: Partial<AlertEvent> = {}): AlertEvent {
  const alert: Alert = {
    id: `coal-liuxin.h2s-1:mac:${WORKED_TS}`, sensorId: 'coal-liuxin.h2s-1', rule: 'mac', enterpriseId: 'coal-liuxin', gatewayId: 'gw1', agent: 'gas.h2s', townshipId: 'xz-tongshan-liuxin',
    level: 'red', state: 'open', openedAt: WORKED_TS, updatedAt: WORKED_TS,
    reason: { metric: 'concentration', value: 15.2, limit: 10, unit: 'mg/m3', source: 'GBZ 2.1-2019 Table 1 (oel.md §A.2)' },
  };
  return { alertId: alert.id, kind: 'raised', ts: WORKED_TS, alert, ...over };
}

export const BASE_URL = 'https://hw.xuzhou.example.gov.cn';

let demoCtx: MessageContext | undefined;
/** The demo registry (examples/registry.yaml), loaded once per test file. */
export function demoContext(): MessageContext {
  if (!demoCtx) {
    const { catalogue, registry } = demo();
    demoCtx = { registry: registry.current, catalogue, baseUrl: BASE_URL };
  }
  return demoCtx;
}

export function workedMessage(locale: 'zh-CN' | 'en' = 'zh-CN') {
  return buildMessage(workedEvent(), demoContext(), { locale });
}

let cachedCatalogue: Catalogue | undefined;

/** A registry whose names are as long as real ones get, for the SMS length budget. */
export function longNamesContext(opts: { baseUrl?: string; name?: string; workplace?: string } = {}): MessageContext {
  const catalogue = (cachedCatalogue ??= loadCatalogue());
  const registry = buildRegistry({
    jurisdictions: [{ id: 'c', name: '某某市', level: 'city' }, { id: 'd', name: '某某区', level: 'district', parent: 'c' }, { id: 't', name: '某某化工园区', level: 'township', parent: 'd' }],
    enterprises: [{
      id: 'e1', name: opts.name ?? '江苏省某某市某某区高新技术产业开发区精细化工新材料股份有限公司第二分公司', nameEn: 'Jiangsu Fine Chemicals and New Materials Joint Stock Company, Second Branch, High-Tech Industrial Development Zone',
      industry: 'chemical', township: 't',
      gateways: [{ id: 'g1', secretHash: 'scrypt$x', sensors: [{ id: 'e1.benzene-reactor-north-1', agent: 'gas.benzene', workplace: opts.workplace ?? '三号生产车间二层苯乙烯聚合反应釜北侧投料口操作平台', unit: 'mg/m3', max: 1000 }] }],
    }],
    users: [],
  }, catalogue);
  return { registry, catalogue, baseUrl: opts.baseUrl ?? 'https://zhiyebing-yujing.jiangsu-sheng.example.gov.cn/hazardwatch/portal' };
}

export function longNamesEvent(): AlertEvent {
  const alert: Alert = {
    id: `e1.benzene-reactor-north-1:stel:${WORKED_TS}`, sensorId: 'e1.benzene-reactor-north-1', rule: 'stel', enterpriseId: 'e1', gatewayId: 'g1', agent: 'gas.benzene', townshipId: 't',
    level: 'orange', state: 'open', openedAt: WORKED_TS, updatedAt: WORKED_TS,
    reason: { metric: 'C_STE (15 min)', value: 12.345, limit: 10, unit: 'mg/m3', source: 'GBZ 2.1-2019 Table 1 (oel.md §A.2, bjime.com reproduction)' },
  };
  return { alertId: alert.id, kind: 'escalated', ts: WORKED_TS, alert };
}
