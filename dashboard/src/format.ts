const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A time with its date, in the browser's local time zone: `2026-12-02 14:05` (or with
 * seconds). One numeric form in both languages: an alert can be days old, and a time
 * without its date cannot be audited.
 */
export function formatDateTime(ms: number, seconds = false): string {
  const d = new Date(ms);
  if (!Number.isFinite(d.getTime())) return '–';
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}
