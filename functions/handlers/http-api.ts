import { createHttpApp } from '../app/http/app.js';
import { httpApiHandler } from './http-api-event.js';
import { httpDeps } from './runtime.js';

/**
 * Every route in one function, as the local server serves them. The stack deploys one function per
 * route group instead (http-<group>.ts), each a smaller bundle; this one drives the handler tests.
 */
export const handler = httpApiHandler(() => httpDeps(), createHttpApp);
