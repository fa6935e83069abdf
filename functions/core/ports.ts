import type { DateTime } from 'luxon';
import type { Principal } from './access.js';
import type { CalendarYear, WorkingDayCalendar } from './calendar.js';
import type { DeliveryReceipt, DeliveryStatus, LedgerStatus } from './delivery-status.js';
import type { ImportContinueMessage } from './import-messages.js';
import type { Certificate, IsoDate, IsoInstant, Plan, StageName } from './model.js';
import type { DueScanPayload } from './schedule-payloads.js';
import type { PurgeProgress } from './retention.js';
import type { CertificateIndexSnapshot, IndexBackfillProgress } from './index-backfill.js';
import type { Revocation } from './revocation.js';
import type { ProviderOptInOutcome, Reinstatement, Suppression, SuppressionSource } from './suppression.js';
import type { BookingCodeRecord, BookingRecord, Campaign, Invitation, RecipientCertificate, Visit } from './campaigns/model.js';
import type { ReminderRule, RuleReplanProgress, RuleVersion } from './rules.js';
import type { MergedTemplate } from './merged-reminder.js';

/**
 * Business time, the one clock of a process: use cases, handlers and adapters take `now` from here
 * (the core takes it as an argument), and time budgets are instants on it, so a test that fixes it
 * fixes every instant the service records.
 */
export interface Clock {
  now(): DateTime;
}

/** The slice of a structured logger the use cases need; pino, Lambda's console and test doubles all fit. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What a reminder SMS is about; adapters may record it (the local outbox does). */
export interface ReminderContext {
  type: string;
  number: string;
  stage: StageName;
  expiresOn: string;
  renewalDeadline: string;
  segments: number;
}

export interface SmsMessage {
  /** E.164 */
  to: string;
  body: string;
  /** Stable per (certificate, expiry, stage): adapters that can deduplicate use it. */
  idempotencyKey: string;
  reminder?: ReminderContext;
  /** What a campaign SMS is about (a visit's notice, reminder …); adapters may record it (the local outbox does). */
  campaign?: { campaignId: string; visitId: string; kind: string };
  /** The business instant of the send (the scan's "now"); twins that record a time use it. */
  at?: IsoInstant;
}

export interface SmsReceipt {
  messageId: string;
}

/** Delivers one SMS. Throws `RetryableSendError` or `PermanentSendError` (see errors.ts). */
export interface SmsSender {
  send(message: SmsMessage): Promise<SmsReceipt>;
}

/**
 * A provider's own opt-out list (SNS `ListPhoneNumbersOptedOut` on AWS; locally there is none), read
 * whole, page by page. Numbers as the provider keeps them (E.164); not all need be mainland mobiles.
 */
export interface ProviderOptOutList {
  optedOutNumbers(): AsyncIterable<string>;
}

/**
 * Takes a reinstated number (E.164) off the provider's own opt-out list (SNS `OptInPhoneNumber`; the local
 * twin has no list, so nothing to do). Never throws: a refusal is an outcome the operator is told about,
 * since our list has already been changed.
 */
export interface ProviderOptIn {
  optIn(phone: string): Promise<ProviderOptInOutcome>;
}

export interface CertificateKey {
  type: string;
  number: string;
}

/** A certificate as stored, with its reminder plan and bookkeeping. */
export interface StoredCertificate {
  certificate: Certificate;
  plan: Plan;
  /** Hash of the certificate's content: an identical upload changes nothing. */
  contentHash: string;
  /** Increases on every write; guards read-modify-write against a concurrent writer. */
  version: number;
  createdAt: IsoInstant;
  updatedAt: IsoInstant;
  /** Set when its bureau ended the certificate before its expiry; a re-issue with a later expiry clears it. */
  revoked?: Revocation;
}

export interface CertificateQuery {
  township?: string;
  type?: string;
  /** Only these types (a bureau's scope); with `type`, the type must be among them. */
  types?: readonly string[];
  /** Exclusive upper bound on expiresOn (YYYY-MM-DD). */
  expiringBefore?: string;
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Opaque; absent on the last page. */
  nextCursor?: string;
}

export interface CertificateStore {
  getCertificate(key: CertificateKey): Promise<StoredCertificate | undefined>;
  /** Keyed by `${type}#${number}`; missing certificates are absent. */
  getCertificates(keys: CertificateKey[]): Promise<Map<string, StoredCertificate>>;
  /** Unconditional batch write of whole certificates (imports). */
  putCertificates(items: StoredCertificate[]): Promise<void>;
  listCertificates(query: CertificateQuery): Promise<Page<StoredCertificate>>;
  /** Certificates with a pending alarm at or before `until`, across every shard. */
  dueCertificates(until: DateTime): AsyncIterable<CertificateKey>;
  /**
   * Replace the plan of a certificate if it still has `expectedVersion`.
   * Returns false when another writer got there first (renewal, re-upload).
   */
  updatePlan(key: CertificateKey, expectedVersion: number, plan: Plan, updatedAt: IsoInstant): Promise<boolean>;
  /** `updatePlan` for many certificates at once (batched by the store); one answer per update, in order. */
  updatePlans(updates: ReadonlyArray<{ key: CertificateKey; expectedVersion: number; plan: Plan }>, updatedAt: IsoInstant): Promise<boolean[]>;
}

/** Finds the certificates a calendar load may re-plan, through an index: never a table scan. */
export interface ReplanSource {
  /** Certificates of `type` with a pending stage whose expiry lies in [from, to], a page at a time. */
  pendingCertificatesExpiring(type: string, from: IsoDate, to: IsoDate, cursor?: string): Promise<Page<StoredCertificate>>;
}

/** What a re-plan reads of a certificate: enough to plan it again and to write the plan over the version read. */
export interface PlanRow {
  key: CertificateKey;
  expiresOn: IsoDate | null;
  plan: Plan;
  version: number;
}

/** Finds the certificates a rule change may re-plan or a preview counts, through the byType index: never a table scan. */
export interface TypeCertificateSource {
  /** Certificates of `type` expiring on or after `from`, a page at a time. */
  certificatesOfTypeExpiringFrom(type: string, from: IsoDate, cursor?: string): Promise<Page<StoredCertificate>>;
  /** The same certificates, with only what a re-plan reads of each; the same cursors. */
  planRowsOfTypeExpiringFrom(type: string, from: IsoDate, cursor?: string): Promise<Page<PlanRow>>;
  /** How many certificates of `type` expire on or after `from` (a count, not the items). */
  countCertificatesOfTypeExpiringFrom(type: string, from: IsoDate): Promise<number>;
}

export interface DeliveryId {
  key: CertificateKey;
  expiresOn: string;
  stage: StageName;
}

export interface DeliveryRecord {
  /** `cancelled`: written by a revocation for a stage not yet claimed, so no scan can claim it afterwards. */
  status: LedgerStatus;
  claimToken?: string;
  leaseUntil?: number;
  messageId?: string;
  sentAt?: IsoInstant;
  attempts: number;
  reason?: string;
  body?: string;
  ruleVersion?: number;
  /** The Asia/Shanghai day the daily cap held a `deferred` message back on; it is claimed again from the next day. */
  deferredOn?: IsoDate;
}

export type ClaimOutcome =
  | { claimed: true; attempts: number }
  | { claimed: false; existing: DeliveryRecord | undefined };

/** What the delivery listing shows of a message beyond its text, and filters on. */
export interface DeliveryFacts {
  /** E.164; stored as sent, masked in every answer and log line. */
  to: string;
  /** The keyed hash of `to` (see PhoneHasher): how `phone=` finds it without the number in the query. */
  phoneHash?: string | undefined;
  /** The plan's final reminder (finalReminderStage): a failure or silence here puts the holder on the attention list. */
  final: boolean;
}

/**
 * The ledger of sends, one record per (certificate, expiry, stage).
 * claim → send → recordSent: the claim is a conditional write, so two scans never both send.
 */
export interface DeliveryLedger {
  /** `today` (the scan's Asia/Shanghai day): a record the daily cap deferred on an earlier day may be claimed again. */
  claim(id: DeliveryId, token: string, leaseUntilMs: number, nowMs: number, today?: IsoDate): Promise<ClaimOutcome>;
  /**
   * Keeps the rendered text and the version of the rule it was rendered with, marks the record `sent`,
   * and leaves a pointer from the message id to the record, so that a receipt finds it in one read.
   */
  recordSent(
    id: DeliveryId,
    token: string,
    sent: { messageId: string; sentAt: IsoInstant; to: string; body: string; segments: number; ruleVersion?: number; phoneHash?: string | undefined; final?: boolean },
  ): Promise<void>;
  /** `failedAt`: the scan's instant; the record is kept for a retention counted from it. */
  recordFailed(id: DeliveryId, token: string, reason: string, failedAt: IsoInstant, facts?: DeliveryFacts & { body?: string | undefined }): Promise<void>;
  /** Give a claim back so the next scan retries at once (a retryable failure before anything was sent). */
  release(id: DeliveryId, token: string): Promise<void>;
  /**
   * Nothing was sent: the number is on our suppression list. A finished status, never claimed again;
   * listed as `suppressed` at `at` with `facts`, so `GET /v1/deliveries?status=suppressed` finds it.
   */
  recordSuppressed(id: DeliveryId, token: string, at: IsoInstant, facts: DeliveryFacts): Promise<void>;
  get(id: DeliveryId): Promise<DeliveryRecord | undefined>;
  /**
   * The daily cap held the message back on `deferredOn`: marks the record `deferred` (listed as such) instead of
   * sending; the stage stays pending in the plan, and a scan on a later day claims it again.
   */
  recordDeferred(id: DeliveryId, token: string, deferredOn: IsoDate, at: IsoInstant, facts?: DeliveryFacts): Promise<void>;
  /**
   * One SMS carried several reminders (a merge): marks every member `sent` with the same message id and text,
   * in one atomic write conditional on each member's claim token, so a crash records all of them or none.
   */
  recordMergedSent(
    members: ReadonlyArray<{ id: DeliveryId; token: string; final: boolean; ruleVersion?: number }>,
    sent: { messageId: string; sentAt: IsoInstant; to: string; body: string; segments: number; phoneHash?: string | undefined },
  ): Promise<void>;
}

/** The phones of due certificates, so a scan can group one holder's reminders into one SMS. */
export interface DuePhoneSource {
  /** Keyed by `${type}#${number}`; only the phone is read, missing certificates are absent. */
  phonesOf(keys: readonly CertificateKey[]): Promise<Map<string, string>>;
}

// ---- Daily cap per phone --------------------------------------------------------------------------

/**
 * How many capped SMS each phone got on one Asia/Shanghai day (see core/daily-cap.ts): a conditional
 * counter per phone and day, so two senders racing for a phone's last slot cannot both win.
 */
export interface DailySendCap {
  /** Takes one of the phone's `limit` slots for `day`; false when every one is taken. */
  take(phone: string, day: IsoDate, limit: number): Promise<boolean>;
  /** Gives back a slot taken for a message that did not go out (its send failed before the provider took it). */
  giveBack(phone: string, day: IsoDate): Promise<void>;
  /** How many of the phone's slots for `day` are taken (a dry run foresees the cap with it, taking none). */
  used(phone: string, day: IsoDate): Promise<number>;
}

// ---- Holder IDs ---------------------------------------------------------------------------------

/**
 * Seals holder IDs (身份证号, 统一社会信用代码) for storage with a key that is not in the table: a key file
 * in the data dir locally, a KMS key on AWS. The sealed form starts with its scheme and key id, so a
 * value stored before encryption (a bare ID) is told apart and read as it is.
 */
export interface HolderIdCipher {
  seal(plain: string): Promise<string>;
  /** The plain ID; a value without a scheme prefix (stored before encryption) is returned unchanged. */
  open(stored: string): Promise<string>;
}

// ---- Suppressions ------------------------------------------------------------------------------

/**
 * Our own list of numbers that asked for no more SMS (see suppression.ts). Every send asks
 * `isSuppressed` right after its claim; the opt-out confirmation is the one message a suppressed number gets.
 * Phones are E.164 (`normaliseMainlandMobile`). Entries never expire and no purge reaches them.
 */
export interface SuppressionList {
  /**
   * Puts the number on the list. Idempotent: a number already on it keeps its first entry (source and
   * instant), and `added` is false. `suppression` is the entry as stored either way.
   */
  suppress(phone: string, entry: { source: SuppressionSource; at: IsoInstant; detail?: string | undefined }): Promise<{ added: boolean; suppression: Suppression }>;
  isSuppressed(phone: string): Promise<boolean>;
  get(phone: string): Promise<Suppression | undefined>;
  /** The list ordered by phone number (not by time), a page at a time; the cursor is opaque. */
  list(query: { limit: number; cursor?: string | undefined }): Promise<Page<Suppression>>;
  /**
   * Takes the number off the list; the entry removed, or undefined when it was not on it. The caller
   * audits (who, why); `expectedAt` removes the entry only if it is still the one suppressed at that instant.
   */
  reinstate(phone: string, options?: { expectedAt?: IsoInstant }): Promise<Suppression | undefined>;
  /**
   * Remembers that an operator reinstated the number at `at` (the latest reinstatement stands), so that the
   * daily copy of the provider's list does not put it back while the provider still lists it.
   */
  rememberReinstatement(reinstatement: Reinstatement): Promise<void>;
  /** Every reinstatement still remembered: a handful, read whole by the daily copy. */
  reinstatements(): Promise<Reinstatement[]>;
  /** Forgets the reinstatement made at `at`; a later one of the same number is kept. */
  forgetReinstatement(reinstatement: Reinstatement): Promise<void>;
}

/** Which of these phones (E.164) are on our suppression list: one batch read for a page of certificates. */
export interface SuppressedPhones {
  suppressedAmong(phones: readonly string[]): Promise<Set<string>>;
}

/** Which certificate types a phone (E.164) holds: how a bureau's view of the suppression list is scoped. */
export interface PhoneHoldings {
  typesHeldBy(phone: string): Promise<Set<string>>;
}

/**
 * The opt-out confirmation's claim and record, keyed by the suppression (phone and instant): a reply
 * delivered twice, or two replies at once, confirm once; a number reinstated and suppressed again is a
 * new suppression and is confirmed again.
 */
export interface OptOutConfirmations {
  claimConfirmation(suppression: Suppression, token: string, leaseUntilMs: number, nowMs: number): Promise<ClaimOutcome>;
  recordConfirmationSent(suppression: Suppression, token: string, sent: { messageId: string; sentAt: IsoInstant; body: string; segments: number }): Promise<void>;
  recordConfirmationFailed(suppression: Suppression, token: string, reason: string, failedAt: IsoInstant): Promise<void>;
  releaseConfirmation(suppression: Suppression, token: string): Promise<void>;
}

// ---- Revocation ---------------------------------------------------------------------------------

export type RevokeOutcome =
  | { written: true }
  /** Another writer changed the certificate since it was read: read it again. */
  | { written: false; conflict: 'version' }
  /** A scan claimed these stages first: their send may be under way; revoke again without them. */
  | { written: false; conflict: 'claimed'; claimed: StageName[] };

/** Marks a certificate revoked and stops its reminders, in one atomic write. */
export interface CertificateRevoker {
  /**
   * If the certificate is still at `expectedVersion`: store `plan` (no pending stage) and the mark, and
   * put a cancelled delivery record for each of `cancel.stages` that no scan has claimed, so a scan
   * that read the certificate before this write cannot claim and send afterwards.
   */
  revokeCertificate(
    key: CertificateKey,
    expectedVersion: number,
    change: { plan: Plan; revoked: Revocation; updatedAt: IsoInstant },
    cancel: { expiresOn: IsoDate; stages: StageName[] } | undefined,
  ): Promise<RevokeOutcome>;
}

// ---- Retention --------------------------------------------------------------------------------

/** What a purge deletes and where it keeps its progress; certificates are found through the byType index, never a scan. */
export interface RetentionStore {
  /** Certificates of `type` expiring before `cutoff`, a page at a time (only their keys are needed). */
  certificatesExpiredBefore(type: string, cutoff: IsoDate, cursor?: string): Promise<Page<CertificateKey>>;
  /** How many delivery records of a certificate belong to expiries before `cutoff`. */
  countDeliveriesBefore(key: CertificateKey, cutoff: IsoDate): Promise<number>;
  /**
   * Deletes the certificate's deliveries of expiries before `cutoff`, then the certificate itself if it
   * still expires before `cutoff` (`deleted: false` when it was renewed meanwhile).
   */
  purgeCertificate(key: CertificateKey, cutoff: IsoDate): Promise<{ deleted: boolean; deliveries: number }>;
  getPurgeProgress(): Promise<PurgeProgress | undefined>;
  savePurgeProgress(progress: PurgeProgress): Promise<void>;
}

// ---- Index backfill ----------------------------------------------------------------------------

/**
 * Gives certificates stored before the `byTownshipType` index existed its keys. Certificates are walked
 * type by type on the `byType` index, never by a table scan: deliveries, campaign items and the audit trail
 * are never read.
 */
export interface TownshipTypeBackfillStore {
  /** Certificates of `type` without the keys, from a page of that type's certificates (the page may hold none). */
  certificatesLackingTownshipTypeKeys(type: string, cursor?: string): Promise<Page<CertificateIndexSnapshot>>;
  /** Sets the keys from `snapshot` if the certificate is still that version without keys; false if it changed since. */
  setTownshipTypeKeys(snapshot: CertificateIndexSnapshot): Promise<boolean>;
  getTownshipTypeBackfill(): Promise<IndexBackfillProgress | undefined>;
  saveTownshipTypeBackfill(progress: IndexBackfillProgress): Promise<void>;
}

// ---- Delivery status ---------------------------------------------------------------------------

/**
 * Which delivery item a message is, whatever its kind (a reminder's record, a campaign message):
 * the item's own key, opaque outside the store.
 */
export interface DeliveryRef {
  pk: string;
  sk: string;
}

/** Where receipts land: any delivery item, found by the message id the provider gave. */
export interface DeliveryReceipts {
  /** The item a message id was recorded on, in one read; undefined for an id this service never recorded. */
  findByMessageId(messageId: string): Promise<DeliveryRef | undefined>;
  /** Every item a message id was recorded on: several for a merged reminder, else the one `findByMessageId` finds. */
  findAllByMessageId?(messageId: string): Promise<DeliveryRef[]>;
  /** The item's status and message id, read consistently. */
  deliveryState(ref: DeliveryRef): Promise<{ status: LedgerStatus; messageId?: string | undefined } | undefined>;
  /**
   * Move a `sent` item with this message id to the receipt's status. False when it is no longer
   * `sent` with that id (another receipt won): the caller reads it again.
   */
  applyReceipt(ref: DeliveryRef, receipt: DeliveryReceipt): Promise<boolean>;
}

/** What a receipt did (see recordDeliveryReceipt). */
export type ReceiptOutcome = 'recorded' | 'unchanged' | 'ignored' | 'pending' | 'unknown';

/** Hands a provider's receipt to the receipt use case (the local sandbox's receipts go through it too). */
export type ReceiptSink = (receipt: DeliveryReceipt) => Promise<ReceiptOutcome>;

/**
 * A keyed hash of a phone number (HMAC under a service key): stored on each delivery, so a search by
 * phone matches without the number ever being an index key, a filter value or a log field.
 */
export interface PhoneHasher {
  hash(e164: string): Promise<string>;
}

export interface DeliveryQuery {
  /** The statuses to read (each is an index partition). */
  statuses: readonly DeliveryStatus[];
  /** Per status, only records sent before this instant (exclusive; the attention list's 24 hours). */
  sentBefore?: Partial<Record<DeliveryStatus, IsoInstant>>;
  /** Only records sent at or after this instant. */
  since?: IsoInstant;
  type?: string;
  /** Only these certificate types (a bureau's scope). */
  types?: readonly string[];
  /** With `types`, also the messages of campaigns this authority's bureau sees (campaignAuthority). */
  authority?: string;
  number?: string;
  phoneHash?: string;
  /** Only the plans' final stages. */
  finalOnly?: boolean;
  limit: number;
  cursor?: string;
}

/** One delivery as the store holds it; the route masks the phone. */
export interface DeliveryListing {
  source: 'reminder' | 'campaign' | 'other';
  type?: string | undefined;
  number?: string | undefined;
  /** A reminder's stage, or a campaign message's kind. */
  kind: string;
  to?: string | undefined;
  status: DeliveryStatus;
  reason?: string | undefined;
  body?: string | undefined;
  messageId?: string | undefined;
  sentAt: IsoInstant;
  statusAt?: IsoInstant | undefined;
  final: boolean;
}

/** The delivery history, read through the deliveries index, newest first: never a table scan. */
export interface DeliveryHistory {
  listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryListing>>;
}

/** One future invocation of a target with a JSON payload. */
export interface ScheduleOnceRequest {
  /** Deterministic, `[0-9a-zA-Z-_.]{1,64}`: the same name means the same schedule (see `scheduleName`). */
  name: string;
  at: DateTime;
  /** Serialised as JSON; the target parses it on arrival. */
  payload: unknown;
  targetArn: string;
  /** The role the scheduler assumes to invoke the target. */
  roleArn: string;
  group: string;
}

/** One-off schedules: EventBridge Scheduler on AWS, an in-process timer locally (campaign notices and reminders). */
export interface ScheduleGateway {
  /** Idempotent: a schedule that already exists under this name is left as it is. */
  scheduleOnce(request: ScheduleOnceRequest): Promise<void>;
  /**
   * The schedule under this name now fires at `request.at` with `request.payload` (a moved visit):
   * updated if it exists, created if it ran or never existed.
   */
  reschedule(request: ScheduleOnceRequest): Promise<void>;
  /** Idempotent: cancelling a schedule that ran or never existed is not an error. */
  cancel(name: string, group: string): Promise<void>;
}

/** A one-off schedule kept in the store, so the local scheduler re-arms it after a restart. */
export interface StoredJob {
  name: string;
  group: string;
  /** UTC ISO instant. */
  at: IsoInstant;
  payload: unknown;
}

/** Where the local scheduler keeps its pending one-off jobs (the `job` items). */
export interface JobStore {
  /** Adds the job, or replaces the job of the same name and group (wherever its instant was). */
  putJob(job: StoredJob): Promise<void>;
  /**
   * Removes the job of this name and group, if any; with `at`, only if it is still due at that instant
   * (a job that ran must not take with it the same job rescheduled meanwhile).
   */
  deleteJob(name: string, group: string, at?: IsoInstant): Promise<void>;
  /** Jobs due at or before `until`, oldest first. */
  dueJobs(until: DateTime): Promise<StoredJob[]>;
  pendingJobs(): Promise<StoredJob[]>;
}

/**
 * Starts a due scan elsewhere instead of running it in the request (AWS: an asynchronous invocation of
 * the scan function, which alone may send SMS). Without one, the scan runs inline (local mode).
 */
export interface ScanTrigger {
  trigger(payload: DueScanPayload): Promise<void>;
}

/** An API token as stored: only its hash, never the token itself. */
export interface TokenRecord {
  id: string;
  /** sha256 of the whole token, hex. */
  hash: string;
  role: 'operator' | 'bureau' | 'viewer';
  authority?: string;
  label?: string;
  createdAt: IsoInstant;
  createdBy: string;
  revokedAt?: IsoInstant;
}

export interface TokenStore {
  putToken(record: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  /** False when there is no such token. */
  revokeToken(id: string, at: IsoInstant): Promise<boolean>;
}

export type ImportState = 'queued' | 'checking' | 'storing' | 'done' | 'failed';

export interface ImportCounts {
  /** Data rows read (blank rows excluded). */
  rows: number;
  accepted: number;
  created: number;
  updated: number;
  renewed: number;
  unchanged: number;
  /** Rows rejected (a row with several bad cells counts once). */
  rejected: number;
  blank: number;
}

/** One rejected cell or row, as errors.csv shows it. */
export interface ImportError {
  /** The row as Excel shows it: the header is row 1. 0 for a problem with the file itself. */
  row: number;
  column: string;
  value: string;
  reason: string;
}

/** A chunk whose writes may have started: resuming re-applies it and takes its counts from here. */
export interface PendingChunk {
  fromRow: number;
  toRow: number;
  counts: ImportCounts;
}

export interface ImportRecord {
  id: string;
  /** Increases on every save; a save names the revision it read (one worker at a time). */
  revision: number;
  state: ImportState;
  /** Who uploaded: the principal's subject, role and authority. */
  uploadedBy: { subject: string; role: string; authority?: string };
  createdAt: IsoInstant;
  updatedAt: IsoInstant;
  finishedAt?: IsoInstant;
  fileName: string;
  contentType: string;
  bytes: number;
  sha256: string;
  /** Where the file body is kept (a path in the data dir, an S3 key). */
  blobKey: string;
  options: { allOrNothing: boolean; encoding?: string; sheet?: string };
  format?: string;
  encoding?: string;
  sheet?: string;
  /** Data rows in the file, known after the checking pass. */
  totalRows?: number;
  /** Rows handled so far in the current pass. */
  progressRows: number;
  /** Last Excel row whose effects are stored; resuming continues after it. */
  checkpointRow: number;
  pending?: PendingChunk;
  counts: ImportCounts;
  /** A failure of the whole import (missing columns, limits, all-or-nothing refusal). */
  failure?: { code: string; message: string };
  /** An earlier, finished import of the same file by the same caller. */
  sameFileAs?: string;
  /**
   * Service starts in a row that resumed this import from the same point (`mark`: its phase and
   * progress). Saved before each resume, so a crash that kills the process still counts.
   */
  resumes?: { attempts: number; mark: string };
}

export interface ImportStore {
  createImport(record: ImportRecord): Promise<void>;
  getImport(id: string): Promise<ImportRecord | undefined>;
  /** Replace the record if it is still at `record.revision - 1`; false when another worker saved first. */
  saveImport(record: ImportRecord): Promise<boolean>;
  /** The rows of an import's report; they are kept exactly as long as the import (from its `createdAt`). */
  putImportErrors(owner: Pick<ImportRecord, 'id' | 'createdAt'>, errors: ImportError[]): Promise<void>;
  importErrors(id: string): AsyncIterable<ImportError>;
  openImports(): Promise<string[]>;
  closeImport(id: string): Promise<void>;
  /** The latest import of a file (by hash) within a caller's scope. */
  findImportByHash(sha256: string, scope: string): Promise<string | undefined>;
  rememberImportHash(sha256: string, scope: string, id: string): Promise<void>;
}

/** Where uploaded files are kept until imported: the data dir locally, S3 on AWS. */
export interface ImportFileStore {
  /** A fresh readable stream of the stored file, from the start. */
  open(blobKey: string): NodeJS.ReadableStream;
  remove(blobKey: string): Promise<void>;
}

/** What the import pipeline needs from a spreadsheet reader (CSV or XLSX, streamed). */
export interface OpenedSpreadsheet {
  format: string;
  encoding?: string;
  sheet?: string;
  headers: string[];
  rows: AsyncIterable<{ row: number; values: unknown[] }>;
  /** Releases what the reader holds (temporary sheet copies) when the rows are not read to the end. */
  close?: () => Promise<void> | void;
}

/** Opens a stored import file for reading; throws `ImportFailure` for a file that cannot be read. */
export type SpreadsheetOpener = (
  blobKey: string,
  options: { encoding?: string; sheet?: string; contentType: string; fileName: string },
) => Promise<OpenedSpreadsheet>;

/** Where the import worker queues the rest of an import (SQS on AWS). */
export interface ImportContinuationQueue {
  continueLater(message: ImportContinueMessage): Promise<void>;
}

/** A file to record as an import. */
export interface NewImport {
  fileName: string;
  contentType: string;
  bytes: number;
  sha256: string;
  blobKey: string;
  options: ImportRecord['options'];
}

/**
 * Records a file as an import, or returns the caller's unfinished import of the same file
 * (`createImport`, bound to its stores by the composition root).
 */
export type ImportRecorder = (principal: Principal, upload: NewImport) => Promise<{ record: ImportRecord; resumed: boolean }>;

export interface ImportSubmission {
  fileName: string;
  contentType: string;
  options: ImportRecord['options'];
  /** The file as the client declares it, when it is uploaded afterwards (AWS) rather than sent as the body (local). */
  file?: { bytes: number; sha256: string };
  /** The raw request body the transport already wrote to storage (local imports). */
  upload?: { blobKey: string; bytes: number; sha256: string };
}

/** Where and how to upload the file (AWS: a presigned S3 PUT). */
export interface ImportUpload {
  url: string;
  method: 'PUT';
  /** Send exactly these headers with the upload: they are part of its signature. */
  headers: Record<string, string>;
  expiresAt: string;
}

/**
 * Accepts a file for import and returns the import's id (and, on AWS, where to upload the file).
 * Refusals are `HttpError`s (functions/contracts/http-error.ts) with the status to answer.
 */
export type ImportSubmitter = (
  principal: Principal,
  submission: ImportSubmission,
) => Promise<{ id: string; resumed: boolean; sameFileAs?: string; upload?: ImportUpload }>;

// ---- Holiday calendar -------------------------------------------------------------------------

/** How far a calendar load's re-planning has got; kept on the year, so a crash leaves a resumable trail. */
export interface ReplanProgress {
  /** The version of the year this re-plan brings plans onto. */
  version: number;
  /**
   * `load`: the pass run by the load. `recheck`: a second pass once every process has dropped its
   * cached calendar, for plans another process made on the old calendar while the first pass ran.
   */
  pass: 'load' | 'recheck';
  state: 'running' | 'done';
  /** Set when the load pass is done: the recheck pass runs at or after this instant. */
  recheckAfter?: IsoInstant;
  /** Catalogue types whose certificates are all re-planned. */
  typesDone: string[];
  /** Where to continue inside the next type (an opaque page cursor). */
  cursor?: string;
  /** Certificates read, and those whose plan changed and was written. */
  examined: number;
  replanned: number;
  startedAt: IsoInstant;
  finishedAt?: IsoInstant;
}

/** One year of the holiday calendar as stored: the arrangement and who put it there. */
export interface StoredCalendarYear extends CalendarYear {
  /** 1 for the first arrangement known for the year; each load adds one, and every version is kept. */
  version: number;
  /** `bundled`: seeded from chinese-days or data/holidays; `operator`: loaded through the API. */
  origin: 'bundled' | 'operator';
  loadedBy: string;
  loadedAt: IsoInstant;
  replan?: ReplanProgress;
}

export interface CalendarStore {
  listCalendarYears(): Promise<StoredCalendarYear[]>;
  getCalendarYear(year: number): Promise<StoredCalendarYear | undefined>;
  /** Every version of a year, oldest first. */
  calendarYearHistory(year: number): Promise<StoredCalendarYear[]>;
  /**
   * Store `record` as the year's current arrangement and add it to its history, if the year is still at
   * `expectedVersion` (undefined: not stored yet). False when another load got there first.
   */
  putCalendarYear(record: StoredCalendarYear, expectedVersion: number | undefined): Promise<boolean>;
  /** Save re-plan progress if the year is still at `progress.version`; false when a newer load replaced it. */
  saveReplanProgress(year: number, progress: ReplanProgress): Promise<boolean>;
}

/** The working-day calendar as currently stored, shared by every plan a process makes for a short while. */
export interface CalendarSource {
  current(): Promise<WorkingDayCalendar>;
  /** Forget the cached calendar (after a load in this process). */
  invalidate(): void;
}

// ---- Audit log ----------------------------------------------------------------------------------

/** One write by a person: kept, never edited or deleted. */
export interface AuditEntry {
  /** Unique; with `at` it orders entries newest first. */
  id: string;
  at: IsoInstant;
  /** The principal's subject: a token id (`token:…`) or a JWT subject. */
  actor: string;
  role: string;
  /** Dotted, by kind of object: `certificates.upload`, `import.submitted`, `calendar.load`, `token.issue`, `rules.change` … */
  action: string;
  /** What was written, e.g. `calendar/2027`, `import/imp_…`, `token/abc`. */
  target: string;
  /** One line for a person reading the trail. */
  summary: string;
  /** Counts and other facts, for scripts. */
  details?: Record<string, unknown>;
}

export interface AuditQuery {
  /** Only entries at or after this instant. */
  since?: IsoInstant;
  actor?: string;
  /** An action, or its kind: `import` matches `import.submitted` and `import.finished`. */
  action?: string;
  limit: number;
  cursor?: string;
}

export interface AuditLog {
  /** Adds an entry; an entry with the same id and instant is never overwritten. */
  record(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<Page<AuditEntry>>;
}

// ---- Reminder rules -----------------------------------------------------------------------------

/** Operators' reminder rules: the current one per type, every version, and a change's re-plan progress. */
export interface RuleStore {
  /** Every type whose rule was ever changed (types absent here run the default, version 0). */
  listRules(): Promise<ReminderRule[]>;
  getRule(type: string): Promise<ReminderRule | undefined>;
  /** Every stored version of a type's rule, newest first. */
  ruleHistory(type: string): Promise<RuleVersion[]>;
  /**
   * Store `version` as the type's current rule and add it to the history, if the stored rule is still at
   * `version.version - 1` (0: none stored). False when another change got there first.
   */
  putRule(version: RuleVersion, replan: RuleReplanProgress): Promise<boolean>;
  /** Save re-plan progress if the rule is still at `progress.version`; false when a newer change replaced it. */
  saveRuleReplan(type: string, progress: RuleReplanProgress): Promise<boolean>;
}

/** The merged reminder's texts as an operator last set them (version 0: the defaults, never changed). */
export interface StoredMergedTemplate extends MergedTemplate {
  version: number;
  changedBy: string | null;
  changedAt: IsoInstant | null;
  comment: string | null;
}

/** Where the merged reminder's texts are kept, beside the reminder rules. */
export interface MergedTemplateStore {
  getMergedTemplate(): Promise<StoredMergedTemplate | undefined>;
  /** Stores `next` if the stored texts are still at `next.version - 1` (0: none stored); false when another change got there first. */
  putMergedTemplate(next: StoredMergedTemplate): Promise<boolean>;
}

/**
 * A rule re-plan's hold on a type while it writes whole certificates without conditions. Every other
 * writer of a certificate of the type reads it after its own write and, while it is `open`, journals
 * what it wrote, so the re-plan's repair pass can put back what its writes overwrote. `closing`: the
 * repair pass has begun and no entry may be added any more. The README's *Rule-change re-plan* has the argument.
 */
export interface ReplanMark {
  id: string;
  state: 'open' | 'closing';
  /** The holder's lease: past it, writers treat the type as free and a new run may take the mark. */
  leaseUntilMs: number;
  /** The rule version being re-planned. */
  ruleVersion: number;
}

/** What a writer of certificates of a type reads of it, consistently, before and after its write. */
export interface TypeWriteState {
  /**
   * The stored rule, read no earlier than the mark (undefined: the default, version 0); its re-plan
   * progress is left out, as it may be from an earlier read of the same version.
   */
  rule: ReminderRule | undefined;
  /** The mark while a re-plan holds the type (or until its lease lapses). */
  mark: ReplanMark | undefined;
  /** How many times a mark was taken for the type: a re-plan that began and ended between two reads changes it. */
  markSeq: number;
}

/** A certificate a writer stored while a re-plan held its type, as the writer wrote it. */
export interface ReplanJournalEntry {
  /** The entry's own id (for removal). */
  id: string;
  stored: StoredCertificate;
}

/** The stored certificate, and the version a re-plan put it at if its content is still what a re-plan wrote. */
export interface RepairRead {
  stored: StoredCertificate;
  replannedVersion: number | undefined;
}

/** Marks, journal and the writes a rule re-plan and the other writers of a type cooperate through. */
export interface ReplanMarks {
  /** Every type's state, consistently: one item per type, and the whole rule only when its version is new to this instance. */
  typeWriteStates(types: readonly string[]): Promise<Map<string, TypeWriteState>>;
  /** Takes the type's mark unless another run holds it with a live lease; undefined when refused. */
  acquireMark(type: string, ruleVersion: number, nowMs: number, leaseMs: number): Promise<ReplanMark | undefined>;
  /** Extends the lease while `id` still holds the mark open; false when it no longer does. */
  renewMark(type: string, id: string, nowMs: number, leaseMs: number): Promise<boolean>;
  /** Open → closing, while `id` holds it: after this no journal entry can be written under it. */
  closeMark(type: string, id: string): Promise<boolean>;
  /** Removes the mark if `id` still holds it. */
  releaseMark(type: string, id: string): Promise<void>;
  /** Journals `written` if `markId` still holds the type's mark open with a live lease at `nowMs`; false otherwise. */
  journal(type: string, markId: string, nowMs: number, written: readonly StoredCertificate[]): Promise<boolean>;
  /** Every journal entry of the type, of any run (a crashed run's included). */
  journalEntries(type: string): Promise<ReplanJournalEntry[]>;
  removeJournalEntries(type: string, ids: readonly string[]): Promise<void>;
  /** Whole certificates, stamped with the mark's id and their version: the re-plan's unconditional write. */
  putReplanned(items: readonly StoredCertificate[], markId: string): Promise<void>;
  /** A consistent read for a repair, with the re-plan stamp if the content is still a re-plan's. */
  readForRepair(key: CertificateKey): Promise<RepairRead | undefined>;
  /** Writes the whole certificate if it is still at `expectedVersion`; false when another writer got there first. */
  putCertificateIfVersion(stored: StoredCertificate, expectedVersion: number): Promise<boolean>;
}

/** The rules as currently stored, shared by every plan and send a process makes for a short while. */
export interface RuleSource {
  /** The type's current rule: the stored one, or the default (version 0). */
  ruleFor(type: string): Promise<ReminderRule>;
  /** Every stored rule by type, as cached (a type absent from it runs the default). */
  storedRules(): Promise<ReadonlyMap<string, ReminderRule>>;
  /** Forget the cached rules (after a change in this process). */
  invalidate(): void;
}

// ---- Campaigns ----------------------------------------------------------------------------------

/** One campaign SMS: exactly one per (visit, phone, kind). */
export interface CampaignMessageId {
  campaignId: string;
  visitId: string;
  phone: string;
  kind: string;
}

/** The ledger of campaign SMS: the same claim → send → record protocol, leases and records as `DeliveryLedger`. */
/** What the deliveries listing shows of a campaign message beyond its record: who may see it, and its phone's search hash. */
export interface CampaignMessageListing {
  /** The authority whose bureau sees it (campaignAuthority); operators see all. */
  authority?: string | undefined;
  phoneHash?: string | undefined;
}

export interface CampaignMessageLedger {
  /** `today`: a message the daily cap deferred on an earlier day may be claimed again (see DeliveryLedger.claim). */
  claimMessage(id: CampaignMessageId, token: string, leaseUntilMs: number, nowMs: number, today?: IsoDate): Promise<ClaimOutcome>;
  /** With `listing`, the message is on the deliveries listing too. */
  recordMessageSent(
    id: CampaignMessageId,
    token: string,
    sent: { messageId: string; sentAt: IsoInstant; to: string; body: string; segments: number },
    listing?: CampaignMessageListing,
  ): Promise<void>;
  /** With `refused`, the refusal is listed as failed, with the text that was refused. */
  recordMessageFailed(id: CampaignMessageId, token: string, reason: string, failedAt: IsoInstant, refused?: { body?: string | undefined; listing: CampaignMessageListing }): Promise<void>;
  releaseMessage(id: CampaignMessageId, token: string): Promise<void>;
  /** The daily cap held the message back on `deferredOn`: it is claimed again from the next day. */
  /** With `listing`, the deferral is on the deliveries listing too (`status=deferred`). */
  recordMessageDeferred(id: CampaignMessageId, token: string, deferredOn: IsoDate, at: IsoInstant, listing?: CampaignMessageListing): Promise<void>;
  /** Nothing was sent: the number is on our suppression list. A finished status, never claimed again. */
  recordMessageSuppressed(id: CampaignMessageId, token: string, at: IsoInstant, listing?: CampaignMessageListing): Promise<void>;
  getMessage(id: CampaignMessageId): Promise<DeliveryRecord | undefined>;
  /** Every message recorded for a visit (any kind, any status). */
  messagesOf(campaignId: string, visitId: string): Promise<Array<CampaignMessageId & DeliveryRecord>>;
}

/** Campaigns, their visits, invitations and booking codes. */
export interface CampaignStore {
  /** Stores a new campaign and its listing entry together. */
  createCampaign(campaign: Campaign): Promise<void>;
  getCampaign(id: string): Promise<Campaign | undefined>;
  /**
   * Writes an edited campaign (name, days before, notice template, who changed it) if it is still at
   * `expectedVersion`, as version `expectedVersion + 1`; false when another edit got there first.
   */
  saveCampaign(campaign: Campaign, expectedVersion: number): Promise<boolean>;
  /** Newest first. */
  listCampaigns(): Promise<Campaign[]>;
  createVisit(visit: Visit): Promise<void>;
  getVisit(campaignId: string, visitId: string): Promise<Visit | undefined>;
  listVisits(campaignId: string): Promise<Visit[]>;
  /**
   * Writes a move or a cancellation: date, place, slots, state and instants, if the visit is still at
   * `expectedVersion`; false when a booking or another change got there first (read again and retry).
   */
  saveVisit(visit: Visit, expectedVersion: number): Promise<boolean>;
  getInvitation(campaignId: string, visitId: string, phone: string): Promise<Invitation | undefined>;
  /** Stores the invitation unless one exists for the visit and phone; returns the one that is stored. */
  putInvitation(invitation: Invitation): Promise<Invitation>;
  invitationsOf(campaignId: string, visitId: string): Promise<Invitation[]>;
  /** Takes the code for (visit, phone) if no one in the campaign holds it; false when it is taken. */
  reserveBookingCode(record: BookingCodeRecord): Promise<boolean>;
  getBookingCode(campaignId: string, code: string): Promise<BookingCodeRecord | undefined>;
  /** Every booking of the campaign (each visit's are those with its `visitId`). */
  bookingsOf(campaignId: string): Promise<BookingRecord[]>;
}

/** Finds a visit's recipients through the township-and-type index: never the table, nor the whole township. */
export interface RecipientSource {
  /** Certificates of `type` in `township` expiring on or before `onOrBefore` (already expired ones included). */
  certificatesInTownshipOfType(township: string, type: string, onOrBefore: IsoDate): AsyncIterable<RecipientCertificate>;
}
