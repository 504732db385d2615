import { ALERT_WORDS } from '../../core/src/alert-words.ts';

export type Lang = 'zh' | 'en';

const zh = {
  title: '职业病危害因素在线监测预警', login: '登录', username: '用户名', password: '密码', signIn: '登录', logout: '退出',
  tabAlerts: '预警看板', tabEnterprises: '用人单位', tabSensors: '监测点', tabKpi: '考核指标',
  jurisdiction: '辖区', all: '全部',
  level: '等级', enterprise: '用人单位', sensor: '监测点', agent: '危害因素', value: '监测值', limit: '限值', since: '开始时间',
  state: '状态', actions: '处置', ack: '确认', resolve: '办结', comment: '备注', noAlerts: '当前无预警', badLogin: '用户名或密码错误',
  live: '实时', offline: '已断开',
  redBanner: '红色预警', lang: 'English',
  township: '乡镇（街道）', industry: '行业', grade: '危害分级', sensors: '监测点数', openAlerts: '未解除预警',
  reason: '办结原因', 'reason-exceedance': '确属超标', 'reason-false-alarm': '误报', 'reason-sensor-fault': '设备故障',
  note: '说明', cancel: '取消', confirm: '提交', ackTitle: '确认预警', resolveTitle: '办结预警', commentTitle: '添加整改备注',
  status: '状态', 'status-ok': '正常', 'status-stale': '数据延迟', 'status-fault': '故障', 'status-offline': '离线', 'status-never': '未上报',
  twa: 'C_TWA (8h)', stel: 'C_STE (15min)', lex: 'LEX,8h', coverage: '覆盖率', lastValue: '最新值',
  pcTwa: 'PC-TWA', pcStel: 'PC-STEL', mac: 'MAC', lex8h: 'LEX,8h 限值', reference: '参考水平', history: '近 2 小时（每分钟最大值）', liveData: '实时',
  points: '监测点', passing: '合格', failing: '超限', notAssessed: '未评估', completeness: '数据完整率', passRate: '合格率', target: '目标', meets: '达标', misses: '未达标', noData: '无数据',
  kpiHint: '工作场所职业病危害因素监测合格率（近 30 天）：合格 ÷（合格 + 超限）。考核期内任一时刻超限（含期前开始、期内仍在的超限）即为超限；未超限但数据完整率低于 75% 的监测点为“未评估”，不计入合格率。',
  'industry-coal-mine': '煤矿', 'industry-cement': '水泥', 'industry-foundry': '铸造', 'industry-chemical': '化工', 'industry-furniture': '家具制造', 'industry-building-materials': '建材',
  ...ALERT_WORDS.zh,
  rule: '规则', historyTitle: '预警全过程', 'history-open': '记录', close: '关闭', by: '操作人', dose: '噪声剂量',
};
const en: typeof zh = {
  title: 'Workplace hazard monitoring and early warning', login: 'Sign in', username: 'Username', password: 'Password', signIn: 'Sign in', logout: 'Sign out',
  tabAlerts: 'Alert board', tabEnterprises: 'Enterprises', tabSensors: 'Monitoring points', tabKpi: 'Plan KPI',
  jurisdiction: 'Jurisdiction', all: 'All',
  level: 'Level', enterprise: 'Enterprise', sensor: 'Monitoring point', agent: 'Hazard', value: 'Value', limit: 'Limit', since: 'Since',
  state: 'State', actions: 'Actions', ack: 'Acknowledge', resolve: 'Resolve', comment: 'Note', noAlerts: 'No active alerts', badLogin: 'Wrong username or password',
  live: 'live', offline: 'disconnected',
  redBanner: 'RED ALERT', lang: '中文',
  township: 'Township', industry: 'Industry', grade: 'Risk grade', sensors: 'Points', openAlerts: 'Open alerts',
  reason: 'Reason', 'reason-exceedance': 'Real exceedance', 'reason-false-alarm': 'False alarm', 'reason-sensor-fault': 'Sensor fault',
  note: 'Note', cancel: 'Cancel', confirm: 'Submit', ackTitle: 'Acknowledge alert', resolveTitle: 'Resolve alert', commentTitle: 'Add a rectification note',
  status: 'Status', 'status-ok': 'OK', 'status-stale': 'Stale', 'status-fault': 'Fault', 'status-offline': 'Offline', 'status-never': 'Never reported',
  twa: 'C_TWA (8 h)', stel: 'C_STE (15 min)', lex: 'LEX,8h', coverage: 'Coverage', lastValue: 'Last',
  pcTwa: 'PC-TWA', pcStel: 'PC-STEL', mac: 'MAC', lex8h: 'LEX,8h limit', reference: 'Reference level', history: 'Last 2 h (max per minute)', liveData: 'live',
  points: 'Points', passing: 'Passing', failing: 'Exceeded', notAssessed: 'Not assessed', completeness: 'Data completeness', passRate: 'Pass rate', target: 'Target', meets: 'meets target', misses: 'below target', noData: 'no data',
  kpiHint: 'Workplace hazard monitoring pass rate (last 30 days): passing ÷ (passing + exceeded). A point exceeded if it was above a limit at any time in the period, including an exceedance that began earlier and was still active; a point without exceedance but under 75 % data completeness is not assessed and not counted.',
  'industry-coal-mine': 'Coal mine', 'industry-cement': 'Cement', 'industry-foundry': 'Foundry', 'industry-chemical': 'Chemical', 'industry-furniture': 'Furniture', 'industry-building-materials': 'Building materials',
  ...ALERT_WORDS.en,
  rule: 'Rule', historyTitle: 'Alert history', 'history-open': 'History', close: 'Close', by: 'by', dose: 'Noise dose',
};

export type Key = keyof typeof zh;
export const dict: Record<Lang, typeof zh> = { zh, en };
