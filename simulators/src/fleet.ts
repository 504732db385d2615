import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Catalogue } from '../../core/src/agents.ts';
import { HwError } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Registry } from '../../core/src/registry.ts';
import type { FaultRates } from './faults.ts';
import { createGatewaySim, type GatewaySim } from './gateway-sim.ts';

export interface FleetOptions {
  url: string;
  intervalMs: number;
  /** Seconds between random incidents (0 = none). */
  incidentEveryS: number;
  faults?: FaultRates;
  /** Print a live progress line to this stream every 2 s. */
  progress?: NodeJS.WritableStream;
}

/** Demo gateway secrets: `gateways: { "<enterprise>/<gateway>": secret }`. */
export function readCredentials(path: string): Record<string, string> {
  try {
    return (parseYaml(readFileSync(path, 'utf8')) as { gateways?: Record<string, string> }).gateways ?? {};
  } catch (err) {
    throw new HwError('HW_ERR_CONFIG', `simulator credentials ${path}: ${(err as Error).message}`);
  }
}

/** Every registry gateway that has a credential, as a simulated gateway. */
export function createFleet(registry: Registry, credentials: Record<string, string>, catalogue: Catalogue, logger: Logger, opts: FleetOptions) {
  const sims: GatewaySim[] = [];
  for (const [key, gw] of registry.gateways) {
    const secret = credentials[key];
    if (!secret) continue;
    const e = registry.enterprises.get(gw.enterpriseId)!;
    const sensors = [...registry.sensors.values()].filter((s) => s.enterpriseId === gw.enterpriseId && s.gatewayId === gw.id);
    sims.push(createGatewaySim({ url: opts.url, enterpriseId: gw.enterpriseId, gatewayId: gw.id, secret, sensors, industry: e.industry, timezone: e.timezone, intervalMs: opts.intervalMs, catalogue, logger, faults: opts.faults }));
  }
  const timers: NodeJS.Timeout[] = [];
  let last = { published: 0, readings: 0, at: Date.now() };
  const line = () => {
    const now = Date.now();
    const published = sims.reduce((n, s) => n + s.stats.published, 0);
    const readings = sims.reduce((n, s) => n + s.stats.readings, 0);
    const dt = Math.max(1, now - last.at) / 1000;
    const text = `sim: ${sims.filter((s) => s.stats.connected).length}/${sims.length} gateways connected · ${Math.round((published - last.published) / dt)} msgs/s · ${Math.round((readings - last.readings) / dt)} readings/s · ${sims.reduce((n, s) => n + s.stats.buffered, 0)} buffered · ${sims.reduce((n, s) => n + s.stats.errReceived, 0)} err replies`;
    last = { published, readings, at: now };
    return text;
  };
  return {
    sims,
    line,
    async start() {
      await Promise.all(sims.map((s) => s.start()));
      if (opts.incidentEveryS > 0 && sims.length) {
        const fire = () => sims[Math.floor(Math.random() * sims.length)]!.incident();
        timers.push(setTimeout(fire, 5000), setInterval(fire, opts.incidentEveryS * 1000));
      }
      if (opts.progress) {
        const out = opts.progress;
        timers.push(setInterval(() => out.write(`${line()}\n`), 2000));
      }
      for (const t of timers) t.unref();
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(sims.map((s) => s.stop()));
    },
  };
}

export type Fleet = ReturnType<typeof createFleet>;
