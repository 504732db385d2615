/**
 * Adjusting an 8-h / 40-h exposure limit to an unusual work schedule.
 *
 * Brief & Scala reduction factor (oel.md §A.1; the daily form is formula (c) of Czech
 * Government Regulation 361/2007, status V; its use in the GBZ annex is S/M):
 *   daily  RF = (8 / h) · (24 − h) / 16      h = hours worked in the day
 *   weekly RF = (40 / h) · (168 − h) / 128   h = hours worked in the week
 * The model only ever lowers a limit: for h ≤ 8 (day) or h ≤ 40 (week) RF is 1.
 */
export type ScheduleBasis = 'day' | 'week';

export function briefScalaFactor(hours: number, basis: ScheduleBasis): number {
  if (basis === 'day') return hours <= 8 ? 1 : (8 / hours) * ((24 - hours) / 16);
  return hours <= 40 ? 1 : (40 / hours) * ((168 - hours) / 128);
}

/** Largest hours accepted per basis: (0, 24] a day, (0, 168] a week. */
export const MAX_HOURS: Record<ScheduleBasis, number> = { day: 24, week: 168 };

/**
 * OSHA lead, 29 CFR 1910.1025(c)(2): for a workday longer than 8 h the allowable 8-h TWA is
 * 400 / hours µg/m3 (10 h → 40 µg/m3), i.e. PEL · 8 / hours with PEL 50 µg/m3 (c)(1).
 * Returned in the unit of the PEL given.
 */
export function oshaLeadAllowable(pel: number, hoursPerDay: number): number {
  return hoursPerDay <= 8 ? pel : (pel * 8) / hoursPerDay;
}
