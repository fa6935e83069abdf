import type { DateTime } from 'luxon';
import type { Certificate, IsoInstant, Plan, StageName } from './model.js';

/** Business time. Use cases take `now` from here; the core takes it as an argument. */
export interface Clock {
  now(): DateTime;
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
}

export interface SmsReceipt {
  messageId: string;
}

/** Delivers one SMS. Throws `RetryableSendError` or `PermanentSendError` (see errors.ts). */
export interface SmsSender {
  send(message: SmsMessage): Promise<SmsReceipt>;
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
}

export interface CertificateQuery {
  township?: string;
  type?: string;
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
}

export interface DeliveryId {
  key: CertificateKey;
  expiresOn: string;
  stage: StageName;
}

export interface DeliveryRecord {
  status: 'claimed' | 'sent' | 'failed';
  claimToken?: string;
  leaseUntil?: number;
  messageId?: string;
  sentAt?: IsoInstant;
  attempts: number;
  reason?: string;
}

export type ClaimOutcome =
  | { claimed: true; attempts: number }
  | { claimed: false; existing: DeliveryRecord | undefined };

/**
 * The ledger of sends, one record per (certificate, expiry, stage).
 * claim → send → recordSent: the claim is a conditional write, so two scans never both send.
 */
export interface DeliveryLedger {
  claim(id: DeliveryId, token: string, leaseUntilMs: number, nowMs: number): Promise<ClaimOutcome>;
  recordSent(id: DeliveryId, token: string, sent: { messageId: string; sentAt: IsoInstant; to: string; body: string; segments: number }): Promise<void>;
  recordFailed(id: DeliveryId, token: string, reason: string): Promise<void>;
  /** Give a claim back so the next scan retries at once (a retryable failure before anything was sent). */
  release(id: DeliveryId, token: string): Promise<void>;
  get(id: DeliveryId): Promise<DeliveryRecord | undefined>;
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

/** One-off schedules: EventBridge Scheduler on AWS, an in-process timer locally. */
export interface ScheduleGateway {
  /** Idempotent: a schedule that already exists under this name is left as it is. */
  scheduleOnce(request: ScheduleOnceRequest): Promise<void>;
  /** Idempotent: cancelling a schedule that ran or never existed is not an error. */
  cancel(name: string, group: string): Promise<void>;
}
