import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../core/src/agents.ts';
import { createAedesBus } from '../../core/src/bus.ts';
import { loadConfig } from '../../core/src/config.ts';
import { createLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { loadRegistryFile, RegistryHolder } from '../../core/src/registry.ts';
import { createStore } from '../../core/src/store/index.ts';
import { createInProcessTransport } from '../../core/src/transport.ts';
import { composeAll, wire } from '../compose.ts';
import { apiUnit } from '../units/api.ts';
import { brokerUnit } from '../units/broker.ts';
import { ingestUnit } from '../units/ingest.ts';
import { rulesUnit } from '../units/rules.ts';
import { PIPELINE_COMMANDS, PIPELINE_EVENTS } from '../../core/src/pipeline-events.ts';
import { STREAM_ROUTES } from '../../core/src/transport-streams.ts';
import { WIRING, type Topology } from '../wiring.ts';

const TOPOLOGIES: Topology[] = ['all', 'services'];

describe('the wiring table (cli/wiring.ts)', () => {
  it('gives every declared event and command at least one producer and one consumer in both topologies, or says what stands in for it', () => {
    for (const key of [...PIPELINE_EVENTS, ...PIPELINE_COMMANDS]) {
      const edge = WIRING[key];
      expect(edge, key).toBeDefined();
      for (const t of TOPOLOGIES) {
        if (edge.topologies.includes(t)) {
          expect(edge.producers.length, `${key} has no producer in ${t}`).toBeGreaterThan(0);
          expect(edge.consumers.length, `${key} has no listener in ${t}`).toBeGreaterThan(0);
        } else {
          expect(edge.direct, `${key} has no listener in ${t} and no direct path`).toMatch(/\w/);
        }
      }
    }
  });

  it('gives every event of the split topology a route on Redis Streams', () => {
    for (const k of [...PIPELINE_EVENTS, ...PIPELINE_COMMANDS]) if (WIRING[k].topologies.includes('services')) expect(STREAM_ROUTES[k], k).toMatch(/\w/);
  });

  const inTopology = (t: Topology) => [...PIPELINE_EVENTS, ...PIPELINE_COMMANDS].filter((k) => WIRING[k].topologies.includes(t)).sort();

  it('has a listener for every event of the all-in-one once it is built (npm start)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-wiring-'));
    const config = loadConfig({}, { dataDir, mqtt: { port: 0, host: '127.0.0.1' }, http: { port: 0, host: '127.0.0.1' }, simulate: { enabled: false } });
    const running = await composeAll(config, createLogger('silent'));
    try {
      const c = running.transport.consumers();
      expect([...c.events, ...c.commands].sort()).toEqual(inTopology('all'));
    } finally {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('has a listener for every event of the split topology among the four services', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-wiring-'));
    const config = loadConfig({}, { dataDir, simulate: { enabled: false } });
    const logger = createLogger('silent');
    const catalogue = loadCatalogue();
    const registry = new RegistryHolder(loadRegistryFile(config.registry, catalogue), () => loadRegistryFile(config.registry, catalogue));
    const consumed = new Set<string>();
    // Each unit on its own transport, as in its own process (built, not started: constructors only assign).
    for (const make of ['broker', 'ingest', 'rules', 'api'] as const) {
      const transport = createInProcessTransport(logger);
      const ctx = { config, logger, topology: 'services' as const, registry, catalogue, metrics: createMetrics(), transport, store: await createStore(config, logger) };
      const unit = make === 'broker' ? brokerUnit(ctx)
        : make === 'ingest' ? ingestUnit(ctx, { bus: createAedesBus(brokerUnit(ctx).broker.aedes) })
        : make === 'rules' ? rulesUnit(ctx)
        : apiUnit(ctx);
      await wire([unit], 'services', transport);
      const c = transport.consumers();
      for (const k of [...c.events, ...c.commands]) consumed.add(k);
    }
    expect([...consumed].sort()).toEqual(inTopology('services'));
    rmSync(dataDir, { recursive: true, force: true });
  });
});
