import { createHash } from 'node:crypto';
import type { DateTime } from 'luxon';
import { validateCertificates, type CertificateLookups } from '../core/certificate.js';
import { closestType } from '../core/closest-type.js';
import type { Certificate, IsoDate, Plan, Rejection } from '../core/model.js';
import { planReminders } from '../core/planning.js';
import type { WorkingDays } from '../core/planning.js';
import type { CalendarSource, CertificateStore, ReplanMarks, RuleSource, StoredCertificate } from '../core/ports.js';
import type { ReminderRule } from '../core/rules.js';
import type { ReferenceData } from './reference-data.js';
import { beginTypeWrites, type TypeWrites } from './rules/type-writes.js';
import type { ServiceSettings } from './settings.js';

export interface UploadDeps {
  store: CertificateStore;
  reference: ReferenceData;
  settings: ServiceSettings;
  /** The calendar as stored (operators' loads included); without it, the bundled calendar. */
  calendarSource?: CalendarSource;
  /** Operators' reminder rules; without them, every type plans with the default rule. */
  rules?: RuleSource;
  /** A rule re-plan's marks: with them, writes settle with a re-plan of their type (see rules/type-writes.ts). */
  replanMarks?: ReplanMarks;
}

export interface UploadCounts {
  accepted: number;
  created: number;
  /** Same expiry, other details changed (phone, holder, township): the plan and its sends are kept. */
  updated: number;
  /** A different expiry: reminders planned for the old one are dropped and new ones planned. */
  renewed: number;
  /** Identical to what is stored: nothing written. */
  unchanged: number;
}

export interface UploadResult extends UploadCounts {
  rejected: Rejection[];
}

/** What storing a page of valid certificates will do, decided before anything is written. */
export interface PreparedUpload {
  counts: UploadCounts;
  writes: StoredCertificate[];
  /** Valid records refused against what is stored (an older expiry than a renewed certificate). */
  rejected: Rejection[];
}

/** Reads the store in pages this size, so a large batch is never held twice in memory. */
const PAGE = 500;

export function lookupsFrom(reference: ReferenceData): CertificateLookups {
  return {
    resolveType: (input) => reference.catalogue.resolve(input),
    resolveTownship: (input) => reference.townships.resolve(input),
    closestType: (input) => closestType(input, reference.catalogue.all()),
  };
}

/**
 * Hash of a certificate's content without its holder ID: stored next to the sealed ID, an unkeyed hash
 * over the ID would let anyone who reads the table find the ID by trying candidates (a resident ID has
 * few unknown digits). The ID is compared in plain text instead (see `isUnchanged`).
 */
export function contentHash(certificate: Certificate): string {
  const c = certificate;
  return createHash('sha1')
    .update(JSON.stringify(['v2', c.type, c.number, c.holder.name, c.phone, c.township, c.issuedOn, c.expiresOn]))
    .digest('base64url');
}

/** The hash certificates stored before holder IDs were sealed carry: over the whole content, the ID included. */
export function legacyContentHash(certificate: Certificate): string {
  const c = certificate;
  return createHash('sha1')
    .update(JSON.stringify([c.type, c.number, c.holder.name, c.holder.id ?? '', c.phone, c.township, c.issuedOn, c.expiresOn]))
    .digest('base64url');
}

/** 'same': nothing to write. 'legacy': the same content, stored before holder IDs were sealed: rewritten, sealed. */
function comparedWithStored(before: StoredCertificate, certificate: Certificate, hash: string): 'same' | 'legacy' | 'different' {
  if (before.contentHash === hash) return before.certificate.holder.id === certificate.holder.id ? 'same' : 'different';
  return before.contentHash === legacyContentHash(certificate) ? 'legacy' : 'different';
}

export function emptyCounts(): UploadCounts {
  return { accepted: 0, created: 0, updated: 0, renewed: 0, unchanged: 0 };
}

/**
 * Validate a batch, store its good records and report every bad one.
 * Re-uploading the same record changes nothing; a new expiry re-plans its reminders.
 * With `allOrNothing`, a batch with any bad record stores nothing.
 */
export async function uploadCertificates(
  deps: UploadDeps,
  records: unknown[],
  now: DateTime,
  options: { allOrNothing?: boolean } = {},
): Promise<UploadResult> {
  const { valid: checked, rejected } = validateCertificates(records, lookupsFrom(deps.reference));
  // The types' rules and re-plan marks are read before planning: a rule changed within the cache's
  // minute is planned with, and a re-plan that overwrites these writes finds them (or they find it).
  const typeWrites = await beginTypeWrites(deps, checked.map((v) => v.certificate.type));
  const basis = withFreshRules(await currentCalendar(deps), typeWrites);
  // Planned before the first read or write: a record that cannot be planned then fails the request
  // while nothing is stored, instead of after earlier pages were written.
  const valid = planAll(deps, checked, now, basis);
  const store = async (writes: StoredCertificate[]) => {
    await deps.store.putCertificates(writes);
    await typeWrites?.settle(writes, basis, now);
  };
  const result: UploadResult = { ...emptyCounts(), rejected };
  if (options.allOrNothing === true) {
    const prepared: PreparedUpload[] = [];
    for (let i = 0; i < valid.length; i += PAGE) prepared.push(await prepareUpload(deps, valid.slice(i, i + PAGE), now));
    rejected.push(...prepared.flatMap((p) => p.rejected));
    if (rejected.length > 0) {
      rejected.sort((a, b) => a.index - b.index);
      return result;
    }
    for (const page of prepared) {
      await store(page.writes);
      addCounts(result, page.counts);
    }
    return result;
  }
  // Read the next page while the previous one is written: DynamoDB serves both at once, and a batch
  // never holds the same certificate twice (validation rejects duplicates), so the pages are independent.
  let writing: Promise<void> = Promise.resolve();
  try {
    for (let i = 0; i < valid.length; i += PAGE) {
      const page = await prepareUpload(deps, valid.slice(i, i + PAGE), now);
      await writing;
      writing = store(page.writes);
      // Marked handled now; the failure still surfaces at the next await of `writing`.
      writing.catch(() => undefined);
      addCounts(result, page.counts);
      rejected.push(...page.rejected);
    }
    await writing;
  } catch (error) {
    // The caller is told only once the write in flight has settled: a write landing after the
    // error answer would store what the caller was told failed.
    await writing.catch(() => undefined);
    throw error;
  }
  rejected.sort((a, b) => a.index - b.index);
  return result;
}

export function addCounts(into: UploadCounts, add: UploadCounts): void {
  into.accepted += add.accepted;
  into.created += add.created;
  into.updated += add.updated;
  into.renewed += add.renewed;
  into.unchanged += add.unchanged;
}

/** A valid certificate of a batch, with its plan when it was planned ahead. */
export interface ValidEntry {
  index: number;
  certificate: Certificate;
  plan?: Plan;
}

/** A certificate validation accepted but planning could not plan: a defect, never the uploader's fault. */
export class PlanningError extends Error {
  override readonly name = 'PlanningError';
  constructor(
    readonly index: number,
    certificate: Certificate,
    cause: unknown,
  ) {
    super(`planning failed for ${certificate.type} ${certificate.number} (expiry ${certificate.expiresOn ?? 'none'}): ${(cause as Error).message}`, { cause });
  }
}

/** Plans every entry, or throws a PlanningError naming the first one planning cannot handle. */
export function planAll(
  deps: Pick<UploadDeps, 'reference' | 'settings'>,
  entries: ReadonlyArray<ValidEntry>,
  now: DateTime,
  calendar: PlanningBasis,
): ValidEntry[] {
  return entries.map((entry) => {
    try {
      return { ...entry, plan: entry.plan ?? planFor(deps, entry.certificate, now, calendar) };
    } catch (error) {
      throw new PlanningError(entry.index, entry.certificate, error);
    }
  });
}

/**
 * A later expiry is a renewal and an earlier one a replayed old record. Without an expiry on either side
 * there is no order: that only happens when the catalogue changes whether a type has one, and the
 * record uploaded now is then the one that matches the catalogue, so it is taken (as a renewal).
 */
function isOlderExpiry(uploaded: IsoDate | null, stored: IsoDate | null): boolean {
  return uploaded !== null && stored !== null && uploaded < stored;
}

function isLaterExpiry(uploaded: IsoDate | null, stored: IsoDate | null): boolean {
  return uploaded !== null && stored !== null && uploaded > stored;
}

/** Compare valid certificates with what is stored and decide, per certificate, what to write. */
export async function prepareUpload(deps: UploadDeps, page: ReadonlyArray<ValidEntry>, now: DateTime): Promise<PreparedUpload> {
  const counts = emptyCounts();
  const rejected: Rejection[] = [];
  const writes: StoredCertificate[] = [];
  const nowIso = now.toISO() ?? '';
  const existing = await deps.store.getCertificates(page.map((v) => v.certificate));
  for (const { index, certificate, plan } of page) {
    const hash = contentHash(certificate);
    const before = existing.get(`${certificate.type}#${certificate.number}`);
    if (before !== undefined && isOlderExpiry(certificate.expiresOn, before.certificate.expiresOn)) {
      // An older export replayed after a renewal would otherwise bring back reminders for an expiry that no longer applies.
      rejected.push({
        index,
        field: 'expiresOn',
        reason: `已登记的证照有效期至 ${before.certificate.expiresOn}，晚于本行的 ${certificate.expiresOn}；较旧的记录不能覆盖已续期的证照 / the stored certificate already runs to ${before.certificate.expiresOn}; an older record cannot replace a renewed one`,
      });
      continue;
    }
    if (before?.revoked !== undefined && !isLaterExpiry(certificate.expiresOn, before.certificate.expiresOn)) {
      // A register exported before the revocation must not bring the reminders back; a re-issued
      // certificate carries a new, later expiry, and that reactivates it (the renewal path below).
      const { reason, at } = before.revoked;
      rejected.push({
        index,
        field: 'expiresOn',
        reason: `该证照已于 ${at.slice(0, 10)} ${reason}，同一有效期的记录不能恢复提醒；换发的新证请以新的有效期上传 / the certificate was revoked (${reason}) on ${at.slice(0, 10)}; a record with the same expiry does not bring its reminders back — upload a re-issued certificate with its new, later expiry`,
      });
      continue;
    }
    counts.accepted += 1;
    const compared = before === undefined ? 'different' : comparedWithStored(before, certificate, hash);
    if (compared === 'same') {
      counts.unchanged += 1;
      continue;
    }
    if (compared === 'legacy' && before !== undefined) {
      // Unchanged for the uploader; written again so that its holder ID is sealed and its hash no longer covers the ID.
      counts.unchanged += 1;
      writes.push({ ...before, certificate, contentHash: hash, version: before.version + 1 });
      continue;
    }
    if (before !== undefined && before.certificate.expiresOn === certificate.expiresOn) {
      counts.updated += 1;
      writes.push({ ...before, certificate, contentHash: hash, version: before.version + 1, updatedAt: nowIso });
      continue;
    }
    if (before === undefined) counts.created += 1;
    else counts.renewed += 1;
    writes.push({
      certificate,
      plan: plan ?? planFor(deps, certificate, now, await currentCalendar(deps)),
      contentHash: hash,
      version: (before?.version ?? 0) + 1,
      createdAt: before?.createdAt ?? nowIso,
      updatedAt: nowIso,
    });
  }
  return { counts, writes, rejected };
}

/**
 * What plans are made with: the working-day calendar, and the operators' rules as this process
 * currently holds them. One value, so that every caller that plans a batch with "the calendar"
 * plans it with the current rules too.
 */
export interface PlanningBasis extends WorkingDays {
  rules?: ReadonlyMap<string, ReminderRule>;
}

/** The basis with the rules a writer just read (consistently) for its types in place of the cached ones. */
export function withFreshRules(basis: PlanningBasis, typeWrites: Pick<TypeWrites, 'rules'> | undefined): PlanningBasis {
  if (typeWrites === undefined) return basis;
  const rules = new Map(basis.rules ?? []);
  for (const [type, rule] of typeWrites.rules) {
    if (rule === undefined) rules.delete(type);
    else rules.set(type, rule);
  }
  return { isWorkingDay: (date) => basis.isWorkingDay(date), rules };
}

/** The calendar plans are made with: the stored one (operators' loads) where the deps have it, with the stored rules. */
export async function currentCalendar(deps: Pick<UploadDeps, 'reference' | 'calendarSource' | 'rules'>): Promise<PlanningBasis> {
  const calendar = deps.calendarSource === undefined ? deps.reference.calendar : await deps.calendarSource.current();
  if (deps.rules === undefined) return calendar;
  return { isWorkingDay: (date) => calendar.isWorkingDay(date), rules: await deps.rules.storedRules() };
}

/** A certificate's plan on `calendar`, with `rule` (by default the basis's rule for its type, else the default rule). */
export function planFor(
  deps: Pick<UploadDeps, 'reference' | 'settings'>,
  certificate: Certificate,
  now: DateTime,
  calendar: PlanningBasis = deps.reference.calendar,
  rule: Pick<ReminderRule, 'stages' | 'enabled'> | undefined = calendar.rules?.get(certificate.type),
) {
  const type = deps.reference.catalogue.get(certificate.type);
  if (type === undefined) throw new Error(`type ${certificate.type} vanished from the catalogue`);
  return planReminders({
    expiresOn: certificate.expiresOn,
    renewalWindow: type.renewalWindow,
    calendar,
    policy: deps.settings.stagePolicy,
    ...(rule !== undefined ? { stages: rule.stages, enabled: rule.enabled } : {}),
    sendWindow: deps.settings.sendWindow,
    now,
    reminders: type.reminders,
  });
}
