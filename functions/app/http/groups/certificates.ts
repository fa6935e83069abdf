import type { Route } from '../app.js';
import type { ModulesOf } from '../route-groups.js';

/** The route modules of the `certificates` group, each imported on its first request (see ROUTE_MODULES in app.ts). */
export const CERTIFICATES_ROUTE_MODULES = {
  reference: async () => (await import('../routes/reference.js')).referenceRoutes,
  certificates: async () => (await import('../routes/certificates.js')).certificateRoutes,
  imports: async () => (await import('../routes/imports.js')).importRoutes,
  purges: async () => (await import('../routes/purges.js')).purgeRoutes,
} satisfies Record<ModulesOf<'certificates'>, () => Promise<readonly Route[]>>;
