/**
 * Gateway and sensor faults, each at a configurable rate (probability per reading or per
 * message), so operators can check that hazardwatch handles what real gateways do.
 */
export interface FaultRates {
  /** A reading is silently not sent. */
  dropout: number;
  /** A sensor sticks at its last value (starts with this probability, lasts `flatlineMs`). */
  flatline: number;
  /** A sensor's zero drifts negative (starts with this probability). */
  drift: number;
  /** The gateway clock is off by `clockSkewMs` (per gateway, decided at start). */
  clockSkew: number;
  /** A message is sent twice. */
  duplicate: number;
  /** Two consecutive messages are swapped. */
  outOfOrder: number;
  /** A message is replaced by a malformed payload. */
  malformed: number;
}

export const NO_FAULTS: FaultRates = { dropout: 0, flatline: 0, drift: 0, clockSkew: 0, duplicate: 0, outOfOrder: 0, malformed: 0 };

export function parseFaults(spec: string): FaultRates {
  const out = { ...NO_FAULTS };
  for (const part of spec.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (!k || !(k in out) || v === undefined || !(Number(v) >= 0 && Number(v) <= 1)) throw new Error(`--faults: "${part}" is not name=rate with a rate in [0, 1]; names: ${Object.keys(NO_FAULTS).join(', ')}`);
    out[k as keyof FaultRates] = Number(v);
  }
  return out;
}

export const MALFORMED_PAYLOADS = [
  '{"ts": 1, "readings": [',
  '{"readings": {"not": "an array"}}',
  'hello world',
  '{"ts": "yesterday", "readings": [{"sensor": "x", "value": 1}]}',
  '[{"bn": "nope", "v": "NaN"}]',
];
