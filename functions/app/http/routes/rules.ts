import * as z from 'zod';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, json, reply, type HttpResponse } from '../http.js';
import type { mergedTemplateContract, mergedTemplatePreviewContract, ruleChangeContract, ruleContract, ruleHistoryContract, ruleListContract, rulePreviewContract } from '../../../contracts/api/rules.js';
import { parseJsonBody, parseWith } from '../parse.js';
import { changeRule, currentRule, listRuleSummaries, restoreRule, RuleChangeRejected, RuleConflict, ruleType, UnknownRuleType, type RuleDeps } from '../../rules/change-rule.js';
import { previewRule } from '../../rules/preview-rule.js';
import { changeMergedTemplate, currentMergedTemplate, previewMergedTemplate, type MergedTemplateDeps } from '../../rules/merged-template.js';

/** API Gateway gives up after 30 s: a change re-plans for this long, and a running re-plan continues in the scheduled scans. */
const REPLAN_BUDGET_MS = 20_000;

const typeParam = z.string().regex(/^[a-z0-9_]{1,64}$/, 'a type code, e.g. food_business_license');

export function ruleDeps(deps: HttpAppDeps): RuleDeps {
  if (deps.ruleStore === undefined || deps.rules === undefined || deps.typeCertificates === undefined) {
    throw new HttpError(404, 'not_found', 'reminder rules are not kept in the store in this deployment');
  }
  return { ...deps, ruleStore: deps.ruleStore, rules: deps.rules, typeCertificates: deps.typeCertificates };
}

/** The use cases' refusals as HTTP answers; a refused rule answers `{errors:[{field, reason}]}`. */
async function answering(work: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RuleChangeRejected) {
      return json(400, { errors: error.errors, error: { code: 'invalid_rule', message: error.message, details: error.errors } });
    }
    if (error instanceof RuleConflict) throw new HttpError(409, 'conflict', error.message);
    if (error instanceof UnknownRuleType) throw new HttpError(404, 'not_found', error.message);
    throw error;
  }
}

function mergedTemplateDeps(deps: HttpAppDeps): MergedTemplateDeps {
  if (deps.mergedTemplates === undefined) throw new HttpError(404, 'not_found', 'reminder rules are not kept in the store in this deployment');
  return { ...deps, mergedTemplates: deps.mergedTemplates };
}

function typeOf(params: string[]): string {
  return parseWith(typeParam, params[0] ?? '', 'type');
}

export const ruleRoutes: Route[] = [
  // Before the per-type routes: `merged-template` is not a type code.
  {
    method: 'GET',
    pattern: /^\/v1\/rules\/merged-template$/,
    access: 'readCertificates',
    handler: async (_req, _p, deps) => reply<typeof mergedTemplateContract>(200, await currentMergedTemplate(mergedTemplateDeps(deps))),
  },
  {
    method: 'PUT',
    pattern: /^\/v1\/rules\/merged-template$/,
    access: 'changeRules',
    handler: async (req, _p, deps, principal) => answering(async () => reply<typeof mergedTemplateContract>(200, await changeMergedTemplate(mergedTemplateDeps(deps), principal, parseJsonBody(req)))),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/rules\/merged-template\/preview$/,
    access: 'changeRules',
    handler: async (req, _p, deps) => answering(async () => reply<typeof mergedTemplatePreviewContract>(200, previewMergedTemplate(mergedTemplateDeps(deps), parseJsonBody(req)))),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/rules$/,
    access: 'readCertificates',
    handler: async (_req, _p, deps) => reply<typeof ruleListContract>(200, { rules: await listRuleSummaries(ruleDeps(deps)) }),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/rules\/([^/]+)$/,
    access: 'readCertificates',
    handler: async (_req, params, deps) =>
      answering(async () => {
        const rules = ruleDeps(deps);
        const type = ruleType(rules.reference, typeOf(params)).code;
        const rule = await currentRule(rules, type);
        return reply<typeof ruleContract>(200, rule);
      }),
  },
  {
    method: 'PUT',
    pattern: /^\/v1\/rules\/([^/]+)$/,
    access: 'changeRules',
    handler: async (req, params, deps, principal) =>
      answering(async () => {
        const wall = deps.wallClock ?? Date.now;
        const result = await changeRule(ruleDeps(deps), principal, typeOf(params), parseJsonBody(req), { stopAtMs: wall() + REPLAN_BUDGET_MS });
        return reply<typeof ruleChangeContract>(200, result);
      }),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/rules\/([^/]+)\/preview$/,
    access: 'changeRules',
    handler: async (req, params, deps) => answering(async () => reply<typeof rulePreviewContract>(200, await previewRule(ruleDeps(deps), typeOf(params), parseJsonBody(req)))),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/rules\/([^/]+)\/history$/,
    access: 'readCertificates',
    handler: async (_req, params, deps) =>
      answering(async () => {
        const rules = ruleDeps(deps);
        const type = ruleType(rules.reference, typeOf(params)).code;
        const history = await rules.ruleStore.ruleHistory(type);
        return reply<typeof ruleHistoryContract>(200, {
          type,
          versions: history.map((v) => ({ version: v.version, changedBy: v.changedBy, changedAt: v.changedAt, comment: v.comment, diff: v.diff, enabled: v.enabled, stages: v.stages })),
        });
      }),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/rules\/([^/]+)\/restore$/,
    access: 'changeRules',
    handler: async (req, params, deps, principal) =>
      answering(async () => {
        const wall = deps.wallClock ?? Date.now;
        return reply<typeof ruleChangeContract>(200, await restoreRule(ruleDeps(deps), principal, typeOf(params), parseJsonBody(req), { stopAtMs: wall() + REPLAN_BUDGET_MS }));
      }),
  },
];
