import './style.css';
import { dict, type Key, type Lang } from './i18n.ts';
import type { Alert, AlertLevel } from '../../core/src/types.ts';
import type { ServerMessage } from '../../core/src/ws-messages.ts';

const LEVEL_RANK: Record<AlertLevel, number> = { blue: 0, yellow: 1, orange: 2, red: 3 };
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const state = {
  lang: (localStorage.getItem('hw.lang') as Lang | null) ?? 'zh',
  token: sessionStorage.getItem('hw.token'),
  user: undefined as { username: string; name: string } | undefined,
  alerts: new Map<string, Alert>(),
  enterprises: new Map<string, string>(),
  lastEventId: 0,
  ws: undefined as WebSocket | undefined,
};

const t = (k: Key) => dict[state.lang][k];

function applyI18n() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset.i18n as Key);
  $('lang').textContent = t('lang');
  document.title = `${t('title')} · hazardwatch`;
  render();
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

function render() {
  const rows = [...state.alerts.values()]
    .filter((a) => a.state !== 'cleared')
    .sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || b.updatedAt - a.updatedAt);
  const tbody = $('alert-rows');
  tbody.replaceChildren(
    ...rows.map((a) => {
      const tr = document.createElement('tr');
      tr.className = `level-${a.level}`;
      tr.dataset.alertId = a.id;
      tr.dataset.state = a.state;
      const cells = [
        t(a.level), state.enterprises.get(a.enterpriseId) ?? a.enterpriseId, a.sensorId, a.agent,
        `${a.reason.value.toFixed(2)} ${a.reason.unit}`, `${a.reason.limit} ${a.reason.unit}`,
        new Date(a.openedAt).toLocaleTimeString(state.lang === 'zh' ? 'zh-CN' : 'en-GB'), t(a.state),
      ];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.append(td);
      }
      const td = document.createElement('td');
      if (a.state === 'open') {
        const b = document.createElement('button');
        b.className = 'ack';
        b.textContent = t('ack');
        b.onclick = () => void acknowledge(a.id);
        td.append(b);
      } else if (a.ackBy) {
        td.textContent = a.ackBy;
      }
      tr.append(td);
      tr.title = a.reason.source;
      return tr;
    }),
  );
  $('empty').hidden = rows.length > 0;
  const reds = rows.filter((a) => a.level === 'red' && a.state === 'open');
  const banner = $('red-banner');
  banner.hidden = reds.length === 0;
  banner.textContent = `${t('redBanner')} × ${reds.length}`;
  const counts = (['red', 'orange', 'yellow', 'blue'] as const).map((l) => `<span class="pill level-${l}">${t(l)} ${rows.filter((a) => a.level === l).length}</span>`);
  $('summary').innerHTML = counts.join('');
}

async function acknowledge(id: string) {
  const note = prompt(t('ackNote')) ?? '';
  const alert = await api<Alert>(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: JSON.stringify({ note }) });
  state.alerts.set(alert.id, alert);
  render();
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(state.token ?? '')}${state.lastEventId ? `&since=${state.lastEventId}` : ''}`);
  state.ws = ws;
  ws.onopen = () => $('conn').setAttribute('data-state', 'on');
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data as string) as ServerMessage;
    if (msg.type === 'snapshot') {
      state.alerts = new Map(msg.alerts.map((a) => [a.id, a]));
      state.lastEventId = msg.lastEventId;
    } else if (msg.type === 'alert') {
      state.alerts.set(msg.event.alertId, msg.event.alert);
      state.lastEventId = msg.eventId;
    } else if (msg.type === 'error') {
      logout();
      return;
    } else {
      return;
    }
    render();
  };
  ws.onclose = () => {
    $('conn').setAttribute('data-state', 'off');
    if (state.token && state.ws === ws) setTimeout(connect, 1000);
  };
}

async function showBoard() {
  const me = await api<{ username: string; name: string }>('/api/me');
  state.user = me;
  $('user').textContent = me.name;
  $('login').hidden = true;
  $('board').hidden = false;
  $('logout').hidden = false;
  const ents = await api<{ id: string; name: string; nameEn?: string }[]>('/api/enterprises');
  state.enterprises = new Map(ents.map((e) => [e.id, state.lang === 'en' && e.nameEn ? e.nameEn : e.name]));
  connect();
}

function logout() {
  state.token = null;
  sessionStorage.removeItem('hw.token');
  const ws = state.ws;
  state.ws = undefined;
  ws?.close();
  $('board').hidden = true;
  $('logout').hidden = true;
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
});
$('logout').addEventListener('click', () => {
  void fetch('/api/logout', { method: 'POST', headers: { authorization: `Bearer ${state.token}` } });
  logout();
});

applyI18n();
if (state.token) showBoard().catch(logout);
else logout();
