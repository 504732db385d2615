import { alertWord, formatValue } from '../../core/src/alert-words.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import type { Registry } from '../../core/src/registry.ts';
import { tzOffsetMs } from '../../core/src/shifts.ts';
import type { AlertEvent, AlertEventKind, AlertLevel } from '../../core/src/types.ts';
import type { Locale } from './channel.ts';

/** What a message needs besides the event: names from the registry and where the board is. */
export interface MessageContext {
  registry: Registry;
  /** Agent names when the sensor is no longer in the registry. */
  catalogue?: Catalogue;
  /** The dashboard's public URL (`https://hw.example.gov.cn`); links go to `<baseUrl>/#/alerts/<id>`. */
  baseUrl: string;
}

/** The facts of one alert event in one language, each already a string. */
export interface MessageFields {
  level: AlertLevel;
  kind: AlertEventKind;
  /** 红色预警 / Red alert */
  levelTitle: string;
  /** 产生 / raised … */
  eventWord: string;
  enterprise: string;
  /** Workplace, or the gateway for a gateway alert. */
  pointName: string;
  /** Workplace with the sensor id: `一车间反应釜区（s-h2s-01）`. */
  point: string;
  agent: string;
  rule: string;
  metric: string;
  value: string;
  limit: string;
  unit: string;
  /** Standard and clause of the limit from the alert's reason, without our provenance notes (shortSource). */
  source: string;
  /** Event time, `2026-12-02 14:05` in the enterprise's zone (Asia/Shanghai by default). */
  time: string;
  /** Early warnings: when the limit is expected to be passed. */
  expectedAt?: string;
  by?: string;
  note?: string;
  link: string;
}

const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-12-02 14:05` in `timeZone`: the one numeric form the board uses too (dashboard/src/format.ts). */
export function formatLocalTime(ms: number, timeZone = DEFAULT_TIME_ZONE): string {
  const d = new Date(ms + tzOffsetMs(timeZone, ms));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** `<baseUrl>/#/alerts/<id>`; ':' and '@' may stand unescaped in a fragment (RFC 3986 §3.5), and alert ids hold ':'. */
export function alertLink(baseUrl: string, alertId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/#/alerts/${encodeURIComponent(alertId).replace(/%3A/g, ':').replace(/%40/g, '@')}`;
}

/**
 * The standard and clause without our provenance notes: a bracket that cites one of this
 * project's reference files ("(oel.md §A.2, bjime.com reproduction)") says where we found
 * the limit, which means nothing to the person reading the alert. Other brackets stay:
 * "29 CFR 1910.1025(c)(2)" is the clause itself.
 */
export function shortSource(source: string): string {
  let out = source;
  // Innermost brackets first; a note may sit inside another bracket. Bounded passes.
  for (let pass = 0; pass < 4; pass++) {
    const next = out.replace(/\s*[(（]([^()（）]*)[)）]/g, (all, inner: string) => (/\b[\w-]+\.md\b/.test(inner) ? '' : all));
    if (next === out) break;
    out = next;
  }
  return out.replace(/\s+/g, ' ').trim() || source;
}

export function messageFields(ev: AlertEvent, ctx: MessageContext, locale: Locale): MessageFields {
  const lang = locale === 'en' ? 'en' : 'zh';
  const a = ev.alert;
  const reg = ctx.registry;
  const ent = reg.enterprises.get(a.enterpriseId);
  const sensor = reg.sensors.get(a.sensorId);
  const nameOf = (x: { name: string; nameEn?: string } | undefined, fallback: string) => (x ? (lang === 'en' && x.nameEn ? x.nameEn : x.name) : fallback);
  const agentDef = sensor?.agentDef ?? ctx.catalogue?.agents.get(a.agent);
  const agent = agentDef ? (lang === 'en' ? agentDef.nameEn : agentDef.name) : alertWord(lang, `agent-${a.agent}`, a.agent);
  const gatewayAlert = !sensor && a.agent === 'gateway';
  const pointName = sensor ? sensor.workplace : gatewayAlert ? `${alertWord(lang, 'agent-gateway')} ${a.gatewayId}` : a.sensorId;
  const point = sensor ? (lang === 'zh' ? `${sensor.workplace}（${sensor.id}）` : `${sensor.workplace} (${sensor.id})`) : pointName;
  const timeZone = ent?.timezone ?? DEFAULT_TIME_ZONE;
  const r = a.reason;
  const f: MessageFields = {
    level: a.level,
    kind: ev.kind,
    levelTitle: lang === 'zh' ? `${alertWord(lang, a.level)}预警` : `${alertWord(lang, a.level)} alert`,
    eventWord: alertWord(lang, `event-${ev.kind}`, ev.kind),
    enterprise: nameOf(ent, a.enterpriseId),
    pointName,
    point,
    agent,
    rule: alertWord(lang, `rule-${a.rule}`, a.rule),
    metric: r.metric,
    value: formatValue(r.value),
    limit: formatValue(r.limit),
    unit: r.unit,
    source: shortSource(r.source),
    time: formatLocalTime(ev.ts, timeZone),
    link: alertLink(ctx.baseUrl, a.id),
  };
  if (r.expectedAt !== undefined) f.expectedAt = formatLocalTime(r.expectedAt, timeZone);
  if (ev.by) f.by = ev.by;
  if (ev.note) f.note = ev.note;
  return f;
}
