import { createConnection } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { loadCatalogue } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { hashSecret } from '../../core/src/password.ts';
import { buildRegistry, RegistryHolder, type RegistryFile } from '../../core/src/registry.ts';
import { createBroker, type Broker, type BrokerConfig, type BrokerDeps } from '../src/broker.ts';

/** A small registry: enterprises a and b, gateways g1 and g2 each, secret "<e>-<g>-secret". */
export async function smallRegistry(): Promise<{ holder: RegistryHolder; file: RegistryFile; gateways: [string, string][] }> {
  const gateways: [string, string][] = [['a', 'g1'], ['a', 'g2'], ['b', 'g1'], ['b', 'g2']];
  const hashes = await Promise.all(gateways.map(([e, g]) => hashSecret(`${e}-${g}-secret`)));
  const file = {
    jurisdictions: [{ id: 'c', name: 'c', level: 'city' }, { id: 'd', name: 'd', level: 'district', parent: 'c' }, { id: 't', name: 't', level: 'township', parent: 'd' }],
    enterprises: ['a', 'b'].map((e) => ({
      id: e, name: e, industry: 'foundry', township: 't',
      gateways: ['g1', 'g2'].map((g) => ({ id: g, secretHash: hashes[gateways.findIndex(([x, y]) => x === e && y === g)]!, sensors: [{ id: `${e}.${g}.noise`, agent: 'noise', workplace: 'w', unit: 'dB(A)', max: 140 }] })),
    })),
    users: [],
  } as unknown as RegistryFile;
  return { holder: new RegistryHolder(buildRegistry(file, loadCatalogue())), file, gateways };
}

/** A broker on a free port of 127.0.0.1 with the service account svc / svc-secret; tests spread their limits over it. */
export const brokerConfig: BrokerConfig = { host: '127.0.0.1', port: 0, maxPayloadBytes: 4096, serviceUsername: 'svc', servicePassword: 'svc-secret' };

/** A started broker on a new small registry, silent unless `deps` says otherwise, with `config` over brokerConfig. */
export async function startBroker(deps: Partial<BrokerDeps> = {}, config: Partial<BrokerConfig> = {}): Promise<{ broker: Broker; fx: Awaited<ReturnType<typeof smallRegistry>> }> {
  const fx = await smallRegistry();
  const broker = createBroker({ registry: fx.holder, logger: silentLogger(), ...deps }, { ...brokerConfig, ...config });
  await broker.start();
  return { broker, fx };
}

/** An MQTT client over TCP to 127.0.0.1:port, no reconnects, 5-s connect timeout. */
export const connect = (port: number, user?: string, password?: string | Buffer, extra: mqtt.IClientOptions = {}) =>
  mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: user, password: password as string, reconnectPeriod: 0, connectTimeout: 5000, ...extra });

/** A small-registry gateway e/g with its own secret. */
export const gw = (port: number, e: string, g: string, extra: mqtt.IClientOptions = {}) => connect(port, `${e}/${g}`, `${e}-${g}-secret`, extra);

/** The CONNACK code of a connect attempt (0 = admitted; the client is then ended). */
export const codeOf = (p: Promise<MqttClient>) => p.then(async (c) => (await c.endAsync(), 0), (e: { code?: number }) => e.code);

/** CONNACK code of a login from `localAddress` (127.0.0.0/8 is all loopback on Linux): 0 = admitted. */
export function loginFrom(port: number, localAddress: string, username: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = new mqtt.MqttClient(() => createConnection({ host: '127.0.0.1', port, localAddress }), { username, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
    c.once('connect', () => c.end(true, () => resolve(0)));
    c.once('error', (err: Error & { code?: number }) => {
      c.end(true);
      if (typeof err.code === 'number') resolve(err.code);
      else reject(err);
    });
  });
}
