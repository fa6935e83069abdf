import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpApp, HttpAppDeps } from '../app/http/app.js';
import type { HttpRequest } from '../app/http/http.js';

export type HttpApiHandler = (event: APIGatewayProxyEventV2WithJWTAuthorizer) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * API Gateway HTTP API (payload v2) → an HTTP application → API Gateway response: the mapping every
 * HTTP function shares, whichever routes its application serves.
 */
export function httpApiHandler(deps: () => HttpAppDeps, create: (deps: HttpAppDeps) => HttpApp): HttpApiHandler {
  let built: { deps: HttpAppDeps; app: HttpApp } | undefined;
  return async (event) => {
    const current = deps();
    // Rebuilt only when the composition is (a cold start, or a test that reset it).
    if (built?.deps !== current) built = { deps: current, app: create(current) };
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
  };
}
