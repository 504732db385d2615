import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shortSource } from '../src/message-fields.ts';
import { buildMessage, renderMessage, SMS_MAX_CHARS } from '../src/render-message.ts';
import { BASE_URL, demoContext, longNamesContext, longNamesEvent, workedEvent, WORKED_TS } from './alerts.ts';

const LINK = `${BASE_URL}/#/alerts/coal-liuxin.h2s-1:mac:${WORKED_TS}`;

describe('renderMessage: the worked alert (red H2S MAC exceedance at the Liuxin coal mine)', () => {
  const ctx = demoContext();
  const ev = workedEvent();

  it('zh-CN text holds the enterprise, point, agent, value, limit, unit, standard, level, local time and link', () => {
    const text = renderMessage(ev, ctx, { format: 'text' });
    expect(text.split('\n')).toEqual([
      '【红色预警·产生】柳新煤矿 · 回风巷 · 硫化氢',
      '用人单位：柳新煤矿',
      '监测点：回风巷（coal-liuxin.h2s-1）',
      '危害因素：硫化氢',
      '规则：最高容许浓度 (MAC)',
      '监测值：15.2 mg/m3',
      '限值：10.0 mg/m3',
      '限值依据：GBZ 2.1-2019 Table 1',
      '时间：2026-12-02 14:05',
      `查看详情：${LINK}`,
    ]);
  });

  it('is zh-CN when no locale is given, and English when asked', () => {
    expect(renderMessage(ev, ctx, { format: 'text' })).toBe(renderMessage(ev, ctx, { format: 'text', locale: 'zh-CN' }));
    const en = renderMessage(ev, ctx, { format: 'text', locale: 'en' });
    expect(en.split('\n')).toEqual([
      '[Red alert · raised] Liuxin Coal Mine · 回风巷 · Hydrogen sulphide',
      'Enterprise: Liuxin Coal Mine',
      'Monitoring point: 回风巷 (coal-liuxin.h2s-1)',
      'Hazard: Hydrogen sulphide',
      'Rule: Maximum allowable concentration (MAC)',
      'Value: 15.2 mg/m3',
      'Limit: 10.0 mg/m3',
      'Standard: GBZ 2.1-2019 Table 1',
      'Time: 2026-12-02 14:05',
      `Open the alert: ${LINK}`,
    ]);
  });

  it('markdown and html carry the same facts; html escapes what it interpolates', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const md = renderMessage(ev, ctx, { format: 'markdown', locale });
      const html = renderMessage(ev, ctx, { format: 'html', locale });
      for (const fact of ['15.2 mg/m3', '10.0 mg/m3', '2026-12-02 14:05', 'GBZ 2.1-2019 Table 1', 'coal-liuxin.h2s-1']) {
        expect(md).toContain(fact);
        expect(html).toContain(fact);
      }
      expect(md).toContain(`(${LINK})`);
      expect(html).toContain(`href="${LINK}"`);
    }
    expect(renderMessage(ev, ctx, { format: 'markdown' })).toMatch(/^### 【红色预警·产生】柳新煤矿 · 回风巷 · 硫化氢\n\n\*\*用人单位\*\*：柳新煤矿/);
    const hostile = workedEvent({ kind: 'commented', by: 'inspector', note: '<script>alert(1)</script> & "quoted"' });
    const html = renderMessage(hostile, ctx, { format: 'html' });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;quoted&#34;');
    expect(renderMessage(hostile, ctx, { format: 'text' })).toContain('说明：<script>alert(1)</script> & "quoted"');
  });

  it('SMS: one line within two UCS-2 segments, level first; value, limit, time kept; the link and the standard when there is room', () => {
    const zh = renderMessage(ev, ctx, { format: 'sms' });
    // The link takes 78 characters here, so the standard does not fit beside it.
    expect(zh).toBe(`【红色预警】柳新煤矿·回风巷·硫化氢：15.2，限值10.0 mg/m3 2026-12-02 14:05 ${LINK}`);
    expect(zh.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    const short = renderMessage(ev, { ...ctx, baseUrl: 'https://hw.cn' }, { format: 'sms' });
    expect(short).toBe(`【红色预警】柳新煤矿·回风巷·硫化氢：15.2，限值10.0 mg/m3（GBZ 2.1-2019 Table 1） 2026-12-02 14:05 https://hw.cn/#/alerts/coal-liuxin.h2s-1:mac:${WORKED_TS}`);
    expect(short.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    // English needs more letters for the same names: the link would leave them unreadable, so it goes.
    const en = renderMessage(ev, ctx, { format: 'sms', locale: 'en' });
    expect(en).toBe('[Red alert] Liuxin Coal Mine, 回风巷: Hydrogen sulphide 15.2, limit 10.0 mg/m3 (GBZ 2.1-2019 Table 1) 2026-12-02 14:05');
  });

  it('an early warning says when the limit is expected to be passed; an acknowledgement says who and why', () => {
    const forecast = workedEvent();
    forecast.alert = { ...forecast.alert, rule: 'forecast-mac', level: 'orange', reason: { ...forecast.alert.reason, expectedAt: Date.UTC(2026, 11, 2, 7, 30) } };
    expect(renderMessage(forecast, ctx, { format: 'text' })).toContain('预计超限：2026-12-02 15:30');
    expect(renderMessage(forecast, ctx, { format: 'text' })).toContain('规则：预测：将达到 MAC');
    const ack = workedEvent({ kind: 'acknowledged', by: 'liuxin-safety', note: '已撤人，开启风机' });
    const text = renderMessage(ack, ctx, { format: 'text' });
    expect(text.split('\n')[0]).toBe('【红色预警·确认】柳新煤矿 · 回风巷 · 硫化氢');
    expect(text).toContain('操作人：liuxin-safety');
    expect(text).toContain('说明：已撤人，开启风机');
    expect(renderMessage(ack, ctx, { format: 'sms' })).toMatch(/^【红色预警·确认】/);
  });

  it('a gateway-offline alert names the gateway as the point', () => {
    const ev2 = workedEvent();
    ev2.alert = { ...ev2.alert, sensorId: 'coal-liuxin/gw1', agent: 'gateway', rule: 'gateway-offline', level: 'yellow', reason: { metric: 'gateway offline', value: 0, limit: 1, unit: 'connection', source: 'MQTT presence' } };
    const text = renderMessage(ev2, ctx, { format: 'text' });
    expect(text.split('\n')[0]).toBe('【黄色预警·产生】柳新煤矿 · 网关 gw1 · 网关');
    expect(text).toContain('规则：网关离线');
  });

  it('buildMessage renders every form once, with the event for the webhook', () => {
    const m = buildMessage(ev, ctx);
    expect(m.locale).toBe('zh-CN');
    expect(m.subject).toBe('【红色预警·产生】柳新煤矿 · 回风巷 · 硫化氢');
    expect(m.link).toBe(LINK);
    expect(m.sms).toBe(renderMessage(ev, ctx, { format: 'sms' }));
    expect(m.html).toBe(renderMessage(ev, ctx, { format: 'html' }));
    expect(m.event).toBe(ev);
  });
});

describe('the standard and clause in a message', () => {
  it('drops our provenance notes and keeps the clause, brackets included, as the limit files write them', () => {
    expect(shortSource('GBZ 2.1-2019 Table 1 (oel.md §A.2, bjime.com reproduction)')).toBe('GBZ 2.1-2019 Table 1');
    expect(shortSource('29 CFR 1910.1025(c)(1) PEL 50 µg/m3 8-h TWA (dol.gov regulatory text; oel.md §E.6)')).toBe('29 CFR 1910.1025(c)(1) PEL 50 µg/m3 8-h TWA');
    expect(shortSource('GBZ 2.2-2007 (LEX,8h 85 dB(A), equal energy); GBZ/T 189.8-2007 Annex B')).toBe('GBZ 2.2-2007 (LEX,8h 85 dB(A), equal energy); GBZ/T 189.8-2007 Annex B');
    expect(shortSource('action level ½ PC-TWA; GBZ 2.1-2019 Table 1 (oel.md §A.2)')).toBe('action level ½ PC-TWA; GBZ 2.1-2019 Table 1');
    expect(shortSource('MQTT presence: retained status with last will (DESIGN.md)')).toBe('MQTT presence: retained status with last will');
    expect(shortSource('(oel.md)')).toBe('(oel.md)');
  });
});

describe('renderMessage: the SMS budget with names as long as real ones', () => {
  it('keeps two segments (134 characters) in both languages by shortening names, never the value, limit or time', () => {
    const ctx = longNamesContext({ baseUrl: 'https://hw.cn' });
    const ev = longNamesEvent();
    const link = `https://hw.cn/#/alerts/${ev.alert.id}`;
    const zh = renderMessage(ev, ctx, { format: 'sms' });
    expect(zh).toBe(`【橙色预警·升级】江苏省某某市某某区高新技…·三号生产…·苯：12.3，限值10.0 mg/m3 2026-12-02 14:05 ${link}`);
    const en = renderMessage(ev, ctx, { format: 'sms', locale: 'en' });
    expect(en).toBe('[Orange alert · escalated] Jiangsu Fine Chemicals and New Materials Joi…, 三号生产车间二层苯乙…: Benzene 12.3, limit 10.0 mg/m3 2026-12-02 14:05');
    for (const sms of [zh, en]) expect(sms.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
  });

  it('leaves out a link too long to fit beside the facts rather than cutting it', () => {
    const ctx = longNamesContext({ baseUrl: `https://portal.example.gov.cn/${'deep/'.repeat(20)}` });
    const sms = renderMessage(longNamesEvent(), ctx, { format: 'sms' });
    expect(sms.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    expect(sms).not.toContain('https://');
    expect(sms.endsWith('2026-12-02 14:05')).toBe(true);
  });

  it('a smaller budget (room for the provider signature) is kept too', () => {
    const sms = renderMessage(longNamesEvent(), longNamesContext(), { format: 'sms', smsMaxChars: 120 });
    expect(sms.length).toBeLessThanOrEqual(120);
  });

  it('holds for any names, values and link lengths (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }),
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.integer({ min: 0, max: 80 }),
        fc.constantFrom('zh-CN' as const, 'en' as const),
        (name, workplace, value, extra, locale) => {
          const ctx = longNamesContext({ baseUrl: `https://h.example${'/x'.repeat(extra / 2)}`, name, workplace });
          const ev = longNamesEvent();
          ev.alert.reason = { ...ev.alert.reason, value };
          const sms = renderMessage(ev, ctx, { format: 'sms', locale });
          expect(sms.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
          // The link is whole or absent, never cut.
          if (sms.includes('https://')) expect(sms.endsWith(`${ctx.baseUrl}/#/alerts/${ev.alert.id}`)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
