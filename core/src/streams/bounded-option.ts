import { HwError } from '../errors.ts';

/** A numeric option checked at construction: an integer in [min, max], else HW_ERR_CONFIG naming it. */
export function bounded(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new HwError('HW_ERR_CONFIG', `${name} must be an integer in ${min}…${max}, got ${v}`);
  return v;
}
