import { createGroupApp } from '../app/http/app.js';
import { BOOKINGS_ROUTE_MODULES } from '../app/http/groups/bookings.js';
import { httpApiHandler } from './http-api-event.js';
import { bookingsHttpDeps } from './runtime.js';

/** The HTTP API's `bookings` routes (functions/app/http/route-groups.ts); API Gateway sends only those here. */
export const handler = httpApiHandler(() => bookingsHttpDeps(), (deps) => createGroupApp(deps, 'bookings', BOOKINGS_ROUTE_MODULES));
