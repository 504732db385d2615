import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { BrokerConfig } from './broker-types.ts';

type Kind = 'tcp' | 'tls' | 'ws';

/** The MQTT listeners: TCP always, TLS and WebSocket when their ports are set (≥ 0). */
export function createListeners(aedes: Aedes, config: BrokerConfig) {
  const servers: { kind: Kind; server: Server | TlsServer | HttpServer; wss?: WebSocketServer }[] = [];
  const listen = (server: Server | TlsServer | HttpServer, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.host, () => resolve());
    });
  // Nagle off: p99 publish latency ≈ 1 ms instead of ≈ 30 ms (performance.md).
  const handleSocket = (socket: Socket) => {
    socket.setNoDelay(true);
    aedes.handle(socket);
  };

  return {
    /** The port bound, -1 where that listener is off (or before start). */
    portOf(kind: Kind): number {
      const s = servers.find((x) => x.kind === kind);
      return s ? ((s.server.address() as AddressInfo | null)?.port ?? -1) : -1;
    },
    async start(): Promise<void> {
      const tcp = createServer(handleSocket);
      await listen(tcp, config.port);
      servers.push({ kind: 'tcp', server: tcp });
      if ((config.tlsPort ?? -1) >= 0) {
        if (!config.tlsCert || !config.tlsKey) throw new Error('HW_MQTT_TLS_PORT is set: HW_MQTT_TLS_CERT and HW_MQTT_TLS_KEY are required');
        const tls = createTlsServer({
          cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey),
          // With a client CA, a client must present a certificate that CA signed: the
          // handshake fails otherwise, before any MQTT byte (credentials are still checked).
          ...(config.tlsCa ? { ca: readFileSync(config.tlsCa), requestCert: true, rejectUnauthorized: true } : {}),
        }, handleSocket);
        await listen(tls, config.tlsPort!);
        servers.push({ kind: 'tls', server: tls });
      }
      if ((config.wsPort ?? -1) >= 0) {
        const http = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with the "mqtt" subprotocol'));
        const wss = new WebSocketServer({ server: http, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false) });
        wss.on('connection', (ws, req) => aedes.handle(createWebSocketStream(ws), req));
        await listen(http, config.wsPort!);
        servers.push({ kind: 'ws', server: http, wss });
      }
    },
    /** Stop taking WebSocket connections (before Aedes closes its clients). */
    closeWebSockets(): void {
      for (const s of servers) s.wss?.close();
    },
    /** Close every listener (after Aedes has closed its clients). */
    async close(): Promise<void> {
      await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.server.close(() => r()))));
    },
  };
}
