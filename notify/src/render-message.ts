import type { AlertEvent } from '../../core/src/types.ts';
import type { Locale, NotifyMessage } from './channel.ts';
import { messageFields, type MessageContext, type MessageFields } from './message-fields.ts';

export type { MessageContext } from './message-fields.ts';
export type MessageFormat = 'text' | 'markdown' | 'html' | 'sms';

/**
 * SMS length budget, characters. A message with any Chinese character is sent as UCS-2:
 * 70 characters in one segment, 67 per segment once split (the other 3 carry the
 * concatenation header, 3GPP TS 23.040 §9.2.3.24.1), so two segments hold 134. Providers
 * add their signature (【…】) inside that count: pass a smaller budget to leave it room.
 */
export const SMS_MAX_CHARS = 134;

export interface RenderOptions {
  /** zh-CN unless the recipient asked for English. */
  locale?: Locale;
  format: MessageFormat;
  /** SMS budget, characters (default SMS_MAX_CHARS). */
  smsMaxChars?: number;
}

const LABELS = {
  zh: { enterprise: '用人单位', point: '监测点', agent: '危害因素', rule: '规则', value: '监测值', limit: '限值', source: '限值依据', time: '时间', expected: '预计超限', by: '操作人', note: '说明', details: '查看详情', limitShort: '限值' },
  en: { enterprise: 'Enterprise', point: 'Monitoring point', agent: 'Hazard', rule: 'Rule', value: 'Value', limit: 'Limit', source: 'Standard', time: 'Time', expected: 'Expected to exceed at', by: 'By', note: 'Note', details: 'Open the alert', limitShort: 'limit' },
};

/** Colours of the four levels as the board shows them. */
const LEVEL_COLOUR = { red: '#c62828', orange: '#ef6c00', yellow: '#f9a825', blue: '#1565c0' };

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

export function renderSubject(f: MessageFields, locale: Locale): string {
  const zh = locale !== 'en';
  const head = zh ? `【${f.levelTitle}·${f.eventWord}】` : `[${f.levelTitle} · ${f.eventWord}] `;
  return oneLine(`${head}${[f.enterprise, f.pointName, f.agent].join(' · ')}`);
}

/** Label and value, in the order a person reads them off. */
function rows(f: MessageFields, locale: Locale): [string, string][] {
  const L = locale === 'en' ? LABELS.en : LABELS.zh;
  const out: [string, string][] = [
    [L.enterprise, f.enterprise], [L.point, f.point], [L.agent, f.agent], [L.rule, f.rule],
    [L.value, `${f.value} ${f.unit}`], [L.limit, `${f.limit} ${f.unit}`], [L.source, f.source], [L.time, f.time],
  ];
  if (f.expectedAt) out.push([L.expected, f.expectedAt]);
  if (f.by) out.push([L.by, f.by]);
  if (f.note) out.push([L.note, f.note]);
  return out.map(([k, v]) => [k, oneLine(v)]);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Markdown that WeCom's subset and DingTalk render: names are data, so their markup is neutralised. */
const escapeMd = (s: string) => s.replace(/([\\`*_[\]<>#|])/g, '\\$1');

function text(f: MessageFields, locale: Locale): string {
  const sep = locale === 'en' ? ': ' : '：';
  const L = locale === 'en' ? LABELS.en : LABELS.zh;
  return [renderSubject(f, locale), ...rows(f, locale).map(([k, v]) => `${k}${sep}${v}`), `${L.details}${sep}${f.link}`].join('\n');
}

function markdown(f: MessageFields, locale: Locale): string {
  const sep = locale === 'en' ? ': ' : '：';
  const L = locale === 'en' ? LABELS.en : LABELS.zh;
  // Blank lines between rows: DingTalk's markdown joins single-newline lines into one paragraph.
  return [`### ${escapeMd(renderSubject(f, locale))}`, ...rows(f, locale).map(([k, v]) => `**${k}**${sep}${escapeMd(v)}`), `[${L.details}](${f.link})`].join('\n\n');
}

function html(f: MessageFields, locale: Locale): string {
  const L = locale === 'en' ? LABELS.en : LABELS.zh;
  const trs = rows(f, locale).map(([k, v]) => `<tr><th align="left" style="padding:4px 12px 4px 0">${escapeHtml(k)}</th><td style="padding:4px 0">${escapeHtml(v)}</td></tr>`);
  return [
    `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"></head><body style="font-family:sans-serif">`,
    `<h2 style="color:${LEVEL_COLOUR[f.level]}">${escapeHtml(renderSubject(f, locale))}</h2>`,
    `<table style="border-collapse:collapse">${trs.join('')}</table>`,
    `<p><a href="${escapeHtml(f.link)}">${escapeHtml(L.details)}</a></p>`,
    '</body></html>',
  ].join('\n');
}

/**
 * The SMS form: one line, the level first and the link last, within `max` characters.
 * When it is too long, the standard goes first (the mail and the robots carry it), then
 * the monitoring point, the enterprise and the hazard are shortened, each down to a few
 * characters that still name it (a cut name ends in "…"). The level, value, limit and
 * time are never cut, nor is the link, since half a link leads nowhere: a link too long
 * to fit beside those facts is left out. Alert links are long (`<sensor>:<rule>:<ms>`),
 * so with a long base URL the standard is often the first to go.
 */
function sms(f: MessageFields, locale: Locale, max: number): string {
  const zh = locale !== 'en';
  // A raised alert is the common case: its event word is left out to save characters.
  const event = f.kind === 'raised' ? '' : zh ? `·${f.eventWord}` : ` · ${f.eventWord}`;
  const head = zh ? `【${f.levelTitle}${event}】` : `[${f.levelTitle}${event}] `;
  const full = { source: oneLine(f.source), point: oneLine(f.pointName), enterprise: oneLine(f.enterprise), agent: oneLine(f.agent) };
  // Value and limit share the unit, printed once: "15.2，限值10.0 mg/m3".
  const build = (p: typeof full, link: string) => {
    const src = p.source ? (zh ? `（${p.source}）` : ` (${p.source})`) : '';
    const tail = link ? ` ${link}` : '';
    return zh
      ? `${head}${p.enterprise}·${p.point}·${p.agent}：${f.value}，${LABELS.zh.limitShort}${f.limit} ${f.unit}${src} ${f.time}${tail}`
      : `${head}${p.enterprise}, ${p.point}: ${p.agent} ${f.value}, ${LABELS.en.limitShort} ${f.limit} ${f.unit}${src} ${f.time}${tail}`;
  };
  // Shortest a name is cut to, characters: a Chinese character says more than a letter.
  const floor = zh ? { source: 0, point: 4, enterprise: 6, agent: 3 } : { source: 0, point: 10, enterprise: 12, agent: 8 };
  const fit = (link: string) => {
    const p = { ...full };
    for (const key of ['source', 'point', 'enterprise', 'agent'] as const) {
      const over = build(p, link).length - max;
      if (over <= 0) break;
      const keep = Math.max(floor[key], p[key].length - over - 1);
      // A standard cut to a stub says nothing: drop it whole rather than leave "GB…".
      p[key] = key === 'source' && keep < 8 ? '' : keep < p[key].length ? `${p[key].slice(0, keep)}…` : p[key];
    }
    const out = build(p, link);
    return out.length <= max ? out : undefined;
  };
  const out = fit(f.link) ?? fit('') ?? build(full, '');
  return out.length <= max ? out : `${out.slice(0, max - 1)}…`;
}

/** One alert event as one message form, in the recipient's language (zh-CN by default). */
export function renderMessage(ev: AlertEvent, ctx: MessageContext, opts: RenderOptions): string {
  const locale = opts.locale ?? 'zh-CN';
  const f = messageFields(ev, ctx, locale);
  switch (opts.format) {
    case 'text':
      return text(f, locale);
    case 'markdown':
      return markdown(f, locale);
    case 'html':
      return html(f, locale);
    case 'sms':
      return sms(f, locale, opts.smsMaxChars ?? SMS_MAX_CHARS);
  }
}

/** Every form at once: what the outbox stores with a decision, so a resend is the same message. */
export function buildMessage(ev: AlertEvent, ctx: MessageContext, opts: { locale?: Locale; smsMaxChars?: number } = {}): NotifyMessage {
  const locale = opts.locale ?? 'zh-CN';
  const f = messageFields(ev, ctx, locale);
  return {
    locale,
    subject: renderSubject(f, locale),
    text: text(f, locale),
    markdown: markdown(f, locale),
    html: html(f, locale),
    sms: sms(f, locale, opts.smsMaxChars ?? SMS_MAX_CHARS),
    link: f.link,
    event: ev,
  };
}
