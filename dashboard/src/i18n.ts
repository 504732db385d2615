export type Lang = 'zh' | 'en';

const zh = {
  title: '职业病危害因素在线监测预警', login: '登录', username: '用户名', password: '密码', signIn: '登录', logout: '退出',
  level: '等级', enterprise: '用人单位', sensor: '监测点', agent: '危害因素', value: '监测值', limit: '限值', since: '开始时间',
  state: '状态', ack: '确认', noAlerts: '当前无预警', badLogin: '用户名或密码错误', live: '实时', offline: '已断开',
  red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色', open: '未处理', acknowledged: '已确认', cleared: '已解除',
  redBanner: '红色预警', ackNote: '处置说明（可选）', lang: 'English',
};
const en: typeof zh = {
  title: 'Workplace hazard monitoring and early warning', login: 'Sign in', username: 'Username', password: 'Password', signIn: 'Sign in', logout: 'Sign out',
  level: 'Level', enterprise: 'Enterprise', sensor: 'Monitoring point', agent: 'Hazard', value: 'Value', limit: 'Limit', since: 'Since',
  state: 'State', ack: 'Acknowledge', noAlerts: 'No active alerts', badLogin: 'Wrong username or password', live: 'live', offline: 'disconnected',
  red: 'Red', orange: 'Orange', yellow: 'Yellow', blue: 'Blue', open: 'Open', acknowledged: 'Acknowledged', cleared: 'Cleared',
  redBanner: 'RED ALERT', ackNote: 'Note (optional)', lang: '中文',
};

export type Key = keyof typeof zh;
export const dict: Record<Lang, typeof zh> = { zh, en };
