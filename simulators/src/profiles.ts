/**
 * Industry profiles: which agents a plant of each kind monitors, at what typical level
 * (as a fraction of the agent's main limit, or in dB(A) / Bq/m3), how noisy the signal is,
 * and its shift pattern. Levels are typical of monitoring data in these industries, with
 * most points compliant and a few near the action level.
 */
export interface SensorProfile {
  agent: string;
  unit: string;
  workplace: string;
  /** Typical level during a shift: fraction of the limit (PC-TWA, else MAC) or an absolute level. */
  level: { fractionOfLimit: number } | { absolute: number };
  /** Relative standard deviation of the signal. */
  rsd: number;
  /** Instrument range in `unit`. */
  max: number;
}

export interface IndustryProfile {
  name: string;
  nameZh: string;
  shifts: { name: string; start: string; hours: number }[];
  /** Level outside shifts, as a fraction of the in-shift level. */
  offShiftFactor: number;
  sensors: SensorProfile[];
}

const threeShifts = [{ name: '夜班', start: '00:00', hours: 8 }, { name: '白班', start: '08:00', hours: 8 }, { name: '中班', start: '16:00', hours: 8 }];
const dayShift = [{ name: '白班', start: '08:00', hours: 8 }];
const twoShifts = [{ name: '白班', start: '08:00', hours: 8 }, { name: '中班', start: '16:00', hours: 8 }];

export const INDUSTRIES: Record<string, IndustryProfile> = {
  'coal-mine': { name: 'Coal mine', nameZh: '煤矿', shifts: threeShifts, offShiftFactor: 1, sensors: [
    { agent: 'dust.coal.respirable', unit: 'mg/m3', workplace: '综采工作面', level: { fractionOfLimit: 0.6 }, rsd: 0.35, max: 200 },
    { agent: 'dust.coal.total', unit: 'mg/m3', workplace: '综采工作面', level: { fractionOfLimit: 0.55 }, rsd: 0.35, max: 500 },
    { agent: 'gas.co', unit: 'ppm', workplace: '回风巷', level: { fractionOfLimit: 0.2 }, rsd: 0.2, max: 1000 },
    { agent: 'gas.h2s', unit: 'ppm', workplace: '回风巷', level: { fractionOfLimit: 0.1 }, rsd: 0.3, max: 100 },
    { agent: 'noise', unit: 'dB(A)', workplace: '采煤机', level: { absolute: 88 }, rsd: 0.03, max: 140 },
    { agent: 'radon', unit: 'Bq/m3', workplace: '主运输巷', level: { absolute: 400 }, rsd: 0.15, max: 50000 },
  ] },
  cement: { name: 'Cement', nameZh: '水泥', shifts: twoShifts, offShiftFactor: 0.3, sensors: [
    { agent: 'dust.cement.respirable', unit: 'mg/m3', workplace: '包装车间', level: { fractionOfLimit: 0.5 }, rsd: 0.4, max: 200 },
    { agent: 'dust.cement.total', unit: 'mg/m3', workplace: '包装车间', level: { fractionOfLimit: 0.45 }, rsd: 0.4, max: 500 },
    { agent: 'gas.so2', unit: 'mg/m3', workplace: '窑头', level: { fractionOfLimit: 0.2 }, rsd: 0.3, max: 200 },
    { agent: 'noise', unit: 'dB(A)', workplace: '磨机房', level: { absolute: 92 }, rsd: 0.02, max: 140 },
  ] },
  foundry: { name: 'Foundry', nameZh: '铸造', shifts: twoShifts, offShiftFactor: 0.2, sensors: [
    { agent: 'dust.silica.respirable', unit: 'mg/m3', workplace: '清砂工段', level: { fractionOfLimit: 0.6 }, rsd: 0.45, max: 200 },
    { agent: 'dust.silica.total', unit: 'mg/m3', workplace: '清砂工段', level: { fractionOfLimit: 0.5 }, rsd: 0.45, max: 500 },
    { agent: 'dust.welding.total', unit: 'mg/m3', workplace: '焊接工位', level: { fractionOfLimit: 0.4 }, rsd: 0.4, max: 200 },
    { agent: 'gas.co', unit: 'mg/m3', workplace: '熔炼炉', level: { fractionOfLimit: 0.3 }, rsd: 0.3, max: 1000 },
    { agent: 'noise', unit: 'dB(A)', workplace: '落砂机', level: { absolute: 95 }, rsd: 0.03, max: 140 },
  ] },
  chemical: { name: 'Chemical plant', nameZh: '化工', shifts: threeShifts, offShiftFactor: 1, sensors: [
    { agent: 'gas.benzene', unit: 'mg/m3', workplace: '精馏装置', level: { fractionOfLimit: 0.15 }, rsd: 0.4, max: 500 },
    { agent: 'gas.toluene', unit: 'mg/m3', workplace: '精馏装置', level: { fractionOfLimit: 0.15 }, rsd: 0.4, max: 2000 },
    { agent: 'gas.h2s', unit: 'ppm', workplace: '污水处理', level: { fractionOfLimit: 0.1 }, rsd: 0.3, max: 100 },
    { agent: 'gas.nh3', unit: 'ppm', workplace: '合成工段', level: { fractionOfLimit: 0.2 }, rsd: 0.3, max: 500 },
    { agent: 'gas.cl2', unit: 'ppm', workplace: '液氯库', level: { fractionOfLimit: 0.05 }, rsd: 0.3, max: 50 },
    { agent: 'noise', unit: 'dB(A)', workplace: '压缩机房', level: { absolute: 86 }, rsd: 0.02, max: 140 },
  ] },
  furniture: { name: 'Furniture / woodworking', nameZh: '家具制造', shifts: dayShift, offShiftFactor: 0.1, sensors: [
    { agent: 'dust.other.total', unit: 'mg/m3', workplace: '砂光车间', level: { fractionOfLimit: 0.4 }, rsd: 0.5, max: 500 },
    { agent: 'gas.formaldehyde', unit: 'mg/m3', workplace: '贴面车间', level: { fractionOfLimit: 0.3 }, rsd: 0.3, max: 50 },
    { agent: 'gas.xylene', unit: 'mg/m3', workplace: '喷漆房', level: { fractionOfLimit: 0.3 }, rsd: 0.4, max: 2000 },
    { agent: 'gas.benzene', unit: 'mg/m3', workplace: '喷漆房', level: { fractionOfLimit: 0.1 }, rsd: 0.4, max: 500 },
    { agent: 'noise', unit: 'dB(A)', workplace: '开料车间', level: { absolute: 90 }, rsd: 0.03, max: 140 },
  ] },
  'building-materials': { name: 'Building materials', nameZh: '建材', shifts: twoShifts, offShiftFactor: 0.3, sensors: [
    { agent: 'dust.silica.respirable', unit: 'mg/m3', workplace: '破碎车间', level: { fractionOfLimit: 0.5 }, rsd: 0.45, max: 200 },
    { agent: 'dust.other.total', unit: 'mg/m3', workplace: '成型车间', level: { fractionOfLimit: 0.45 }, rsd: 0.45, max: 500 },
    { agent: 'noise', unit: 'dB(A)', workplace: '破碎车间', level: { absolute: 93 }, rsd: 0.02, max: 140 },
    { agent: 'radon', unit: 'Bq/m3', workplace: '原料库', level: { absolute: 250 }, rsd: 0.15, max: 50000 },
  ] },
};

/** Industry of a registry enterprise, by its `industry` field (unknown → a generic profile). */
export function industryOf(industry: string): IndustryProfile {
  return INDUSTRIES[industry] ?? INDUSTRIES.foundry!;
}
