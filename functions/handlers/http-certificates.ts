import { createGroupApp } from '../app/http/app.js';
import { CERTIFICATES_ROUTE_MODULES } from '../app/http/groups/certificates.js';
import { httpApiHandler } from './http-api-event.js';
import { certificatesHttpDeps } from './runtime.js';

/** The HTTP API's `certificates` routes (functions/app/http/route-groups.ts); API Gateway sends only those here. */
export const handler = httpApiHandler(() => certificatesHttpDeps(), (deps) => createGroupApp(deps, 'certificates', CERTIFICATES_ROUTE_MODULES));
