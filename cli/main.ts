import { HwError } from '../core/src/errors.ts';
import { loadConfig, configLeaves } from '../core/src/config.ts';
import { createLogger, type Logger } from '../core/src/logger.ts';
import { loadCatalogue } from '../core/src/agents.ts';

const USAGE = `hazardwatch <command>

  all        every part in one process (default): broker, ingest, rules, API + dashboard, simulated gateways
  broker     the MQTT broker alone
  ingest     ingest worker (connects to HW_SERVICE_BROKER_URL)
  rules      rules engine
  api        API and dashboard
  simulate   simulated gateways against a broker
  secret     a new gateway secret and its registry hash (secret --stdin: the hash of a given one)
  exposure   auditor's exposure calculator (see README); exposure lexw | adjust | radon
  config     list every setting, its environment variable and default
`;

/** Which code runs, in the ready line: the build (bin/hazardwatch.js found it fresh) or the TypeScript sources. */
const CODE = import.meta.url.includes('/dist/server/') ? 'build' : 'sources';

export async function main(argv: string[]): Promise<number> {
  const [command = 'all', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'config') {
    for (const l of configLeaves()) process.stdout.write(`${l.env.padEnd(32)} ${JSON.stringify(l.schema.default ?? '')} ${l.schema.description ?? ''}\n`);
    return 0;
  }
  if (command === 'secret') {
    const { runSecret } = await import('./secret.ts');
    const res = await runSecret(rest, async () => {
      // Bounded: a little more than the longest secret accepted, then refused as too long.
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of process.stdin) {
        chunks.push(c as Buffer);
        n += (c as Buffer).length;
        if (n > 4096) break;
      }
      return Buffer.concat(chunks);
    });
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    return res.code;
  }
  if (command === 'exposure') {
    const { EXPOSURE_SUBCOMMANDS, runExposureCli } = await import('./exposure.ts');
    const chunks: Buffer[] = [];
    // lexw, adjust and radon take arguments only: do not wait for standard input.
    if (!(rest[0] !== undefined && Object.hasOwn(EXPOSURE_SUBCOMMANDS, rest[0]))) for await (const c of process.stdin) chunks.push(c as Buffer);
    const res = runExposureCli(rest, Buffer.concat(chunks).toString('utf8'), loadCatalogue());
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    return res.code;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof HwError) {
      process.stderr.write(`hazardwatch: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  switch (command) {
    case 'all': {
      // Each command loads its own modules only (a split service does not load the others').
      const running = await (await import('./all.ts')).startAll(config, logger);
      // The ready line is logged whatever the level: supervisors and tests wait for it.
      logger.child({}, { level: 'info' }).info({ mqttPort: running.mqttPort, httpPort: running.httpPort, simulatedGateways: running.sims.length, code: CODE }, 'ready');
      const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
      process.stderr.write(
        `\n  hazardwatch is running\n` +
          `  dashboard   http://${host}:${running.httpPort}/   (logins: city / district / township / officer, password "hazardwatch")\n` +
          `  API         http://${host}:${running.httpPort}/api/health\n` +
          `  MQTT        mqtt://${host}:${running.mqttPort}   (${running.sims.length} simulated gateways publishing)\n` +
          `  store       ${config.influx.url ? `InfluxDB ${config.influx.url}` : `embedded SQLite in ${config.dataDir}`}\n\n`,
      );
      stopOnSignals(running, logger);
      return -1; // keep running
    }
    case 'broker':
    case 'ingest':
    case 'rules':
    case 'api':
    case 'simulate': {
      const { runApi, runBroker, runIngest, runRules, runSimulate } = await import('./services.ts');
      const run = { broker: runBroker, ingest: runIngest, rules: runRules, api: runApi, simulate: runSimulate }[command];
      const running = await run(config, logger, rest);
      if (running.done) return 0;
      logger.child({}, { level: 'info' }).info({ ...running.describe, code: CODE }, 'ready');
      stopOnSignals(running, logger);
      return -1;
    }
    default:
      process.stderr.write(`hazardwatch: unknown or not yet available command "${command}" ${rest.join(' ')}\n\n${USAGE}`);
      return 2;
  }
}

/** Longest a graceful stop may take (a store or Redis that never answers must not keep a stopping process alive). */
const STOP_DEADLINE_MS = 60_000;

/**
 * SIGINT / SIGTERM stop the process gracefully, once. It exits 0, or with the exit code a
 * part set on the way (a rules worker that lost its partition leases), or 1 when the stop
 * did not finish within STOP_DEADLINE_MS.
 */
function stopOnSignals(running: { stop(): Promise<void> }, logger: Logger): void {
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: STOP_DEADLINE_MS }, 'the stop did not finish in time: exiting');
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    await running.stop();
    process.exit(Number(process.exitCode ?? 0));
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
