import { createHash, randomUUID } from 'node:crypto';
import type { DateTime } from 'luxon';
import { PermanentSendError, RetryableSendError } from '../core/errors.js';
import type { IsoDate, Plan, PlannedStage, StageName } from '../core/model.js';
import { RULE_DISABLED_NOTE } from '../core/model.js';
import { deadlinePassed, isInsideSendWindow, todayIn } from '../core/planning.js';
import { finalReminderStage, isFinished } from '../core/delivery-status.js';
import type {
  CertificateKey,
  CertificateStore,
  DailySendCap,
  DeliveryFacts,
  DeliveryId,
  DeliveryLedger,
  DeliveryRecord,
  DuePhoneSource,
  MergedTemplateStore,
  OptOutConfirmations,
  PhoneHasher,
  RuleSource,
  SmsSender,
  StoredCertificate,
  SuppressionList,
} from '../core/ports.js';
import { SUPPRESSED_NOTE } from '../core/suppression.js';
import { afterExpiryStage, defaultRule, stageTemplates, type ReminderRule } from '../core/rules.js';
import { maskPhone } from '../core/phone.js';
import { renderReminder, type ReminderInput } from '../core/sms.js';
import { MAX_MERGED_REMINDERS, MERGE_SEGMENT_LIMIT, renderMergedReminder, type MergedTemplate } from '../core/merged-reminder.js';
import { renewalPlaceName } from '../core/catalogue.js';
import { capDayOf } from '../core/daily-cap.js';
import { takeDailySlot, type DailySlot } from './daily-send-slot.js';
import type { Logger } from './logger.js';
import type { ReferenceData } from './reference-data.js';
import type { ServiceSettings } from './settings.js';

export interface ScanDeps {
  store: CertificateStore;
  ledger: DeliveryLedger;
  sms: SmsSender;
  reference: ReferenceData;
  settings: ServiceSettings;
  logger: Logger;
  /** Real elapsed time for claim leases, independent of the business clock a scan runs "as of". */
  wallClock?: () => number;
  /** The reminder rules as stored (texts, and whether a type is switched off); without it, the default rule. */
  rules?: RuleSource;
  /** The phones of due certificates: with it, one holder's due renewal reminders are merged into one SMS. */
  phones?: DuePhoneSource;
  /** The merged SMS's texts as operators set them (read once per scan); without them, DEFAULT_MERGED_TEMPLATE. */
  mergedTemplates?: MergedTemplateStore;
  /** Hashes each recipient for `GET /v1/deliveries?phone=`; without it, deliveries cannot be found by phone. */
  phoneHasher?: PhoneHasher;
  /**
   * Our opt-out list, asked after each claim (the same object as CampaignDeps' and the inbound use case's);
   * every composition root wires it (without it nothing is skipped).
   */
  suppressions?: SuppressionList & OptOutConfirmations;
  /** The per-phone daily cap (`CERTALARM_SMS_DAILY_CAP_PER_PHONE`); without it, nothing is held back. */
  cap?: DailySendCap;
}

export interface ScanOptions {
  /** Stop claiming new reminders after this wall-clock instant (ms); the next scan continues. */
  stopAtMs?: number;
  /** Certificates processed at once; sends are still paced by the SMS rate. */
  concurrency?: number;
}

export interface ScanResult {
  now: string;
  insideSendWindow: boolean;
  sent: number;
  /** Earlier stages that a later due stage made pointless (one message, not a burst). */
  superseded: number;
  /** Sent already by an earlier scan that died before tidying up. */
  alreadySent: number;
  /** Claimed right now by another scan. */
  inFlightElsewhere: number;
  /** Retryable failures: left due, the next scan tries again. */
  retryLater: number;
  /** Permanent failures (invalid or opted-out number): recorded, not retried. */
  failed: number;
  /** Certificates whose processing hit an unexpected error (store unavailable…): left due for the next scan. */
  errors: number;
  /** Due stages of types whose reminders an operator switched off: skipped, not sent. */
  disabled: number;
  /** Due stages of certificates revoked after this scan read them: the revocation's cancellation won the claim. */
  revoked: number;
  /** Due stages whose number is on our suppression list (opted out): recorded `suppressed`, never sent or retried. */
  suppressed: number;
  /** Held back by the holder's daily cap: still due, sent on a later day inside the window. */
  deferred: number;
  /** Reminders that went out inside a merged SMS (each also counted in `sent`). */
  merged: number;
  /** Merged SMS sent: each carried several of one holder's reminders and counted once against the cap. */
  mergedMessages: number;
  /** True when the scan stopped at its time budget with due reminders left. */
  incomplete: boolean;
}

type Outcome = 'sent' | 'alreadySent' | 'inFlightElsewhere' | 'retryLater' | 'failed' | 'notDue' | 'errors' | 'disabled' | 'revoked' | 'suppressed' | 'deferred';

/**
 * Send every reminder whose time has come and that has not been sent, as of `now`.
 * Exactly one message per (certificate, expiry, stage): claim, send, record (see README).
 */
export async function sendDueReminders(deps: ScanDeps, now: DateTime, options: ScanOptions = {}): Promise<ScanResult> {
  const result: ScanResult = {
    now: now.toISO() ?? '',
    insideSendWindow: isInsideSendWindow(now, deps.settings.sendWindow),
    sent: 0,
    superseded: 0,
    alreadySent: 0,
    inFlightElsewhere: 0,
    retryLater: 0,
    failed: 0,
    errors: 0,
    disabled: 0,
    revoked: 0,
    suppressed: 0,
    deferred: 0,
    merged: 0,
    mergedMessages: 0,
    incomplete: false,
  };
  if (!result.insideSendWindow) {
    deps.logger.info({ now: result.now }, 'scan outside the send window: nothing sent');
    return result;
  }
  const wall = deps.wallClock ?? Date.now;
  const count = (outcome: Outcome) => {
    if (outcome !== 'notDue') result[outcome] += 1;
  };
  // One read per scan: every merge of this scan speaks with the same texts.
  const stored = deps.phones === undefined ? undefined : await deps.mergedTemplates?.getMergedTemplate();
  const mergedTemplate = stored === undefined ? undefined : { template: stored.template, itemTemplate: stored.itemTemplate };
  const units = await dueUnits(deps, now);
  let exhausted = false;
  const nextUnit = async (): Promise<CertificateKey[] | undefined> => {
    if (exhausted) return undefined;
    const step = await units.next();
    if (step.done) exhausted = true;
    return step.done ? undefined : step.value;
  };
  const worker = async () => {
    for (;;) {
      if (options.stopAtMs !== undefined && wall() >= options.stopAtMs) {
        if (!exhausted) result.incomplete = true;
        return;
      }
      const unit = await nextUnit();
      if (unit === undefined) return;
      const [first] = unit;
      if (first === undefined) continue;
      try {
        if (unit.length === 1) count(await remindOne(deps, first, now, wall, result));
        else await remindHolder(deps, unit, now, wall, result, count, mergedTemplate);
      } catch (error) {
        // One certificate's failure must not stop the others; whatever it claimed is retried after its lease.
        deps.logger.error({ type: first.type, number: first.number, err: (error as Error).message }, 'reminder failed unexpectedly');
        count('errors');
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  deps.logger.info({ scan: result }, 'scan finished');
  return result;
}

/**
 * The scan's units of work. Without a phone source, each due certificate on its own, streamed from the due
 * index. With one, the due keys are read first (memory grows with what is due, not with the table), their
 * phones looked up in batches, and each phone's certificates handed out together so they can be merged.
 */
async function dueUnits(deps: ScanDeps, now: DateTime): Promise<AsyncIterator<CertificateKey[]>> {
  const { phones } = deps;
  if (phones === undefined) {
    return (async function* () {
      for await (const key of deps.store.dueCertificates(now)) yield [key];
    })();
  }
  const keys: CertificateKey[] = [];
  for await (const key of deps.store.dueCertificates(now)) keys.push(key);
  const phoneOf = await phones.phonesOf(keys);
  const groups = new Map<string, CertificateKey[]>();
  for (const key of keys) {
    const id = `${key.type}#${key.number}`;
    // A certificate without a phone read (deleted meanwhile) is its own unit: remindOne finds nothing due.
    const group = phoneOf.get(id) ?? `#${id}`;
    const members = groups.get(group);
    if (members === undefined) groups.set(group, [key]);
    else members.push(key);
  }
  return (async function* () {
    yield* groups.values();
  })();
}

async function remindOne(deps: ScanDeps, key: CertificateKey, now: DateTime, wall: () => number, result: ScanResult): Promise<Outcome> {
  const due = await prepare(deps, key, now);
  if (typeof due === 'string') return due;
  const token = randomUUID();
  const claim = await deps.ledger.claim(due.id, token, wall() + deps.settings.claimLeaseMs, wall(), todayIn(now));
  if (!claim.claimed) return notClaimed(deps, due, claim.existing, now);
  return sendClaimed(deps, { ...due, token }, now, result);
}

/** Claims one due reminder and sends it on its own. */
async function claimAndSend(deps: ScanDeps, due: DueReminder, now: DateTime, wall: () => number, result: ScanResult): Promise<Outcome> {
  const token = randomUUID();
  const claim = await deps.ledger.claim(due.id, token, wall() + deps.settings.claimLeaseMs, wall(), todayIn(now));
  if (!claim.claimed) return notClaimed(deps, due, claim.existing, now);
  return sendClaimed(deps, { ...due, token }, now, result);
}

/**
 * Several due certificates of one phone. Their renewal reminders (not a notice after expiry) become one SMS
 * when the merged text fits MERGE_SEGMENT_LIMIT segments: every member is claimed (one whose claim fails is
 * left out), the SMS is sent once and counts once against the cap, all members are recorded in one atomic
 * write with the same message id, then each plan is settled. Otherwise each goes out on its own.
 */
async function remindHolder(
  deps: ScanDeps,
  keys: readonly CertificateKey[],
  now: DateTime,
  wall: () => number,
  result: ScanResult,
  count: (outcome: Outcome) => void,
  template: MergedTemplate | undefined,
): Promise<void> {
  const candidates: DueReminder[] = [];
  for (const key of keys) {
    const due = await prepare(deps, key, now);
    if (typeof due === 'string') count(due);
    else if (isRenewalReminder(due, now) && candidates.length < MAX_MERGED_REMINDERS) candidates.push(due);
    else count(await claimAndSend(deps, due, now, wall, result));
  }
  if (candidates.length < 2) {
    for (const due of candidates) count(await claimAndSend(deps, due, now, wall, result));
    return;
  }
  const claimed: Array<DueReminder & { token: string }> = [];
  for (const due of candidates) {
    const token = randomUUID();
    const claim = await deps.ledger.claim(due.id, token, wall() + deps.settings.claimLeaseMs, wall(), todayIn(now));
    if (!claim.claimed) {
      count(await notClaimed(deps, due, claim.existing, now));
    } else if (await skipIfSuppressed(deps, due.id, token, due.facts, now)) {
      // Opted out: recorded suppressed and left out of the merge, so it neither uses nor is held by the cap.
      await settle(deps, due.stored, due.target, due.superseded, now, { status: 'skipped', note: SUPPRESSED_NOTE });
      count('suppressed');
    } else {
      claimed.push({ ...due, token });
    }
  }
  const merged = claimed.length < 2 ? undefined : renderMerged(deps, claimed, now, template);
  if (merged === undefined) {
    // Too long together (or one of them cannot be rendered): separate messages, each under the cap.
    for (const due of claimed) count(await sendClaimed(deps, due, now, result));
    return;
  }
  for (const outcome of await sendMerged(deps, claimed, merged, now, result)) count(outcome);
}

/** A reminder to renew, said before the expiry: the kind a merged text speaks of (即将到期). */
function isRenewalReminder(due: DueReminder, now: DateTime): boolean {
  return todayIn(now) <= due.dates.expiresOn && due.target.stage !== afterExpiryStage(due.rule.stages);
}

/** The merged text of these claimed reminders, or undefined when it is too long or one of them cannot be rendered. */
function renderMerged(deps: ScanDeps, members: ReadonlyArray<DueReminder>, now: DateTime, template: MergedTemplate | undefined): { body: string; segments: number } | undefined {
  try {
    const rendered = renderMergedReminder({
      signature: deps.settings.signature,
      county: deps.settings.county,
      helpPhone: deps.settings.helpPhone,
      ...(template !== undefined ? { template } : {}),
      items: members.map((m) => reminderInputFor(deps, m.stored, m.target, now, m.rule)),
    });
    return rendered.segments <= MERGE_SEGMENT_LIMIT ? rendered : undefined;
  } catch (error) {
    if (error instanceof PermanentSendError) return undefined;
    throw error;
  }
}

/** The idempotency key of a merged SMS: the same members give the same key (a rerun after a crash). */
function mergedIdempotencyKey(members: ReadonlyArray<DueReminder>): string {
  const ids = members.map((m) => `${m.key.type}#${m.key.number}#${m.id.expiresOn}#${m.id.stage}`).sort();
  return `merged#${createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32)}`;
}

/** Sends one merged SMS for claimed members: one slot of the cap, one send, one atomic record, then each plan. */
async function sendMerged(
  deps: ScanDeps,
  members: ReadonlyArray<DueReminder & { token: string }>,
  rendered: { body: string; segments: number },
  now: DateTime,
  result: ScanResult,
): Promise<Outcome[]> {
  const [first] = members;
  if (first === undefined) return [];
  const phone = first.stored.certificate.phone;
  const nowIso = now.toISO() ?? '';
  const log = { merged: members.map((m) => `${m.key.type}/${m.key.number}/${m.target.stage}`), to: maskPhone(phone) };
  const slot = await takeDailySlot(deps, phone, now);
  if (!slot.taken) {
    for (const m of members) await deps.ledger.recordDeferred(m.id, m.token, slot.day, nowIso, m.facts);
    deps.logger.info({ ...log, deferredOn: slot.day }, 'merged reminder deferred: the holder had the day’s messages');
    return members.map(() => 'deferred');
  }
  let messageId: string;
  try {
    messageId = (await deps.sms.send({ to: phone, body: rendered.body, idempotencyKey: mergedIdempotencyKey(members), at: nowIso })).messageId;
  } catch (error) {
    if (error instanceof RetryableSendError) {
      await slot.giveBack();
      for (const m of members) await deps.ledger.release(m.id, m.token);
      deps.logger.warn({ ...log, err: error.message }, 'merged SMS not sent, will retry');
      return members.map(() => 'retryLater');
    }
    if (error instanceof PermanentSendError) {
      await slot.giveBack();
      for (const m of members) {
        await deps.ledger.recordFailed(m.id, m.token, error.message, nowIso, { ...m.facts, body: rendered.body });
        await settle(deps, m.stored, m.target, m.superseded, now, { status: 'skipped' });
      }
      deps.logger.error({ ...log, err: error.message }, 'merged SMS refused permanently');
      return members.map(() => 'failed');
    }
    // Unknown outcome: keep every claim; once their leases run out a later scan sends with the same idempotency key.
    deps.logger.error({ ...log, err: (error as Error).message }, 'merged SMS send ended in an unknown state');
    return members.map(() => 'retryLater');
  }
  await deps.ledger.recordMergedSent(
    members.map((m) => ({ id: m.id, token: m.token, final: m.facts.final, ruleVersion: m.rule.version })),
    { messageId, sentAt: nowIso, to: phone, body: rendered.body, segments: rendered.segments, phoneHash: first.facts.phoneHash },
  );
  for (const m of members) {
    await settle(deps, m.stored, m.target, m.superseded, now, { status: 'sent', messageId, sentAt: nowIso });
    result.superseded += m.superseded.length;
  }
  result.merged += members.length;
  result.mergedMessages += 1;
  deps.logger.info({ ...log, messageId, segments: rendered.segments }, 'merged reminder sent');
  return members.map(() => 'sent');
}

/** A certificate's due reminder, read and chosen, ready to claim. */
interface DueReminder {
  key: CertificateKey;
  stored: StoredCertificate;
  dates: ReminderDates;
  target: PlannedStage;
  superseded: StageName[];
  rule: ReminderRule;
  id: DeliveryId;
  facts: DeliveryFacts;
}

/** Reads the certificate (consistently) and picks its due stage; a stage of a switched-off type is settled as skipped. */
async function prepare(deps: ScanDeps, key: CertificateKey, now: DateTime): Promise<DueReminder | 'notDue' | 'disabled'> {
  const stored = await deps.store.getCertificate(key);
  if (stored === undefined) return 'notDue';
  const dates = datesOf(stored);
  if (dates === undefined) return 'notDue';
  const selected = dueStage(stored, now);
  if (selected === undefined) return 'notDue';
  const { target, superseded } = selected;
  const rule = await ruleOf(deps, stored.certificate.type);
  if (!rule.enabled) {
    // Switched off after the plan was made (another process's cached rule, or a re-plan still running): never sent.
    await settle(deps, stored, target, superseded, now, { status: 'skipped', note: RULE_DISABLED_NOTE });
    return 'disabled';
  }
  const id: DeliveryId = { key, expiresOn: dates.expiresOn, stage: target.stage };
  // Before the claim: a failure here (the hash key unavailable) leaves nothing held for a lease to release.
  const facts = {
    to: stored.certificate.phone,
    phoneHash: await deps.phoneHasher?.hash(stored.certificate.phone),
    // If the final reminder fails or goes unconfirmed, staff phone the holder (the attention list).
    final: finalReminderStage(stored.plan.stages, dates.expiresOn) === target.stage,
  };
  return { key, stored, dates, target, superseded, rule, id, facts };
}

/** What a claim that another writer holds or finished means for this scan. */
async function notClaimed(deps: ScanDeps, due: DueReminder, existing: DeliveryRecord | undefined, now: DateTime): Promise<Outcome> {
  const { stored, target, superseded } = due;
  // Revoked after this scan read the certificate: the revocation wrote the plan without this stage already.
  if (existing?.status === 'cancelled') return 'revoked';
  // Held back by the daily cap earlier today: it is claimed again tomorrow.
  if (existing?.status === 'deferred') return 'deferred';
  if (existing !== undefined && isFinished(existing.status)) {
    // A scan sent it (or gave up on it) and died before updating the plan: finish its bookkeeping.
    // A receipt may have moved a sent record on to delivered or failed meanwhile; it was still sent.
    await settle(deps, stored, target, superseded, now, {
      status: existing.messageId !== undefined ? 'sent' : 'skipped',
      messageId: existing.messageId,
      sentAt: existing.sentAt,
      note: existing.status === 'suppressed' ? SUPPRESSED_NOTE : undefined,
    });
    return 'alreadySent';
  }
  return 'inFlightElsewhere';
}

/** Sends one claimed reminder on its own: the daily cap, then send, record and settle. */
async function sendClaimed(deps: ScanDeps, due: DueReminder & { token: string }, now: DateTime, result: ScanResult): Promise<Outcome> {
  const { key, stored, dates, target, superseded, rule, id, facts, token } = due;
  const log = { type: key.type, number: key.number, stage: target.stage, to: maskPhone(stored.certificate.phone) };
  if (await skipIfSuppressed(deps, id, token, facts, now)) {
    await settle(deps, stored, target, superseded, now, { status: 'skipped', note: SUPPRESSED_NOTE });
    deps.logger.info(log, 'reminder not sent: the number opted out');
    return 'suppressed';
  }
  // After the opt-out check: a suppressed number neither uses a slot of the cap nor is held by it.
  const slot = await holdForDailyCap(deps, id, token, facts, now);
  if (!slot.taken) {
    deps.logger.info({ ...log, deferredOn: slot.day }, 'reminder deferred: the holder had the day’s messages');
    return 'deferred';
  }
  let messageId: string;
  let rendered: { body: string; segments: number } | undefined;
  try {
    rendered = renderFor(deps, stored, target, now, rule);
    const receipt = await deps.sms.send({
      to: stored.certificate.phone,
      body: rendered.body,
      idempotencyKey: `${key.type}#${key.number}#${id.expiresOn}#${target.stage}`,
      at: now.toISO() ?? '',
      reminder: {
        type: key.type,
        number: key.number,
        stage: target.stage,
        expiresOn: dates.expiresOn,
        renewalDeadline: dates.renewalDeadline,
        segments: rendered.segments,
      },
    });
    messageId = receipt.messageId;
  } catch (error) {
    if (error instanceof RetryableSendError) {
      // Nothing went out: give the day's slot and the claim back so the next scan retries at once.
      await slot.giveBack();
      await deps.ledger.release(id, token);
      deps.logger.warn({ ...log, err: error.message }, 'SMS not sent, will retry');
      return 'retryLater';
    }
    if (error instanceof PermanentSendError) {
      await slot.giveBack();
      await deps.ledger.recordFailed(id, token, error.message, now.toISO() ?? '', { ...facts, body: rendered?.body });
      await settle(deps, stored, target, superseded, now, { status: 'skipped' });
      deps.logger.error({ ...log, err: error.message }, 'SMS refused permanently');
      return 'failed';
    }
    // Unknown outcome: the provider may have accepted it. Keep the claim; its lease expiring lets a later scan retry.
    deps.logger.error({ ...log, err: (error as Error).message }, 'SMS send ended in an unknown state');
    return 'retryLater';
  }
  const sentAt = now.toISO() ?? '';
  await deps.ledger.recordSent(id, token, {
    messageId,
    sentAt,
    to: stored.certificate.phone,
    body: rendered.body,
    segments: rendered.segments,
    ruleVersion: rule.version,
    phoneHash: facts.phoneHash,
    final: facts.final,
  });
  await settle(deps, stored, target, superseded, now, { status: 'sent', messageId, sentAt });
  result.superseded += superseded.length;
  deps.logger.info({ ...log, messageId, segments: rendered.segments }, 'reminder sent');
  return 'sent';
}

/**
 * The holder's daily cap, checked once the claim is ours: a slot taken, or the claimed record marked
 * `deferred` (the stage stays pending, and a scan on a later day claims it again).
 */
async function holdForDailyCap(deps: ScanDeps, id: DeliveryId, token: string, facts: DeliveryFacts, now: DateTime): Promise<DailySlot> {
  const slot = await takeDailySlot(deps, facts.to, now);
  if (!slot.taken) await deps.ledger.recordDeferred(id, token, slot.day, now.toISO() ?? '', facts);
  return slot;
}

/**
 * Right after the claim, before anything is rendered or sent: a number on our suppression list gets
 * nothing, and the claimed record is finished as `suppressed` (never retried, never claimed again).
 * After the claim rather than before, so that of two scans only the claim's holder records the skip.
 */
async function skipIfSuppressed(deps: ScanDeps, id: DeliveryId, token: string, facts: DeliveryFacts, now: DateTime): Promise<boolean> {
  if (deps.suppressions === undefined) return false;
  let suppressed: boolean;
  try {
    suppressed = await deps.suppressions.isSuppressed(facts.to);
  } catch (error) {
    // Nothing was sent: give the claim back so the next scan asks again at once.
    await deps.ledger.release(id, token);
    throw error;
  }
  if (suppressed) await deps.ledger.recordSuppressed(id, token, now.toISO() ?? '', facts);
  return suppressed;
}

/**
 * Which stage of a certificate a scan as of `now` sends: the latest pending one whose time has come.
 * The earlier due ones are superseded by it (one message, never a burst).
 */
function dueStage(stored: StoredCertificate, now: DateTime): { target: PlannedStage; superseded: StageName[] } | undefined {
  const nowMs = now.toMillis();
  const due = stored.plan.stages.filter((s) => s.status === 'pending' && Date.parse(s.sendAt) <= nowMs);
  const target = due[due.length - 1];
  if (target === undefined) return undefined;
  return { target, superseded: due.slice(0, -1).map((s) => s.stage) };
}

interface ReminderDates {
  expiresOn: IsoDate;
  renewalDeadline: IsoDate;
}

/**
 * The dates a reminder speaks of. A certificate without an expiry has none, and planning gives it no
 * stage, so it is never due; one that somehow were is passed over, never sent a text without a date.
 */
function datesOf(stored: StoredCertificate): ReminderDates | undefined {
  const { expiresOn } = stored.certificate;
  const { renewalDeadline } = stored.plan;
  return expiresOn === null || renewalDeadline === null ? undefined : { expiresOn, renewalDeadline };
}

/** The type's current rule, or the default where no rules are kept. */
export async function ruleOf(deps: Pick<ScanDeps, 'rules' | 'settings'>, type: string): Promise<ReminderRule> {
  return deps.rules === undefined ? defaultRule(type, deps.settings.stagePolicy) : await deps.rules.ruleFor(type);
}

/**
 * The one place a stage becomes SMS text, with the rule's texts: a scan, its dry run and a rule
 * preview show exactly what would be sent.
 */
export function renderFor(
  deps: Pick<ScanDeps, 'reference' | 'settings'>,
  stored: StoredCertificate,
  target: Pick<PlannedStage, 'stage'>,
  now: DateTime,
  rule: Pick<ReminderRule, 'stages'>,
): { body: string; segments: number } {
  return renderReminder(reminderInputFor(deps, stored, target, now, rule));
}

/** What a stage's text is made of: the certificate's values, the rule's texts, the settings. */
function reminderInputFor(
  deps: Pick<ScanDeps, 'reference' | 'settings'>,
  stored: StoredCertificate,
  target: Pick<PlannedStage, 'stage'>,
  now: DateTime,
  rule: Pick<ReminderRule, 'stages'>,
): ReminderInput {
  const dates = datesOf(stored);
  if (dates === undefined) throw new PermanentSendError(`${stored.certificate.type} ${stored.certificate.number} has no expiry to remind of`);
  const type = deps.reference.catalogue.get(stored.certificate.type);
  if (type === undefined || !type.reminders || type.renewalAction === null) {
    // A plan stored before its type lost its reminders (or its entry) has nothing true to say.
    throw new PermanentSendError(`type ${stored.certificate.type} sends no reminders (catalogue ${deps.reference.catalogue.version})`);
  }
  return {
    signature: deps.settings.signature,
    typeName: type.smsName,
    number: stored.certificate.number,
    holder: stored.certificate.holder.name,
    stage: target.stage,
    expiresOn: dates.expiresOn,
    renewalDeadline: dates.renewalDeadline,
    windowOpens: stored.plan.windowOpens,
    deadlinePassed: deadlinePassed(stored.plan, now),
    action: type.renewalAction,
    renewalPlace: renewalPlaceName(type.renewalPlace, deps.settings.renewalPlace),
    county: deps.settings.county,
    helpPhone: deps.settings.helpPhone,
    sendOn: todayIn(now),
    templates: stageTemplates(rule.stages),
    afterExpiryStage: afterExpiryStage(rule.stages),
  };
}

/** One message a scan as of `now` would send; the phone is masked, as in every log line. */
export interface PreviewMessage {
  type: string;
  number: string;
  stage: StageName;
  to: string;
  body: string;
  segments: number;
  /** Earlier due stages this message stands in for; the real scan marks them skipped. */
  supersedes: StageName[];
  /** Why the real scan would record this stage as failed instead of sending it. */
  refused?: string;
  /** The number is on our suppression list: the real scan records the stage `suppressed` instead of sending it. */
  suppressed?: true;
  /**
   * The holder's other certificates (`type#number`) this reminder goes out with in one merged SMS;
   * `body` and `segments` are then that SMS's.
   */
  mergedWith?: string[];
  /**
   * The daily cap would hold it back: the holder's slots for the day are used (earlier today, or by this
   * scan's other messages to the phone), so the scan records it `deferred` and it goes out the next day.
   */
  deferred?: true;
}

export interface PreviewResult {
  now: string;
  insideSendWindow: boolean;
  dryRun: true;
  messages: PreviewMessage[];
}

/**
 * What a scan as of `now` would send, found by the same due query, stage choice and rendering as
 * `sendDueReminders`, but without claiming, sending or recording anything: it only reads. A delivery
 * that an earlier scan sent but did not yet mark in the plan still shows here; the real scan would
 * only finish its bookkeeping.
 */
export async function previewDueReminders(
  deps: Pick<ScanDeps, 'store' | 'reference' | 'settings' | 'rules' | 'suppressions' | 'phones' | 'mergedTemplates' | 'cap'>,
  now: DateTime,
): Promise<PreviewResult> {
  const result: PreviewResult = { now: now.toISO() ?? '', insideSendWindow: isInsideSendWindow(now, deps.settings.sendWindow), dryRun: true, messages: [] };
  // Outside the window the real scan sends nothing, so neither does its preview.
  if (!result.insideSendWindow) return result;
  // As in the scan: with `phones` wired, one holder's renewal reminders due together go out as one SMS.
  const holders = new Map<string, Array<{ message: PreviewMessage; input: ReturnType<typeof reminderInputFor> }>>();
  // Every message that would use a slot of the cap, per phone, in the order the scan meets them.
  const capped = new Map<string, PreviewMessage[]>();
  for await (const key of deps.store.dueCertificates(now)) {
    const stored = await deps.store.getCertificate(key);
    if (stored === undefined) continue;
    const dates = datesOf(stored);
    if (dates === undefined) continue;
    const selected = dueStage(stored, now);
    if (selected === undefined) continue;
    const message = { type: key.type, number: key.number, stage: selected.target.stage, to: maskPhone(stored.certificate.phone), supersedes: selected.superseded };
    try {
      const rule = await ruleOf(deps, key.type);
      if (!rule.enabled) continue;
      const rendered = renderFor(deps, stored, selected.target, now, rule);
      const suppressed = (await deps.suppressions?.isSuppressed(stored.certificate.phone)) === true;
      const previewed: PreviewMessage = { ...message, body: rendered.body, segments: rendered.segments, ...(suppressed ? { suppressed: true as const } : {}) };
      result.messages.push(previewed);
      if (!suppressed) capped.set(stored.certificate.phone, [...(capped.get(stored.certificate.phone) ?? []), previewed]);
      const renewal = todayIn(now) <= dates.expiresOn && selected.target.stage !== afterExpiryStage(rule.stages);
      if (deps.phones !== undefined && renewal && !suppressed) {
        const group = holders.get(stored.certificate.phone) ?? [];
        if (group.length < MAX_MERGED_REMINDERS) group.push({ message: previewed, input: reminderInputFor(deps, stored, selected.target, now, rule) });
        holders.set(stored.certificate.phone, group);
      }
    } catch (error) {
      // The real scan records such a stage as failed; the preview says so instead of stopping.
      if (!(error instanceof PermanentSendError)) throw error;
      result.messages.push({ ...message, body: '', segments: 0, refused: error.message });
    }
  }
  await previewMerges(deps, [...holders.values()]);
  await previewDailyCap(deps, capped, new Set([...holders.values()].flat().map((m) => m.message)), now);
  return result;
}

/**
 * Marks the messages the daily cap would hold back, by the scan's own rule: the phone's slots left for the
 * Asia/Shanghai day (read, none taken), used in the order the scan sends — a holder's reminders that cannot be
 * merged first, then the merge candidates, as one SMS when merged (one slot) or one by one.
 */
async function previewDailyCap(
  deps: Pick<ScanDeps, 'settings' | 'cap'>,
  capped: ReadonlyMap<string, readonly PreviewMessage[]>,
  candidates: ReadonlySet<PreviewMessage>,
  now: DateTime,
): Promise<void> {
  const { cap } = deps;
  if (cap === undefined) return;
  const day = capDayOf(now);
  for (const [phone, messages] of capped) {
    let left = deps.settings.smsDailyCapPerPhone - (await cap.used(phone, day));
    // Without a phone source there are no candidates: every reminder goes on its own, in the due order.
    const ofMerge = messages.filter((m) => candidates.has(m));
    const units = [...messages.filter((m) => !candidates.has(m)).map((m) => [m]), ...(ofMerge[0]?.mergedWith !== undefined ? [ofMerge] : ofMerge.map((m) => [m]))];
    for (const unit of units) {
      if (left > 0) left -= 1;
      else for (const message of unit) message.deferred = true;
    }
  }
}

/** Gives each holder's mergeable reminders the merged SMS the scan would send them, where it fits. */
async function previewMerges(
  deps: Pick<ScanDeps, 'settings' | 'mergedTemplates'>,
  groups: ReadonlyArray<ReadonlyArray<{ message: PreviewMessage; input: ReturnType<typeof reminderInputFor> }>>,
): Promise<void> {
  const mergeable = groups.filter((g) => g.length >= 2);
  if (mergeable.length === 0) return;
  const stored = await deps.mergedTemplates?.getMergedTemplate();
  for (const group of mergeable) {
    const rendered = renderMergedReminder({
      signature: deps.settings.signature,
      county: deps.settings.county,
      helpPhone: deps.settings.helpPhone,
      ...(stored !== undefined ? { template: { template: stored.template, itemTemplate: stored.itemTemplate } } : {}),
      items: group.map((m) => m.input),
    });
    if (rendered.segments > MERGE_SEGMENT_LIMIT) continue;
    for (const { message } of group) {
      message.body = rendered.body;
      message.segments = rendered.segments;
      message.mergedWith = group.filter((other) => other.message !== message).map((other) => `${other.message.type}#${other.message.number}`);
    }
  }
}

/** Mark the stage done in the certificate's plan, which moves (or clears) its alarm in the due index. */
async function settle(
  deps: ScanDeps,
  stored: StoredCertificate,
  target: PlannedStage,
  superseded: readonly string[],
  now: DateTime,
  outcome: { status: 'sent' | 'skipped'; messageId?: string | undefined; sentAt?: string | undefined; note?: PlannedStage['note'] },
): Promise<void> {
  let current: StoredCertificate | undefined = stored;
  for (let attempt = 0; attempt < 5 && current !== undefined; attempt += 1) {
    if (current.certificate.expiresOn !== stored.certificate.expiresOn) return; // renewed meanwhile: its new plan stands
    const plan: Plan = {
      ...current.plan,
      stages: current.plan.stages.map((s) => {
        if (s.stage === target.stage && s.status === 'pending') {
          return {
            ...s,
            status: outcome.status,
            ...(outcome.messageId !== undefined ? { messageId: outcome.messageId } : {}),
            ...(outcome.sentAt !== undefined ? { sentAt: outcome.sentAt } : {}),
            ...(outcome.note !== undefined ? { note: outcome.note } : {}),
          };
        }
        if (superseded.includes(s.stage) && s.status === 'pending') return { ...s, status: 'skipped', note: 'superseded' };
        return s;
      }),
    };
    if (await deps.store.updatePlan(current.certificate, current.version, plan, now.toISO() ?? '')) return;
    current = await deps.store.getCertificate(current.certificate);
  }
}
