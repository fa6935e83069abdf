import type { Principal } from '../../core/access.js';
import { planCampaignEdit, replanVisit, type CampaignEditPlan, type EditContext } from '../../core/campaigns/edit.js';
import type { Campaign, RecipientCertificate, Visit } from '../../core/campaigns/model.js';
import { recipientsOf } from '../../core/campaigns/recipients.js';
import { DEFAULT_NOTICE_TEMPLATE, renderNotice, type RenderedCampaignSms } from '../../core/campaigns/texts.js';
import { PermanentSendError } from '../../core/errors.js';
import { TemplateError } from '../../core/templates.js';
import type { FieldError } from '../../core/rules.js';
import { maskPhone } from '../../core/phone.js';
import { DateTime } from 'luxon';
import { auditPrincipal, recordAudit } from '../audit.js';
import type { CampaignDeps } from './campaign-deps.js';
import { assertMayManage, campaignOf, CampaignConflict, CampaignRejected } from './manage-campaigns.js';
import { rescheduleVisitJob } from './visit-jobs.js';

/** A booking or a move may bump a visit's version between reading and re-timing it: read it again this often. */
const VISIT_WRITE_ATTEMPTS = 5;

function editContext(deps: CampaignDeps): EditContext {
  return {
    now: deps.clock.now(),
    window: deps.settings.sendWindow,
    signature: deps.settings.signature,
    townshipName: (code) => deps.reference.townships.resolve(code)?.nameZh ?? code,
  };
}

function staleMessage(campaign: Campaign, expected: number): string {
  return (
    `活动 ${campaign.id} 已是第 ${campaign.version} 版（你读到的是第 ${expected} 版），请重新读取后再改 / ` +
    `campaign ${campaign.id} is at version ${campaign.version}, not the ${expected} you read: read it again (GET /v1/campaigns/${campaign.id}) and reapply your change`
  );
}

async function planned(deps: CampaignDeps, principal: Principal, campaignId: string, body: unknown): Promise<{ campaign: Campaign; visits: Visit[]; plan: CampaignEditPlan }> {
  const campaign = await campaignOf(deps, campaignId);
  assertMayManage(deps, principal, campaign.types);
  const visits = await deps.campaigns.store.listVisits(campaignId);
  const checked = planCampaignEdit(body, campaign, visits, editContext(deps));
  if (!checked.ok) throw new CampaignRejected(checked.errors);
  return { campaign, visits, plan: checked.plan };
}

export interface CampaignEditResult {
  id: string;
  version: number;
  changes: CampaignEditPlan['changes'];
  visits: Array<{ id: string; noticeAt: string; reminderAt: string; retimed: { notice: boolean; reminder: boolean } }>;
}

/**
 * PATCH /v1/campaigns/{id}: `{expectedVersion, comment, name?, noticeDaysBefore?, reminderDaysBefore?, template?, reminderTemplate?}`.
 * Saves the campaign if it is still at `expectedVersion`, then re-times the notice and reminder jobs
 * that have not run yet. Messages not sent yet go out with the new templates: a job reads the
 * campaign's templates when it sends.
 */
export async function editCampaign(deps: CampaignDeps, principal: Principal, campaignId: string, body: unknown): Promise<CampaignEditResult> {
  const { campaign, plan } = await planned(deps, principal, campaignId, body);
  if (plan.stale) throw new CampaignConflict(staleMessage(campaign, plan.input.expectedVersion));
  if (plan.errors.length > 0) throw new CampaignRejected(plan.errors);
  const now = deps.clock.now();
  // The templates are taken from the plan: one sent back to the default is dropped, not kept.
  const { noticeTemplate: _notice, reminderTemplate: _reminder, ...unchanged } = campaign;
  const edited: Campaign = {
    ...unchanged,
    ...plan.next,
    version: campaign.version + 1,
    changedBy: principal.subject,
    changedAt: now.toISO() ?? '',
    comment: plan.input.comment,
  };
  if (!(await deps.campaigns.store.saveCampaign(edited, campaign.version))) {
    const current = (await deps.campaigns.store.getCampaign(campaignId)) ?? campaign;
    throw new CampaignConflict(staleMessage(current, plan.input.expectedVersion));
  }
  const visits: CampaignEditResult['visits'] = [];
  for (const visitPlan of plan.visits) {
    visits.push(await retimeVisit(deps, campaignId, visitPlan.visitId, plan));
  }
  const retimed = visits.filter((v) => v.retimed.notice || v.retimed.reminder);
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'campaign.edit',
    target: `campaign/${campaignId}`,
    summary:
      `修改活动 ${edited.name}：${Object.keys(plan.changes).join('、')}；重排 ${retimed.length} 个上门服务的通知/提醒（${plan.input.comment}） / ` +
      `campaign ${edited.name} edited: ${Object.keys(plan.changes).join(', ')}; ${retimed.length} visits re-timed (${plan.input.comment})`,
    details: { version: edited.version, comment: plan.input.comment, changes: plan.changes, retimed: retimed.map((v) => ({ visit: v.id, noticeAt: v.noticeAt, reminderAt: v.reminderAt, ...v.retimed })) },
  });
  return { id: campaignId, version: edited.version, changes: plan.changes, visits };
}

/** Moves a visit's jobs that have not run to the edited instants: the visit's own instants first, then its schedules. */
async function retimeVisit(deps: CampaignDeps, campaignId: string, visitId: string, plan: CampaignEditPlan): Promise<CampaignEditResult['visits'][number]> {
  const { store, scheduler } = deps.campaigns;
  for (let attempt = 1; attempt <= VISIT_WRITE_ATTEMPTS; attempt += 1) {
    const visit = await store.getVisit(campaignId, visitId);
    if (visit === undefined) break;
    const next = replanVisit(visit, plan, editContext(deps));
    // A visit moved meanwhile so close that the new days fall in the past keeps its instants; its move already timed them.
    const retimeNotice = next.retimeNotice && next.problems.every((p) => p.field !== 'noticeDaysBefore');
    const retime = { notice: retimeNotice, reminder: next.retimeReminder };
    const result = { id: visitId, noticeAt: retimeNotice ? next.noticeAt : visit.noticeAt, reminderAt: next.reminderAt, retimed: retime };
    if (!retime.notice && !retime.reminder) return result;
    const saved = await store.saveVisit({ ...visit, noticeAt: result.noticeAt, reminderAt: result.reminderAt, updatedAt: deps.clock.now().toISO() ?? '' }, visit.version);
    if (!saved) continue;
    if (retime.notice) await rescheduleVisitJob(scheduler, campaignId, visitId, 'notice', DateTime.fromISO(result.noticeAt, { setZone: true }));
    if (retime.reminder) await rescheduleVisitJob(scheduler, campaignId, visitId, 'reminder', DateTime.fromISO(result.reminderAt, { setZone: true }));
    return result;
  }
  throw new CampaignConflict(
    `活动已保存，但上门服务 ${visitId} 一直在变化（预约或改期），其通知和提醒未能重排；请对该上门服务改期（PATCH）以按新天数重排 / the campaign is saved, but visit ${visitId} kept changing (bookings or a move) and its jobs were not re-timed: move the visit (PATCH /v1/campaigns/${campaignId}/visits/${visitId}) to time them with the new days`,
  );
}

export interface VisitPreview {
  id: string;
  township: { code: string; nameZh: string };
  date: string;
  state: string;
  /** The instants after the edit; `noticeSent`: its notice job ran already, so the edit does not move or re-word it. */
  noticeAt: string;
  reminderAt: string;
  noticeSent: boolean;
  retimed: { notice: boolean; reminder: boolean };
  /** The notice as a real recipient of the visit would get it now (phone masked), or null when it has none. */
  sample: { to: string; code: string | null; body: string; length: number; segments: number } | null;
  /** The longest notice the visit can produce (a 6-character code, 99 machines). */
  longestNotice: { length: number; segments: number } | null;
  refused: FieldError[];
}

export interface CampaignEditPreview {
  id: string;
  version: number;
  /** What saving this body would do: `saved: false` with `errors` when it would be refused. */
  wouldSave: boolean;
  stale: boolean;
  changes: CampaignEditPlan['changes'];
  errors: FieldError[];
  visits: VisitPreview[];
}

/** POST /v1/campaigns/{id}/preview: the edit's body; stores and schedules nothing. */
export async function previewCampaignEdit(deps: CampaignDeps, principal: Principal, campaignId: string, body: unknown): Promise<CampaignEditPreview> {
  const { campaign, visits, plan } = await planned(deps, principal, campaignId, body);
  const errors = [...(plan.stale ? [{ field: 'expectedVersion', reason: staleMessage(campaign, plan.input.expectedVersion) }] : []), ...plan.errors];
  const template = plan.next.noticeTemplate ?? DEFAULT_NOTICE_TEMPLATE;
  const previews: VisitPreview[] = [];
  for (const visitPlan of plan.visits) {
    const visit = visits.find((v) => v.id === visitPlan.visitId);
    if (visit === undefined) continue;
    previews.push({
      id: visit.id,
      township: { code: visit.township, nameZh: visitPlan.townshipName },
      date: visit.date,
      state: visit.state,
      noticeAt: visitPlan.noticeAt,
      reminderAt: visitPlan.reminderAt,
      noticeSent: visitPlan.noticeDone,
      retimed: { notice: visitPlan.retimeNotice, reminder: visitPlan.retimeReminder },
      sample: visit.state === 'cancelled' ? null : await sampleNotice(deps, campaign, visit, template, visitPlan.townshipName),
      longestNotice: visitPlan.longestNotice,
      refused: visitPlan.problems,
    });
  }
  return { id: campaignId, version: campaign.version, wouldSave: errors.length === 0, stale: plan.stale, changes: plan.changes, errors, visits: previews };
}

/**
 * The notice rendered for the visit's recipient with the most machines (the longest `{count}`), with
 * the code the phone holds if it was invited already; otherwise a code is drawn when the notice is
 * sent, and a six-character stand-in (every code has six) takes its place.
 */
async function sampleNotice(deps: CampaignDeps, campaign: Campaign, visit: Visit, template: string, township: string): Promise<VisitPreview['sample']> {
  const found: RecipientCertificate[] = [];
  for (const type of campaign.types) {
    for await (const certificate of deps.campaigns.recipients.certificatesInTownshipOfType(visit.township, type, campaign.season.to)) found.push(certificate);
  }
  const recipients = recipientsOf(found, visit.township, campaign.season.to);
  const recipient = recipients.reduce<(typeof recipients)[number] | undefined>((best, r) => (best === undefined || r.certificates.length > best.certificates.length ? r : best), undefined);
  if (recipient === undefined) return null;
  const invitation = await deps.campaigns.store.getInvitation(campaign.id, visit.id, recipient.phone);
  let rendered: RenderedCampaignSms;
  try {
    rendered = renderNotice({
      signature: deps.settings.signature,
      template,
      township,
      date: visit.date,
      place: visit.place,
      slots: visit.slots,
      code: invitation?.code ?? 'XXXXXX',
      count: invitation?.count ?? recipient.certificates.length,
    });
  } catch (error) {
    // A template the check refuses (an unknown placeholder, longer than any SMS): `errors` says why.
    if (error instanceof TemplateError || error instanceof PermanentSendError) return null;
    throw error;
  }
  return { to: maskPhone(recipient.phone), code: invitation?.code ?? null, body: rendered.body, length: rendered.length, segments: rendered.segments };
}
