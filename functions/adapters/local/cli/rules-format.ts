/** Text views of the rules routes for the CLI; `--json` prints the answers as they are. */

import type * as z from 'zod';
import type { ruleContract, ruleHistoryContract, rulePreviewContract, ruleSummaryContract, stageContract } from '../../../contracts/api/rules.js';

export type RuleSummaryView = z.infer<typeof ruleSummaryContract>;
export type StageView = z.infer<typeof stageContract>;
export type RuleView = z.infer<typeof ruleContract>;
export type RulePreviewView = z.infer<typeof rulePreviewContract>;
export type RuleHistoryView = z.infer<typeof ruleHistoryContract>;

function offset(s: StageView): string {
  const n = s.workingDays ?? s.days ?? 0;
  return `${s.from} ${n >= 0 ? '+' : ''}${n} ${s.workingDays !== undefined ? 'working days' : 'days'}`;
}

export function ruleListText(rules: readonly RuleSummaryView[]): string {
  return rules
    .map((r) => `${r.type.padEnd(44)} v${String(r.version).padEnd(3)} ${r.enabled ? 'on ' : 'off'}  ${r.stages} stages  ${r.changedAt ?? 'default'}${r.changedBy !== null ? `  ${r.changedBy}` : ''}`)
    .join('\n');
}

export function ruleText(rule: RuleView): string {
  return [
    `${rule.type}  version ${rule.version}${rule.version === 0 ? ' (default)' : ''}  ${rule.enabled ? 'enabled' : 'DISABLED'}`,
    ...(rule.changedBy !== null ? [`  changed by ${rule.changedBy} at ${rule.changedAt ?? ''}: ${rule.comment}`] : []),
    ...(rule.replan !== undefined ? [`  re-plan ${rule.replan.state}: ${rule.replan.done}/${rule.replan.total}`] : []),
    ...rule.stages.flatMap((s) => [`  ${s.name.padEnd(20)} ${offset(s)}`, `      ${s.template}`, ...(s.lateTemplate !== undefined ? [`      late: ${s.lateTemplate}`] : [])]),
  ].join('\n');
}

/** The messages per day now and under the draft, side by side, then the samples. */
export function previewText(preview: RulePreviewView): string {
  const current = new Map(preview.current.map((d) => [d.date, d.count]));
  const draft = new Map(preview.draft.map((d) => [d.date, d.count]));
  const days = [...new Set([...current.keys(), ...draft.keys()])].sort();
  const rows = days.map((day) => {
    const now = current.get(day) ?? 0;
    const next = draft.get(day) ?? 0;
    return `${day}  ${String(now).padStart(7)}  ${String(next).padStart(7)}${now !== next ? `  ${next > now ? '+' : ''}${next - now}` : ''}`;
  });
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return [
    `${preview.from} … ${preview.to}: ${preview.affected} certificates would be re-planned`,
    `date        current    draft`,
    ...(rows.length > 0 ? rows : ['(no messages in this period)']),
    `total       ${String(total(current)).padStart(7)}  ${String(total(draft)).padStart(7)}`,
    '',
    ...preview.samples.flatMap((s) => [`[${s.stage}] to ${s.to}, ${s.segments} segment${s.segments === 1 ? '' : 's'}:`, `  ${s.body}`]),
  ].join('\n');
}

export function historyText(history: RuleHistoryView): string {
  if (history.versions.length === 0) return `${history.type}: never changed (version 0, the default rule)`;
  return history.versions
    .map((v) => [`v${v.version}  ${v.changedAt}  ${v.changedBy}  ${v.comment}`, ...v.diff.map((d) => `    ${d}`)].join('\n'))
    .join('\n');
}
