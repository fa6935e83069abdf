import type { DateTime } from 'luxon';
import { nextCapDayOpening } from '../../core/daily-cap.js';
import { nextSendableInstant } from '../../core/planning.js';
import type { SendWindow } from '../../core/model.js';
import type { CampaignJobKind, CampaignJobPayload } from '../../core/schedule-payloads.js';
import { scheduleName } from '../../core/schedule-names.js';
import type { CampaignScheduler } from './campaign-deps.js';

/** The schedule of one of a visit's jobs: the same visit and job always give the same name. */
export function campaignJobName(campaignId: string, visitId: string, job: CampaignJobKind): string {
  return scheduleName(`campaign-${job}`, `${campaignId}.${visitId}`);
}

function request(scheduler: CampaignScheduler, campaignId: string, visitId: string, job: CampaignJobKind, at: DateTime) {
  const payload = { kind: 'campaignJob', campaignId, visitId, job } as const satisfies CampaignJobPayload;
  return { name: campaignJobName(campaignId, visitId, job), at, payload, targetArn: scheduler.targetArn, roleArn: scheduler.roleArn, group: scheduler.group };
}

/** A new visit's notice and day-before reminder. */
export async function scheduleVisitJobs(scheduler: CampaignScheduler, campaignId: string, visitId: string, instants: { noticeAt: DateTime; reminderAt: DateTime }): Promise<void> {
  await scheduler.gateway.scheduleOnce(request(scheduler, campaignId, visitId, 'notice', instants.noticeAt));
  await scheduler.gateway.scheduleOnce(request(scheduler, campaignId, visitId, 'reminder', instants.reminderAt));
}

/** A moved visit's notice and reminder at their new instants (made anew if they already ran). */
export async function rescheduleVisitJobs(scheduler: CampaignScheduler, campaignId: string, visitId: string, instants: { noticeAt: DateTime; reminderAt: DateTime }): Promise<void> {
  await scheduler.gateway.reschedule(request(scheduler, campaignId, visitId, 'notice', instants.noticeAt));
  await scheduler.gateway.reschedule(request(scheduler, campaignId, visitId, 'reminder', instants.reminderAt));
}

/** One of a visit's jobs at a new instant (a campaign edit re-times only the jobs that have not run). */
export async function rescheduleVisitJob(scheduler: CampaignScheduler, campaignId: string, visitId: string, job: 'notice' | 'reminder', at: DateTime): Promise<void> {
  await scheduler.gateway.reschedule(request(scheduler, campaignId, visitId, job, at));
}

export async function cancelVisitJobs(scheduler: CampaignScheduler, campaignId: string, visitId: string): Promise<void> {
  await scheduler.gateway.cancel(campaignJobName(campaignId, visitId, 'notice'), scheduler.group);
  await scheduler.gateway.cancel(campaignJobName(campaignId, visitId, 'reminder'), scheduler.group);
}

/** The "moved" or "cancelled" SMS to booked holders, at `at` (the next sendable moment). */
export async function scheduleBookedHoldersJob(scheduler: CampaignScheduler, campaignId: string, visitId: string, job: 'moved' | 'cancelled', at: DateTime): Promise<void> {
  await scheduler.gateway.reschedule(request(scheduler, campaignId, visitId, job, at));
}

/** How long a job that stopped with messages unsent waits before it runs again (a claim held elsewhere, a throttled provider). */
export const CONTINUATION_DELAY_MINUTES = 10;

/**
 * A job that stopped with messages unsent runs again later, as a schedule of its own: at least
 * CONTINUATION_DELAY_MINUTES on, inside the send window (the next opening if it is closed). Its name
 * carries that instant, so a retried invocation finds the continuation it already made, and the rerun
 * sends only what is still unsent (every message is claimed before it is sent).
 */
export async function scheduleJobContinuation(
  scheduler: CampaignScheduler,
  payload: CampaignJobPayload,
  now: DateTime,
  window: SendWindow,
  options: { nextDay?: boolean } = {},
): Promise<DateTime> {
  // Only messages the daily cap held back: today they would be held back again, so the job waits for tomorrow's window.
  const earliest = options.nextDay === true ? nextCapDayOpening(now, window) : now.plus({ minutes: CONTINUATION_DELAY_MINUTES });
  const at = nextSendableInstant(earliest, window).startOf('minute');
  const name = scheduleName(`campaign-${payload.job}-again`, `${payload.campaignId}.${payload.visitId}.${at.toFormat('yyyyLLddHHmm')}`);
  await scheduler.gateway.scheduleOnce({ name, at, payload, targetArn: scheduler.targetArn, roleArn: scheduler.roleArn, group: scheduler.group });
  return at;
}
