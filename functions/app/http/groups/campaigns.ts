import type { Route } from '../app.js';
import type { ModulesOf } from '../route-groups.js';

/** The route modules of the `campaigns` group, each imported on its first request (see ROUTE_MODULES in app.ts). */
export const CAMPAIGNS_ROUTE_MODULES = {
  campaigns: async () => (await import('../routes/campaigns.js')).campaignRoutes,
} satisfies Record<ModulesOf<'campaigns'>, () => Promise<readonly Route[]>>;
