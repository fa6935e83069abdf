/**
 * The merged reminder's texts (see core/merged-reminder.ts), kept beside the reminder rules and edited
 * like them: validated with real values before they are stored, previewable, versioned and audited.
 */
import * as z from 'zod';
import type { Principal } from '../../core/access.js';
import { renewalPlaceName, type CatalogueEntry } from '../../core/catalogue.js';
import { checkMergedTemplate, DEFAULT_MERGED_TEMPLATE, MERGE_SEGMENT_LIMIT, renderMergedReminder, type MergedTemplate } from '../../core/merged-reminder.js';
import { addDays, todayIn } from '../../core/planning.js';
import type { MergedTemplateStore, StoredMergedTemplate } from '../../core/ports.js';
import { LONGEST_NUMBER_LENGTH, MAX_COMMENT_LENGTH, zodErrors, type FieldError } from '../../core/rules.js';
import type { ReminderInput } from '../../core/sms.js';
import { TemplateError } from '../../core/templates.js';
import { auditPrincipal, recordAudit, type AuditDeps } from '../audit.js';
import type { ReferenceData } from '../reference-data.js';
import type { ServiceSettings } from '../settings.js';
import { RuleChangeRejected, RuleConflict } from './change-rule.js';

export interface MergedTemplateDeps extends AuditDeps {
  mergedTemplates: MergedTemplateStore;
  reference: ReferenceData;
  settings: ServiceSettings;
}

const draftSchema = z.object({
  template: z.string({ error: '模板必填 / template is required' }).min(1, '模板不能为空 / template must not be empty').max(500),
  itemTemplate: z.string({ error: '每项模板必填 / itemTemplate is required' }).min(1, '每项模板不能为空 / itemTemplate must not be empty').max(500),
});

const changeSchema = draftSchema.extend({
  comment: z.string({ error: '请说明修改原因 / a comment saying why is required' }).trim().min(1, '请说明修改原因 / a comment saying why is required').max(MAX_COMMENT_LENGTH),
});

/** The stored texts, or the defaults as version 0. */
export async function currentMergedTemplate(deps: Pick<MergedTemplateDeps, 'mergedTemplates'>): Promise<StoredMergedTemplate> {
  return (await deps.mergedTemplates.getMergedTemplate()) ?? { ...DEFAULT_MERGED_TEMPLATE, version: 0, changedBy: null, changedAt: null, comment: null };
}

/** What a merge of `count` certificates says with these texts, with real catalogue values, and whether it would be merged. */
export interface MergedSample {
  count: number;
  body: string;
  segments: number;
  merged: boolean;
}

/**
 * Samples with real values: the catalogue's types with the longest names and places, a number of the
 * longest length the rules allow for, dates from today. Two certificates must merge, or the texts could
 * never be used.
 */
export function mergedTemplateSamples(deps: Pick<MergedTemplateDeps, 'reference' | 'settings' | 'clock'>, template: MergedTemplate): MergedSample[] {
  const today = todayIn(deps.clock.now());
  const types = [...deps.reference.catalogue.all()]
    .filter((t): t is CatalogueEntry & { renewalAction: NonNullable<CatalogueEntry['renewalAction']> } => t.reminders && t.renewalAction !== null)
    .map((t) => ({ type: t, place: renewalPlaceName(t.renewalPlace, deps.settings.renewalPlace) }))
    .sort((a, b) => b.type.smsName.length + b.place.length - (a.type.smsName.length + a.place.length));
  const items: ReminderInput[] = types.slice(0, 3).map(({ type, place }, i) => ({
    typeName: type.smsName,
    number: `${String(i + 1).padStart(LONGEST_NUMBER_LENGTH, '3')}`,
    stage: 'first',
    expiresOn: addDays(today, 90),
    renewalDeadline: addDays(today, 60),
    windowOpens: null,
    deadlinePassed: false,
    action: type.renewalAction,
    renewalPlace: place,
    sendOn: today,
  }));
  return [2, 3].map((count) => {
    const rendered = renderMergedReminder({
      signature: deps.settings.signature,
      county: deps.settings.county,
      helpPhone: deps.settings.helpPhone,
      template,
      items: items.slice(0, count),
    });
    return { count, body: rendered.body, segments: rendered.segments, merged: rendered.segments <= MERGE_SEGMENT_LIMIT };
  });
}

function checkDraft(deps: Pick<MergedTemplateDeps, 'reference' | 'settings' | 'clock'>, body: unknown): MergedTemplate {
  const parsed = draftSchema.safeParse(body);
  if (!parsed.success) throw new RuleChangeRejected(zodErrors(parsed.error));
  const draft = { template: parsed.data.template, itemTemplate: parsed.data.itemTemplate };
  const errors: FieldError[] = [];
  try {
    checkMergedTemplate(draft);
    const [two] = mergedTemplateSamples(deps, draft);
    if (two !== undefined && !two.merged) {
      errors.push({ field: 'template', reason: `两本证照的合并短信有${two.segments}条，最多${MERGE_SEGMENT_LIMIT}条 / two certificates merged take ${two.segments} segments; at most ${MERGE_SEGMENT_LIMIT}, or nothing is ever merged` });
    }
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    errors.push({ field: /\{number\}|每项/u.test(error.message) ? 'itemTemplate' : 'template', reason: error.message });
  }
  if (errors.length > 0) throw new RuleChangeRejected(errors);
  return draft;
}

/** POST /v1/rules/merged-template/preview: `{template, itemTemplate}` → samples; nothing is stored. */
export function previewMergedTemplate(deps: Pick<MergedTemplateDeps, 'reference' | 'settings' | 'clock'>, body: unknown): { samples: MergedSample[] } {
  const draft = checkDraft(deps, body);
  return { samples: mergedTemplateSamples(deps, draft) };
}

/** PUT /v1/rules/merged-template: `{template, itemTemplate, comment}`; stored as the next version and audited. */
export async function changeMergedTemplate(deps: MergedTemplateDeps, principal: Principal, body: unknown): Promise<StoredMergedTemplate> {
  const change = changeSchema.safeParse(body);
  if (!change.success) throw new RuleChangeRejected(zodErrors(change.error));
  const parsed = change.data;
  const draft = checkDraft(deps, parsed);
  const current = await currentMergedTemplate(deps);
  const next: StoredMergedTemplate = { ...draft, version: current.version + 1, changedBy: principal.subject, changedAt: deps.clock.now().toISO() ?? '', comment: parsed.comment };
  if (!(await deps.mergedTemplates.putMergedTemplate(next))) {
    throw new RuleConflict('合并短信模板刚被他人修改，请刷新后重试 / the merged template was changed by someone else meanwhile; read it again and retry');
  }
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'rules.merged',
    target: 'rules/merged-template',
    summary: `修改合并短信模板（第 ${next.version} 版）：${parsed.comment} / changed the merged reminder template (version ${next.version}): ${parsed.comment}`,
    details: { version: next.version, previousVersion: current.version },
  });
  return next;
}
