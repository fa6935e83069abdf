import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { bookingCodeFrom } from '../../core/campaigns/codes.js';
import type { Campaign, Invitation, Recipient, RecipientCertificate, Visit } from '../../core/campaigns/model.js';
import { recipientsOf } from '../../core/campaigns/recipients.js';
import { DEFAULT_NOTICE_TEMPLATE, DEFAULT_REMINDER_TEMPLATE, renderCancelled, renderMoved, renderNotice, renderReminderForBooking } from '../../core/campaigns/texts.js';
import { nextCapDayOpening } from '../../core/daily-cap.js';
import { isInsideSendWindow } from '../../core/planning.js';
import { maskPhone } from '../../core/phone.js';
import { campaignJobPayloadSchema, type CampaignJobKind, type CampaignJobPayload } from '../../core/schedule-payloads.js';
import type { CampaignDeps } from './campaign-deps.js';
import { finishRetiming } from './retime-visits.js';
import { listedFor, sendCampaignMessage, type CampaignSendOutcome } from './send-campaign-message.js';

/** Recipients handled at once; sends are still paced by the SMS rate of the sender. */
const CONCURRENCY = 4;
/** Draws of a booking code before giving up: with 31^6 codes, a clash is already rare at a campaign's size. */
const MAX_CODE_DRAWS = 20;
/** A schedule may fire a little early (clock skew); earlier than this, it is not the visit's current one. */
const EARLY_TOLERANCE_MS = 60_000;

export interface CampaignJobResult {
  campaignId: string;
  visitId: string;
  job: CampaignJobKind;
  /**
   * `done`: every message is sent or settled, the job can go. `incomplete`: some are left for the next
   * run (outside the send window, a retryable failure, a claim held elsewhere). `notYet`: the visit's
   * instant for this job is later (it moved). `skipped`: nothing to do (no such visit, or cancelled).
   */
  outcome: 'done' | 'incomplete' | 'notYet' | 'skipped';
  reason?: string;
  /** Phones the job addresses: recipients of a notice, booked holders otherwise. */
  phones: number;
  sent: number;
  alreadySent: number;
  inFlightElsewhere: number;
  retryLater: number;
  failed: number;
  /** Phones on our suppression list (opted out): recorded `suppressed`, nothing sent. */
  suppressed: number;
  /** Phones whose processing hit an unexpected error (store unavailable…): left for the next run. */
  errors: number;
  /** Held back by the holder's daily cap: the job continues on the next day inside the send window. */
  deferred: number;
}

/**
 * Whether a job left only messages the daily cap held back: running it again today would only defer them
 * again, so it continues when the window opens on the next day, not every few minutes.
 */
export function onlyDeferredLeft(result: Pick<CampaignJobResult, 'retryLater' | 'inFlightElsewhere' | 'errors' | 'deferred'>): boolean {
  return result.deferred > 0 && result.retryLater + result.inFlightElsewhere + result.errors === 0;
}

/**
 * Runs one of a visit's jobs as of `now` (by default the clock's): the booking notice to every
 * recipient, the day-before reminder to booked holders, or the "moved"/"cancelled" SMS to them. Each
 * message goes out exactly once per (visit, phone, kind), so running a job again — a retry, a scan
 * after a crash, the local scheduler and a scan both — sends only what is still unsent.
 */
export async function runCampaignJob(deps: CampaignDeps, payload: CampaignJobPayload, now: DateTime = deps.clock.now()): Promise<CampaignJobResult> {
  const result: CampaignJobResult = {
    campaignId: payload.campaignId,
    visitId: payload.visitId,
    job: payload.job,
    outcome: 'done',
    phones: 0,
    sent: 0,
    alreadySent: 0,
    inFlightElsewhere: 0,
    retryLater: 0,
    failed: 0,
    suppressed: 0,
    errors: 0,
    deferred: 0,
  };
  const { store } = deps.campaigns;
  const campaign = await store.getCampaign(payload.campaignId);
  let visit = campaign === undefined ? undefined : await store.getVisit(payload.campaignId, payload.visitId);
  if (campaign === undefined || visit === undefined) return { ...result, outcome: 'skipped', reason: 'no such campaign or visit' };
  if (campaign.timingVersion !== undefined && (visit.timedFor ?? 0) < campaign.timingVersion) {
    // An edit saved new days but died before re-timing this visit: time it (and the others left behind) as of
    // just before this job was due, so its own job counts as not run yet. Moved later, it is not due now.
    const dueBefore = payload.job === 'notice' ? visit.noticeAt : payload.job === 'reminder' ? visit.reminderAt : undefined;
    const asOf = dueBefore === undefined ? now : DateTime.min(now, DateTime.fromISO(dueBefore, { setZone: true }).minus({ milliseconds: 1 }));
    await finishRetiming(deps, campaign, asOf);
    visit = await store.getVisit(payload.campaignId, payload.visitId);
    if (visit === undefined) return { ...result, outcome: 'skipped', reason: 'no such campaign or visit' };
  }
  const wantsCancelled = payload.job === 'cancelled';
  if ((visit.state === 'cancelled') !== wantsCancelled) return { ...result, outcome: 'skipped', reason: wantsCancelled ? 'the visit is not cancelled' : 'the visit is cancelled' };
  const dueAt = payload.job === 'notice' ? visit.noticeAt : payload.job === 'reminder' ? visit.reminderAt : undefined;
  if (dueAt !== undefined && now.toMillis() < Date.parse(dueAt) - EARLY_TOLERANCE_MS) return { ...result, outcome: 'notYet', reason: `due at ${dueAt}` };
  if (!isInsideSendWindow(now, deps.settings.sendWindow)) return { ...result, outcome: 'incomplete', reason: 'outside the send window' };

  const sends = payload.job === 'notice' ? await noticeSends(deps, campaign, visit, now) : await bookedHolderSends(deps, campaign, visit, payload.job);
  result.phones = sends.length;
  await forEachAtOnce(sends, CONCURRENCY, async (send) => {
    let outcome: CampaignSendOutcome | 'errors';
    try {
      outcome = await send(now);
    } catch (error) {
      deps.logger.error({ campaign: campaign.id, visit: visit.id, job: payload.job, err: (error as Error).message }, 'campaign message failed unexpectedly');
      outcome = 'errors';
    }
    result[outcome] += 1;
  });
  if (result.retryLater + result.inFlightElsewhere + result.errors + result.deferred > 0) result.outcome = 'incomplete';
  if (onlyDeferredLeft(result)) result.reason = 'deferred by the daily cap per phone';
  deps.logger.info({ campaignJob: result }, 'campaign job finished');
  return result;
}

type Send = (now: DateTime) => Promise<CampaignSendOutcome>;

function townshipName(deps: CampaignDeps, code: string): string {
  return deps.reference.townships.resolve(code)?.nameZh ?? code;
}

/** One send per recipient phone, each with the phone's invitation (made on first need, kept for a rerun). */
async function noticeSends(deps: CampaignDeps, campaign: Campaign, visit: Visit, now: DateTime): Promise<Send[]> {
  const found: RecipientCertificate[] = [];
  for (const type of campaign.types) {
    for await (const certificate of deps.campaigns.recipients.certificatesInTownshipOfType(visit.township, type, campaign.season.to)) found.push(certificate);
  }
  const township = townshipName(deps, visit.township);
  return recipientsOf(found, visit.township, campaign.season.to).map((recipient) => async (at: DateTime) => {
    const invitation = await invitationFor(deps, campaign, visit, recipient, now);
    return sendCampaignMessage(
      deps,
      { campaignId: campaign.id, visitId: visit.id, phone: recipient.phone, kind: 'notice' },
      () =>
        renderNotice({
          signature: deps.settings.signature,
          template: campaign.noticeTemplate ?? DEFAULT_NOTICE_TEMPLATE,
          township,
          date: visit.date,
          place: visit.place,
          slots: visit.slots,
          code: invitation.code,
          count: invitation.count,
        }),
      at,
      listedFor(deps, campaign),
    );
  });
}

/** The phone's invitation to the visit: the stored one, or a new one with a code no one else in the campaign holds. */
async function invitationFor(deps: CampaignDeps, campaign: Campaign, visit: Visit, recipient: Recipient, now: DateTime): Promise<Invitation> {
  const { store } = deps.campaigns;
  const stored = await store.getInvitation(campaign.id, visit.id, recipient.phone);
  if (stored !== undefined) return stored;
  const random = deps.randomBytes ?? ((size: number) => new Uint8Array(nodeRandomBytes(size)));
  for (let draw = 0; draw < MAX_CODE_DRAWS; draw += 1) {
    const code = bookingCodeFrom(random(6));
    if (!(await store.reserveBookingCode({ campaignId: campaign.id, code, visitId: visit.id, phone: recipient.phone }))) continue;
    // A code reserved by a run that died before this put is left unused; it still names this visit and phone.
    return store.putInvitation({
      campaignId: campaign.id,
      visitId: visit.id,
      phone: recipient.phone,
      code,
      certificates: recipient.certificates,
      count: recipient.certificates.length,
      createdAt: now.toISO() ?? '',
    });
  }
  throw new Error(`no free booking code for ${maskPhone(recipient.phone)} after ${MAX_CODE_DRAWS} draws`);
}

/** One send per booking of the visit: the day-before reminder, or the "moved"/"cancelled" SMS. */
async function bookedHolderSends(deps: CampaignDeps, campaign: Campaign, visit: Visit, job: Exclude<CampaignJobKind, 'notice'>): Promise<Send[]> {
  const { store } = deps.campaigns;
  const bookings = (await store.bookingsOf(campaign.id)).filter((b) => b.visitId === visit.id);
  const township = townshipName(deps, visit.township);
  // A holder told of one move is told of the next one too: each move is its own message.
  const kind = job === 'moved' ? `moved-${visit.moves ?? 1}` : job;
  return bookings.map((booking) => async (at: DateTime) => {
    const phone = booking.phone ?? (await store.getBookingCode(campaign.id, booking.code))?.phone;
    if (phone === undefined) throw new Error(`booking ${booking.bookingId} names code ${booking.code}, which is not stored`);
    const slot = visit.slots.find((s) => s.number === booking.slot);
    return sendCampaignMessage(
      deps,
      { campaignId: campaign.id, visitId: visit.id, phone, kind },
      () => {
        if (job === 'cancelled') return renderCancelled({ signature: deps.settings.signature, township, date: visit.date });
        if (slot === undefined) throw new Error(`booking ${booking.bookingId} is for slot ${booking.slot}, which the visit no longer has`);
        const input = { signature: deps.settings.signature, township, date: visit.date, place: visit.place, code: booking.code, slot };
        return job === 'reminder' ? renderReminderForBooking(input, campaign.reminderTemplate ?? DEFAULT_REMINDER_TEMPLATE) : renderMoved(input);
      },
      at,
      listedFor(deps, campaign),
    );
  });
}

async function forEachAtOnce<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface DueCampaignJobsResult {
  /** Jobs found due. */
  jobs: number;
  /** Jobs finished and removed. */
  done: number;
  /** Jobs kept for the next run (something left unsent, or not yet due after a move). */
  kept: number;
  sent: number;
  alreadySent: number;
  retryLater: number;
  failed: number;
  /** Messages the daily cap held back; their job was moved to the next day's window opening. */
  deferred: number;
  suppressed: number;
}

export function emptyDueCampaignJobsResult(): DueCampaignJobsResult {
  return { jobs: 0, done: 0, kept: 0, sent: 0, alreadySent: 0, retryLater: 0, failed: 0, deferred: 0, suppressed: 0 };
}

/**
 * Runs every stored job due by `now` (what the local scheduler holds), so a scan as of a chosen instant
 * moves time forward for campaigns too. A job that finished is removed; one with messages left stays
 * for the next run. On AWS no jobs are stored:
 * EventBridge Scheduler invokes `runCampaignJob` itself.
 */
export async function runDueCampaignJobs(deps: CampaignDeps, now: DateTime): Promise<DueCampaignJobsResult> {
  const result = emptyDueCampaignJobsResult();
  const { jobs } = deps.campaigns;
  if (jobs === undefined) return result;
  for (const job of await jobs.dueJobs(now)) {
    result.jobs += 1;
    const parsed = campaignJobPayloadSchema.safeParse(job.payload);
    if (!parsed.success) {
      deps.logger.error({ job: job.name, err: parsed.error.message }, 'stored job has an unknown payload; removed');
      await jobs.deleteJob(job.name, job.group, job.at);
      continue;
    }
    const run = await runCampaignJob(deps, parsed.data, now);
    result.sent += run.sent;
    result.alreadySent += run.alreadySent;
    result.retryLater += run.retryLater + run.inFlightElsewhere + run.errors;
    result.failed += run.failed;
    result.deferred += run.deferred;
    result.suppressed += run.suppressed;
    if (run.outcome === 'done' || run.outcome === 'skipped') {
      // Only this instant's job: a move while it ran stored the job anew, which must stay. A timer still
      // armed for it finds everything sent when it fires.
      await jobs.deleteJob(job.name, job.group, job.at);
      result.done += 1;
    } else {
      result.kept += 1;
      if (onlyDeferredLeft(run)) {
        // The same name replaces the stored job: it is due again when the window opens tomorrow, not at every scan today.
        await jobs.putJob({ ...job, at: nextCapDayOpening(now, deps.settings.sendWindow).toUTC().toISO() ?? job.at });
      }
    }
  }
  return result;
}
