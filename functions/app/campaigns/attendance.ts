import type { Principal } from '../../core/access.js';
import type { Booking } from '../../core/campaigns/booking.js';
import type { BookingStore } from '../../core/campaigns/booking-ports.js';
import type { AuditLog, Clock, Logger } from '../../core/ports.js';
import { auditPrincipal, recordAudit } from '../audit.js';
import { BookingNotFound, normaliseCode } from './bookings.js';

export interface AttendanceDeps {
  bookings: BookingStore;
  clock: Clock;
  logger: Logger;
  audit?: AuditLog;
}

/** The code's booking is for another visit than the one staff are recording. */
export class AttendanceVisitMismatch extends Error {
  override readonly name = 'AttendanceVisitMismatch';
  constructor(code: string, visitId: string) {
    super(`预约码 ${code} 预约的不是本次上门服务（${visitId}），请核对 / booking code ${code} is booked for another visit than ${visitId}; check the code`);
  }
}

/**
 * Staff mark whether a booked holder came. Kept on the booking (the report counts it) and in the
 * audit trail, since it is a person's statement about a holder.
 */
export async function recordAttendance(
  deps: AttendanceDeps,
  principal: Principal,
  campaignId: string,
  visitId: string,
  request: { code: string; attended: boolean },
): Promise<Booking> {
  const code = normaliseCode(request.code);
  const current = await deps.bookings.getBooking(campaignId, code);
  if (current === undefined || current.state !== 'booked') throw new BookingNotFound(code);
  if (current.visitId !== visitId) throw new AttendanceVisitMismatch(code, visitId);
  const at = deps.clock.now().toUTC().toISO() ?? '';
  const updated = await deps.bookings.setAttendance(campaignId, code, { attended: request.attended, by: principal.subject, at });
  if (updated === undefined) throw new BookingNotFound(code);
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'campaign.attendance',
    target: `campaign/${campaignId}/visit/${visitId}/booking/${code}`,
    summary: `记录到场：预约码 ${code} 第${current.slot}场 ${request.attended ? '已到场' : '未到场'} / attendance: code ${code}, slot ${current.slot}, ${request.attended ? 'attended' : 'did not attend'}`,
    details: { campaignId, visitId, code, slot: current.slot, attended: request.attended },
  });
  return updated;
}
