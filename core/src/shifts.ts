/** Shift calendar: which shift window contains `now`, in the enterprise's time zone. */
export interface ShiftDef {
  name: string;
  start: string; // HH:MM local
  hours: number;
}

export interface ShiftWindow {
  name: string;
  startMs: number;
  endMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Offsets change at most on the hour (DST): cache per zone and UTC hour. */
const offsets = new Map<string, { hour: number; offsetMs: number }>();

/** Offset of `timeZone` from UTC at `ms`, in ms (Asia/Shanghai: +8 h, no DST). */
export function tzOffsetMs(timeZone: string, ms: number): number {
  const hour = Math.floor(ms / 3600_000);
  const cached = offsets.get(timeZone);
  if (cached?.hour === hour) return cached.offsetMs;
  let fmt = formatters.get(timeZone);
  if (!fmt) formatters.set(timeZone, (fmt = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })));
  const parts = fmt.formatToParts(new Date(hour * 3600_000));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const offsetMs = asUtc - hour * 3600_000;
  offsets.set(timeZone, { hour, offsetMs });
  return offsetMs;
}

const startMinutes = new WeakMap<ShiftDef, number>();
/** Minutes after local midnight a shift starts ("HH:MM"), parsed once per shift definition. */
function startMinute(s: ShiftDef): number {
  let m = startMinutes.get(s);
  if (m === undefined) {
    const [hh, mm] = s.start.split(':').map(Number) as [number, number];
    startMinutes.set(s, (m = hh * 60 + mm));
  }
  return m;
}

/** The shift that contains `now` (shifts may cross midnight), or undefined between shifts. */
export function currentShift(shifts: readonly ShiftDef[], timeZone: string, now: number): ShiftWindow | undefined {
  const offset = tzOffsetMs(timeZone, now);
  const localMidnight = Math.floor((now + offset) / 86_400_000) * 86_400_000 - offset;
  for (const s of shifts) {
    const startMin = startMinute(s);
    for (let dayBack = 0; dayBack <= 1; dayBack++) {
      const startMs = localMidnight - dayBack * 86_400_000 + startMin * 60_000;
      const endMs = startMs + s.hours * 3600_000;
      if (now >= startMs && now < endMs) return { name: s.name, startMs, endMs };
    }
  }
  return undefined;
}
