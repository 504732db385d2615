import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/src/logger.ts';
import { createSqliteStore } from '../core/src/store/sqlite-store.ts';
import type { AlertEvent } from '../core/src/types.ts';
import { login } from './clients.ts';
import { spawnAll, type SpawnedAll } from './spawn-all.ts';

/**
 * Issue 12 review finding 6: an alert still active must survive a restart of the real
 * all-in-one however old it is. An orange twa alert raised 61 days ago and never changed
 * (no event since) used to fall outside the 30-day window the board and the rules engine
 * loaded at start: gone from /api/alerts, unknown to the engine.
 */
const SENSOR = 'cement-liguo.dust-resp-1';
const D = 24 * 3600_000;

describe('restart of the all-in-one keeps alerts still active, however old', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hw-restart-'));
  let hw: SpawnedAll | undefined;
  afterAll(async () => {
    await hw?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows a 61-day-old open orange twa alert in /api/alerts after a restart, and the engine can act on it', async () => {
    // A first run creates the data dir's store; then, as if that run had raised it 61 days ago:
    hw = await spawnAll({ HW_DATA_DIR: dataDir });
    await hw.stop();
    hw = undefined;
    const opened = Date.now() - 61 * D;
    const id = `${SENSOR}:twa:${opened}`;
    const raised: AlertEvent = {
      alertId: id, kind: 'raised', ts: opened,
      alert: {
        id, sensorId: SENSOR, rule: 'twa', enterpriseId: 'cement-liguo', gatewayId: 'gw1', agent: 'dust.cement.respirable', townshipId: 'xz-tongshan-liguo',
        level: 'orange', state: 'open', openedAt: opened, updatedAt: opened,
        reason: { metric: 'C_TWA (8 h)', value: 2.4, limit: 1.5, unit: 'mg/m3', source: 'GBZ 2.1-2019 Table 2' },
      },
    };
    const store = createSqliteStore(dataDir, silentLogger());
    await store.start();
    await store.writeAlertEvents([raised]);
    await store.stop();

    hw = await spawnAll({ HW_DATA_DIR: dataDir });
    const token = await login(hw.httpPort, 'district');
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${hw!.httpPort}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const list = await get('/api/alerts?state=active');
    expect(list.status).toBe(200);
    expect((list.body as { id: string; level: string; state: string }[]).find((a) => a.id === id)).toMatchObject({ level: 'orange', state: 'open', rule: 'twa' });
    // The rules engine restored it too: it acknowledges it (an unknown alert is refused).
    const ack = await fetch(`http://127.0.0.1:${hw.httpPort}/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ note: 'seen after restart' }) });
    expect(ack.status).toBe(200);
    expect(((await ack.json()) as { state: string }).state).toBe('acknowledged');
  }, 120_000);
});
