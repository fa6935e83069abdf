/**
 * The domain vocabulary shared by the core, the use cases and the adapters.
 * Dates without a time (`IsoDate`, "YYYY-MM-DD") are calendar days in Asia/Shanghai;
 * instants (`IsoInstant`) are full ISO-8601 strings with an offset.
 */
export type IsoDate = string;
export type IsoInstant = string;

export const ZONE = 'Asia/Shanghai';

/** A length of time as the catalogue states it. Exactly one unit is present. */
export type Span = { days: number } | { months: number } | { workingDays: number };

export type RenewalWindow =
  | (Span & { semantics: 'atLeastBefore' | 'withinBefore'; note?: string })
  | { from: Span; to: Span; semantics: 'between'; note?: string }
  /** The key date is a deadline other than an expiry (construction permit start deadline). */
  | { beforeDeadline: true; semantics: 'atLeastBefore'; note?: string };

export type Confidence = 'high' | 'medium' | 'low';

/** The verb a reminder asks for (see `RENEWAL_ACTIONS` in the catalogue). */
export type RenewalAction = '延续' | '延期' | '换证' | '年检' | '校验' | '复审' | '定期检验' | '重新申请';

/** Where to go: the county service centre (named by the deployment), or the authority's own office. */
export type RenewalPlace = { at: 'serviceCentre' } | { at: 'office'; name: string };

export interface CertificateType {
  code: string;
  nameZh: string;
  nameEn: string;
  category: string;
  holderKind: 'enterprise' | 'individual' | 'project' | 'equipment' | 'institution';
  /** Stable code of the issuing authority, e.g. `market_regulation`. */
  authority: string;
  validity: unknown;
  validityNote?: string;
  keyDate?: string;
  /** The short name SMS texts use, at most 12 characters. */
  smsName: string;
  renewalWindow: RenewalWindow | null;
  /** What the research says the holder must do, in free text. */
  renewalNote: string;
  /** The verb of the reminder; `null` only when `reminders` is false. */
  renewalAction: RenewalAction | null;
  renewalPlace: RenewalPlace;
  /** `false` for a type with no expiry: its certificates carry no `expiresOn` (null) and nothing is planned. */
  reminders: boolean;
  legalBasis: string[];
  seasonal: boolean;
  confidence: Confidence;
  confidenceNote?: string;
}

export interface Authority {
  code: string;
  nameZh: string;
  nameEn: string;
}

export interface Township {
  code: string;
  nameZh: string;
  nameEn: string;
  pinyin: string;
  slug: string;
  aliases: string[];
}

export interface Certificate {
  type: string;
  number: string;
  holder: { name: string; id?: string };
  /** E.164, e.g. +8613900000001 */
  phone: string;
  /** Township code (NBS), e.g. 360732100 */
  township: string;
  issuedOn: IsoDate;
  /**
   * The last valid day; `null` for a certificate of a type without an expiry (`reminders: false`),
   * and only for those: a registration is stored so it can be listed and read, but has nothing to remind of.
   */
  expiresOn: IsoDate | null;
}

/**
 * A stage's name, as an operator's rule names it: lowercase letters, digits and `_`, at most 20
 * characters. The default rule's stages are `first`, `final` and `expired`.
 */
export type StageName = string;
export const STAGE_ORDER: readonly StageName[] = ['first', 'final', 'expired'];

/** The date a stage counts from. */
export const STAGE_ANCHORS = ['windowOpens', 'deadline', 'expiry'] as const;
export type StageAnchor = (typeof STAGE_ANCHORS)[number];

/**
 * When a stage goes out: an offset from its anchor in calendar days or working days (exactly one;
 * negative is before the anchor).
 */
export type StageTiming = { name: StageName; from: StageAnchor } & ({ days: number; workingDays?: undefined } | { workingDays: number; days?: undefined });

/** One stage of a reminder rule: its timing and its texts (see templates.ts). */
export type StageRule = StageTiming & {
  template: string;
  /** The text of a catch-up that goes out after the renewal deadline passed. */
  lateTemplate?: string | undefined;
};

export type StageStatus = 'pending' | 'sent' | 'skipped';

export interface PlannedStage {
  stage: StageName;
  /** The calendar day the stage is due, after moving it off non-working days. */
  date: IsoDate;
  /** The instant the stage becomes sendable: the send window's start on `date`, or later for a catch-up. */
  sendAt: IsoInstant;
  status: StageStatus;
  /** Why a stage is skipped, or `catchUp` for the single late-upload message. */
  note?: 'catchUp' | 'superseded' | 'passedBeforeUpload' | 'renewed' | 'suppressed' | typeof RULE_CHANGED_NOTE | typeof RULE_DISABLED_NOTE | typeof REVOKED_NOTE;
  messageId?: string;
  sentAt?: IsoInstant;
}

export interface Plan {
  /** `null` with no expiry: then `windowOpens` is null and `stages` is empty. */
  renewalDeadline: IsoDate | null;
  windowOpens: IsoDate | null;
  calendarProvisional: boolean;
  stages: PlannedStage[];
}

/** Local time of day "HH:mm" in Asia/Shanghai; `end` is exclusive. */
export interface SendWindow {
  start: string;
  end: string;
}

export interface StagePolicy {
  firstDaysBeforeDeadline: number;
  finalDaysBeforeDeadline: number;
  expiredDaysAfterExpiry: number;
}

export const DEFAULT_SEND_WINDOW: SendWindow = { start: '09:00', end: '20:00' };
export const DEFAULT_STAGE_POLICY: StagePolicy = {
  firstDaysBeforeDeadline: 30,
  finalDaysBeforeDeadline: 7,
  expiredDaysAfterExpiry: 1,
};

/** A stage a rule change added or moved to a time already past when the rule was saved: never sent late. */
export const RULE_CHANGED_NOTE = 'rule changed after its date';
/** A stage that fell due while its type's reminders were switched off. */
export const RULE_DISABLED_NOTE = 'reminders disabled for the type';
/** A pending stage of a certificate its bureau ended before its expiry (see core/revocation.ts). */
export const REVOKED_NOTE = 'certificate revoked';

/** One rejected record of a batch. `index` is 0-based in the submitted array. */
export interface Rejection {
  index: number;
  field: string;
  reason: string;
}
