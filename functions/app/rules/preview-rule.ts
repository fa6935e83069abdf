/**
 * What a draft rule would do, over the type's real stored certificates: messages per day under the
 * current plans and under the draft, sample texts, and how many plans the change would touch. It only
 * reads: nothing is stored, planned or sent.
 */
import { DateTime } from 'luxon';
import { PermanentSendError } from '../../core/errors.js';
import { planChanged } from '../../core/calendar-load.js';
import type { Plan } from '../../core/model.js';
import { ZONE } from '../../core/model.js';
import { maskPhone } from '../../core/phone.js';
import { addDays, todayIn, type WorkingDays } from '../../core/planning.js';
import { rulePreviewSchema, zodErrors, type FieldError } from '../../core/rules.js';
import { renderFor } from '../send-due-reminders.js';
import { checkRuleStages, currentRule, mergeRuleReplan, RULE_REACH_AFTER_EXPIRY_DAYS, RuleChangeRejected, ruleStages, ruleType, type RuleDeps } from './change-rule.js';

export const MAX_PREVIEW_SAMPLES = 10;

export interface DayCount {
  date: string;
  count: number;
}

export interface RulePreview {
  type: string;
  from: string;
  to: string;
  current: DayCount[];
  draft: DayCount[];
  samples: Array<{ stage: string; to: string; body: string; segments: number }>;
  affected: number;
}

/** POST /v1/rules/{type}/preview: `{stages, enabled, days}`. */
export async function previewRule(deps: RuleDeps, code: string, body: unknown): Promise<RulePreview> {
  const type = ruleType(deps.reference, code);
  const parsed = rulePreviewSchema.safeParse(body);
  const errors: FieldError[] = parsed.success ? [] : zodErrors(parsed.error);
  const raw = body as { stages?: unknown; enabled?: unknown } | null;
  const checked = checkRuleStages(deps, type, Array.isArray(raw?.stages) ? raw.stages : [], typeof raw?.enabled === 'boolean' ? raw.enabled : true);
  errors.push(...checked.errors);
  if (!parsed.success || errors.length > 0) throw new RuleChangeRejected(errors);
  const draftRule = { enabled: parsed.data.enabled, stages: checked.stages };
  const current = await currentRule(deps, type.code);

  const now = deps.clock.now();
  const nowMs = now.toMillis();
  const from = todayIn(now);
  const to = addDays(from, parsed.data.days - 1);
  const calendar: WorkingDays = deps.calendarSource === undefined ? deps.reference.calendar : await deps.calendarSource.current();
  const currentCounts = new Map<string, number>();
  const draftCounts = new Map<string, number>();
  const samples: RulePreview['samples'] = [];
  const sampledStages = new Set<string>();
  let affected = 0;

  let cursor: string | undefined;
  do {
    const page = await deps.typeCertificates.certificatesOfTypeExpiringFrom(type.code, addDays(from, -RULE_REACH_AFTER_EXPIRY_DAYS), cursor);
    for (const stored of page.items) {
      const draft = mergeRuleReplan(stored.plan, ruleStages(stored.certificate.expiresOn, type, draftRule, calendar, deps.settings), nowMs);
      if (planChanged(stored.plan, draft)) affected += 1;
      if (current.enabled) count(stored.plan, from, to, currentCounts);
      if (!draftRule.enabled) continue;
      for (const stage of count(draft, from, to, draftCounts)) {
        // One sample per stage first, so every text of the draft is shown; then more of any stage.
        if (samples.length >= MAX_PREVIEW_SAMPLES || (sampledStages.has(stage.stage) && sampledStages.size < draftRule.stages.length)) continue;
        const sendAt = DateTime.fromISO(stage.sendAt).setZone(ZONE);
        try {
          const rendered = renderFor(deps, stored, stage, sendAt, draftRule);
          samples.push({ stage: stage.stage, to: maskPhone(stored.certificate.phone), body: rendered.body, segments: rendered.segments });
          sampledStages.add(stage.stage);
        } catch (error) {
          // A stored value the real scan would refuse is not a sample of what goes out.
          if (!(error instanceof PermanentSendError)) throw error;
        }
      }
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);

  return { type: type.code, from, to, current: perDay(currentCounts), draft: perDay(draftCounts), samples, affected };
}

/** Adds the plan's pending stages that go out between `from` and `to` to `counts`; returns them. */
function count(plan: Plan, from: string, to: string, counts: Map<string, number>) {
  const inRange = plan.stages.filter((s) => {
    if (s.status !== 'pending') return false;
    const day = s.sendAt.slice(0, 10);
    return day >= from && day <= to;
  });
  for (const s of inRange) counts.set(s.sendAt.slice(0, 10), (counts.get(s.sendAt.slice(0, 10)) ?? 0) + 1);
  return inRange;
}

function perDay(counts: Map<string, number>): DayCount[] {
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, n]) => ({ date, count: n }));
}
