import type { ComponentHealth } from './types.ts';

/**
 * Component health: what `/api/health` reports, from real signals of each component.
 *
 * In one process (`npm start`) the API asks each component directly. As separate
 * services each service publishes its components' health (the `service.health` event)
 * every `HW_SERVICE_HEALTH_REPORT_MS`; the API keeps the last report of each and marks a
 * component down once its reports stop (more than REPORT_MISSES intervals old).
 *
 * Replicas report under names that say how they share the work: rules workers as
 * `rules-{k}of{N}` (each owns partitions no other has: a missing one is down until it is
 * back), ingest workers as `ingest@{instance}` (interchangeable in one consumer group: a
 * silent one is down, and forgotten after FORGET_AFTER_MISSES intervals, when the others
 * have claimed its entries long since and the replica set is taken to have shrunk).
 */
export type HealthCheck = () => ComponentHealth | Promise<ComponentHealth>;

/** The components a complete deployment has, in the order they are reported. */
export const COMPONENTS = ['broker', 'ingest', 'spool', 'store', 'rules', 'api'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** A check that does not answer within this is reported down (a hung store must not hang /api/health). */
export const CHECK_TIMEOUT_MS = 2500;
/** A service whose last report is older than this many report intervals is down. */
export const REPORT_MISSES = 3;
/** An interchangeable replica (`name@instance`) silent this many intervals is forgotten. */
export const FORGET_AFTER_MISSES = 60;
/** Bounds on a health report read from the bus (services only publish there, but check anyway). */
const MAX_REPORT_COMPONENTS = 16;
const MAX_DETAIL_CHARS = 300;
const MAX_REPORTERS = 256;

export interface HealthReport {
  /** Reporting service, e.g. `api`, `rules-0of2`, `ingest@host-1`. */
  service: string;
  ts: number;
  intervalMs: number;
  components: Record<string, ComponentHealth>;
}

export interface HealthSummary {
  status: 'ok' | 'degraded';
  components: Record<string, ComponentHealth>;
}

async function runCheck(check: HealthCheck): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<ComponentHealth>((resolve) => (timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS))),
    ]);
  } catch (err) {
    return { ok: false, detail: `health check failed: ${String((err as Error)?.message ?? err).slice(0, MAX_DETAIL_CHARS)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Run every check (concurrently, each bounded in time). */
export async function checkAll(checks: Record<string, HealthCheck>): Promise<Record<string, ComponentHealth>> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runCheck(checks[n]!)));
  return Object.fromEntries(names.map((n, i) => [n, results[i]!]));
}

export function summarise(components: Record<string, ComponentHealth>): HealthSummary {
  return { status: Object.values(components).every((c) => c.ok) ? 'ok' : 'degraded', components };
}

const ago = (ms: number) => `${(ms / 1000).toFixed(1)} s ago`;

/** The rules engine is healthy when started and its periodic check ran recently. */
export function rulesHealth(s: { started: boolean; lastTickAt: number; tickEveryMs: number; lastEvaluationAt: number; evaluated: number; lagMs: number; unsavedEvents: number; activeAlerts: number }, now: number): ComponentHealth {
  if (!s.started) return { ok: false, detail: 'not started (restoring state from the store)' };
  const tickAge = now - s.lastTickAt;
  const parts = [
    `${s.activeAlerts} active alerts`,
    // The lag includes the gateways' clock skew: reported, not judged.
    s.lastEvaluationAt ? `last evaluation ${ago(now - s.lastEvaluationAt)} (${s.evaluated} readings evaluated; newest reading ${(s.lagMs / 1000).toFixed(1)} s old when evaluated)` : 'no reading evaluated yet',
    `periodic check ${ago(tickAge)}`,
  ];
  if (s.unsavedEvents > 0) parts.push(`${s.unsavedEvents} alert events not stored yet`);
  // The periodic check (dead-man, exposure snapshot) runs every tickEveryMs: three missed mean it is stuck.
  const ok = tickAge <= REPORT_MISSES * s.tickEveryMs;
  return { ok, detail: (ok ? '' : 'periodic check overdue: ') + parts.join('; ') };
}

/** The ingest spool: healthy while it takes readings (below its size limit, when PUBACKs are withheld). */
export function spoolHealth(bytes: number, maxBytes: number): ComponentHealth {
  const full = bytes >= maxBytes;
  return { ok: !full, detail: `${bytes} bytes waiting to be stored${full ? ` (full at ${maxBytes}: acknowledgements withheld)` : ''}` };
}

const isHealth = (v: unknown): v is ComponentHealth =>
  typeof v === 'object' && v !== null && typeof (v as ComponentHealth).ok === 'boolean' && ((v as ComponentHealth).detail === undefined || typeof (v as ComponentHealth).detail === 'string');

/** Parse a report from the bus; undefined (never a throw) when it is not one. */
export function parseReport(payload: Buffer | string, maxBytes = 16 * 1024): HealthReport | undefined {
  if (payload.length > maxBytes) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(payload.toString());
  } catch {
    return undefined;
  }
  return checkReport(v);
}

/** A parsed value checked as a report with bounded work (never stringified); undefined when it is not one. */
export function checkReport(v: unknown): HealthReport | undefined {
  const r = v as HealthReport;
  if (typeof v !== 'object' || v === null || typeof r.service !== 'string' || r.service.length === 0 || r.service.length > 64) return undefined;
  if (!Number.isFinite(r.ts) || !Number.isFinite(r.intervalMs) || r.intervalMs <= 0) return undefined;
  if (typeof r.components !== 'object' || r.components === null) return undefined;
  const entries = Object.entries(r.components);
  if (entries.length > MAX_REPORT_COMPONENTS || !entries.every(([, c]) => isHealth(c))) return undefined;
  return { service: r.service, ts: r.ts, intervalMs: r.intervalMs, components: Object.fromEntries(entries.map(([k, c]) => [k, { ok: c.ok, detail: c.detail?.slice(0, MAX_DETAIL_CHARS) }])) };
}

/** A worker that owns its share: `{name}-{k}of{N}` (rules workers). */
const SHARE_SERVICE = /^([a-z]{1,20})-(\d{1,4})of(\d{1,4})$/;

/**
 * The share layouts in force, per service name: N of its most recent `name-kofN` report,
 * and the components its workers report.
 */
function shareLayouts(reports: ReadonlyMap<string, { report: HealthReport; receivedAt: number }>): Map<string, { count: number; components: string[] }> {
  const newest = new Map<string, { count: number; at: number }>();
  for (const [service, { receivedAt }] of reports) {
    const m = SHARE_SERVICE.exec(service);
    if (!m) continue;
    const count = Number(m[3]);
    const cur = newest.get(m[1]!);
    if (count >= 1 && (!cur || receivedAt > cur.at)) newest.set(m[1]!, { count, at: receivedAt });
  }
  const out = new Map<string, { count: number; components: string[] }>();
  for (const [name, { count }] of newest) {
    const components = new Set<string>();
    for (const [service, { report }] of reports) {
      const m = SHARE_SERVICE.exec(service);
      if (m && m[1] === name && Number(m[3]) === count) for (const c of Object.keys(report.components)) components.add(c);
    }
    out.set(name, { count, components: [...components] });
  }
  return out;
}

/**
 * The API's view of the split deployment's health: the last report of each service,
 * merged per component. A component that several services report (sharded ingest) is ok
 * only when every one is; a service whose reports stopped makes its components down.
 */
export function createHealthBoard(now: () => number = Date.now) {
  const reports = new Map<string, { report: HealthReport; receivedAt: number }>();
  return {
    /** A report from the bus (the receive time, not the sender's clock, decides freshness). */
    receive(payload: Buffer | string): boolean {
      const r = parseReport(payload);
      return r ? this.accept(r) : false;
    },
    /** A report already checked (parseReport; the transport decodes it). */
    accept(r: HealthReport): boolean {
      if (!reports.has(r.service) && reports.size >= MAX_REPORTERS) return false;
      reports.set(r.service, { report: r, receivedAt: now() });
      return true;
    },
    /** Every expected component: reported, stale, or never heard of. */
    components(expected: readonly string[]): Record<string, ComponentHealth> {
      const t = now();
      const merged = new Map<string, { ok: boolean; details: string[] }>();
      const layouts = shareLayouts(reports);
      for (const [service, { report, receivedAt }] of [...reports]) {
        // Workers of an earlier layout (name-kofM, M ≠ the newest N) were retired.
        const share = SHARE_SERVICE.exec(service);
        if (share && Number(share[3]) !== layouts.get(share[1]!)?.count) continue;
        const age = t - receivedAt;
        if (service.includes('@') && age > FORGET_AFTER_MISSES * report.intervalMs) {
          reports.delete(service);
          continue;
        }
        const stale = age > REPORT_MISSES * report.intervalMs;
        for (const [name, c] of Object.entries(report.components)) {
          const m = merged.get(name) ?? { ok: true, details: [] };
          m.ok &&= c.ok && !stale;
          m.details.push(stale ? `${report.service}: down, no report for ${(age / 1000).toFixed(1)} s (expected every ${report.intervalMs} ms)` : `${report.service}: ${c.detail ?? (c.ok ? 'ok' : 'not ok')}`);
          merged.set(name, m);
        }
      }
      // A worker of the current layout that never reported: its components are down.
      for (const [service, layout] of layouts) {
        for (let k = 0; k < layout.count; k++) {
          if (reports.has(`${service}-${k}of${layout.count}`)) continue;
          for (const name of layout.components) {
            const m = merged.get(name) ?? { ok: true, details: [] };
            m.ok = false;
            m.details.push(`${service}-${k}of${layout.count}: down, never reported`);
            merged.set(name, m);
          }
        }
      }
      const out: Record<string, ComponentHealth> = {};
      for (const name of expected) {
        const m = merged.get(name);
        out[name] = m ? { ok: m.ok, detail: m.details.join('; ') } : { ok: false, detail: 'down: no service has reported it' };
      }
      return out;
    },
  };
}

/** Publish `report()` every `intervalMs` (a service's side of the split deployment). */
export function startHealthReports(opts: { service: string; intervalMs: number; checks: Record<string, HealthCheck>; publish: (report: HealthReport) => void | Promise<void>; now?: () => number; onError?: (err: Error) => void }) {
  const now = opts.now ?? Date.now;
  let busy = false;
  const send = async () => {
    if (busy) return; // a slow check never piles up reports
    busy = true;
    try {
      const components = await checkAll(opts.checks);
      await opts.publish({ service: opts.service, ts: now(), intervalMs: opts.intervalMs, components });
    } catch (err) {
      opts.onError?.(err as Error);
    } finally {
      busy = false;
    }
  };
  void send();
  const timer = setInterval(() => void send(), opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
