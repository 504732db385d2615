import type { HourlyCount } from '../../core/src/store/store.ts';

const HOUR_MS = 3600_000;

/**
 * Minimum data completeness for a monitoring point to be assessed in a period: 75 %.
 * No occupational standard found sets a data-capture rule for continuous workplace
 * monitors, so this is the project's choice, by analogy with the EU ambient-air rule
 * (Directive 2008/50/EC Annex VII A.2: a 1-h value needs 75 % of its data, i.e. 45 min;
 * an 8-h value 75 %, i.e. 6 h).
 */
export const COMPLETENESS_THRESHOLD_PCT = 75;

export interface Completeness {
  /** Readings counted, at most the expected number in each hour. */
  received: number;
  /** Readings expected from the registry interval over the period. */
  expected: number;
}

/**
 * Data completeness of one sensor over [from, to): for each epoch hour, the readings
 * received, capped at the readings expected in that hour (its overlap with the period ÷
 * the sensor's reporting interval), so a burst after a gap cannot fill the gap; summed
 * over the hours and divided by the readings expected over the whole period.
 */
export function completeness(counts: readonly Pick<HourlyCount, 'hour' | 'n'>[], intervalS: number, from: number, to: number): Completeness {
  const perMs = 1 / (intervalS * 1000);
  const expected = Math.max(0, to - from) * perMs;
  let received = 0;
  for (const c of counts) {
    const overlap = Math.min(c.hour + HOUR_MS, to) - Math.max(c.hour, from);
    if (overlap <= 0) continue;
    received += Math.min(c.n, overlap * perMs);
  }
  return { received, expected };
}

export const completenessPct = (c: Completeness): number | null => (c.expected > 0 ? (100 * c.received) / c.expected : null);
