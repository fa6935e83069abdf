import * as z from 'zod';
import type { CampaignDeps } from '../../campaigns/campaign-deps.js';
import {
  addVisit,
  campaignView,
  campaignWithVisits,
  cancelVisit,
  CampaignConflict,
  CampaignForbidden,
  CampaignNotFound,
  CampaignRejected,
  createCampaign,
  listCampaigns,
  moveVisit,
  visitView,
} from '../../campaigns/manage-campaigns.js';
import { editCampaign, previewCampaignEdit } from '../../campaigns/edit-campaign.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, json, type HttpResponse, reply } from '../http.js';
import type {
  campaignCreatedContract,
  campaignDetailContract,
  campaignEditContract,
  campaignEditPreviewContract,
  campaignListContract,
  visitAddedContract,
  visitContract,
} from '../../../contracts/api/campaigns.js';
import { parseJsonBody, parseWith } from '../parse.js';

const idParam = z.string().regex(/^[a-z]{3}_[0-9a-f]{4,32}$/, 'an id as the API gave it, e.g. cmp_3f2a1b9c0d4e');

export function campaignDeps(deps: HttpAppDeps): CampaignDeps {
  if (deps.campaigns === undefined) throw new HttpError(404, 'not_found', 'campaigns are not kept in this deployment');
  return { ...deps, campaigns: deps.campaigns };
}

/** The use cases' refusals as HTTP answers; a refused request answers `{errors:[{field, reason}]}`, as the rules do. */
export async function answeringCampaign(work: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CampaignRejected) {
      return json(400, { errors: error.errors, error: { code: 'invalid_campaign', message: error.message, details: error.errors } });
    }
    if (error instanceof CampaignNotFound) throw new HttpError(404, 'not_found', error.message);
    if (error instanceof CampaignForbidden) throw new HttpError(403, 'forbidden', error.message);
    if (error instanceof CampaignConflict) throw new HttpError(409, 'conflict', error.message);
    throw error;
  }
}

function ids(params: string[]): [string, string] {
  return [parseWith(idParam, params[0] ?? '', 'campaign id'), parseWith(idParam, params[1] ?? '', 'visit id')];
}

export const campaignRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/campaigns$/,
    access: 'manageCampaigns',
    handler: async (req, _p, deps, principal) =>
      answeringCampaign(async () => {
        const campaign = await createCampaign(campaignDeps(deps), principal, parseJsonBody(req));
        return reply<typeof campaignCreatedContract>(201, { id: campaign.id });
      }),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/campaigns$/,
    access: 'readCampaigns',
    handler: async (_req, _p, deps) => reply<typeof campaignListContract>(200, { campaigns: (await listCampaigns(campaignDeps(deps))).map(campaignView) }),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/campaigns\/([^/]+)$/,
    access: 'readCampaigns',
    handler: async (_req, params, deps) =>
      answeringCampaign(async () => {
        const campaigns = campaignDeps(deps);
        const { campaign, visits } = await campaignWithVisits(campaigns, parseWith(idParam, params[0] ?? '', 'campaign id'));
        return reply<typeof campaignDetailContract>(200, { ...campaignView(campaign), visits: visits.map((v) => visitView(campaigns, v)) });
      }),
  },
  {
    method: 'PATCH',
    pattern: /^\/v1\/campaigns\/([^/]+)$/,
    access: 'manageCampaigns',
    handler: async (req, params, deps, principal) =>
      answeringCampaign(async () => reply<typeof campaignEditContract>(200, await editCampaign(campaignDeps(deps), principal, parseWith(idParam, params[0] ?? '', 'campaign id'), parseJsonBody(req)))),
  },
  {
    // As the rules' preview: the edit's body, answered with what saving it would do; nothing is stored or scheduled.
    method: 'POST',
    pattern: /^\/v1\/campaigns\/([^/]+)\/preview$/,
    access: 'manageCampaigns',
    handler: async (req, params, deps, principal) =>
      answeringCampaign(async () => reply<typeof campaignEditPreviewContract>(200, await previewCampaignEdit(campaignDeps(deps), principal, parseWith(idParam, params[0] ?? '', 'campaign id'), parseJsonBody(req)))),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/campaigns\/([^/]+)\/visits$/,
    access: 'manageCampaigns',
    handler: async (req, params, deps, principal) =>
      answeringCampaign(async () => {
        const visit = await addVisit(campaignDeps(deps), principal, parseWith(idParam, params[0] ?? '', 'campaign id'), parseJsonBody(req));
        return reply<typeof visitAddedContract>(201, { id: visit.id, noticeAt: visit.noticeAt, reminderAt: visit.reminderAt });
      }),
  },
  {
    method: 'PATCH',
    pattern: /^\/v1\/campaigns\/([^/]+)\/visits\/([^/]+)$/,
    access: 'manageCampaigns',
    handler: async (req, params, deps, principal) =>
      answeringCampaign(async () => {
        const campaigns = campaignDeps(deps);
        const [campaignId, visitId] = ids(params);
        return reply<typeof visitContract>(200, visitView(campaigns, await moveVisit(campaigns, principal, campaignId, visitId, parseJsonBody(req))));
      }),
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/campaigns\/([^/]+)\/visits\/([^/]+)$/,
    access: 'manageCampaigns',
    handler: async (_req, params, deps, principal) =>
      answeringCampaign(async () => {
        const campaigns = campaignDeps(deps);
        const [campaignId, visitId] = ids(params);
        return reply<typeof visitContract>(200, visitView(campaigns, await cancelVisit(campaigns, principal, campaignId, visitId)));
      }),
  },
];
