/**
 * What an alert's level, rule and event kind are called, in both languages, and how its
 * values are printed: one place, so the board (dashboard/src/i18n.ts) and the messages sent
 * to people (notify/src/render-message.ts) say the same thing about the same alert.
 */
const zh = {
  red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色',
  open: '未处理', acknowledged: '已确认', cleared: '已解除',
  'rule-twa': '时间加权平均浓度 (TWA)', 'rule-stel': '短时间接触浓度 (STEL)', 'rule-mac': '最高容许浓度 (MAC)', 'rule-peak': '峰接触浓度 (5 × PC-TWA)',
  'rule-excursion': '超限倍数（> 3 × PC-TWA：每次 ≤ 15 min，每班 ≤ 4 次，间隔 ≥ 1 h）', 'rule-lex8h': '8 小时等效声级 (LEX,8h)', 'rule-radon-mean': '氡浓度均值（参考水平）',
  'rule-forecast-twa': '预测：班末 TWA 将超限', 'rule-forecast-stel': '预测：STEL 将超限', 'rule-forecast-mac': '预测：将达到 MAC', 'rule-shift-twa': '班次 TWA 超限',
  'rule-dead-man': '数据中断（监测点未上报）', 'rule-fault-flatline': '设备故障：读数不变', 'rule-fault-negative-drift': '设备故障：负漂移', 'rule-fault-out-of-range': '设备故障：超出量程',
  'rule-gateway-offline': '网关离线',
  'event-raised': '产生', 'event-escalated': '升级', 'event-deescalated': '降级', 'event-acknowledged': '确认', 'event-cleared': '解除', 'event-resolved': '办结', 'event-commented': '备注',
  'agent-gateway': '网关',
};

const en: Record<keyof typeof zh, string> = {
  red: 'Red', orange: 'Orange', yellow: 'Yellow', blue: 'Blue',
  open: 'Open', acknowledged: 'Acknowledged', cleared: 'Cleared',
  'rule-twa': 'Time-weighted average (TWA)', 'rule-stel': 'Short-term exposure (STEL)', 'rule-mac': 'Maximum allowable concentration (MAC)', 'rule-peak': 'Peak (5 × PC-TWA)',
  'rule-excursion': 'Excursion (above 3 × PC-TWA: at most 15 min each, 4 a shift, 1 h apart)', 'rule-lex8h': 'Noise LEX,8h', 'rule-radon-mean': 'Radon mean (reference level)',
  'rule-forecast-twa': 'Forecast: end-of-shift TWA over the limit', 'rule-forecast-stel': 'Forecast: STEL over the limit', 'rule-forecast-mac': 'Forecast: MAC reached', 'rule-shift-twa': 'Shift TWA over the limit',
  'rule-dead-man': 'No data (monitoring point silent)', 'rule-fault-flatline': 'Sensor fault: flat line', 'rule-fault-negative-drift': 'Sensor fault: negative drift', 'rule-fault-out-of-range': 'Sensor fault: out of range',
  'rule-gateway-offline': 'Gateway offline',
  'event-raised': 'raised', 'event-escalated': 'escalated', 'event-deescalated': 'de-escalated', 'event-acknowledged': 'acknowledged', 'event-cleared': 'cleared', 'event-resolved': 'resolved', 'event-commented': 'comment',
  'agent-gateway': 'Gateway',
};

export type AlertWordKey = keyof typeof zh;
export const ALERT_WORDS: { zh: typeof zh; en: typeof zh } = { zh, en };

/** A word for a key that may be unknown (a rule or event kind added later shows as itself). */
export function alertWord(lang: 'zh' | 'en', key: string, fallback = key): string {
  return (ALERT_WORDS[lang] as Record<string, string>)[key] ?? fallback;
}

/** Three significant figures or so, as the board prints a value or a limit: 0.42, 12.5, 350. */
export function formatValue(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}
