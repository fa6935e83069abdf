import * as z from 'zod';
import { day, fieldError, instant } from './common.js';

const dateRange = z.object({ from: day, to: day });
/** A slot of a visit: its hours, its capacity and how many are booked on it. */
const slotContract = z.object({ number: z.number().int(), start: z.string(), end: z.string(), capacity: z.number().int(), booked: z.number().int() });
const township = z.object({ code: z.string(), nameZh: z.string() });
/** What sending one campaign SMS came to (a booking's confirmation, a reply's). */
export const sendOutcome = z.enum(['sent', 'alreadySent', 'inFlightElsewhere', 'retryLater', 'failed', 'suppressed', 'deferred']);

/** A campaign as `GET /v1/campaigns` lists it; `version` is what an edit sends back. */
export const campaignContract = z.object({
  id: z.string(),
  name: z.string(),
  types: z.array(z.string()),
  season: dateRange,
  blackouts: z.array(dateRange.extend({ reason: z.string() })),
  noticeDaysBefore: z.number().int(),
  reminderDaysBefore: z.number().int(),
  noticeTemplate: z.string(),
  reminderTemplate: z.string(),
  createdBy: z.string(),
  createdAt: instant,
  version: z.number().int(),
  changedBy: z.string().nullable(),
  changedAt: instant.nullable(),
  comment: z.string().nullable(),
});

export const campaignListContract = z.object({ campaigns: z.array(campaignContract) });

/** A visit with its slots and booking counts. */
export const visitContract = z.object({
  id: z.string(),
  township,
  date: day,
  place: z.string(),
  state: z.enum(['scheduled', 'moved', 'cancelled']),
  noticeAt: instant,
  reminderAt: instant,
  slots: z.array(slotContract),
  capacity: z.number().int(),
  booked: z.number().int(),
});

/** `GET /v1/campaigns/{id}`. */
export const campaignDetailContract = campaignContract.extend({ visits: z.array(visitContract) });

/** `POST /v1/campaigns` (201). */
export const campaignCreatedContract = z.object({ id: z.string() });

/** `POST /v1/campaigns/{id}/visits` (201): when its notice and reminder go out. */
export const visitAddedContract = z.object({ id: z.string(), noticeAt: instant, reminderAt: instant });

const changes = z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }));
const retimed = z.object({ notice: z.boolean(), reminder: z.boolean() });

/** `PATCH /v1/campaigns/{id}`: the new version, what changed, and each visit's jobs after it. */
export const campaignEditContract = z.object({
  id: z.string(),
  version: z.number().int(),
  changes,
  visits: z.array(z.object({ id: z.string(), noticeAt: instant, reminderAt: instant, retimed })),
});

/** `POST /v1/campaigns/{id}/preview`: what the edit would do; nothing is stored or scheduled. */
export const campaignEditPreviewContract = z.object({
  id: z.string(),
  version: z.number().int(),
  wouldSave: z.boolean(),
  stale: z.boolean(),
  changes,
  errors: z.array(fieldError),
  visits: z.array(
    z.object({
      id: z.string(),
      township,
      date: day,
      state: z.string(),
      noticeAt: instant,
      reminderAt: instant,
      noticeSent: z.boolean(),
      retimed,
      sample: z.object({ to: z.string(), code: z.string().nullable(), body: z.string(), length: z.number().int(), segments: z.number().int() }).nullable(),
      longestNotice: z.object({ length: z.number().int(), segments: z.number().int() }).nullable(),
      refused: z.array(fieldError),
    }),
  ),
});

/** `GET /v1/campaigns/{id}/report` (JSON): one row per visit, in date order. */
export const campaignReportContract = z.object({
  campaignId: z.string(),
  name: z.string(),
  visits: z.array(
    z.object({
      visitId: z.string(),
      township: z.string(),
      townshipName: z.string(),
      date: day,
      place: z.string(),
      state: z.enum(['scheduled', 'moved', 'cancelled']),
      invitedPhones: z.number().int(),
      notices: z.object({ sent: z.number().int(), failed: z.number().int() }),
      slots: z.array(slotContract),
      booked: z.number().int(),
      attended: z.number().int(),
      bookedWhenCancelled: z.number().int(),
      renewedAfter: z.number().int(),
    }),
  ),
});

/** `POST` (201 booked or moved, 200 unchanged) and `DELETE /v1/campaigns/{id}/bookings/…`: with the confirmation SMS's outcome. */
export const bookingContract = z.object({
  id: z.string(),
  visit: z.string(),
  slot: z.number().int(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  state: z.enum(['booked', 'cancelled']),
  movedFrom: z.number().int().optional(),
  confirmation: z.union([sendOutcome, z.literal('unchanged')]),
});

/** `POST /v1/campaigns/{id}/visits/{visit}/attendance`. */
export const attendanceContract = z.object({
  id: z.string(),
  visit: z.string(),
  slot: z.number().int(),
  attended: z.boolean().nullable(),
  recordedBy: z.string().nullable(),
  recordedAt: instant.nullable(),
});

export type CampaignAnswer = z.infer<typeof campaignContract>;
export type VisitAnswer = z.infer<typeof visitContract>;
export type BookingAnswer = z.infer<typeof bookingContract>;
