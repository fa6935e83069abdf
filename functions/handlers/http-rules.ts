import { createGroupApp } from '../app/http/app.js';
import { RULES_ROUTE_MODULES } from '../app/http/groups/rules.js';
import { httpApiHandler } from './http-api-event.js';
import { rulesHttpDeps } from './runtime.js';

/** The HTTP API's `rules` routes (functions/app/http/route-groups.ts); API Gateway sends only those here. */
export const handler = httpApiHandler(() => rulesHttpDeps(), (deps) => createGroupApp(deps, 'rules', RULES_ROUTE_MODULES));
