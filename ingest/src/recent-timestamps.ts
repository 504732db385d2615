/** Remembers the last timestamps per sensor, to refuse duplicates (bounded memory). */
export class RecentTimestamps {
  /**
   * Per sensor: the last `perSensor` timestamps in a ring, and the newest ever seen.
   * Readings mostly arrive in order, so a timestamp above the newest is new without a
   * lookup; only an older one is searched for in the ring.
   */
  private readonly bySensor = new Map<string, { ring: Float64Array; next: number; newest: number }>();
  constructor(private readonly perSensor = 256) {}
  seen(sensorId: string, ts: number): boolean {
    let r = this.bySensor.get(sensorId);
    if (!r) this.bySensor.set(sensorId, (r = { ring: new Float64Array(this.perSensor).fill(NaN), next: 0, newest: -Infinity }));
    if (ts <= r.newest && r.ring.includes(ts)) return true;
    if (ts > r.newest) r.newest = ts;
    r.ring[r.next] = ts;
    r.next = (r.next + 1) % this.perSensor;
    return false;
  }
}
