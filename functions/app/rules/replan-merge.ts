/**
 * What a rule change does to one certificate's plan: the stages the rule gives it, merged with what
 * was already sent, skipped or due. Shared by the re-plan, its repair pass and the writers that settle with it.
 */
import { DateTime } from 'luxon';
import type { CertificateType, Plan, PlannedStage } from '../../core/model.js';
import { RULE_CHANGED_NOTE } from '../../core/model.js';
import { planReminders, type WorkingDays } from '../../core/planning.js';
import type { ReminderRule } from '../../core/rules.js';
import type { ServiceSettings } from '../settings.js';

/** The stages `rule` gives a certificate, every one at its own time (no catch-up decided yet). */
export function ruleStages(expiresOn: string | null, type: CertificateType, rule: Pick<ReminderRule, 'enabled' | 'stages'>, calendar: WorkingDays, settings: ServiceSettings): Plan {
  return planReminders({
    expiresOn,
    renewalWindow: type.renewalWindow,
    calendar,
    stages: rule.stages,
    enabled: rule.enabled,
    sendWindow: settings.sendWindow,
    // Planned as of long ago, so every stage keeps its own time; what has passed is decided below.
    now: DateTime.fromMillis(0),
    reminders: type.reminders,
  });
}

/**
 * The plan a rule change leaves: what was sent or skipped stays as it was; a stage already due before
 * the change stays due, as does an upload's catch-up; a stage the change added or moved to a time already past at `nowMs` is
 * skipped (`rule changed after its date`), so a rule change never sends a burst; the rest is pending.
 */
export function mergeRuleReplan(stored: Plan, fresh: Plan, nowMs: number): Plan {
  const before = new Map(stored.stages.map((s) => [s.stage, s]));
  const stages: PlannedStage[] = fresh.stages.map((stage) => {
    const was = before.get(stage.stage);
    if (was !== undefined && (was.status !== 'pending' || was.note === 'catchUp')) return was;
    if (Date.parse(stage.sendAt) > nowMs) return stage;
    if (was !== undefined && Date.parse(was.sendAt) <= nowMs) return was;
    return { ...stage, status: 'skipped', note: RULE_CHANGED_NOTE };
  });
  for (const s of stored.stages) if (s.status !== 'pending' && !stages.some((n) => n.stage === s.stage)) stages.push(s);
  stages.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { ...fresh, stages };
}
