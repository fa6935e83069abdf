/**
 * Operators change a type's reminder rule: the change is checked, stored as the rule's next version
 * (every version stays in the history), audited, and every certificate of the type is re-planned on it.
 * A restore is a change back to an earlier version's stages.
 */
import { DateTime } from 'luxon';
import type { Principal } from '../../core/access.js';
import { renewalPlaceName } from '../../core/catalogue.js';
import { planChanged } from '../../core/calendar-load.js';
import type { CertificateType, Plan, StageRule } from '../../core/model.js';
import { addDays, todayIn, type WorkingDays } from '../../core/planning.js';
import type {
  CalendarSource,
  CertificateKey,
  CertificateStore,
  PlanRow,
  ReplanJournalEntry,
  ReplanMarks,
  RuleSource,
  RuleStore,
  StoredCertificate,
  TypeCertificateSource,
} from '../../core/ports.js';
import {
  checkStages,
  defaultRule,
  lengthContextFor,
  ruleChangeSchema,
  ruleDiff,
  ruleRestoreSchema,
  zodErrors,
  type FieldError,
  type ReminderRule,
  type RuleReplanProgress,
  type RuleVersion,
} from '../../core/rules.js';
import { auditPrincipal, recordAudit, type AuditDeps } from '../audit.js';
import type { ReferenceData } from '../reference-data.js';
import type { ServiceSettings } from '../settings.js';
import { mergeRuleReplan, ruleStages } from './replan-merge.js';
import { restoreWritten } from './type-writes.js';

export { mergeRuleReplan, ruleStages };

/**
 * A stage is at most 90 days after the expiry, plus a month of days off: a certificate that expired
 * longer ago than this has no stage left ahead, so a rule change has nothing to re-plan for it.
 */
export const RULE_REACH_AFTER_EXPIRY_DAYS = 130;

export interface RuleDeps extends AuditDeps {
  ruleStore: RuleStore;
  rules: RuleSource;
  store: CertificateStore;
  typeCertificates: TypeCertificateSource;
  calendarSource?: CalendarSource;
  reference: ReferenceData;
  settings: ServiceSettings;
  /** Real elapsed time for the re-plan's budget, independent of the business clock. */
  wallClock?: () => number;
  /**
   * The re-plan's mark and journal. With them the re-plan writes whole certificates with BatchWriteItem
   * (writers cooperate, see type-writes.ts); without them (tests of other parts) each plan is written
   * conditionally on its certificate's version, at under half the speed on DynamoDB Local.
   */
  replanMarks?: ReplanMarks;
  /**
   * Read each byType page's certificates again from the table, consistently. A global secondary index
   * is eventually consistent on AWS: a write that landed just before the mark may not show in a page
   * yet, and a Put of what the page showed would overwrite it. DynamoDB Local maintains its indexes
   * within the write, so the local service and the benchmark leave this off.
   */
  consistentPages?: boolean;
  /** How long the re-plan waits after taking the mark before it reads the index (AWS: index propagation). */
  indexSettleMs?: number;
}

/** How long a re-plan's mark holds without renewal (it is renewed after every page of up to 500). */
export const REPLAN_LEASE_MS = 5 * 60_000;

/** The change was refused before anything was stored; each error names the field path. */
export class RuleChangeRejected extends Error {
  override readonly name = 'RuleChangeRejected';
  constructor(readonly errors: FieldError[]) {
    super(`规则未保存 / rule not saved: ${errors.map((e) => `${e.field || '(body)'}: ${e.reason}`).join('; ')}`);
  }
}

/** The rule was changed by someone else since the caller read it. */
export class RuleConflict extends Error {
  override readonly name = 'RuleConflict';
}

export class UnknownRuleType extends Error {
  override readonly name = 'UnknownRuleType';
}

/** A catalogue type that sends reminders; anything else has no rule. */
export function ruleType(reference: ReferenceData, code: string): CertificateType {
  const type = reference.catalogue.get(code);
  if (type === undefined || !type.reminders || type.renewalAction === null) {
    throw new UnknownRuleType(
      type === undefined
        ? `没有证照类型 ${code} / no certificate type ${code}: see GET /v1/types`
        : `证照类型 ${code} 没有有效期，不发提醒，也就没有提醒规则 / ${code} has no expiry and sends no reminders, so it has no rule`,
    );
  }
  return type;
}

/** The type's current rule: the stored one, or the default (version 0). */
export async function currentRule(deps: Pick<RuleDeps, 'ruleStore' | 'settings'>, type: string): Promise<ReminderRule> {
  return (await deps.ruleStore.getRule(type)) ?? defaultRule(type, deps.settings.stagePolicy);
}

export interface RuleSummary {
  type: string;
  version: number;
  enabled: boolean;
  stages: number;
  changedAt: string | null;
  changedBy: string | null;
}

/** Every type that sends reminders, with its rule's version and state. */
export async function listRuleSummaries(deps: Pick<RuleDeps, 'ruleStore' | 'settings' | 'reference'>): Promise<RuleSummary[]> {
  const stored = new Map((await deps.ruleStore.listRules()).map((r) => [r.type, r]));
  return deps.reference.catalogue
    .all()
    .filter((t) => t.reminders && t.renewalAction !== null)
    .map((t) => {
      const rule = stored.get(t.code) ?? defaultRule(t.code, deps.settings.stagePolicy);
      return { type: t.code, version: rule.version, enabled: rule.enabled, stages: rule.stages.length, changedAt: rule.changedAt, changedBy: rule.changedBy };
    });
}

/** Checks a rule body's stages against the type, with the errors' field paths. */
export function checkRuleStages(deps: Pick<RuleDeps, 'settings'>, type: CertificateType, stages: readonly unknown[], enabled: boolean) {
  const place = renewalPlaceName(type.renewalPlace, deps.settings.renewalPlace);
  return checkStages(stages, enabled, lengthContextFor(type, deps.settings, place));
}

export interface RuleChangeResult {
  type: string;
  version: number;
  enabled: boolean;
  stages: StageRule[];
  changedBy: string;
  changedAt: string;
  comment: string;
  diff: string[];
  replan: RuleReplanProgress;
}

/** PUT /v1/rules/{type}: `{comment, enabled, stages, expectedVersion}`. */
export async function changeRule(deps: RuleDeps, principal: Principal, code: string, body: unknown, options: { stopAtMs?: number } = {}): Promise<RuleChangeResult> {
  const type = ruleType(deps.reference, code);
  const parsed = ruleChangeSchema.safeParse(body);
  const errors: FieldError[] = parsed.success ? [] : zodErrors(parsed.error);
  const raw = body as { stages?: unknown; enabled?: unknown } | null;
  const rawStages = Array.isArray(raw?.stages) ? raw.stages : [];
  const enabled = typeof raw?.enabled === 'boolean' ? raw.enabled : true;
  const checked = checkRuleStages(deps, type, rawStages, enabled);
  errors.push(...checked.errors);
  if (!parsed.success || errors.length > 0) throw new RuleChangeRejected(errors);
  return storeVersion(deps, principal, type.code, parsed.data.expectedVersion, { enabled, stages: checked.stages, comment: parsed.data.comment }, 'rules.change', options);
}

/** POST /v1/rules/{type}/restore: `{version, comment}` makes a new version equal to the old one. */
export async function restoreRule(deps: RuleDeps, principal: Principal, code: string, body: unknown, options: { stopAtMs?: number } = {}): Promise<RuleChangeResult> {
  const type = ruleType(deps.reference, code);
  const parsed = ruleRestoreSchema.safeParse(body);
  if (!parsed.success) throw new RuleChangeRejected(zodErrors(parsed.error));
  const current = await currentRule(deps, type.code);
  const old =
    parsed.data.version === 0
      ? defaultRule(type.code, deps.settings.stagePolicy)
      : (await deps.ruleStore.ruleHistory(type.code)).find((v) => v.version === parsed.data.version);
  if (old === undefined || parsed.data.version > current.version) {
    throw new RuleChangeRejected([{ field: 'version', reason: `${type.code} 没有第 ${parsed.data.version} 版规则 / ${type.code} has no rule version ${parsed.data.version}; see its history` }]);
  }
  return storeVersion(
    deps,
    principal,
    type.code,
    current.version,
    { enabled: old.enabled, stages: old.stages, comment: parsed.data.comment, restoredFrom: old.version },
    'rules.restore',
    options,
  );
}

async function storeVersion(
  deps: RuleDeps,
  principal: Principal,
  type: string,
  expectedVersion: number,
  change: { enabled: boolean; stages: StageRule[]; comment: string; restoredFrom?: number },
  action: 'rules.change' | 'rules.restore',
  options: { stopAtMs?: number },
): Promise<RuleChangeResult> {
  const current = await currentRule(deps, type);
  const conflict = () =>
    new RuleConflict(
      `${type} 的规则已被改为第 ${current.version} 版（你读到的是第 ${expectedVersion} 版），请重新读取后再改 / ` +
        `the ${type} rule is at version ${current.version}, not the ${expectedVersion} you read: read it again and reapply your change`,
    );
  if (current.version !== expectedVersion) throw conflict();
  const nowIso = deps.clock.now().toISO() ?? '';
  const version: RuleVersion = {
    type,
    version: current.version + 1,
    enabled: change.enabled,
    stages: change.stages,
    changedBy: principal.subject,
    changedAt: nowIso,
    comment: change.comment,
    diff: [...(change.restoredFrom !== undefined ? [`restored from version ${change.restoredFrom}`] : []), ...ruleDiff(current, change)],
  };
  const from = addDays(todayIn(deps.clock.now()), -RULE_REACH_AFTER_EXPIRY_DAYS);
  // Under a mark the type is counted while the re-plan starts reading: the count is a read of the whole
  // type, and run alongside the re-plan's own reads and writes it keeps DynamoDB busier instead of
  // holding the first page back. `total` shows 0 until the count lands (at most a page later).
  const counting = deps.typeCertificates.countCertificatesOfTypeExpiringFrom(type, from);
  counting.catch(() => undefined);
  const total = deps.replanMarks === undefined ? await counting : 0;
  const replan: RuleReplanProgress = { version: version.version, state: 'running', done: 0, total, replanned: 0, startedAt: nowIso };
  if (!(await deps.ruleStore.putRule(version, replan))) throw conflict();
  deps.rules.invalidate();
  deps.logger.info({ type, version: version.version, by: principal.subject }, 'reminder rule changed');
  await recordAudit(deps, auditPrincipal(principal), {
    action,
    target: `rules/${type}`,
    summary:
      action === 'rules.restore'
        ? `恢复 ${type} 提醒规则到第 ${change.restoredFrom ?? 0} 版（新第 ${version.version} 版）：${change.comment} / restored the ${type} reminder rule to version ${change.restoredFrom ?? 0} as version ${version.version}: ${change.comment}`
        : `修改 ${type} 提醒规则（第 ${version.version} 版，${change.enabled ? '启用' : '停用'}，${change.stages.length} 个阶段）：${change.comment} / ` +
          `changed the ${type} reminder rule (version ${version.version}, ${change.enabled ? 'enabled' : 'disabled'}, ${change.stages.length} stages): ${change.comment}`,
    details: { type, version: version.version, previousVersion: current.version, enabled: change.enabled, stages: change.stages.length, diff: version.diff, ...(change.restoredFrom !== undefined ? { restoredFrom: change.restoredFrom } : {}) },
  });
  const progress = (await replanRule(deps, type, { ...options, counting })) ?? replan;
  const { diff, ...rule } = version;
  return { ...rule, changedBy: principal.subject, changedAt: nowIso, diff, replan: progress };
}

/**
 * Brings every certificate of `type` that may still have a stage ahead onto the type's current rule,
 * from where the last run stopped. The certificates are found through the byType index (never a
 * Scan); progress is saved on the rule after each page, so a crash or a spent time budget leaves it
 * `running` and the next run (the scheduled scan) continues. A newer change supersedes the run.
 */
export async function replanRule(deps: RuleDeps, type: string, options: ReplanOptions = {}): Promise<RuleReplanProgress | undefined> {
  const stored = await deps.ruleStore.getRule(type);
  if (stored?.replan === undefined || stored.replan.state === 'done') return stored?.replan;
  const catalogueType = deps.reference.catalogue.get(type);
  if (catalogueType === undefined) return stored.replan;
  const calendar: WorkingDays = deps.calendarSource === undefined ? deps.reference.calendar : await deps.calendarSource.current();
  const running: StoredRule = { ...stored, replan: stored.replan };
  if (deps.replanMarks !== undefined) return replanUnderMark(deps, deps.replanMarks, catalogueType, running, calendar, options);
  return replanConditionally(deps, catalogueType, running, calendar, options);
}

type StoredRule = ReminderRule & { replan: RuleReplanProgress };

export interface ReplanOptions {
  stopAtMs?: number;
  /** The type's count, still being taken when the change started its re-plan (see storeVersion). */
  counting?: Promise<number>;
}

/** Saves progress on the rule; false when a newer change replaced the rule (the run is superseded). */
function progressSaver(deps: RuleDeps, type: string, initial: RuleReplanProgress) {
  let progress: RuleReplanProgress = { ...initial };
  return {
    get current() {
      return progress;
    },
    async save(changes: Partial<RuleReplanProgress>): Promise<boolean> {
      const next: RuleReplanProgress = { ...progress, ...changes };
      if (next.cursor === undefined) delete next.cursor;
      if (!(await deps.ruleStore.saveRuleReplan(type, next))) return false;
      progress = next;
      return true;
    },
  };
}

/**
 * The re-plan under the type's mark: whole certificates read from the byType index, re-planned and put
 * back with BatchWriteItem, no conditions. Other writers of the type journal what they write while the
 * mark is open; the repair pass at the end closes the mark (no entry can be added after that), puts
 * each journaled certificate back over whatever the re-plan wrote, re-planned on the rule, and only
 * then releases the mark. A run that finds the mark held by another live run leaves the work to it
 * (or to the next continuation): two re-plans of a type never write at once.
 */
async function replanUnderMark(
  deps: RuleDeps,
  marks: ReplanMarks,
  type: CertificateType,
  stored: StoredRule,
  calendar: WorkingDays,
  options: ReplanOptions,
): Promise<RuleReplanProgress> {
  const nowMs = () => deps.clock.now().toMillis();
  let counted: number | undefined;
  options.counting?.then(
    (n) => (counted = n),
    () => undefined,
  );
  const mark = await marks.acquireMark(type.code, stored.replan.version, nowMs(), REPLAN_LEASE_MS);
  if (mark === undefined) {
    // Progress is not saved here (the count neither): the holder may be a run of this very version, and
    // its progress is the one that counts. Its `total` then grows with what it has read.
    deps.logger.info({ type: type.code, version: stored.replan.version }, 'another run holds this type\'s re-plan; it continues later');
    return stored.replan;
  }
  // Read again under the mark: a run that held it until just now may have finished or moved the cursor.
  const held = await deps.ruleStore.getRule(type.code);
  if (held?.replan === undefined || held.replan.state === 'done' || held.version !== stored.version) {
    await closeRepairRelease(deps, marks, type, mark.id, held ?? stored, calendar);
    return held?.replan ?? stored.replan;
  }
  const progress = progressSaver(deps, type.code, held.replan);
  const from = addDays(todayIn(DateTime.fromISO(progress.current.startedAt)), -RULE_REACH_AFTER_EXPIRY_DAYS);
  const wall = deps.wallClock ?? Date.now;
  let outcome: 'done' | 'paused' | 'superseded' | 'lost' = 'done';
  if (deps.indexSettleMs !== undefined && deps.indexSettleMs > 0) await new Promise((resolve) => setTimeout(resolve, deps.indexSettleMs));
  let cursor = progress.current.cursor;
  const read = (after: string | undefined) => {
    const reading = deps.typeCertificates.certificatesOfTypeExpiringFrom(type.code, from, after);
    // Marked handled now; a failure still surfaces where the page is awaited.
    reading.catch(() => undefined);
    return reading;
  };
  let reading = read(cursor);
  // Two pages' writes may be in flight (the store still sends at most four calls at once): the next
  // page's batches fill the gaps while the last batches of a page finish and its progress is saved.
  interface PageWrite {
    writing: Promise<void>;
    done: number;
    replanned: number;
    cursor: string | undefined;
  }
  const settle = async (page: PageWrite): Promise<'ok' | 'superseded' | 'lost'> => {
    await page.writing;
    if (!(await progress.save({ done: page.done, total: Math.max(progress.current.total, counted ?? 0, page.done), replanned: page.replanned, cursor: page.cursor }))) return 'superseded';
    return (await marks.renewMark(type.code, mark.id, nowMs(), REPLAN_LEASE_MS)) ? 'ok' : 'lost';
  };
  let inFlight: PageWrite | undefined;
  let done = progress.current.done;
  let replanned = progress.current.replanned;
  do {
    const page = await reading;
    cursor = page.nextCursor;
    // The next page is read while this one is written: pages hold different certificates. It is read
    // after the mark was taken, like every page, so a writer that missed it journals.
    if (cursor !== undefined) reading = read(cursor);
    const items = deps.consistentPages === true ? [...(await deps.store.getCertificates(page.items.map((s) => s.certificate))).values()] : page.items;
    const now = deps.clock.now();
    const writes: StoredCertificate[] = [];
    for (const s of items) {
      // A revoked certificate keeps its stopped plan: a new stage must not bring its reminders back.
      if (s.revoked !== undefined) continue;
      const next = mergeRuleReplan(s.plan, ruleStages(s.certificate.expiresOn, type, held, calendar, deps.settings), now.toMillis());
      if (planChanged(s.plan, next)) writes.push({ ...s, plan: next, version: s.version + 1, updatedAt: now.toISO() ?? '' });
    }
    done += page.items.length;
    replanned += writes.length;
    const writing = marks.putReplanned(writes, mark.id);
    // Marked handled now; a failure still surfaces where the write is awaited.
    writing.catch(() => undefined);
    const previous = inFlight;
    inFlight = { writing, done, replanned, cursor };
    if (previous !== undefined) {
      const settled = await settle(previous);
      if (settled !== 'ok') {
        outcome = settled;
        break;
      }
    }
    if (cursor !== undefined && options.stopAtMs !== undefined && wall() >= options.stopAtMs) {
      outcome = 'paused';
      break;
    }
  } while (cursor !== undefined);
  if (inFlight !== undefined) {
    if (outcome === 'done' || outcome === 'paused') {
      const settled = await settle(inFlight);
      if (settled !== 'ok') outcome = settled;
    } else {
      // Superseded or lost: its writes land before the mark is closed (or left to the run that took it).
      await inFlight.writing;
    }
  }
  if (outcome === 'lost') {
    // The lease lapsed and another run took the mark: its repair pass reads this run's journal too.
    deps.logger.warn({ type: type.code, version: progress.current.version }, 'rule re-plan lost its mark (lease lapsed); the run holding it now finishes');
    return progress.current;
  }
  await closeRepairRelease(deps, marks, type, mark.id, held, calendar);
  if (outcome === 'superseded') deps.logger.info({ type: type.code, version: progress.current.version }, 'rule re-plan superseded by a newer change');
  if (outcome === 'paused') deps.logger.info({ type: type.code, version: progress.current.version, done: progress.current.done }, 'rule re-plan paused; it continues on the next run');
  if (outcome === 'paused' && counted === undefined && options.counting !== undefined) {
    await progress.save({ total: Math.max(progress.current.total, await options.counting) });
  }
  if (outcome !== 'done') return progress.current;
  await progress.save({ state: 'done', finishedAt: deps.clock.now().toISO() ?? '' });
  deps.logger.info({ type: type.code, version: progress.current.version, done: progress.current.done, replanned: progress.current.replanned }, 'rule re-plan done');
  return progress.current;
}

/** Ends a hold on the mark: closed first, so no journal entry can arrive once the repair pass has read them. */
async function closeRepairRelease(deps: RuleDeps, marks: ReplanMarks, type: CertificateType, markId: string, rule: ReminderRule, calendar: WorkingDays): Promise<void> {
  if (!(await marks.closeMark(type.code, markId))) return;
  const repaired = await repairJournal(deps, marks, type, rule, calendar);
  await marks.releaseMark(type.code, markId);
  if (repaired > 0) deps.logger.info({ type: type.code, version: rule.version, repaired }, 'rule re-plan put back certificates written meanwhile');
}

/**
 * Puts back every certificate journaled for the type (this run's entries and any a crashed run left),
 * the latest entry of each, re-planned on the rule, then removes the entries. Runs after the mark was
 * closed, so no entry can arrive once it has read them.
 */
async function repairJournal(deps: RuleDeps, marks: ReplanMarks, type: CertificateType, rule: ReminderRule, calendar: WorkingDays): Promise<number> {
  const entries = await marks.journalEntries(type.code);
  if (entries.length === 0) return 0;
  const latest = new Map<string, ReplanJournalEntry>();
  for (const entry of entries) {
    const number = entry.stored.certificate.number;
    const seen = latest.get(number);
    if (seen === undefined || entry.stored.version >= seen.stored.version) latest.set(number, entry);
  }
  let rewritten = 0;
  for (const entry of latest.values()) {
    if ((await restoreWritten({ ...deps, replanMarks: marks }, entry.stored, rule, calendar, deps.clock.now())) === 'rewritten') rewritten += 1;
  }
  await marks.removeJournalEntries(type.code, entries.map((e) => e.id));
  return rewritten;
}

/** The re-plan without a mark: each changed plan written conditionally on its certificate's version. */
async function replanConditionally(deps: RuleDeps, catalogueType: CertificateType, stored: StoredRule, calendar: WorkingDays, options: { stopAtMs?: number }): Promise<RuleReplanProgress> {
  const type = catalogueType.code;
  const saver = progressSaver(deps, type, stored.replan);
  const save = (changes: Partial<RuleReplanProgress>) => saver.save(changes);
  const from = addDays(todayIn(DateTime.fromISO(saver.current.startedAt)), -RULE_REACH_AFTER_EXPIRY_DAYS);
  const wall = deps.wallClock ?? Date.now;
  let cursor = saver.current.cursor;
  const read = (after: string | undefined) => {
    const reading = deps.typeCertificates.planRowsOfTypeExpiringFrom(type, from, after);
    // Marked handled now; a failure still surfaces where the page is awaited.
    reading.catch(() => undefined);
    return reading;
  };
  let reading = read(cursor);
  do {
    const page = await reading;
    cursor = page.nextCursor;
    // The next page is read while this one is written: pages hold different certificates, and the
    // store serves the read and the writes at once instead of one after the other.
    if (cursor !== undefined) reading = read(cursor);
    const replanned = await replanPage(deps, page.items, catalogueType, stored, calendar);
    const done = saver.current.done + page.items.length;
    if (!(await save({ done, total: Math.max(saver.current.total, done), replanned: saver.current.replanned + replanned, cursor }))) {
      deps.logger.info({ type, version: saver.current.version }, 'rule re-plan superseded by a newer change');
      return saver.current;
    }
    if (cursor !== undefined && options.stopAtMs !== undefined && wall() >= options.stopAtMs) {
      deps.logger.info({ type, version: saver.current.version, done: saver.current.done }, 'rule re-plan paused; it continues on the next run');
      return saver.current;
    }
  } while (cursor !== undefined);
  await save({ state: 'done', finishedAt: deps.clock.now().toISO() ?? '' });
  deps.logger.info({ type, version: saver.current.version, done: saver.current.done, replanned: saver.current.replanned }, 'rule re-plan done');
  return saver.current;
}

/** Finishes every rule re-plan a crash or a time budget left running (at start, and before scheduled scans). */
export async function continueRuleReplans(deps: RuleDeps, options: { stopAtMs?: number } = {}): Promise<string[]> {
  const worked: string[] = [];
  for (const rule of await deps.ruleStore.listRules()) {
    if (rule.replan === undefined || rule.replan.state === 'done') continue;
    deps.logger.info({ type: rule.type, version: rule.version }, 'continuing a rule re-plan');
    worked.push(rule.type);
    const progress = await replanRule(deps, rule.type, options);
    if (progress?.state !== 'done') break;
  }
  return worked;
}

/**
 * Re-plans a page of certificates on the rule: the changed plans are written together, each only if
 * its certificate is still at the version read (the store batches them); a certificate a concurrent
 * writer changed meanwhile (a scan marking a stage sent, a renewal) is read again and re-planned on its own.
 */
async function replanPage(deps: RuleDeps, page: readonly PlanRow[], type: CertificateType, rule: ReminderRule, calendar: WorkingDays): Promise<number> {
  const now = deps.clock.now();
  const updates: Array<{ key: CertificateKey; expectedVersion: number; plan: Plan }> = [];
  for (const row of page) {
    const next = mergeRuleReplan(row.plan, ruleStages(row.expiresOn, type, rule, calendar, deps.settings), now.toMillis());
    if (planChanged(row.plan, next)) updates.push({ key: row.key, expectedVersion: row.version, plan: next });
  }
  const written = await deps.store.updatePlans(updates, now.toISO() ?? '');
  let replanned = 0;
  for (const [i, ok] of written.entries()) {
    const update = updates[i];
    if (ok) replanned += 1;
    else if (update !== undefined && (await replanOnRule(deps, update.key, type, rule, calendar))) replanned += 1;
  }
  return replanned;
}

/** Re-plans one certificate on the rule from a fresh read, conditional on its version, retrying a few times. */
async function replanOnRule(deps: RuleDeps, key: CertificateKey, type: CertificateType, rule: ReminderRule, calendar: WorkingDays): Promise<boolean> {
  let current: StoredCertificate | undefined = await deps.store.getCertificate(key);
  for (let attempt = 0; attempt < 5 && current !== undefined; attempt += 1) {
    const now = deps.clock.now();
    const fresh = ruleStages(current.certificate.expiresOn, type, rule, calendar, deps.settings);
    const next = mergeRuleReplan(current.plan, fresh, now.toMillis());
    if (!planChanged(current.plan, next)) return false;
    if (await deps.store.updatePlan(current.certificate, current.version, next, now.toISO() ?? '')) return true;
    current = await deps.store.getCertificate(current.certificate);
  }
  return false;
}
