/**
 * `node --import tsx bench/streams.ts [--quick] [--json]`: the Redis Streams primitives
 * on their own (core/src/streams), against a real redis-server with AOF on
 * (`appendfsync everysec`, the deployment's setting, and `always`), on this machine:
 *
 * - appends/s through the partitioned log (pipelined XADD, one round trip per event-loop
 *   turn, every append awaited as the broker awaits it before its PUBACK), with
 *   single-reading and 50-reading payloads;
 * - messages/s consumed and acknowledged by two consumers of one group (XREADGROUP
 *   COUNT 200, XACK after the handler), from a backlog;
 * - each with one message per stream entry and with messages packed (`maxPerEntry`).
 *
 * Not part of `npm run bench` yet: the distributed topology's phase will be.
 */
import { Redis } from 'ioredis';
import { startRedis } from '../test/redis.ts';
import { waitFor } from '../test/ports.ts';
import { createPartitionedLog } from '../core/src/streams/partitioned-log.ts';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const N = QUICK ? 20_000 : 100_000;
const WINDOW = 5_000; // appends awaiting Redis at once (as many gateways publishing)
const P = 4;
const t0 = Date.UTC(2026, 0, 1);

function upPayload(i: number, readings: number): string {
  return JSON.stringify({ ts: t0 + i, readings: Array.from({ length: readings }, (_, j) => ({ sensor: `e${i % 200}.s${j % 10}`, value: 0.42 + (j % 7) / 100, unit: 'mg/m3', ts: t0 + i * 1000 + j })) });
}

interface Row { fsync: string; readingsPerMsg: number; msgsPerEntry: number; payloadBytes: number; appendsPerSec: number; appendReadingsPerSec: number; consumedPerSec: number; consumedReadingsPerSec: number; lost: number }

async function run(fsync: 'everysec' | 'always', readingsPerMsg: number, maxPerEntry: number): Promise<Row> {
  const server = await startRedis({ aof: fsync });
  const redis = new Redis(server.url);
  const name = `bench${readingsPerMsg}`;
  const log = createPartitionedLog<string>({ redis, codec: { encode: (s) => s, decode: (s) => s } }, { name, partitions: P, groups: ['ingest'], maxBacklog: 10 * N, maxPerEntry });
  await log.start();
  const payloads = Array.from({ length: 200 }, (_, i) => upPayload(i, readingsPerMsg));

  let next = 0;
  let done = 0;
  let start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (next < N && next - done < WINDOW) {
        const i = next++;
        log.append(`e${i % 200}`, payloads[i % 200]!).then(() => {
          if (++done === N) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  const appendSec = (performance.now() - start) / 1000;

  let consumed = 0;
  const handler = async (b: { payload: string }[]) => { consumed += b.length; };
  const entries = async () => { let n = 0; for (let p = 0; p < P; p++) n += await redis.xlen(log.streamKey(p)); return n; };
  const stored = await entries();
  const c1 = log.consume('ingest', 'w1', handler, { count: 200, blockMs: 100 });
  const c2 = log.consume('ingest', 'w2', handler, { count: 200, blockMs: 100 });
  start = performance.now();
  await c1.start();
  await c2.start();
  await waitFor(() => c1.stats().acked + c2.stats().acked >= stored, { timeoutMs: 300_000, intervalMs: 5, what: 'consumption' });
  const consumeSec = (performance.now() - start) / 1000;
  await c1.stop();
  await c2.stop();
  let lost = 0;
  for (let p = 0; p < P; p++) lost += await log.backlog(p);
  lost += N - consumed;
  await log.stop();
  redis.disconnect();
  await server.stop();
  const appendsPerSec = Math.round(N / appendSec);
  const consumedPerSec = Math.round(N / consumeSec);
  return { fsync, readingsPerMsg, msgsPerEntry: maxPerEntry, payloadBytes: payloads[0]!.length, appendsPerSec, appendReadingsPerSec: appendsPerSec * readingsPerMsg, consumedPerSec, consumedReadingsPerSec: consumedPerSec * readingsPerMsg, lost };
}

const rows: Row[] = [];
for (const fsync of ['everysec', 'always'] as const) for (const [r, pack] of [[50, 1], [50, 10], [1, 1], [1, 50]] as const) rows.push(await run(fsync, r, pack));
console.error(`streams: ${N} messages per row, P=${P}, ${WINDOW} appends in flight, 2 consumers, redis-server AOF on`);
console.error('| appendfsync | readings/msg | msgs/entry (maxPerEntry) | payload bytes | appends/s | readings/s appended | msgs/s consumed | readings/s consumed | lost |');
console.error('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.error(`| ${r.fsync} | ${r.readingsPerMsg} | ${r.msgsPerEntry} | ${r.payloadBytes} | ${r.appendsPerSec} | ${r.appendReadingsPerSec} | ${r.consumedPerSec} | ${r.consumedReadingsPerSec} | ${r.lost} |`);
if (args.has('--json')) console.log(JSON.stringify(rows));
