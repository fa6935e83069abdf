import type { LedgerStatus } from '../delivery-status.js';

/**
 * What a campaign achieved, visit by visit: whom it invited, which notices went out, who booked which
 * slot, who came, and whose certificates were renewed afterwards. The bureau reads it as a table in
 * Excel, so the CSV carries Chinese headers and one row per visit.
 *
 * Pure: the report use case reads the items and the current certificates and passes them in.
 */
import { toExcelCsv } from '../csv.js';
import type { IsoDate } from '../model.js';

export interface ReportSlot {
  number: number;
  start: string;
  end: string;
  capacity: number;
}

export interface ReportVisit {
  id: string;
  township: string;
  /** The township's Chinese name, for the CSV; the code when unknown. */
  townshipName: string;
  date: IsoDate;
  place: string;
  state: 'scheduled' | 'moved' | 'cancelled';
  slots: readonly ReportSlot[];
}

/** A certificate as the invitation saw it when the notice was planned. */
export interface InvitedCertificate {
  type: string;
  number: string;
  /** Its expiry then, where the invitation kept it. */
  expiresOn?: IsoDate | null;
}

export interface ReportInvitation {
  visitId: string;
  phone: string;
  certificates: readonly InvitedCertificate[];
}

export interface ReportMessage {
  visitId: string;
  /** notice, reminder, confirmation#1…: only `notice` counts as a notice. */
  kind: string;
  /** A record's ledger status: `delivered` was sent (a receipt confirmed it). */
  status: LedgerStatus;
}

export interface ReportBooking {
  visitId: string;
  slot: number;
  state: 'booked' | 'cancelled';
  attended?: boolean;
}

export interface ReportInput {
  visits: readonly ReportVisit[];
  invitations: readonly ReportInvitation[];
  messages: readonly ReportMessage[];
  bookings: readonly ReportBooking[];
  /** Current expiry of each invited certificate, keyed `${type}#${number}`; a deleted one is absent. */
  currentExpiry: ReadonlyMap<string, IsoDate | null>;
  /**
   * The campaign's season end. A certificate was invited only while it expired on or before it, so
   * for an invitation that did not keep the expiry, a current expiry after it is a renewal since.
   */
  seasonEnd: IsoDate;
}

export interface SlotReport extends ReportSlot {
  booked: number;
}

export interface VisitReport {
  visitId: string;
  township: string;
  townshipName: string;
  date: IsoDate;
  place: string;
  state: ReportVisit['state'];
  invitedPhones: number;
  notices: { sent: number; failed: number };
  slots: SlotReport[];
  booked: number;
  attended: number;
  /**
   * A cancelled visit holds no live bookings (`booked`, `attended` and each slot's count are 0): its
   * holders were told by SMS and booked nowhere. This says how many bookings it held when cancelled.
   */
  bookedWhenCancelled: number;
  /**
   * Invited certificates whose expiry is now later than when the phone was invited: renewed since
   * (on the spot at the visit, or at the service desk after the notice).
   */
  renewedAfter: number;
}

/** One row per visit, in date order. */
export function campaignReport(input: ReportInput): VisitReport[] {
  return [...input.visits]
    .sort((a, b) => a.date.localeCompare(b.date) || a.id.localeCompare(b.id))
    .map((visit) => visitReport(visit, input));
}

function visitReport(visit: ReportVisit, input: ReportInput): VisitReport {
  const invitations = input.invitations.filter((i) => i.visitId === visit.id);
  const notices = input.messages.filter((m) => m.visitId === visit.id && m.kind === 'notice');
  const held = input.bookings.filter((b) => b.visitId === visit.id && b.state === 'booked');
  const cancelled = visit.state === 'cancelled';
  const bookings = cancelled ? [] : held;
  const slots = [...visit.slots]
    .sort((a, b) => a.number - b.number)
    .map((slot) => ({ ...slot, booked: bookings.filter((b) => b.slot === slot.number).length }));
  return {
    visitId: visit.id,
    township: visit.township,
    townshipName: visit.townshipName,
    date: visit.date,
    place: visit.place,
    state: visit.state,
    invitedPhones: new Set(invitations.map((i) => i.phone)).size,
    notices: {
      sent: notices.filter((m) => m.status === 'sent' || m.status === 'delivered').length,
      failed: notices.filter((m) => m.status === 'failed').length,
    },
    slots,
    booked: bookings.length,
    attended: bookings.filter((b) => b.attended === true).length,
    bookedWhenCancelled: cancelled ? held.length : 0,
    renewedAfter: renewedCount(invitations, input.currentExpiry, input.seasonEnd),
  };
}

function renewedCount(invitations: readonly ReportInvitation[], currentExpiry: ReadonlyMap<string, IsoDate | null>, seasonEnd: IsoDate): number {
  // A certificate invited twice (two phones on one licence) is one renewal, not two.
  const renewed = new Set<string>();
  for (const invitation of invitations) {
    for (const cert of invitation.certificates) {
      const key = `${cert.type}#${cert.number}`;
      const now = currentExpiry.get(key);
      const then = cert.expiresOn === undefined ? seasonEnd : cert.expiresOn;
      if (then !== null && typeof now === 'string' && now > then) renewed.add(key);
    }
  }
  return renewed.size;
}

const STATE_ZH: Readonly<Record<ReportVisit['state'], string>> = {
  scheduled: '已安排',
  moved: '已改期',
  cancelled: '已取消',
};

export const REPORT_CSV_HEADER = [
  '乡镇',
  '日期',
  '地点',
  '状态',
  '邀请户数',
  '通知已发送',
  '通知发送失败',
  '预约人数',
  '各场次预约（已约/名额）',
  '到场人数',
  '通知后已换证证照数',
] as const;

/** The report as Excel opens it: UTF-8 with a BOM, CRLF, one row per visit. */
export function campaignReportCsv(rows: readonly VisitReport[]): string {
  return toExcelCsv(
    REPORT_CSV_HEADER,
    rows.map((row) => [
      row.townshipName,
      row.date,
      row.place,
      STATE_ZH[row.state],
      row.invitedPhones,
      row.notices.sent,
      row.notices.failed,
      row.booked,
      row.state === 'cancelled'
        ? `已取消；取消时已有 ${row.bookedWhenCancelled} 人预约，已短信告知`
        : row.slots.map((s) => `第${s.number}场 ${s.start}-${s.end}：${s.booked}/${s.capacity}`).join('；'),
      row.attended,
      row.renewedAfter,
    ]),
  );
}
