import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../core/src/errors.ts';
import { MAX_TS_MS } from '../../core/src/store/time-range.ts';
import { login } from '../../test/clients.ts';
import { appOn, startApp, stopApp, type AppFixture } from './app-fixture.ts';

/**
 * Codes and statuses of the API's own refusals (review 1, findings 7 and 8), over real
 * HTTP: Fastify's errors map to HW_ codes of core/src/errors.ts with their status, an
 * unknown route is a coded 404, every route refuses unknown query fields, range problems
 * answer one code, and a foreign jurisdiction on /api/alerts answers as an unknown one.
 */
describe('API error codes and statuses', () => {
  let f: AppFixture;
  let base: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    f = await startApp('hw-http-errors-', { listen: true });
    base = f.base;
    for (const u of ['city', 'township', 'officer']) tokens[u] = await login(f.port, u);
  });
  afterAll(() => stopApp(f));

  const call = async (path: string, init: RequestInit & { user?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.user) headers.set('authorization', `Bearer ${tokens[init.user]}`);
    const res = await fetch(`${base}${path}`, { ...init, headers });
    const text = await res.text();
    let body: { code?: string; message?: string } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch { /* not JSON: the code check below fails */ }
    // Every refusal carries a code of the registry, with the registry's status.
    if (res.status >= 400) {
      expect(body.code && body.code in ERRORS, `${path}: ${text.slice(0, 200)}`).toBe(true);
      expect(ERRORS[body.code as keyof typeof ERRORS].status, `${path} ${body.code}`).toBe(res.status);
    }
    return { status: res.status, body };
  };
  const json = { 'content-type': 'application/json' };

  it('maps bad JSON to 400 HW_ERR_VALIDATION, an oversized body to 413, a text/plain body to 415', async () => {
    const badJson = await call('/api/login', { method: 'POST', headers: json, body: '{"username":' });
    expect(badJson).toMatchObject({ status: 400, body: { code: 'HW_ERR_VALIDATION' } });
    expect(badJson.body.message).toContain('JSON');
    const logout = await call('/api/logout', { method: 'POST', headers: json, body: '{nope' });
    expect(logout).toMatchObject({ status: 400, body: { code: 'HW_ERR_VALIDATION' } });
    const big = await call('/api/alerts/x/comment', { method: 'POST', user: 'city', headers: json, body: JSON.stringify({ note: 'x'.repeat(1_100_000) }) });
    expect(big).toMatchObject({ status: 413, body: { code: 'HW_ERR_PAYLOAD_TOO_LARGE' } });
    const text = await call('/api/alerts/x/ack', { method: 'POST', user: 'city', headers: { 'content-type': 'text/plain' }, body: 'please ack' });
    expect(text).toMatchObject({ status: 415, body: { code: 'HW_ERR_UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('answers an unknown route with a coded 404, and an over-long path parameter with a coded 414', async () => {
    expect(await call('/api/nope', { user: 'city' })).toMatchObject({ status: 404, body: { code: 'HW_ERR_NOT_FOUND', message: 'no route GET /api/nope' } });
    expect(await call('/api/alerts', { method: 'DELETE', user: 'city' })).toMatchObject({ status: 404, body: { code: 'HW_ERR_NOT_FOUND' } });
    // With the dashboard served, its wildcard route takes an over-long path parameter: a coded 404.
    expect(await call(`/api/alerts/${'a'.repeat(1200)}`, { user: 'city' })).toMatchObject({ status: 404, body: { code: 'HW_ERR_NOT_FOUND' } });
    // Without it, Fastify's own 414 carries a code too.
    const bare = appOn(f, { settings: { dashboardDir: `${f.dir}/not-built` } });
    try {
      const res = await bare.app.inject({ method: 'GET', url: `/api/alerts/${'a'.repeat(1200)}` });
      expect(res.statusCode).toBe(414);
      expect(res.json()).toMatchObject({ code: 'HW_ERR_URI_TOO_LONG' });
    } finally {
      await bare.app.close();
    }
  });

  it('refuses unknown query fields on every route, naming them', async () => {
    for (const path of ['/api/jurisdictions', '/api/enterprises', '/api/me', '/api/agents', '/api/health', '/metrics', '/api/alerts/x']) {
      const res = await call(`${path}?foo=1`, { user: 'city' });
      expect(res, path).toMatchObject({ status: 400, body: { code: 'HW_ERR_VALIDATION' } });
      expect(res.body.message, path).toContain('foo');
    }
  });

  it('answers every range problem with HW_ERR_BAD_RANGE: an epoch past its bound and from after to alike', async () => {
    const now = Date.now();
    const outOfBounds = await call(`/api/alerts?to=${MAX_TS_MS + 1}`, { user: 'city' });
    const reversed = await call(`/api/alerts?from=${now}&to=${now - 1000}`, { user: 'city' });
    const page = await call('/api/alerts?limit=0', { user: 'city' });
    for (const r of [outOfBounds, reversed, page]) expect(r).toMatchObject({ status: 400, body: { code: 'HW_ERR_BAD_RANGE' } });
    expect(outOfBounds.body.message).toContain('querystring/to');
    // A wrong type is still a validation error.
    expect(await call('/api/alerts?to=soon', { user: 'city' })).toMatchObject({ status: 400, body: { code: 'HW_ERR_VALIDATION' } });
  });

  it('answers /api/alerts?jurisdiction=<outside your subtree> exactly as an unknown id (404)', async () => {
    const strip = (r: { status: number; body: { code?: string; message?: string } }, id: string) => ({ status: r.status, code: r.body.code, message: r.body.message?.replace(id, '<id>') });
    const foreign = await call('/api/alerts?jurisdiction=xz-jiawang', { user: 'township' });
    const unknown = await call('/api/alerts?jurisdiction=xz-nowhere', { user: 'township' });
    expect(strip(foreign, 'xz-jiawang')).toEqual(strip(unknown, 'xz-nowhere'));
    expect(foreign.status).toBe(404);
    // An ancestor of the inspector's township is outside their subtree too; their own township is not.
    expect((await call('/api/alerts?jurisdiction=xz', { user: 'township' })).status).toBe(404);
    expect((await call('/api/alerts?jurisdiction=xz-tongshan-liguo', { user: 'township' })).status).toBe(200);
    expect((await call('/api/alerts?jurisdiction=xz-tongshan-liguo', { user: 'officer' })).status).toBe(200);
    expect((await call('/api/alerts?jurisdiction=xz-jiawang', { user: 'officer' })).status).toBe(404);
    expect((await call('/api/alerts?jurisdiction=xz-jiawang', { user: 'city' })).status).toBe(200);
  });
});
