/**
 * Seasonal farm-machinery campaigns: the bureau visits townships door to door (上门服务) and tells the
 * holders of expiring certificates there to book a slot. Dates are Asia/Shanghai calendar days,
 * times of day `HH:mm` in Asia/Shanghai, instants ISO-8601 with an offset (see ../model.ts).
 */
import type { IsoDate, IsoInstant } from '../model.js';

export interface DateRange {
  from: IsoDate;
  /** Inclusive. */
  to: IsoDate;
}

/** Days in the season when no visit may be held (spring transplanting, 双抢). */
export interface Blackout extends DateRange {
  reason: string;
}

/** What an operator (or the agriculture bureau) asks for when creating a campaign. */
export interface CampaignDefinition {
  name: string;
  /** Catalogue codes, e.g. `farm_machine_annual_inspection`. */
  types: string[];
  season: DateRange;
  blackouts: Blackout[];
  /** The booking notice goes out this many days before a visit (default 14). */
  noticeDaysBefore: number;
  /** Booked holders are reminded this many days before a visit (default 1). */
  reminderDaysBefore: number;
  /** The notice text with the placeholders of `NOTICE_PLACEHOLDERS`; absent: `DEFAULT_NOTICE_TEMPLATE`. */
  noticeTemplate?: string;
  /** The day-before reminder with the placeholders of `REMINDER_PLACEHOLDERS`; absent: `DEFAULT_REMINDER_TEMPLATE`. Set by an edit. */
  reminderTemplate?: string;
}

export interface Campaign extends CampaignDefinition {
  id: string;
  createdBy: string;
  createdAt: IsoInstant;
  /** Increases on every write of the campaign item. */
  version: number;
  /** The last edit (PATCH /v1/campaigns/{id}): who, when and why; absent until the first. */
  changedBy?: string;
  changedAt?: IsoInstant;
  comment?: string;
  /**
   * The version of the last edit that changed the notice or reminder days: every visit's instants must be timed
   * for it (`Visit.timedFor`). An edit that died before re-timing every visit leaves some behind; the next edit,
   * a retry of the same edit or the visit's own job finishes them (see app/campaigns/edit-campaign.ts).
   */
  timingVersion?: number;
  /** What the last edit changed, so that a retry of it is answered as the edit was. */
  lastChanges?: Record<string, { from: unknown; to: unknown }>;
}

export interface SlotDefinition {
  /** `HH:mm`, Asia/Shanghai. */
  start: string;
  /** `HH:mm`, exclusive: a slot 09:00–10:00 and one 10:00–11:00 do not overlap. */
  end: string;
  capacity: number;
}

/** A slot as stored: numbered from 1 in time order (holders book by this number), with its bookings. */
export interface Slot extends SlotDefinition {
  number: number;
  /** Bookings held in the slot; bookings keep it (see keys.ts), a visit's move carries it over. */
  booked: number;
}

export type VisitState = 'scheduled' | 'moved' | 'cancelled';

export interface Visit {
  campaignId: string;
  id: string;
  /** Township code (NBS), resolved from a code, name or alias when the visit was created. */
  township: string;
  date: IsoDate;
  place: string;
  slots: Slot[];
  state: VisitState;
  /** When the booking notice goes out, and the day-before reminder. */
  noticeAt: IsoInstant;
  reminderAt: IsoInstant;
  /** How many times the visit was moved; each move's SMS to booked holders is its own message. */
  moves?: number;
  /** The campaign's `timingVersion` its instants were timed for; behind it, an edit's re-timing is still to finish. */
  timedFor?: number;
  createdAt: IsoInstant;
  updatedAt: IsoInstant;
  /** Increases on every write of the visit item (moves and bookings alike). */
  version: number;
}

/** The kinds of SMS a campaign sends; exactly one of each per (visit, phone). */
export type CampaignMessageKind = 'notice' | 'reminder' | 'moved' | 'cancelled' | 'confirmation' | (string & {});

/** A phone invited to a visit: its booking code and the certificates that made it a recipient. */
export interface Invitation {
  campaignId: string;
  visitId: string;
  /** E.164, as the certificates store it. */
  phone: string;
  /** Unique within the campaign (see `bookingCode`). */
  code: string;
  /**
   * `expiresOn`: the expiry when the phone was invited, where the invitation keeps it; the report
   * counts a later current expiry as a renewal since the notice.
   */
  certificates: Array<{ type: string; number: string; expiresOn?: IsoDate }>;
  /** Machines (certificates) the notice names. */
  count: number;
  createdAt: IsoInstant;
}

/** A booking code's owner, so that a reply or a web booking finds the visit and the phone. */
export interface BookingCodeRecord {
  campaignId: string;
  code: string;
  visitId: string;
  phone: string;
}

/** One booking as read back by the reminder job and the views; bookings are written by the booking use case. */
export interface BookingRecord {
  campaignId: string;
  code: string;
  visitId: string;
  /** The slot's number. */
  slot: number;
  bookingId: string;
  /** The holder's phone, where the booking keeps it; otherwise it is the code's. */
  phone?: string;
  attended?: boolean;
  at: IsoInstant;
}

/** A certificate that may make its phone a recipient of a visit's notice. */
export interface RecipientCertificate {
  type: string;
  number: string;
  phone: string;
  township: string;
  expiresOn: IsoDate;
}

/** One phone to notify, with the certificates it holds of the campaign's types. */
export interface Recipient {
  phone: string;
  /** With the expiry each had when found, which the invitation keeps (the report's renewals). */
  certificates: Array<{ type: string; number: string; expiresOn: IsoDate }>;
}
