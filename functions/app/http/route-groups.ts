/**
 * On AWS the HTTP API is served by one Lambda function per route group, so that each function's bundle
 * holds only the use cases, adapters and SDK clients its routes need: a cold start compiles that one
 * bundle, and its size is most of the cost (README, "Lambda bundles"). Locally one process serves every
 * group. A route's group is its module's: the route table (app.ts) names each route's module, this map
 * names each module's group, and the stack wires every route of the table to its group's function.
 */
export const ROUTE_MODULE_GROUPS = {
  // Reading and writing certificates: the catalogue, uploads, revocations, imports, the retention purge.
  reference: 'certificates',
  certificates: 'certificates',
  imports: 'certificates',
  purges: 'certificates',
  // Changes that re-plan (rules, the calendar), their trail, and running a scan.
  rules: 'rules',
  calendar: 'rules',
  audit: 'rules',
  scans: 'rules',
  // Campaigns and their visits: the only routes that schedule (a visit's jobs), and they send nothing.
  campaigns: 'campaigns',
  // Bookings, by an operator or by a holder's reply: the only routes that text a holder (a confirmation).
  bookings: 'bookings',
  inbound: 'bookings',
  // What was sent and who may not be texted; local API tokens.
  deliveries: 'deliveries',
  suppressions: 'deliveries',
  tokens: 'deliveries',
} as const;

export type RouteModuleName = keyof typeof ROUTE_MODULE_GROUPS;
export type HttpGroup = (typeof ROUTE_MODULE_GROUPS)[RouteModuleName];

export const HTTP_GROUPS: readonly HttpGroup[] = [...new Set(Object.values(ROUTE_MODULE_GROUPS))];

/** The route modules of one group. */
export type ModulesOf<G extends HttpGroup> = { [M in RouteModuleName]: (typeof ROUTE_MODULE_GROUPS)[M] extends G ? M : never }[RouteModuleName];

/**
 * The group that serves unknown paths and methods (API Gateway's catch-all `/v1/{proxy+}`), so that they
 * get the same 404 and 405 answers as locally: its function matches against the whole route table.
 */
export const FALLBACK_GROUP: HttpGroup = 'certificates';

export function groupOfModule(module: RouteModuleName): HttpGroup {
  return ROUTE_MODULE_GROUPS[module];
}

/**
 * The API Gateway route path of a route-table pattern: `^\/v1\/rules\/([^/]+)$` → `/v1/rules/{p1}`.
 * Only the table's own forms are understood (literal segments, escaped dots, `([^/]+)` parameters);
 * anything else throws, so a new kind of pattern cannot silently get the wrong route on AWS.
 */
export function apiGatewayPath(pattern: RegExp): string {
  const source = pattern.source;
  if (!source.startsWith('^') || !source.endsWith('$')) throw new Error(`route pattern ${source} is not anchored at both ends`);
  let parameter = 0;
  const path = source
    .slice(1, -1)
    .split('\\/')
    .map((segment) => {
      if (segment === '') return segment;
      if (segment === '([^/]+)') return `{p${(parameter += 1)}}`;
      const literal = segment.replace(/\\\./g, '.');
      if (!/^[A-Za-z0-9._-]+$/.test(literal)) throw new Error(`route pattern ${source}: segment "${segment}" has no API Gateway path form`);
      return literal;
    })
    .join('/');
  return path;
}
