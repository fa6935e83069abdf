/**
 * How a writer of certificates (upload, bureau import, revocation, re-issue) cooperates with a rule
 * re-plan that writes whole certificates without conditions. The writer reads its types' rule and
 * re-plan mark consistently before it plans (so it plans on the stored rule, never on a stale cache)
 * and again after its write. If a re-plan holds the type then, it journals what it wrote, and the
 * re-plan's repair pass puts that back over anything its own writes overwrote; if the re-plan has
 * moved on (the journal refused, or a re-plan came and went between the two reads), the writer reads
 * its certificates again and puts back whatever was overwritten itself. The README's *Rule-change
 * re-plan* section has the whole argument.
 *
 * Each read costs one key per type: the rule item carries the rule's version and the mark (see
 * `typeStateKey`), and the whole rule is fetched only when its version is new to the process. The
 * argument asks nothing more of the reads: the first must come before the write and the second after
 * it, and the rule planned with must be the one whose version `settle` compares. The whole rule is
 * read after the mark, so it may be newer than the version read with the mark; it is the rule planned
 * with, and its version is the one compared. A mark seen earlier than needed only causes extra checks.
 */
import type { DateTime } from 'luxon';
import { planChanged } from '../../core/calendar-load.js';
import type { WorkingDays } from '../../core/planning.js';
import type { ReplanMarks, StoredCertificate, TypeWriteState } from '../../core/ports.js';
import { defaultRule, type ReminderRule } from '../../core/rules.js';
import type { ReferenceData } from '../reference-data.js';
import type { ServiceSettings } from '../settings.js';
import { mergeRuleReplan, ruleStages } from './replan-merge.js';

export interface TypeWriteDeps {
  /** Without it (unit tests, benchmarks of other parts) writers do not cooperate with re-plans. */
  replanMarks?: ReplanMarks;
  reference: ReferenceData;
  settings: ServiceSettings;
}

/** The same record and the same revocation: what a writer stored is still there, whatever its plan. */
export function sameContent(a: StoredCertificate, b: StoredCertificate): boolean {
  return a.contentHash === b.contentHash && a.certificate.expiresOn === b.certificate.expiresOn && JSON.stringify(a.revoked ?? null) === JSON.stringify(b.revoked ?? null);
}

/**
 * Puts `written` back if a re-plan's unconditional write replaced it, and re-plans it on `rule` when one
 * is given; conditional on the version read, so it never overwrites a later writer. `written` counts as
 * overwritten only when its content is gone and no later write explains that: the stored version is not
 * past it, or the stored content is still what a re-plan put, at a version not past it.
 */
export async function restoreWritten(
  deps: Required<Pick<TypeWriteDeps, 'replanMarks'>> & Pick<TypeWriteDeps, 'reference' | 'settings'>,
  written: StoredCertificate,
  rule: Pick<ReminderRule, 'enabled' | 'stages'> | undefined,
  calendar: WorkingDays,
  now: DateTime,
): Promise<'kept' | 'rewritten' | 'gone'> {
  const type = deps.reference.catalogue.get(written.certificate.type);
  const key = written.certificate;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const read = await deps.replanMarks.readForRepair(key);
    if (read === undefined) return 'gone';
    const current = read.stored;
    const overwritten =
      !sameContent(current, written) && (written.version >= current.version || (read.replannedVersion !== undefined && written.version >= read.replannedVersion));
    const base = overwritten ? { ...written } : current;
    const plan =
      rule !== undefined && type !== undefined && base.revoked === undefined
        ? mergeRuleReplan(base.plan, ruleStages(base.certificate.expiresOn, type, rule, calendar, deps.settings), now.toMillis())
        : base.plan;
    if (!overwritten && !planChanged(current.plan, plan)) return 'kept';
    const next: StoredCertificate = { ...base, plan, version: current.version + 1, updatedAt: now.toISO() ?? '' };
    if (await deps.replanMarks.putCertificateIfVersion(next, current.version)) return 'rewritten';
  }
  throw new Error(`${key.type} ${key.number} kept changing while it was being checked after a rule re-plan; upload it again`);
}

/** A writer's first read of its types, and what it does after its write. */
export interface TypeWrites {
  /** The stored rules of the types, read just now: plan with these (a type absent runs the default). */
  readonly rules: ReadonlyMap<string, ReminderRule | undefined>;
  /** After the caller's own write of `written`: journal it for a re-plan holding the type, or check it and put it back. */
  settle(written: readonly StoredCertificate[], calendar: WorkingDays, now: DateTime): Promise<void>;
}

/** One consistent read of every type's rule and mark (one BatchGetItem per 50 types), before anything is planned. */
export async function beginTypeWrites(deps: TypeWriteDeps, types: Iterable<string>): Promise<TypeWrites | undefined> {
  const marks = deps.replanMarks;
  if (marks === undefined) return undefined;
  const before = await marks.typeWriteStates([...new Set(types)]);
  const rules = new Map([...before].map(([type, state]) => [type, state.rule]));
  return {
    rules,
    async settle(written, calendar, now) {
      if (written.length === 0) return;
      const byType = new Map<string, StoredCertificate[]>();
      for (const stored of written) byType.set(stored.certificate.type, [...(byType.get(stored.certificate.type) ?? []), stored]);
      const missing = [...byType.keys()].filter((type) => !before.has(type));
      if (missing.length > 0) for (const [type, state] of await marks.typeWriteStates(missing)) before.set(type, state);
      const after = await marks.typeWriteStates([...byType.keys()]);
      const nowMs = now.toMillis();
      for (const [type, items] of byType) {
        const was = before.get(type);
        const is = after.get(type);
        if (was === undefined || is === undefined) continue;
        if (isLive(is, nowMs) && is.mark?.state === 'open' && (await marks.journal(type, is.mark.id, nowMs, items))) continue;
        const ruleMoved = (was.rule?.version ?? 0) !== (is.rule?.version ?? 0);
        const reachedByReplan = isLive(was, nowMs) || is.mark !== undefined || is.markSeq !== was.markSeq;
        if (!ruleMoved && !reachedByReplan) continue;
        const rule = ruleMoved ? (is.rule ?? defaultRule(type, deps.settings.stagePolicy)) : undefined;
        for (const stored of items) await restoreWritten({ ...deps, replanMarks: marks }, stored, rule, calendar, now);
      }
    },
  };
}

function isLive(state: TypeWriteState, nowMs: number): boolean {
  return state.mark !== undefined && state.mark.leaseUntilMs > nowMs;
}
