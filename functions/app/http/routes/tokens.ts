import { auditPrincipal, recordAudit } from '../../audit.js';
import { issueToken, newTokenRequestSchema, tokenView, ADMIN_TOKEN_ID, TOKEN_ID } from '../../tokens.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, reply } from '../http.js';
import type { issuedTokenContract, revokedTokenContract, tokenListContract } from '../../../contracts/api/tokens.js';
import { parseJsonBody, parseWith } from '../parse.js';

function tokenStore(deps: HttpAppDeps) {
  if (deps.tokens === undefined) throw new HttpError(404, 'not_found', 'tokens are issued by the identity provider in this deployment');
  return deps.tokens;
}

export const tokenRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/tokens$/,
    access: 'manageTokens',
    handler: async (req, _p, deps, principal) => {
      const store = tokenStore(deps);
      const request = parseWith(newTokenRequestSchema, parseJsonBody(req), 'token request');
      if (request.authority !== undefined && !deps.reference.authorities.some((a) => a.code === request.authority)) {
        throw new HttpError(400, 'unknown_authority', `unknown authority "${request.authority}"; see GET /v1/authorities`);
      }
      const issued = await issueToken(store, request, principal, deps.clock.now().toISO() ?? '');
      deps.logger.info({ tokenId: issued.id, role: issued.role, authority: issued.authority, by: principal.subject }, 'token issued');
      await recordAudit(deps, auditPrincipal(principal), {
        action: 'token.issue',
        target: `token/${issued.id}`,
        summary: `签发 ${issued.role} 令牌 ${issued.id}${issued.authority !== undefined ? `（${issued.authority}）` : ''} / issued ${issued.role} token ${issued.id}${issued.authority !== undefined ? ` for ${issued.authority}` : ''}`,
        details: { id: issued.id, role: issued.role, ...(issued.authority !== undefined ? { authority: issued.authority } : {}), ...(request.label !== undefined ? { label: request.label } : {}) },
      });
      return reply<typeof issuedTokenContract>(201, issued);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/tokens$/,
    access: 'manageTokens',
    handler: async (_req, _p, deps) => reply<typeof tokenListContract>(200, (await tokenStore(deps).listTokens()).map(tokenView)),
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/tokens\/([^/]+)$/,
    access: 'manageTokens',
    handler: async (_req, params, deps, principal) => {
      const [id = ''] = params;
      if (id === ADMIN_TOKEN_ID) throw new HttpError(409, 'conflict', 'the first operator token is set at start (CERTALARM_ADMIN_TOKEN); change it there');
      // Only ids of the form issueToken gives out are looked up; anything else cannot exist.
      const revoked = TOKEN_ID.test(id) && (await tokenStore(deps).revokeToken(id, deps.clock.now().toISO() ?? ''));
      if (!revoked) throw new HttpError(404, 'not_found', `no token ${id.slice(0, 40)}`);
      deps.logger.info({ tokenId: id, by: principal.subject }, 'token revoked');
      await recordAudit(deps, auditPrincipal(principal), {
        action: 'token.revoke',
        target: `token/${id}`,
        summary: `吊销令牌 ${id} / revoked token ${id}`,
        details: { id },
      });
      return reply<typeof revokedTokenContract>(200, { id, revoked: true });
    },
  },
];
