import type { Route } from '../app.js';
import type { ModulesOf } from '../route-groups.js';

/** The route modules of the `deliveries` group, each imported on its first request (see ROUTE_MODULES in app.ts). */
export const DELIVERIES_ROUTE_MODULES = {
  deliveries: async () => (await import('../routes/deliveries.js')).deliveryRoutes,
  suppressions: async () => (await import('../routes/suppressions.js')).suppressionRoutes,
  tokens: async () => (await import('../routes/tokens.js')).tokenRoutes,
} satisfies Record<ModulesOf<'deliveries'>, () => Promise<readonly Route[]>>;
