import type { Route } from '../app.js';
import type { ModulesOf } from '../route-groups.js';

/** The route modules of the `bookings` group, each imported on its first request (see ROUTE_MODULES in app.ts). */
export const BOOKINGS_ROUTE_MODULES = {
  bookings: async () => (await import('../routes/bookings.js')).bookingRoutes,
  inbound: async () => (await import('../routes/inbound.js')).inboundRoutes,
} satisfies Record<ModulesOf<'bookings'>, () => Promise<readonly Route[]>>;
