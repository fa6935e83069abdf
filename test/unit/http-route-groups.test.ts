import { describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { createGroupApp, createHttpApp, groupOf, ROUTE_TABLE, type HttpAppDeps } from '../../functions/app/http/app.js';
import type { HttpRequest } from '../../functions/app/http/http.js';
import { CERTIFICATES_ROUTE_MODULES } from '../../functions/app/http/groups/certificates.js';
import { RULES_ROUTE_MODULES } from '../../functions/app/http/groups/rules.js';
import { apiGatewayPath, FALLBACK_GROUP, HTTP_GROUPS, ROUTE_MODULE_GROUPS } from '../../functions/app/http/route-groups.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { fixedClock, testSettings } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'test' };

/** The refusals read only these dependencies, and the catalogue the reference data. */
function deps(): HttpAppDeps {
  const partial: Partial<HttpAppDeps> = {
    settings: testSettings(),
    logger: silentLogger,
    clock: fixedClock('2026-08-01T10:00:00+08:00'),
    authenticate: async () => OPERATOR,
    reference: loadReferenceData(),
  };
  return partial as HttpAppDeps;
}

const request = (method: string, path: string): HttpRequest => ({ method, path, query: {}, headers: { authorization: 'Bearer test' } });

describe('HTTP route groups', () => {
  it('puts every module of the route table in exactly one group, and every group serves some route', () => {
    const modules = new Set(ROUTE_TABLE.map((route) => route.module));
    expect([...modules].sort()).toEqual(Object.keys(ROUTE_MODULE_GROUPS).sort());
    for (const group of HTTP_GROUPS) expect(ROUTE_TABLE.some((route) => groupOf(route) === group)).toBe(true);
  });

  it('writes each route pattern as the API Gateway path with the same segments, a parameter for each capture', () => {
    expect(apiGatewayPath(/^\/healthz$/)).toBe('/healthz');
    expect(apiGatewayPath(/^\/v1\/certificates\/([^/]+)\/([^/]+)\/plan$/)).toBe('/v1/certificates/{p1}/{p2}/plan');
    expect(apiGatewayPath(/^\/v1\/imports\/([^/]+)\/errors\.csv$/)).toBe('/v1/imports/{p1}/errors.csv');
    expect(new Set(ROUTE_TABLE.map((route) => `${route.method} ${apiGatewayPath(route.pattern)}`)).size).toBe(ROUTE_TABLE.length);
  });

  it('refuses to write a pattern it cannot express as an API Gateway path, rather than route it wrongly', () => {
    expect(() => apiGatewayPath(/^\/v1\/rules\/(\d+)$/)).toThrow(/no API Gateway path form/);
    expect(() => apiGatewayPath(/\/v1\/rules/)).toThrow(/not anchored/);
  });

  it('serves its own group’s routes as the whole app does', async () => {
    const app = createGroupApp(deps(), 'certificates', CERTIFICATES_ROUTE_MODULES);

    const own = await app(request('GET', '/v1/catalogue'));
    const whole = await createHttpApp(deps())(request('GET', '/v1/catalogue'));

    expect(own.status).toBe(200);
    expect(own.body).toBe(whole.body);
  });

  it('answers another group’s route with a 404 that names the function serving it', async () => {
    const app = createGroupApp(deps(), 'certificates', CERTIFICATES_ROUTE_MODULES);

    const response = await app(request('GET', '/v1/rules'));

    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found', message: expect.stringContaining("served by the HTTP API's rules function") } });
  });

  it('answers an unknown path or a method a path does not allow as the whole app does (the fallback group serves both on AWS)', async () => {
    const fallback = createGroupApp(deps(), 'certificates', CERTIFICATES_ROUTE_MODULES);
    const rules = createGroupApp(deps(), 'rules', RULES_ROUTE_MODULES);
    const whole = createHttpApp(deps());
    expect(FALLBACK_GROUP).toBe('certificates');

    for (const [method, path] of [['GET', '/v1/nothing-here'], ['PATCH', '/v1/catalogue'], ['PATCH', '/v1/rules']] as const) {
      const expected = await whole(request(method, path));
      for (const app of [fallback, rules]) {
        const response = await app(request(method, path));
        expect({ method, path, status: response.status, body: response.body }).toEqual({ method, path, status: expected.status, body: expected.body });
      }
    }
  });
});
