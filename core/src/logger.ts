import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.HW_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'hazardwatch' },
    // Secrets never reach the log, even if a caller logs a whole config or request.
    redact: ['*.password', '*.token', '*.secret', 'influx.token', 'req.headers.authorization'],
  });
}

/** A logger that discards everything: for tests that assert on behaviour, not logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
