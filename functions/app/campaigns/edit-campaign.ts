import type { Principal } from '../../core/access.js';
import { planCampaignEdit, type CampaignEditPlan } from '../../core/campaigns/edit.js';
import type { Campaign, RecipientCertificate, Visit } from '../../core/campaigns/model.js';
import { recipientsOf } from '../../core/campaigns/recipients.js';
import { DEFAULT_NOTICE_TEMPLATE, renderNotice, type RenderedCampaignSms } from '../../core/campaigns/texts.js';
import { PermanentSendError } from '../../core/errors.js';
import { TemplateError } from '../../core/templates.js';
import type { FieldError } from '../../core/rules.js';
import { maskPhone } from '../../core/phone.js';
import { auditPrincipal, recordAudit } from '../audit.js';
import type { CampaignDeps } from './campaign-deps.js';
import { assertMayManage, campaignOf, CampaignConflict, CampaignRejected } from './manage-campaigns.js';
import { editContext, finishRetiming, retimeVisit } from './retime-visits.js';

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
 *
 * Saving and re-timing are separate writes, so the saved campaign records the version its visits must be
 * timed for (`timingVersion`) and each re-timed visit the version it was timed for (`timedFor`). An edit
 * that died in between is finished by whatever comes next: this function (a retry of the same edit, answered
 * as the edit was, or any later edit, before it plans on the visits) or the visit's own job (runCampaignJob).
 */
export async function editCampaign(deps: CampaignDeps, principal: Principal, campaignId: string, body: unknown): Promise<CampaignEditResult> {
  const before = await campaignOf(deps, campaignId);
  assertMayManage(deps, principal, before.types);
  const resumed = await finishRetiming(deps, before);
  const { campaign, plan } = await planned(deps, principal, campaignId, body);
  if (plan.stale) {
    if (isRetryOf(campaign, plan, principal)) return { id: campaignId, version: campaign.version, changes: campaign.lastChanges ?? {}, visits: await visitsAfterRetry(deps, campaignId, resumed) };
    throw new CampaignConflict(staleMessage(campaign, plan.input.expectedVersion));
  }
  if (plan.errors.length > 0) throw new CampaignRejected(plan.errors);
  const now = deps.clock.now();
  const daysChanged = plan.changes.noticeDaysBefore !== undefined || plan.changes.reminderDaysBefore !== undefined;
  // The templates are taken from the plan: one sent back to the default is dropped, not kept.
  const { noticeTemplate: _notice, reminderTemplate: _reminder, ...unchanged } = campaign;
  const edited: Campaign = {
    ...unchanged,
    ...plan.next,
    version: campaign.version + 1,
    changedBy: principal.subject,
    changedAt: now.toISO() ?? '',
    comment: plan.input.comment,
    lastChanges: plan.changes,
    ...(daysChanged ? { timingVersion: campaign.version + 1 } : {}),
  };
  if (!(await deps.campaigns.store.saveCampaign(edited, campaign.version))) {
    const current = (await deps.campaigns.store.getCampaign(campaignId)) ?? campaign;
    throw new CampaignConflict(staleMessage(current, plan.input.expectedVersion));
  }
  // Audited as soon as it is saved: a process that dies while re-timing leaves the edit on the trail, and
  // the re-timing to whoever finishes it.
  const intended = plan.visits.filter((v) => v.retimeNotice || v.retimeReminder);
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'campaign.edit',
    target: `campaign/${campaignId}`,
    summary:
      `修改活动 ${edited.name}：${Object.keys(plan.changes).join('、')}；重排 ${intended.length} 个上门服务的通知/提醒（${plan.input.comment}） / ` +
      `campaign ${edited.name} edited: ${Object.keys(plan.changes).join(', ')}; ${intended.length} visits re-timed (${plan.input.comment})`,
    details: {
      version: edited.version,
      comment: plan.input.comment,
      changes: plan.changes,
      retimed: intended.map((v) => ({ visit: v.visitId, noticeAt: v.noticeAt, reminderAt: v.reminderAt, notice: v.retimeNotice, reminder: v.retimeReminder })),
    },
  });
  const visits: CampaignEditResult['visits'] = [];
  for (const visitPlan of plan.visits) {
    visits.push(await retimeVisit(deps, campaignId, visitPlan.visitId, plan, editContext(deps), edited.timingVersion));
  }
  return { id: campaignId, version: edited.version, changes: plan.changes, visits };
}

/**
 * The same edit sent again (a client retrying after a timeout or a crash): the stored campaign is the version
 * right after the one it names, saved by the same caller with the same comment, and the body changes nothing.
 */
function isRetryOf(campaign: Campaign, plan: CampaignEditPlan, principal: Principal): boolean {
  return (
    campaign.version === plan.input.expectedVersion + 1 &&
    campaign.changedBy === principal.subject &&
    campaign.comment === plan.input.comment &&
    Object.keys(plan.changes).length === 0
  );
}

/** A retry's answer: each visit as it is now, flagged re-timed where this request finished it. */
async function visitsAfterRetry(deps: CampaignDeps, campaignId: string, resumed: ReadonlyArray<CampaignEditResult['visits'][number]>): Promise<CampaignEditResult['visits']> {
  const visits = await deps.campaigns.store.listVisits(campaignId);
  return visits.map((visit) => resumed.find((r) => r.id === visit.id) ?? { id: visit.id, noticeAt: visit.noticeAt, reminderAt: visit.reminderAt, retimed: { notice: false, reminder: false } });
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
