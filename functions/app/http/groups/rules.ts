import type { Route } from '../app.js';
import type { ModulesOf } from '../route-groups.js';

/** The route modules of the `rules` group, each imported on its first request (see ROUTE_MODULES in app.ts). */
export const RULES_ROUTE_MODULES = {
  rules: async () => (await import('../routes/rules.js')).ruleRoutes,
  calendar: async () => (await import('../routes/calendar.js')).calendarRoutes,
  audit: async () => (await import('../routes/audit.js')).auditRoutes,
  scans: async () => (await import('../routes/scans.js')).scanRoutes,
} satisfies Record<ModulesOf<'rules'>, () => Promise<readonly Route[]>>;
