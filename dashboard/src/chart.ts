/**
 * A small SVG trend chart: history (one point per minute) plus live readings, with
 * horizontal limit lines (PC-TWA, PC-STEL, MAC …). Hand-drawn rather than a charting
 * library: one chart type, a few dozen lines, nothing to download.
 */
export interface Point { ts: number; value: number }
export interface ChartLimit { key: string; label: string; value: number; source: string }

const NS = 'http://www.w3.org/2000/svg';
const W = 800;
const H = 280;
const PAD = { left: 56, right: 12, top: 12, bottom: 26 };

function node<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function drawChart(svg: SVGSVGElement, opts: { from: number; to: number; history: Point[]; live: Point[]; limits: ChartLimit[]; unit: string; timeLabel: (ms: number) => string }) {
  const all = [...opts.history, ...opts.live];
  const isDb = opts.unit === 'dB(A)';
  const values = [...all.map((p) => p.value), ...opts.limits.map((l) => l.value)];
  const top = niceMax(Math.max(...values, 0) * 1.1);
  const bottom = isDb ? Math.max(0, Math.floor((Math.min(...values, top) - 10) / 10) * 10) : 0;
  const x = (ts: number) => PAD.left + ((ts - opts.from) / (opts.to - opts.from)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - ((v - bottom) / (top - bottom)) * (H - PAD.top - PAD.bottom);
  const children: SVGElement[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = bottom + ((top - bottom) * i) / 4;
    children.push(node('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'gridline' }));
    children.push(node('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, v >= 10 ? v.toFixed(0) : v.toFixed(2)));
  }
  for (let i = 0; i <= 4; i++) {
    const ts = opts.from + ((opts.to - opts.from) * i) / 4;
    children.push(node('text', { x: x(ts), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle', class: 'axis' }, opts.timeLabel(ts)));
  }
  for (const l of opts.limits) {
    if (l.value > top) continue;
    children.push(node('line', { x1: PAD.left, x2: W - PAD.right, y1: y(l.value), y2: y(l.value), class: `limit limit-${l.key}`, 'data-limit': l.key }));
    children.push(node('text', { x: W - PAD.right - 4, y: y(l.value) - 4, 'text-anchor': 'end', class: `limit-label limit-${l.key}` }, `${l.label} ${l.value}`));
  }
  const line = (pts: Point[], cls: string) => {
    const inRange = pts.filter((p) => p.ts >= opts.from && p.ts <= opts.to);
    if (inRange.length === 0) return;
    children.push(node('polyline', { points: inRange.map((p) => `${x(p.ts).toFixed(1)},${y(Math.max(bottom, p.value)).toFixed(1)}`).join(' '), class: cls }));
  };
  line(opts.history, 'series history');
  line(opts.live, 'series live');
  const last = opts.live.at(-1);
  if (last) children.push(node('circle', { cx: x(last.ts), cy: y(Math.max(bottom, last.value)), r: 4, class: 'live-dot' }));
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren(...children);
}
