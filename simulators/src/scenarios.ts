/**
 * Incident scenarios: a multiplier or an absolute level over time, applied to one sensor.
 * Shapes follow the incidents the plans name: a gas leak ramps up, a dust burst spikes,
 * a noise peak is short and loud, radon builds up slowly in a closed space.
 */
export type ScenarioName = 'leak-ramp' | 'dust-burst' | 'noise-peak' | 'radon-buildup';

export interface Scenario {
  name: ScenarioName;
  /** Which agents it applies to. */
  kinds: readonly ('gas' | 'dust' | 'noise' | 'radon')[];
  durationMs: number;
  /** Target level at time t since the start, given the background level and the agent's ceiling. */
  level(tMs: number, background: number, ceiling: number): number;
}

const ramp = (t: number, up: number, hold: number, down: number) => (t < up ? t / up : t < up + hold ? 1 : Math.max(0, 1 - (t - up - hold) / down));

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  // Ramps to twice the ceiling over 3 min, holds 2 min, falls over 2 min.
  'leak-ramp': { name: 'leak-ramp', kinds: ['gas'], durationMs: 7 * 60_000, level: (t, bg, c) => bg + ramp(t, 180_000, 120_000, 120_000) * (2 * c - bg) },
  // A burst to 1.5 × the 5 × PC-TWA ceiling for 90 s.
  'dust-burst': { name: 'dust-burst', kinds: ['dust'], durationMs: 150_000, level: (t, bg, c) => bg + ramp(t, 20_000, 90_000, 40_000) * (1.5 * c - bg) },
  // 118 dB(A) for 30 s (above the 115 dB(A) ceiling).
  'noise-peak': { name: 'noise-peak', kinds: ['noise'], durationMs: 45_000, level: (t, bg) => bg + ramp(t, 5000, 30_000, 10_000) * (118 - bg) },
  // Build-up in a closed store to 1.5 × the reference level over 10 min (compressed time).
  'radon-buildup': { name: 'radon-buildup', kinds: ['radon'], durationMs: 15 * 60_000, level: (t, bg, c) => bg + ramp(t, 600_000, 240_000, 60_000) * (1.5 * c - bg) },
};

export function scenarioFor(kind: 'gas' | 'dust' | 'noise' | 'radon'): Scenario {
  return Object.values(SCENARIOS).find((s) => s.kinds.includes(kind))!;
}
