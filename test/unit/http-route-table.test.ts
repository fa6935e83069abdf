import { describe, expect, it } from 'vitest';
import { loadRouteModule, ROUTE_TABLE, type RouteModuleName } from '../../functions/app/http/app.js';

const key = (route: { method: string; pattern: RegExp; access: string }) => `${route.method} ${route.pattern.source} ${route.access}`;

describe('HTTP route table', () => {
  const modules = [...new Set(ROUTE_TABLE.map((entry) => entry.module))] as RouteModuleName[];

  it('names, for every route of every module, the same method, pattern and access as the module’s handler', async () => {
    for (const name of modules) {
      const handled = (await loadRouteModule(name)).map(key).sort();
      const listed = ROUTE_TABLE.filter((entry) => entry.module === name).map(key).sort();
      expect({ module: name, routes: listed }).toEqual({ module: name, routes: handled });
    }
  });

  it('lists each method and pattern once, so no route shadows another', () => {
    const seen = ROUTE_TABLE.map((entry) => `${entry.method} ${entry.pattern.source}`);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
