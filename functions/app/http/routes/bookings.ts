import * as z from 'zod';
import { mayManageCampaign, type Principal } from '../../../core/access.js';
import type { BookingStore } from '../../../core/campaigns/booking-ports.js';
import type { Campaign } from '../../../core/campaigns/model.js';
import { campaignReportCsv } from '../../../core/campaigns/report.js';
import { auditPrincipal, recordAudit } from '../../audit.js';
import { AttendanceVisitMismatch, recordAttendance } from '../../campaigns/attendance.js';
import { confirmBooking } from '../../campaigns/booking-messages.js';
import { BookingContended, BookingNotFound, BookingRefused, bookSlot, cancelBooking, UnknownBookingCode, type BookingResult } from '../../campaigns/bookings.js';
import type { CampaignDeps } from '../../campaigns/campaign-deps.js';
import { CampaignNotFound } from '../../campaigns/manage-campaigns.js';
import { buildCampaignReport } from '../../campaigns/campaign-report.js';
import type { HttpAppDeps, Route } from '../app.js';
import { HttpError, reply, type HttpResponse } from '../http.js';
import type { attendanceContract, bookingContract, campaignReportContract } from '../../../contracts/api/campaigns.js';
import { parseJsonBody, parseWith } from '../parse.js';

const idParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/u, 'an id of letters, digits, - and _');
/** Codes as people type them (full width, lower case) are folded by the use case; the shape is checked here. */
const codeField = z.string().trim().min(1, 'the booking code from the notice SMS, e.g. K7M2XP').max(20);
const bookingRequest = z.strictObject({
  code: codeField,
  slot: z.number().int('a slot number, e.g. 2').min(1, 'slots are numbered from 1'),
});
const attendanceRequest = z.strictObject({ code: codeField, attended: z.boolean() });
const reportQuery = z.object({ format: z.enum(['json', 'csv']).default('json') });

type BookingRouteDeps = HttpAppDeps & Pick<CampaignDeps, 'campaigns'> & { bookings: BookingStore };

export function bookingRouteDeps(deps: HttpAppDeps): BookingRouteDeps {
  if (deps.campaigns === undefined || deps.bookings === undefined) throw new HttpError(404, 'not_found', 'campaigns are not kept in this deployment');
  return { ...deps, campaigns: deps.campaigns, bookings: deps.bookings };
}

async function campaignOf(deps: BookingRouteDeps, params: string[]): Promise<Campaign> {
  const id = parseWith(idParam, params[0] ?? '', 'campaign id');
  const campaign = await deps.campaigns.store.getCampaign(id);
  if (campaign === undefined) throw new HttpError(404, 'not_found', `没有活动 ${id} / no campaign ${id}`);
  return campaign;
}

/** The campaign, if the caller may change its bookings and attendance (operators; a bureau issuing all its types). */
async function managedCampaign(deps: BookingRouteDeps, params: string[], principal: Principal): Promise<Campaign> {
  const campaign = await campaignOf(deps, params);
  const types = campaign.types.map((code) => ({ code, authority: deps.reference.catalogue.get(code)?.authority ?? '' }));
  const decision = mayManageCampaign(principal, types);
  if (!decision.allowed) throw new HttpError(403, 'forbidden', decision.reason);
  return campaign;
}

/** The use cases' refusals as HTTP answers. */
async function answering(work: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UnknownBookingCode || error instanceof BookingNotFound || error instanceof CampaignNotFound) {
      throw new HttpError(404, 'not_found', error.message);
    }
    if (error instanceof BookingRefused) {
      const { refusal } = error;
      if (refusal.reason === 'unknownSlot') throw new HttpError(400, 'unknown_slot', error.message, { slots: refusal.slots });
      if (refusal.reason === 'full') throw new HttpError(409, 'slot_full', error.message, { slotsWithRoom: refusal.rooms });
      throw new HttpError(409, refusal.reason === 'visitCancelled' ? 'visit_cancelled' : 'visit_past', error.message);
    }
    if (error instanceof AttendanceVisitMismatch) throw new HttpError(409, 'other_visit', error.message);
    if (error instanceof BookingContended) throw new HttpError(503, 'contended', error.message);
    throw error;
  }
}

function bookingView(result: BookingResult) {
  const slot = result.visit.slots.find((s) => s.number === result.booking.slot);
  return { id: result.booking.bookingId, visit: result.visit.id, slot: result.booking.slot, start: slot?.start ?? null, end: slot?.end ?? null, state: result.booking.state };
}

export const bookingRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/campaigns\/([^/]+)\/bookings$/,
    access: 'manageCampaigns',
    handler: async (req, params, deps, principal) =>
      answering(async () => {
        const campaigns = bookingRouteDeps(deps);
        const campaign = await managedCampaign(campaigns, params, principal);
        const request = parseWith(bookingRequest, parseJsonBody(req), 'booking');
        const now = deps.clock.now();
        const result = await bookSlot(campaigns, campaign.id, request, now);
        const confirmation = result.changed ? await confirmBooking(campaigns, result, now) : 'unchanged';
        if (result.changed) {
          await recordAudit(deps, auditPrincipal(principal), {
            action: 'campaign.booking',
            target: `campaign/${campaign.id}/booking/${result.booking.bookingId}`,
            summary: `${result.movedFrom !== undefined ? `改约第${result.movedFrom}场为` : '预约'}第${result.booking.slot}场（${result.visit.date}） / ${result.movedFrom !== undefined ? `moved from slot ${result.movedFrom} to` : 'booked'} slot ${result.booking.slot} on ${result.visit.date}`,
            details: { campaignId: campaign.id, visitId: result.visit.id, slot: result.booking.slot, ...(result.movedFrom !== undefined ? { movedFrom: result.movedFrom } : {}) },
          });
        }
        return reply<typeof bookingContract>(result.changed ? 201 : 200, { ...bookingView(result), ...(result.movedFrom !== undefined ? { movedFrom: result.movedFrom } : {}), confirmation });
      }),
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/campaigns\/([^/]+)\/bookings\/([^/]+)$/,
    access: 'manageCampaigns',
    handler: async (_req, params, deps, principal) =>
      answering(async () => {
        const campaigns = bookingRouteDeps(deps);
        const campaign = await managedCampaign(campaigns, params, principal);
        const bookingId = parseWith(codeField, params[1] ?? '', 'booking id');
        const now = deps.clock.now();
        const result = await cancelBooking(campaigns, campaign.id, bookingId, now);
        const confirmation = await confirmBooking(campaigns, result, now);
        await recordAudit(deps, auditPrincipal(principal), {
          action: 'campaign.bookingCancelled',
          target: `campaign/${campaign.id}/booking/${result.booking.bookingId}`,
          summary: `取消预约第${result.booking.slot}场（${result.visit.date}） / cancelled the booking of slot ${result.booking.slot} on ${result.visit.date}`,
          details: { campaignId: campaign.id, visitId: result.visit.id, slot: result.booking.slot },
        });
        return reply<typeof bookingContract>(200, { ...bookingView(result), confirmation });
      }),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/campaigns\/([^/]+)\/visits\/([^/]+)\/attendance$/,
    access: 'manageCampaigns',
    handler: async (req, params, deps, principal) =>
      answering(async () => {
        const campaigns = bookingRouteDeps(deps);
        const campaign = await managedCampaign(campaigns, params, principal);
        const visitId = parseWith(idParam, params[1] ?? '', 'visit id');
        const request = parseWith(attendanceRequest, parseJsonBody(req), 'attendance');
        const booking = await recordAttendance(campaigns, principal, campaign.id, visitId, request);
        return reply<typeof attendanceContract>(200, { id: booking.bookingId, visit: booking.visitId, slot: booking.slot, attended: booking.attended ?? null, recordedBy: booking.attendanceBy ?? null, recordedAt: booking.attendanceAt ?? null });
      }),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/campaigns\/([^/]+)\/report$/,
    access: 'readCampaigns',
    handler: async (req, params, deps) =>
      answering(async () => {
        const campaigns = bookingRouteDeps(deps);
        const campaign = await campaignOf(campaigns, params);
        const { format } = parseWith(reportQuery, req.query, 'query');
        const report = await buildCampaignReport(campaigns, campaign.id);
        if (format === 'json') return reply<typeof campaignReportContract>(200, report);
        return {
          status: 200,
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="campaign-${campaign.id}-report.csv"`,
          },
          body: campaignReportCsv(report.visits),
        };
      }),
  },
];
