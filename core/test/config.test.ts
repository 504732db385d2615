import { describe, expect, it } from 'vitest';
import { configLeaves, envName, loadConfig } from '../src/config.ts';
import { HwError } from '../src/errors.ts';

describe('config', () => {
  it('derives every environment variable from the setting path', () => {
    const envs = configLeaves().map((l) => l.env);
    for (const required of ['HW_MQTT_PORT', 'HW_HTTP_PORT', 'HW_DATA_DIR', 'HW_REGISTRY', 'HW_INFLUX_URL', 'HW_INFLUX_DATABASE', 'HW_INFLUX_ORG', 'HW_INFLUX_BUCKET', 'HW_INFLUX_TOKEN']) {
      expect(envs).toContain(required);
    }
    expect(envName(['ingest', 'spoolMaxBytes'])).toBe('HW_INGEST_SPOOL_MAX_BYTES');
  });

  it('gives every setting a default: an empty environment is a working config', () => {
    const c = loadConfig({});
    expect(c.mqtt.port).toBe(1883);
    expect(c.http.port).toBe(8080);
    expect(c.influx.url).toBe('');
    expect(Object.isFrozen(c.mqtt)).toBe(true);
  });

  it('reads and coerces environment variables, with code overrides on top', () => {
    const c = loadConfig({ HW_MQTT_PORT: '0', HW_SIMULATE_ENABLED: 'false', HW_INFLUX_URL: 'http://127.0.0.1:8086' }, { http: { port: 9 } });
    expect(c.mqtt.port).toBe(0);
    expect(c.simulate.enabled).toBe(false);
    expect(c.influx.url).toBe('http://127.0.0.1:8086');
    expect(c.http.port).toBe(9);
  });

  it('reports every invalid setting at once, by variable name, before anything starts', () => {
    let err: unknown;
    try {
      loadConfig({ HW_MQTT_PORT: '70000', HW_HTTP_PORT: 'eighty', HW_SIMULATE_ENABLED: 'maybe', HW_INFLUX_DATABASE: '', HW_LOG_LEVEL: 'loud', HW_NO_SUCH_THING: '1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HwError);
    const msg = (err as HwError).message;
    expect((err as HwError).code).toBe('HW_ERR_CONFIG');
    for (const name of ['HW_MQTT_PORT', 'HW_HTTP_PORT', 'HW_SIMULATE_ENABLED', 'HW_INFLUX_DATABASE', 'HW_LOG_LEVEL', 'HW_NO_SUCH_THING']) expect(msg).toContain(name);
    expect(msg).toContain('70000');
  });
});
