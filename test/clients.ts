import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { ServerMessage } from '../core/src/ws-messages.ts';

const ROOT = new URL('..', import.meta.url).pathname;
export const demoSecrets = (parseYaml(readFileSync(`${ROOT}examples/demo-credentials.yaml`, 'utf8')) as { gateways: Record<string, string> }).gateways;

export function connectGateway(port: number, enterpriseId: string, gatewayId = 'gw1', password = demoSecrets[`${enterpriseId}/${gatewayId}`]!): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: `${enterpriseId}/${gatewayId}`, password, reconnectPeriod: 0, connectTimeout: 5000 });
}

export async function login(httpPort: number, username: string, password = 'hazardwatch'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** A logged-in WebSocket that records every message it receives. */
export async function openSocket(httpPort: number, token: string, since?: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws?token=${encodeURIComponent(token)}${since ? `&since=${encodeURIComponent(since)}` : ''}`);
  const messages: (ServerMessage & { receivedAt: number })[] = [];
  ws.on('message', (d) => messages.push({ ...(JSON.parse(d.toString()) as ServerMessage), receivedAt: Date.now() }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, close: () => ws.close() };
}
