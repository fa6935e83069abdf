import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createHttpApp, type HttpAppDeps } from '../app/http/app.js';
import type { HttpRequest } from '../app/http/http.js';
import { httpDeps } from './runtime.js';

let built: { deps: HttpAppDeps; app: ReturnType<typeof createHttpApp> } | undefined;

/** API Gateway HTTP API (payload v2) → the shared HTTP application → API Gateway response. */
export async function handler(event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyStructuredResultV2> {
  const deps = httpDeps();
  // Rebuilt only when the composition is (a cold start, or a test that reset it).
  if (built?.deps !== deps) built = { deps, app: createHttpApp(deps) };
  const request: HttpRequest = {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: Object.fromEntries(new URLSearchParams(event.rawQueryString ?? '')),
    headers: event.headers ?? {},
    ...(event.requestContext.authorizer?.jwt?.claims !== undefined ? { claims: event.requestContext.authorizer.jwt.claims } : {}),
    ...(event.body !== undefined ? { body: event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body } : {}),
  };
  const response = await built.app(request);
  return { statusCode: response.status, headers: response.headers, body: response.body };
}
