import { DateTime } from 'luxon';
import { replanVisit, type CampaignEditPlan, type EditContext } from '../../core/campaigns/edit.js';
import type { Campaign, Visit } from '../../core/campaigns/model.js';
import type { CampaignDeps } from './campaign-deps.js';
import { CampaignConflict } from './manage-campaigns.js';
import { rescheduleVisitJob } from './visit-jobs.js';

/** One visit after a campaign edit: its instants, and which of its jobs were moved. */
export interface RetimedVisit {
  id: string;
  noticeAt: string;
  reminderAt: string;
  retimed: { notice: boolean; reminder: boolean };
}

/** A booking or a move may bump a visit's version between reading and re-timing it: read it again this often. */
const VISIT_WRITE_ATTEMPTS = 5;

export function editContext(deps: CampaignDeps): EditContext {
  return {
    now: deps.clock.now(),
    window: deps.settings.sendWindow,
    signature: deps.settings.signature,
    townshipName: (code) => deps.reference.townships.resolve(code)?.nameZh ?? code,
  };
}

/** Both days, as a saved edit that changed either leaves them: re-timing a visit to the campaign's days as they are. */
const DAYS_AS_SAVED = { noticeDaysBefore: { from: null, to: null }, reminderDaysBefore: { from: null, to: null } };

/**
 * Re-times the visits an edit saved but did not get to (their `timedFor` is behind the campaign's
 * `timingVersion`) to the campaign's days, each job that has not run as of `asOf` (default: now). Idempotent:
 * a visit timed already is not touched, and re-timing one twice gives the same instants.
 */
export async function finishRetiming(deps: CampaignDeps, campaign: Campaign, asOf?: DateTime): Promise<RetimedVisit[]> {
  const target = campaign.timingVersion;
  if (target === undefined) return [];
  const behind = (await deps.campaigns.store.listVisits(campaign.id)).filter((v) => (v.timedFor ?? 0) < target);
  if (behind.length === 0) return [];
  const context = { ...editContext(deps), ...(asOf !== undefined ? { now: asOf } : {}) };
  const plan = { next: { name: campaign.name, noticeDaysBefore: campaign.noticeDaysBefore, reminderDaysBefore: campaign.reminderDaysBefore }, changes: DAYS_AS_SAVED };
  const done: RetimedVisit[] = [];
  for (const visit of behind) done.push(await retimeVisit(deps, campaign.id, visit.id, plan, context, target));
  deps.logger.warn({ campaign: campaign.id, visits: done.map((v) => v.id), timingVersion: target }, 'finished re-timing the visits an earlier campaign edit left behind');
  return done;
}

/**
 * Moves a visit's jobs that have not run to the edited instants: the visit's own instants first, then its
 * schedules. With `timedFor`, the visit is marked timed for that version even when nothing moves, so no one
 * re-times it again.
 */
export async function retimeVisit(
  deps: CampaignDeps,
  campaignId: string,
  visitId: string,
  plan: Pick<CampaignEditPlan, 'next' | 'changes'>,
  context: EditContext,
  timedFor: number | undefined,
): Promise<RetimedVisit> {
  const { store, scheduler } = deps.campaigns;
  for (let attempt = 1; attempt <= VISIT_WRITE_ATTEMPTS; attempt += 1) {
    const visit = await store.getVisit(campaignId, visitId);
    if (visit === undefined) break;
    const next = replanVisit(visit, plan, context);
    // A visit moved meanwhile so close that the new days fall in the past keeps its instants; its move already timed them.
    const retimeNotice = next.retimeNotice && next.problems.every((p) => p.field !== 'noticeDaysBefore');
    const retime = { notice: retimeNotice, reminder: next.retimeReminder };
    const result = { id: visitId, noticeAt: retimeNotice ? next.noticeAt : visit.noticeAt, reminderAt: next.reminderAt, retimed: retime };
    const mark = timedFor !== undefined && (visit.timedFor ?? 0) < timedFor;
    if (!retime.notice && !retime.reminder && !mark) return result;
    const updated: Visit = { ...visit, noticeAt: result.noticeAt, reminderAt: result.reminderAt, updatedAt: deps.clock.now().toISO() ?? '', ...(mark ? { timedFor } : {}) };
    const saved = await store.saveVisit(updated, visit.version);
    if (!saved) continue;
    if (retime.notice) await rescheduleVisitJob(scheduler, campaignId, visitId, 'notice', DateTime.fromISO(result.noticeAt, { setZone: true }));
    if (retime.reminder) await rescheduleVisitJob(scheduler, campaignId, visitId, 'reminder', DateTime.fromISO(result.reminderAt, { setZone: true }));
    return result;
  }
  throw new CampaignConflict(
    `活动已保存，但上门服务 ${visitId} 一直在变化（预约或改期），其通知和提醒未能重排；请对该上门服务改期（PATCH）以按新天数重排 / the campaign is saved, but visit ${visitId} kept changing (bookings or a move) and its jobs were not re-timed: move the visit (PATCH /v1/campaigns/${campaignId}/visits/${visitId}) to time them with the new days`,
  );
}

