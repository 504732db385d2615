import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ERRORS } from '../../core/src/errors.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createInfluxStore } from '../../core/src/store/influx-store.ts';
import type { RulesEngine } from '../../rules/src/engine.ts';
import type { HazardwatchApp } from '../src/app.ts';
import { feed, readingNow, startApp, stopApp, tokensFor, type AppFixture } from './app-fixture.ts';

/**
 * An API fuzz that walks the generated OpenAPI document (issue 12 item 15): every route,
 * every role of the demo registry (and no or a bogus token), boundary values for path
 * params, query and body from each route's own schema, unknown query fields, bodies that
 * are not JSON, not application/json or too large, and unknown routes. No answer may be a
 * 5xx or a status the document does not declare for that route; every non-2xx body carries
 * an HW_ code of core/src/errors.ts whose status is the answer's; an unknown query field is
 * always a 400. Against a real influxd (the store whose
 * query language the input reaches) and the real rules engine. Bounded: a fixed number of
 * runs per route and a fixed seed, so a failure reproduces.
 */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Operation {
  parameters?: { in: 'path' | 'query'; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
}

const RUNS_PER_ROUTE = 60;
const RUNS_LOGIN = 12;

describe('API fuzz over the OpenAPI document', () => {
  let f: AppFixture & { rules: RulesEngine };
  let hw: HazardwatchApp;
  const tokens: Record<string, string | undefined> = { none: undefined, bogus: 'not-a-token' };
  const alertIds: string[] = [];

  const reading = (id: string, valueStd: number, ts?: number) => readingNow(f.registry, id, valueStd, ts);

  beforeAll(async () => {
    const store = () => createInfluxStore({ url: inject('influxUrl'), database: `fuzz_${Date.now()}`, retentionPolicy: '', org: '', bucket: '', token: '', username: '', password: '', timeoutMs: 5000 }, silentLogger());
    f = await startApp('hw-fuzz-', { store, rules: true, settings: { sessionTtlMs: 600_000 } });
    hw = f.hw;
    Object.assign(tokens, await tokensFor(hw, f.registry.current.users.keys()));
    const rs = [reading('cement-liguo.dust-resp-1', 9), reading('chem-dawu.h2s-1', 30), reading('coal-liuxin.noise-1', 120)];
    await f.store.writeReadings(rs);
    await feed(f, rs);
    alertIds.push(...f.rules.activeAlerts().map((a) => a.id));
  });
  afterAll(() => stopApp(f));

  const realIds = () => [...f.registry.current.sensors.keys()].slice(0, 3).concat(alertIds, [...f.registry.current.jurisdictions.keys()].slice(0, 3), [...f.registry.current.enterprises.keys()].slice(0, 2));
  const nastyStrings = ['', 'a', "'", '"', '\\', '\n', 'a\u0000b', '\u007f', '\ud800', '徐州\'"\\', "x' OR 1=1 --", '%', '../..', ' '];

  /** Values at and just past the bounds of a schema, plus typical ones. */
  function valueOf(s: Schema): fc.Arbitrary<unknown> {
    if (s.anyOf) return fc.oneof(...s.anyOf.map(valueOf), fc.constant('not-one-of-them'));
    if (s.enum) return fc.constantFrom(...s.enum, 'bogus');
    if (s.const !== undefined) return fc.constantFrom(s.const, 'bogus');
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    if (type === 'integer' || type === 'number') {
      const edges = [s.minimum, s.maximum].filter((v): v is number => v !== undefined).flatMap((v) => [v, v - 1, v + 1]);
      return fc.oneof(fc.constantFrom(...edges, 0, -1, 1, 0.5, 1e21, -1e21, 8.64e15, 2 ** 53 + 2, Number.MAX_VALUE, 'NaN', 'abc', '1e400'), fc.integer(), fc.integer({ min: Date.now() - 3600_000, max: Date.now() }));
    }
    if (type === 'boolean') return fc.constantFrom(true, false, 'yes');
    if (type === 'object') return bodyOf(s);
    const lengths = [s.minLength, s.maxLength].filter((v): v is number => v !== undefined).flatMap((v) => [v, v + 1]).filter((n) => n >= 0 && n < 5000);
    return fc.oneof(fc.constantFrom(...nastyStrings, ...realIds(), 'hazardwatch', 'city'), fc.constantFrom(...lengths.map((n) => 'x'.repeat(n)), 'x'), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
  }
  function bodyOf(s: Schema): fc.Arbitrary<unknown> {
    const props = Object.entries(s.properties ?? {});
    const rec = fc.record(Object.fromEntries(props.map(([k, v]) => [k, valueOf(v)])), { requiredKeys: [] });
    return fc.oneof(
      { weight: 6, arbitrary: rec },
      { weight: 1, arbitrary: rec.map((o) => ({ ...(o as object), unexpected: 1 })) },
      { weight: 1, arbitrary: fc.constantFrom(null, [], 'text', 42) },
    );
  }

  const encodeQuery = (q: Record<string, unknown>) =>
    Object.entries(q).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}`).join('&');

  /** Why an answer is wrong, or undefined: a 5xx, an undeclared status, or a non-2xx without a registered HW_ code of that status. */
  function answerProblem(status: number, body: string, declared: Set<string>): string | undefined {
    if (status >= 500 || !declared.has(String(status))) return `${status} (declared ${[...declared].join(',')})`;
    if (status < 400) return undefined;
    let code: unknown;
    try {
      code = (JSON.parse(body) as { code?: unknown }).code;
    } catch {
      return `${status} with a body that is not JSON`;
    }
    if (typeof code !== 'string' || !(code in ERRORS)) return `${status} with code ${String(code)}, not one of core/src/errors.ts`;
    if (ERRORS[code as keyof typeof ERRORS].status !== status) return `${status} with code ${code}, whose status is ${ERRORS[code as keyof typeof ERRORS].status}`;
    return undefined;
  }

  it('answers every route, role and boundary value with a declared status, never a 5xx', { timeout: 120_000 }, async () => {
    const doc = (await hw.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
    expect(routes.length).toBeGreaterThanOrEqual(17);
    const t0 = Date.now();
    const problems: string[] = [];
    let requests = 0;
    for (const { path, method, op } of routes) {
      const declared = new Set(Object.keys(op.responses));
      const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
      const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
      const bodySchema = op.requestBody?.content['application/json']?.schema;
      const input = fc.record({
        role: fc.constantFrom(...Object.keys(tokens)),
        params: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, valueOf(p.schema).map(String)])), { requiredKeys: pathParams.map((p) => p.name) }),
        query: fc.record(Object.fromEntries(queryParams.map((p) => [p.name, valueOf(p.schema)])), { requiredKeys: [] }),
        extra: fc.option(fc.constantFrom('token', 'interval', '__proto__', 'x'), { nil: undefined }),
        body: bodySchema ? bodyOf(bodySchema) : fc.constant(undefined),
        // How a POST body is sent: JSON mostly, sometimes broken JSON or another media type.
        encoding: fc.constantFrom('json', 'json', 'json', 'json', 'broken-json', 'text/plain', 'empty-json'),
      });
      await fc.assert(
        fc.asyncProperty(input, async ({ role, params, query, extra, body, encoding }) => {
          let url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String((params as Record<string, unknown>)[name] ?? 'x')));
          const q = { ...(query as Record<string, unknown>), ...(extra ? { [extra]: '1' } : {}) };
          if (Object.keys(q).length) url += `?${encodeQuery(q)}`;
          const token = tokens[role];
          const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
          const payload = { json: JSON.stringify(body ?? {}), 'broken-json': `${JSON.stringify(body ?? {}).slice(0, -1)},`, 'text/plain': 'not json', 'empty-json': '' }[encoding];
          const res = await hw.app.inject({
            method: method as 'GET' | 'POST', url,
            headers: auth,
            ...(method === 'POST' ? { payload, headers: { 'content-type': encoding === 'text/plain' ? 'text/plain' : 'application/json', ...auth } } : {}),
          });
          requests++;
          const problem = answerProblem(res.statusCode, res.body, declared)
            // (a body that cannot be parsed is refused first, with its own code)
            ?? (extra && extra !== '__proto__' && (method !== 'POST' || encoding === 'json') && !queryParams.some((p) => p.name === extra) && res.statusCode !== 400 ? `unknown query field ${extra} answered ${res.statusCode}, not 400` : undefined);
          if (problem) {
            problems.push(`${method} ${url} as ${role} ${encoding} ${JSON.stringify(body)?.slice(0, 200)} → ${problem}: ${res.body.slice(0, 200)}`);
            return false;
          }
          return true;
        }),
        { numRuns: path === '/api/login' ? RUNS_LOGIN : RUNS_PER_ROUTE, seed: 12, endOnFailure: true },
      ).catch(() => {});
    }
    // A body over the limit, on every route that takes one; unknown routes and methods.
    for (const { path, method, op } of routes.filter((r) => r.method === 'POST')) {
      const url = path.replace(/\{(\w+)\}/g, 'x');
      const res = await hw.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.city}` }, payload: JSON.stringify({ note: 'x'.repeat(1_100_000) }) });
      requests++;
      const problem = answerProblem(res.statusCode, res.body, new Set(Object.keys(op.responses)));
      if (problem || res.statusCode !== 413) problems.push(`POST ${url} with 1.1 MB → ${problem ?? res.statusCode}: ${res.body.slice(0, 200)}`);
    }
    for (const [method, url] of [['GET', '/api/nope'], ['GET', '/api/alerts/x/y/z'], ['POST', '/api/alerts'], ['DELETE', '/api/me'], ['GET', '/api'], ['PUT', '/metrics']] as const) {
      const res = await hw.app.inject({ method, url, headers: { authorization: `Bearer ${tokens.city}` } });
      requests++;
      const problem = answerProblem(res.statusCode, res.body, new Set(['404']));
      if (problem) problems.push(`${method} ${url} → ${problem}: ${res.body.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
    expect(requests).toBeGreaterThan(routes.length * 10);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});
