import { createGroupApp } from '../app/http/app.js';
import { DELIVERIES_ROUTE_MODULES } from '../app/http/groups/deliveries.js';
import { httpApiHandler } from './http-api-event.js';
import { deliveriesHttpDeps } from './runtime.js';

/** The HTTP API's `deliveries` routes (functions/app/http/route-groups.ts); API Gateway sends only those here. */
export const handler = httpApiHandler(() => deliveriesHttpDeps(), (deps) => createGroupApp(deps, 'deliveries', DELIVERIES_ROUTE_MODULES));
