import './style.css';
import { dict, type Key, type Lang } from './i18n.ts';
import { drawChart, type ChartLimit, type Point } from './chart.ts';
import type { Alert, AlertEvent, AlertLevel, Jurisdiction } from '../../core/src/types.ts';
import { formatDateTime } from './format.ts';
import { formatValue } from '../../core/src/alert-words.ts';
import type { LiveReading, ServerMessage } from '../../core/src/ws-messages.ts';

const LEVEL_RANK: Record<AlertLevel, number> = { blue: 0, yellow: 1, orange: 2, red: 3 };
const GRADES = ['0', 'Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ'];
const HISTORY_MS = 2 * 3600_000;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
type View = 'alerts' | 'enterprises' | 'sensors' | 'kpi';

interface Me { username: string; name: string; role: string; scope: string }
interface Enterprise { id: string; name: string; nameEn?: string; industry: string; township: string; grade: number | null; sensors: number; openAlerts: number }
interface LimitValue { value: number; status: string; source: string }
interface Sensor {
  id: string; enterpriseId: string; agent: string; agentName: string; agentNameEn: string; workplace?: string; agentUnit: string;
  limits: Partial<Record<'pcTwa' | 'pcStel' | 'mac' | 'lex8h' | 'reference', LimitValue>> | null;
  last: { ts: number; valueStd: number } | null; status: string; grade: { grade: number; label: string } | null;
  /** dosePct: noise dose % under the enterprise's profile, when the API gives it. */
  exposure: { twa8h: number; stel15: number; coverage8h: number; lex8h?: number; dosePct?: number } | null;
}
interface AgentName { key: string; name: string; nameEn: string }
interface PassRate { jurisdictionId: string; name: string; level: string; points: number; passing: number; failing: number; notAssessed: number; passRatePct: number | null; dataCompletenessPct: number | null; completenessThresholdPct: number; targetPct: number; meetsTarget: boolean | null }

const state = {
  lang: (localStorage.getItem('hw.lang') as Lang | null) ?? 'zh',
  token: sessionStorage.getItem('hw.token'),
  me: undefined as Me | undefined,
  view: 'alerts' as View,
  alerts: new Map<string, Alert>(),
  enterprises: [] as Enterprise[],
  jurisdictions: [] as Jurisdiction[],
  /** Agent key → names, from /api/agents (core/data/agents.yaml). */
  agents: new Map<string, AgentName>(),
  filter: '' as string,
  lastEventId: '',
  ws: undefined as WebSocket | undefined,
  sensor: undefined as { sensor: Sensor; history: Point[]; live: Point[] } | undefined,
};

const t = (k: Key) => dict[state.lang][k] ?? k;
/** A word for a key that may not be in the dictionary (a rule or event kind added later shows as itself). */
const tOr = (k: string, fallback: string) => (dict[state.lang] as Record<string, string>)[k] ?? fallback;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, ...children: (Node | string)[]) => {
  const e = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(e, rest);
  if (dataset) Object.assign(e.dataset, dataset);
  e.append(...children);
  return e;
};
const nameOf = (x: { name: string; nameEn?: string }) => (state.lang === 'en' && x.nameEn ? x.nameEn : x.name);
const enterpriseName = (id: string) => {
  const e = state.enterprises.find((x) => x.id === id);
  return e ? nameOf(e) : id;
};
const fmt = formatValue;
/** Every time shown carries its date: 2026-12-02 14:05 (local time). */
const time = (ms: number, seconds = false) => formatDateTime(ms, seconds);
/** The hazard's name in the user's language, never the catalogue key. */
const agentName = (key: string) => {
  const a = state.agents.get(key);
  return a ? (state.lang === 'en' ? a.nameEn : a.name) : tOr(`agent-${key}`, key);
};
/** What the rule is, in words (TWA, STEL, MAC, peak, forecast, shift, fault, offline …). */
const ruleName = (rule: string) => tOr(`rule-${rule}`, rule);

/** The selected jurisdiction and everything under it (empty filter: all the user sees). */
function inFilter(townshipId: string): boolean {
  if (!state.filter) return true;
  for (let id: string | undefined = townshipId; id; id = state.jurisdictions.find((j) => j.id === id)?.parent) if (id === state.filter) return true;
  return false;
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { 'content-type': 'application/json', ...(state.token ? { authorization: `Bearer ${state.token}` } : {}), ...init.headers } });
  if (res.status === 401) {
    logout();
    throw new Error('unauthenticated');
  }
  if (!res.ok) throw new Error(((await res.json()) as { message?: string }).message ?? res.statusText);
  return (await res.json()) as T;
}

function applyI18n() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) node.textContent = t(node.dataset.i18n as Key);
  $('lang').textContent = t('lang');
  document.title = `${t('title')} · hazardwatch`;
  renderFilter();
  render();
}

function render() {
  renderBoard();
  if (state.view === 'enterprises') renderEnterprises();
  if (state.view === 'sensors') renderSensorChart();
}

// ---- alert board -------------------------------------------------------------------

function renderBoard() {
  const rows = [...state.alerts.values()]
    .filter((a) => a.state !== 'cleared' && inFilter(a.townshipId))
    .sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || b.updatedAt - a.updatedAt);
  const regulator = state.me && state.me.role !== 'enterprise';
  $('alert-rows').replaceChildren(
    ...rows.map((a) => {
      const tr = el('tr', { className: `level-${a.level}`, title: `${a.reason.metric}: ${a.reason.source}`, dataset: { alertId: a.id, state: a.state } });
      const expected = a.reason.expectedAt ? ` → ${time(a.reason.expectedAt)}` : '';
      const cells: [string, string][] = [
        ['level', t(a.level)], ['enterprise', enterpriseName(a.enterpriseId)], ['sensor', a.sensorId], ['agent', agentName(a.agent)], ['rule', ruleName(a.rule)],
        ['value', `${fmt(a.reason.value)} ${a.reason.unit}${expected}`], ['limit', `${fmt(a.reason.limit)} ${a.reason.unit}`], ['since', time(a.openedAt)], ['state', t(a.state)],
      ];
      for (const [col, text] of cells) tr.append(el('td', { textContent: text, className: `col-${col}` }));
      const actions = el('td', { className: 'actions' });
      actions.append(el('button', { className: 'history', textContent: t('history-open'), onclick: () => void openHistory(a) }));
      if (a.state === 'open') actions.append(el('button', { className: 'ack', textContent: t('ack'), onclick: () => openAction('ack', a) }));
      if (regulator) actions.append(el('button', { className: 'resolve', textContent: t('resolve'), onclick: () => openAction('resolve', a) }));
      actions.append(el('button', { className: 'comment', textContent: t('comment'), onclick: () => openAction('comment', a) }));
      if (a.ackBy) actions.append(el('span', { className: 'by', textContent: a.ackBy, title: a.ackNote ?? '' }));
      tr.append(actions);
      return tr;
    }),
  );
  $('empty').hidden = rows.length > 0;
  const reds = rows.filter((a) => a.level === 'red' && a.state === 'open');
  const banner = $('red-banner');
  banner.hidden = reds.length === 0 || !state.me;
  banner.textContent = `${t('redBanner')} × ${reds.length}: ${[...new Set(reds.map((a) => enterpriseName(a.enterpriseId)))].join('、')}`;
  $('summary').replaceChildren(...(['red', 'orange', 'yellow', 'blue'] as const).map((l) => el('span', { className: `pill level-${l}`, textContent: `${t(l)} ${rows.filter((a) => a.level === l).length}` })));
}

type Action = 'ack' | 'resolve' | 'comment';
let pending: { action: Action; alert: Alert } | undefined;

function openAction(action: Action, alert: Alert) {
  pending = { action, alert };
  const dialog = $<HTMLDialogElement>('action-dialog');
  const form = $<HTMLFormElement>('action-form');
  form.reset();
  $('action-title').textContent = t(action === 'ack' ? 'ackTitle' : action === 'resolve' ? 'resolveTitle' : 'commentTitle');
  $('action-alert').textContent = `${t(alert.level)} · ${enterpriseName(alert.enterpriseId)} · ${alert.sensorId} · ${agentName(alert.agent)} · ${ruleName(alert.rule)}`;
  $('reason-wrap').hidden = action !== 'resolve';
  (form.elements.namedItem('note') as HTMLTextAreaElement).required = action === 'comment';
  $('action-error').textContent = '';
  dialog.showModal();
}

async function submitAction(ev: SubmitEvent) {
  ev.preventDefault();
  if (!pending) return;
  const form = new FormData($<HTMLFormElement>('action-form'));
  const note = String(form.get('note') ?? '');
  const body = pending.action === 'resolve' ? { reason: form.get('reason'), note } : { note };
  try {
    const alert = await api<Alert>(`/api/alerts/${encodeURIComponent(pending.alert.id)}/${pending.action}`, { method: 'POST', body: JSON.stringify(body) });
    state.alerts.set(alert.id, alert);
    $<HTMLDialogElement>('action-dialog').close();
    pending = undefined;
    render();
  } catch (err) {
    $('action-error').textContent = (err as Error).message;
  }
}

// ---- an alert's whole history ------------------------------------------------------

/** The latest alert asked for: a slower answer for an earlier one must not replace it. */
let historyFor = '';

async function openHistory(alert: Alert) {
  historyFor = alert.id;
  const dialog = $<HTMLDialogElement>('history-dialog');
  $('history-alert').textContent = `${t(alert.level)} · ${enterpriseName(alert.enterpriseId)} · ${alert.sensorId} · ${agentName(alert.agent)} · ${ruleName(alert.rule)}`;
  $('history-rule').textContent = `${alert.reason.metric}: ${alert.reason.source}`;
  $('history-events').replaceChildren();
  $('history-error').textContent = '';
  if (!dialog.open) dialog.showModal();
  try {
    const res = await api<{ alert: Alert; events: AlertEvent[] }>(`/api/alerts/${encodeURIComponent(alert.id)}`);
    if (historyFor !== alert.id) return;
    $('history-events').replaceChildren(...res.events.map((e) => {
      const a = e.alert;
      const parts = [t(a.level), `${fmt(a.reason.value)} / ${fmt(a.reason.limit)} ${a.reason.unit}`, t(a.state)];
      if (e.kind === 'resolved' && a.resolution) parts.push(tOr(`reason-${a.resolution.reason}`, a.resolution.reason));
      return el('li', { dataset: { kind: e.kind } },
        el('time', { dateTime: new Date(e.ts).toISOString(), textContent: time(e.ts, true) }),
        el('span', { className: 'kind', textContent: tOr(`event-${e.kind}`, e.kind) }),
        el('span', { className: 'what', textContent: parts.join(' · ') }),
        ...(e.by ? [el('span', { className: 'by', textContent: `${t('by')} ${e.by}` })] : []),
        ...(e.note ? [el('q', { className: 'note', textContent: e.note })] : []),
      );
    }));
  } catch (err) {
    if (historyFor === alert.id) $('history-error').textContent = (err as Error).message;
  }
}

// ---- enterprises, jurisdictions, KPI -----------------------------------------------

function renderFilter() {
  const select = $<HTMLSelectElement>('jurisdiction');
  const options = [el('option', { value: '', textContent: t('all') })];
  // The user's subtree, in tree order with indentation.
  const walk = (parent: string | undefined, depth: number) => {
    for (const j of state.jurisdictions.filter((x) => x.parent === parent)) {
      options.push(el('option', { value: j.id, textContent: `${'\u3000'.repeat(depth)}${nameOf(j)}` }));
      walk(j.id, depth + 1);
    }
  };
  const scope = state.jurisdictions.find((j) => j.id === state.me?.scope);
  if (scope) {
    options.push(el('option', { value: scope.id, textContent: nameOf(scope) }));
    walk(scope.id, 1);
  }
  select.replaceChildren(...options);
  select.value = state.filter;
  $('filter-wrap').hidden = !scope;
}

function renderEnterprises() {
  const jname = (id: string) => {
    const j = state.jurisdictions.find((x) => x.id === id);
    return j ? nameOf(j) : id;
  };
  $('enterprise-rows').replaceChildren(
    ...state.enterprises.filter((e) => inFilter(e.township)).map((e) => {
      const open = [...state.alerts.values()].filter((a) => a.enterpriseId === e.id && a.state !== 'cleared').length;
      const tr = el('tr', { dataset: { enterpriseId: e.id } },
        el('td', {}, el('a', { href: '#', textContent: nameOf(e), onclick: (ev: Event) => { ev.preventDefault(); void showSensors(e.id); } })),
        el('td', { textContent: jname(e.township) }),
        el('td', { textContent: t(`industry-${e.industry}` as Key) }),
        el('td', {}, el('span', { className: `grade grade-${e.grade ?? 'none'}`, textContent: e.grade === null ? '–' : GRADES[e.grade]! })),
        el('td', { textContent: String(e.sensors) }),
        el('td', { textContent: String(open), className: open ? 'has-alerts' : '' }),
      );
      return tr;
    }),
  );
}

async function loadEnterprises() {
  state.enterprises = await api<Enterprise[]>('/api/enterprises');
}

async function renderKpi() {
  const rows = await api<PassRate[]>('/api/kpi');
  $('kpi-rows').replaceChildren(
    ...rows.filter((r) => !state.filter || inFilter(r.jurisdictionId)).map((r) => {
      const pct = r.passRatePct;
      const bar = el('div', { className: 'bar' }, el('div', { className: `fill ${r.meetsTarget === false ? 'below' : 'ok'}` }), el('div', { className: 'target' }));
      (bar.firstChild as HTMLElement).style.width = `${pct ?? 0}%`;
      (bar.lastChild as HTMLElement).style.left = `${r.targetPct}%`;
      const j = state.jurisdictions.find((x) => x.id === r.jurisdictionId);
      return el('tr', { dataset: { jurisdictionId: r.jurisdictionId, meets: String(r.meetsTarget) } },
        el('td', { textContent: j ? nameOf(j) : r.name }),
        el('td', { textContent: String(r.points) }),
        el('td', { textContent: String(r.passing) }),
        el('td', { textContent: String(r.failing) }),
        el('td', { className: 'not-assessed', textContent: String(r.notAssessed) }),
        el('td', {}, el('span', { className: 'pct', textContent: pct === null ? t('noData') : `${pct.toFixed(1)}%` }), bar),
        el('td', { className: 'completeness', textContent: r.dataCompletenessPct === null ? t('noData') : `${r.dataCompletenessPct.toFixed(1)}%` }),
        el('td', { textContent: `${r.targetPct}%` }),
        el('td', { className: r.meetsTarget === false ? 'misses' : 'meets', textContent: r.meetsTarget === null ? '' : t(r.meetsTarget ? 'meets' : 'misses') }),
      );
    }),
  );
}

// ---- sensors and the trend chart ---------------------------------------------------

async function showSensors(enterpriseId?: string) {
  switchView('sensors');
  const select = $<HTMLSelectElement>('sensor-enterprise');
  const visible = state.enterprises.filter((e) => inFilter(e.township));
  select.replaceChildren(...visible.map((e) => el('option', { value: e.id, textContent: nameOf(e) })));
  select.value = enterpriseId ?? select.value ?? visible[0]?.id ?? '';
  if (!select.value && visible[0]) select.value = visible[0].id;
  const sensors = await api<Sensor[]>(`/api/sensors?enterprise=${encodeURIComponent(select.value)}`);
  $('sensor-rows').replaceChildren(
    ...sensors.map((s) => el('li', { dataset: { sensorId: s.id, status: s.status }, onclick: () => void openSensor(s) },
      el('span', { className: `status status-${s.status}`, textContent: t(`status-${s.status}` as Key) }),
      el('span', { className: 'sname', textContent: `${state.lang === 'en' ? s.agentNameEn : s.agentName} · ${s.workplace ?? s.id}` }),
      el('span', { className: 'last', textContent: s.last ? `${fmt(s.last.valueStd)} ${s.agentUnit}` : '–' }),
    )),
  );
  const current = state.sensor && sensors.find((s) => s.id === state.sensor!.sensor.id);
  if (current) await openSensor(current);
  else if (sensors[0]) await openSensor(sensors[0]);
}

/** The latest sensor asked for: a slower answer for an earlier choice must not replace it. */
let openingSensor = '';

async function openSensor(s: Sensor) {
  openingSensor = s.id;
  for (const li of document.querySelectorAll<HTMLElement>('#sensor-rows li')) li.classList.toggle('selected', li.dataset.sensorId === s.id);
  const to = Date.now();
  const res = await api<{ points: { ts: number; value: number | null }[] }>(`/api/sensors/${encodeURIComponent(s.id)}/readings?from=${to - HISTORY_MS}&to=${to}&intervalMs=60000&fn=max`);
  if (openingSensor !== s.id) return;
  state.sensor = { sensor: s, history: res.points.filter((p): p is Point => p.value !== null), live: [] };
  state.ws?.send(JSON.stringify({ type: 'subscribe-readings', sensors: [s.id] }));
  $('sensor-detail').hidden = false;
  renderSensorChart();
}

function renderSensorChart() {
  const cur = state.sensor;
  if (!cur) return;
  const s = cur.sensor;
  $('sensor-title').textContent = `${state.lang === 'en' ? s.agentNameEn : s.agentName} · ${enterpriseName(s.enterpriseId)} · ${s.workplace ?? ''}`;
  const x = s.exposure;
  const metrics: [string, string][] = [[t('status'), t(`status-${s.status}` as Key)]];
  const lastLive = cur.live.at(-1);
  if (lastLive ?? s.last) metrics.push([t('lastValue'), `${fmt(lastLive?.value ?? s.last!.valueStd)} ${s.agentUnit}`]);
  if (x) {
    if (x.lex8h !== undefined) metrics.push([t('lex'), `${x.lex8h.toFixed(1)} dB(A)`]);
    else metrics.push([t('twa'), `${fmt(x.twa8h)} ${s.agentUnit}`], [t('stel'), `${fmt(x.stel15)} ${s.agentUnit}`]);
    if (x.dosePct !== undefined) metrics.push([t('dose'), `${x.dosePct.toFixed(0)}%`]);
    metrics.push([t('coverage'), `${(100 * x.coverage8h).toFixed(0)}%`]);
  }
  if (s.grade) metrics.push([t('grade'), s.grade.label]);
  $('sensor-metrics').replaceChildren(...metrics.map(([k, v]) => el('div', {}, el('span', { className: 'k', textContent: k }), el('span', { className: 'v', textContent: v }))));
  const limits: ChartLimit[] = [];
  const L = s.limits ?? {};
  if (L.pcTwa) limits.push({ key: 'pcTwa', label: t('pcTwa'), value: L.pcTwa.value, source: L.pcTwa.source });
  if (L.pcStel) limits.push({ key: 'pcStel', label: t('pcStel'), value: L.pcStel.value, source: L.pcStel.source });
  if (L.mac) limits.push({ key: 'mac', label: t('mac'), value: L.mac.value, source: L.mac.source });
  if (L.lex8h) limits.push({ key: 'lex8h', label: t('lex8h'), value: L.lex8h.value, source: L.lex8h.source });
  if (L.reference) limits.push({ key: 'reference', label: t('reference'), value: L.reference.value, source: L.reference.source });
  const now = Date.now();
  $('chart').dataset.sensorId = s.id;
  drawChart($('chart') as unknown as SVGSVGElement, { from: now - HISTORY_MS, to: now, history: cur.history, live: cur.live, limits, unit: s.agentUnit, timeLabel: (ms) => time(ms) });
  $('chart-legend').replaceChildren(
    el('span', { className: 'lg history', textContent: t('history') }),
    el('span', { className: 'lg live', textContent: t('liveData') }),
    ...limits.map((l) => el('span', { className: `lg limit-${l.key}`, title: l.source, textContent: `${l.label} ${fmt(l.value)} ${s.agentUnit}` })),
  );
}

let chartFrame = 0;
function onLiveReadings(readings: LiveReading[]) {
  const cur = state.sensor;
  if (!cur) return;
  for (const r of readings) if (r.sensorId === cur.sensor.id) cur.live.push({ ts: r.ts, value: r.valueStd });
  const cutoff = Date.now() - HISTORY_MS;
  while (cur.live.length && cur.live[0]!.ts < cutoff) cur.live.shift();
  if (state.view === 'sensors' && !chartFrame) chartFrame = requestAnimationFrame(() => { chartFrame = 0; renderSensorChart(); });
}

// ---- navigation, socket, session ---------------------------------------------------

function switchView(view: View) {
  state.view = view;
  for (const s of document.querySelectorAll<HTMLElement>('main section[data-view]')) s.hidden = s.dataset.view !== view || !state.me;
  for (const b of document.querySelectorAll<HTMLElement>('#tabs button')) b.classList.toggle('active', b.dataset.tab === view);
  if (view === 'enterprises') void loadEnterprises().then(renderEnterprises);
  if (view === 'kpi') void renderKpi().catch(() => $('kpi-rows').replaceChildren());
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(state.token ?? '')}${state.lastEventId ? `&since=${encodeURIComponent(state.lastEventId)}` : ''}`);
  state.ws = ws;
  ws.onopen = () => {
    $('conn').setAttribute('data-state', 'on');
    if (state.sensor) ws.send(JSON.stringify({ type: 'subscribe-readings', sensors: [state.sensor.sensor.id] }));
  };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data as string) as ServerMessage;
    if (msg.type === 'snapshot') {
      state.alerts = new Map(msg.alerts.map((a) => [a.id, a]));
      state.lastEventId = msg.lastEventId;
    } else if (msg.type === 'alert') {
      state.alerts.set(msg.event.alertId, msg.event.alert);
      state.lastEventId = msg.eventId;
    } else if (msg.type === 'readings') {
      return onLiveReadings(msg.readings);
    } else if (msg.type === 'error' && msg.code === 'HW_ERR_UNAUTHENTICATED') {
      logout();
      return;
    } else {
      return;
    }
    renderBoard();
  };
  ws.onclose = () => {
    $('conn').setAttribute('data-state', 'off');
    // Reconnect with the last event id: the server replays what was missed.
    if (state.token && state.ws === ws) setTimeout(connect, 1000);
  };
}

async function showBoard() {
  state.me = await api<Me>('/api/me');
  $('user').textContent = state.me.name;
  $('login').hidden = true;
  $('logout').hidden = false;
  $('tabs').hidden = false;
  const [jurisdictions, agents] = await Promise.all([api<Jurisdiction[]>('/api/jurisdictions'), api<AgentName[]>('/api/agents'), loadEnterprises()]);
  state.jurisdictions = jurisdictions;
  state.agents = new Map(agents.map((a) => [a.key, a]));
  renderFilter();
  switchView('alerts');
  connect();
}

function logout() {
  state.token = null;
  state.me = undefined;
  // The next login starts from a snapshot: what this session saw is not the next one's.
  state.lastEventId = '';
  state.alerts = new Map();
  sessionStorage.removeItem('hw.token');
  const ws = state.ws;
  state.ws = undefined;
  ws?.close();
  for (const s of document.querySelectorAll<HTMLElement>('main section[data-view]')) s.hidden = true;
  $('logout').hidden = true;
  $('tabs').hidden = true;
  $('filter-wrap').hidden = true;
  $('red-banner').hidden = true;
  $('login').hidden = false;
  $('user').textContent = '';
}

$<HTMLFormElement>('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target as HTMLFormElement);
  $('login-error').textContent = '';
  const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: form.get('username'), password: form.get('password') }) });
  if (!res.ok) {
    $('login-error').textContent = t('badLogin');
    return;
  }
  const body = (await res.json()) as { token: string };
  state.token = body.token;
  sessionStorage.setItem('hw.token', body.token);
  await showBoard();
});
$('lang').addEventListener('click', () => {
  state.lang = state.lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('hw.lang', state.lang);
  applyI18n();
  if (state.view === 'kpi') void renderKpi();
});
$('logout').addEventListener('click', () => {
  void fetch('/api/logout', { method: 'POST', headers: { authorization: `Bearer ${state.token}` } });
  logout();
});
for (const b of document.querySelectorAll<HTMLElement>('#tabs button')) {
  b.addEventListener('click', () => (b.dataset.tab === 'sensors' ? void showSensors() : switchView(b.dataset.tab as View)));
}
$<HTMLSelectElement>('jurisdiction').addEventListener('change', (ev) => {
  state.filter = (ev.target as HTMLSelectElement).value;
  if (state.view === 'kpi') void renderKpi();
  if (state.view === 'sensors') void showSensors();
  render();
});
$<HTMLSelectElement>('sensor-enterprise').addEventListener('change', (ev) => {
  state.sensor = undefined;
  void showSensors((ev.target as HTMLSelectElement).value);
});
$<HTMLFormElement>('action-form').addEventListener('submit', (ev) => void submitAction(ev));
$('action-cancel').addEventListener('click', () => $<HTMLDialogElement>('action-dialog').close());
$('history-close').addEventListener('click', () => $<HTMLDialogElement>('history-dialog').close());

applyI18n();
if (state.token) showBoard().catch(logout);
else logout();
