import { HwError } from '../../../core/src/errors.ts';
import { checkPage, toPage, type Page, type PageRequest } from '../page.ts';
import type { SensorTable } from '../schema.ts';
import { chunks, fromExcluded, inTransaction, present, type Db } from './write.ts';

export interface SensorRecord {
  id: string;
  enterpriseId: string;
  gatewayId: string;
  agent: string;
  unit: string;
  /** Measuring range, in `unit`. */
  min: number;
  max: number;
  /** Expected reporting interval, s. */
  intervalS: number;
  /** Where it measures (the registry's `workplace`). */
  workplace: string;
  /** The job position / work post it represents. */
  workPost?: string;
  /** GBZ/T 229 labour intensity Ⅰ–Ⅳ. */
  labour: 1 | 2 | 3 | 4;
  calibration?: Calibration;
  disabledAt?: number;
  createdAt: number;
  updatedAt: number;
}

/** Dates are ISO `YYYY-MM-DD` (calendar days, as a certificate states them). */
export interface Calibration {
  calibratedOn: string;
  intervalDays: number;
  /** calibratedOn + intervalDays. */
  due: string;
}

export type SensorInput = Omit<SensorRecord, 'createdAt' | 'updatedAt' | 'calibration'>;

/** Updated on conflict: the registry's fields (calibration and disabling have their own writes). */
const COLUMNS = ['enterprise_id', 'gateway_id', 'agent', 'unit', 'range_min', 'range_max', 'interval_s', 'workplace', 'work_post', 'labour', 'updated_at'] as const;

const DAY_MS = 86_400_000;
/** Longest calibration interval accepted, days (10 years; instruments are recalibrated yearly or so). */
export const MAX_CALIBRATION_INTERVAL_DAYS = 3660;

/** The due date of a calibration, or a coded refusal of a malformed date or interval. */
export function calibrationDue(calibratedOn: string, intervalDays: number): string {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(calibratedOn) ? Date.parse(`${calibratedOn}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== calibratedOn) throw new HwError('HW_ERR_BAD_REQUEST', `calibratedOn ${calibratedOn.slice(0, 20)} is not a date YYYY-MM-DD`);
  if (!Number.isInteger(intervalDays) || intervalDays < 1 || intervalDays > MAX_CALIBRATION_INTERVAL_DAYS) throw new HwError('HW_ERR_BAD_RANGE', `calibration interval must be 1 to ${MAX_CALIBRATION_INTERVAL_DAYS} days`);
  return new Date(ms + intervalDays * DAY_MS).toISOString().slice(0, 10);
}

const toSensor = (r: SensorTable): SensorRecord => ({
  id: r.id,
  enterpriseId: r.enterprise_id,
  gatewayId: r.gateway_id,
  agent: r.agent,
  unit: r.unit,
  min: r.range_min,
  max: r.range_max,
  intervalS: r.interval_s,
  workplace: r.workplace,
  labour: r.labour as SensorRecord['labour'],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  ...present({ workPost: r.work_post, disabledAt: r.disabled_at }),
  ...(r.calibrated_on !== null && r.calibration_interval_days !== null && r.calibration_due !== null
    ? { calibration: { calibratedOn: r.calibrated_on, intervalDays: r.calibration_interval_days, due: r.calibration_due } }
    : {}),
});

const toRow = (s: SensorInput, at: number): SensorTable => ({
  id: s.id,
  enterprise_id: s.enterpriseId,
  gateway_id: s.gatewayId,
  agent: s.agent,
  unit: s.unit,
  range_min: s.min,
  range_max: s.max,
  interval_s: s.intervalS,
  workplace: s.workplace,
  work_post: s.workPost ?? null,
  labour: s.labour,
  calibrated_on: null,
  calibration_interval_days: null,
  calibration_due: null,
  disabled_at: s.disabledAt ?? null,
  created_at: at,
  updated_at: at,
});

export function sensorsRepo(db: Db) {
  return {
    async put(rows: readonly SensorInput[], at: number): Promise<void> {
      await inTransaction(db, async (tx) => {
        for (const part of chunks(rows)) {
          await tx.insertInto('sensors').values(part.map((s) => toRow(s, at)))
            .onConflict((oc) => oc.column('id').doUpdateSet(fromExcluded<SensorTable>(COLUMNS)))
            .execute();
        }
      });
    },

    async get(id: string): Promise<SensorRecord | undefined> {
      const row = await db.selectFrom('sensors').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toSensor(row);
    },

    /**
     * By id; `enterpriseId` keeps one enterprise's, `calibrationDueBy` (a date) those whose
     * calibration falls due by then.
     */
    async list(page: PageRequest, filter: { enterpriseId?: string; calibrationDueBy?: string } = {}): Promise<Page<SensorRecord>> {
      checkPage(page);
      let q = db.selectFrom('sensors').selectAll().orderBy('id').limit(page.limit + 1);
      if (filter.enterpriseId !== undefined) q = q.where('enterprise_id', '=', filter.enterpriseId);
      if (filter.calibrationDueBy !== undefined) q = q.where('calibration_due', '<=', filter.calibrationDueBy);
      if (page.after !== undefined) q = q.where('id', '>', page.after);
      return toPage(await q.execute(), page.limit, toSensor, (r) => r.id);
    },

    /** Records a calibration; the next due date follows from the interval. */
    async setCalibration(id: string, c: { calibratedOn: string; intervalDays: number }, at: number): Promise<boolean> {
      const due = calibrationDue(c.calibratedOn, c.intervalDays);
      const r = await db.updateTable('sensors')
        .set({ calibrated_on: c.calibratedOn, calibration_interval_days: c.intervalDays, calibration_due: due, updated_at: at })
        .where('id', '=', id).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    async setDisabled(id: string, disabled: boolean, at: number): Promise<boolean> {
      const r = await db.updateTable('sensors').set({ disabled_at: disabled ? at : null, updated_at: at }).where('id', '=', id).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
}

export type SensorsRepo = ReturnType<typeof sensorsRepo>;
