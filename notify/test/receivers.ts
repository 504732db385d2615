import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeliveryPolicy } from '../src/deliver.ts';

/** What a local receiver got: the raw body, as a signature is computed over it. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1, port 0, standing in for a webhook, robot or SMS
 * gateway endpoint. `answer` decides each response from the request and its number
 * (1-based); a handler that never calls `res.end` is a receiver that never answers.
 */
export async function startReceiver(answer: (req: Received, n: number, res: ServerResponse) => void): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      answer(r, received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/**
 * An injected clock for deliver.ts: `sleep` records each wait and returns at once, and
 * the clock moves only when the test moves it (`t`). Back-off and rate-limit tests count
 * the waits a channel asked for rather than time them; concurrent sends all see one
 * instant, so their reservations are exact.
 */
export function fakeClock(start = Date.now()) {
  const c = {
    t: start,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      c.sleeps.push(ms);
    },
  };
  return c;
}

/** A policy for tests: small, explicit, no rate limit to speak of unless a test sets one. */
export function testPolicy(over: { timeoutMs?: number; rate?: Partial<DeliveryPolicy['rate']>; retry?: Partial<DeliveryPolicy['retry']> } = {}): DeliveryPolicy {
  return {
    timeoutMs: over.timeoutMs ?? 5_000,
    rate: { ratePerS: 1000, burst: 1000, maxWaitMs: 60_000, ...over.rate },
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, retryAfterCapMs: 10_000, ...over.retry },
  };
}
