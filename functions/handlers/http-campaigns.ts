import { createGroupApp } from '../app/http/app.js';
import { CAMPAIGNS_ROUTE_MODULES } from '../app/http/groups/campaigns.js';
import { httpApiHandler } from './http-api-event.js';
import { campaignsHttpDeps } from './runtime.js';

/** The HTTP API's `campaigns` routes (functions/app/http/route-groups.ts); API Gateway sends only those here. */
export const handler = httpApiHandler(() => campaignsHttpDeps(), (deps) => createGroupApp(deps, 'campaigns', CAMPAIGNS_ROUTE_MODULES));
