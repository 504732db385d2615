/**
 * "Has this key been seen in the current window?", for logging or auditing a repeated
 * event once per window per key (the throttled login: one audit row per address or
 * account a window, the rest counted in a metric). Memory is bounded: at most `maxKeys`
 * keys, the oldest forgotten first (a forgotten key is simply reported again).
 */
export class OncePerWindow {
  /** Key → when its window ends, ms; insertion order = oldest first. */
  private readonly until = new Map<string, number>();

  constructor(private readonly windowMs: number, private readonly maxKeys = 10_000) {}

  /** True the first time `key` is seen in a window, false for the rest of that window. */
  first(key: string, now = Date.now()): boolean {
    const end = this.until.get(key);
    if (end !== undefined && end > now) return false;
    this.until.delete(key);
    while (this.until.size >= this.maxKeys) this.until.delete(this.until.keys().next().value!);
    this.until.set(key, now + this.windowMs);
    return true;
  }
}
