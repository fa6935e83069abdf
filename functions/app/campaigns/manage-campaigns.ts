import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mayManageCampaign, type Principal } from '../../core/access.js';
import type { Campaign, Slot, Visit } from '../../core/campaigns/model.js';
import { DEFAULT_NOTICE_TEMPLATE, DEFAULT_REMINDER_TEMPLATE } from '../../core/campaigns/texts.js';
import { visitInstants } from '../../core/campaigns/timing.js';
import { checkCampaign, checkVisit, checkVisitMove, type CheckedVisit, type FieldError, type VisitContext } from '../../core/campaigns/validation.js';
import { nextSendableInstant, todayIn } from '../../core/planning.js';
import { auditPrincipal, recordAudit } from '../audit.js';
import type { CampaignDeps } from './campaign-deps.js';
import { cancelVisitJobs, rescheduleVisitJobs, scheduleBookedHoldersJob, scheduleVisitJobs } from './visit-jobs.js';

/** The request was refused; each problem names its field (`{errors:[{field, reason}]}`). */
export class CampaignRejected extends Error {
  override readonly name = 'CampaignRejected';
  constructor(readonly errors: FieldError[]) {
    super(`未保存 / not saved: ${errors.map((e) => `${e.field || '(body)'}: ${e.reason}`).join('; ')}`);
  }
}

export class CampaignNotFound extends Error {
  override readonly name = 'CampaignNotFound';
}

/** The caller may not manage this campaign (a bureau that does not issue all of its types). */
export class CampaignForbidden extends Error {
  override readonly name = 'CampaignForbidden';
}

/** The visit changed meanwhile, or cannot change this way (cancelled, slots holding bookings). */
export class CampaignConflict extends Error {
  override readonly name = 'CampaignConflict';
}

function randomId(deps: CampaignDeps, prefix: string, bytes: number): string {
  const random = deps.randomBytes ?? ((size: number) => new Uint8Array(nodeRandomBytes(size)));
  return `${prefix}${Buffer.from(random(bytes)).toString('hex')}`;
}

function typesOf(deps: CampaignDeps, codes: readonly string[]): Array<{ code: string; authority: string }> {
  return codes.flatMap((code) => {
    const type = deps.reference.catalogue.get(code);
    return type === undefined ? [] : [{ code, authority: type.authority }];
  });
}

export function assertMayManage(deps: CampaignDeps, principal: Principal, types: readonly string[]): void {
  const decision = mayManageCampaign(principal, typesOf(deps, types));
  if (!decision.allowed) throw new CampaignForbidden(decision.reason);
}

export async function createCampaign(deps: CampaignDeps, principal: Principal, body: unknown): Promise<Campaign> {
  const checked = checkCampaign(body, (code) => deps.reference.catalogue.get(code));
  if (!checked.ok) throw new CampaignRejected(checked.errors);
  assertMayManage(deps, principal, checked.value.types);
  const now = deps.clock.now();
  const campaign: Campaign = { ...checked.value, id: randomId(deps, 'cmp_', 6), createdBy: principal.subject, createdAt: now.toISO() ?? '', version: 1 };
  await deps.campaigns.store.createCampaign(campaign);
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'campaign.create',
    target: `campaign/${campaign.id}`,
    summary: `创建上门服务活动 ${campaign.name}（${campaign.season.from} 至 ${campaign.season.to}） / campaign ${campaign.name} created`,
    details: { types: campaign.types, season: campaign.season, noticeDaysBefore: campaign.noticeDaysBefore, reminderDaysBefore: campaign.reminderDaysBefore },
  });
  return campaign;
}

export async function campaignOf(deps: CampaignDeps, id: string): Promise<Campaign> {
  const campaign = await deps.campaigns.store.getCampaign(id);
  if (campaign === undefined) throw new CampaignNotFound(`没有活动 ${id} / no campaign ${id}`);
  return campaign;
}

async function visitOf(deps: CampaignDeps, campaignId: string, visitId: string): Promise<Visit> {
  const visit = await deps.campaigns.store.getVisit(campaignId, visitId);
  if (visit === undefined) throw new CampaignNotFound(`活动 ${campaignId} 没有上门服务 ${visitId} / campaign ${campaignId} has no visit ${visitId}`);
  return visit;
}

function visitContext(deps: CampaignDeps, campaign: Campaign): VisitContext {
  return {
    campaign,
    today: todayIn(deps.clock.now()),
    townships: (input) => deps.reference.townships.resolve(input),
    signature: deps.settings.signature,
  };
}

function instantsOf(deps: CampaignDeps, campaign: Campaign, date: string) {
  return visitInstants(date, campaign, deps.settings.sendWindow, deps.clock.now());
}

export async function addVisit(deps: CampaignDeps, principal: Principal, campaignId: string, body: unknown): Promise<Visit> {
  const campaign = await campaignOf(deps, campaignId);
  assertMayManage(deps, principal, campaign.types);
  const checked = checkVisit(body, visitContext(deps, campaign));
  if (!checked.ok) throw new CampaignRejected(checked.errors);
  const now = deps.clock.now();
  const instants = instantsOf(deps, campaign, checked.value.date);
  const at = now.toISO() ?? '';
  const visit: Visit = {
    campaignId,
    id: randomId(deps, 'vis_', 5),
    township: checked.value.township.code,
    date: checked.value.date,
    place: checked.value.place,
    slots: checked.value.slots.map((slot) => ({ ...slot, booked: 0 })),
    state: 'scheduled',
    noticeAt: instants.noticeAt.toISO() ?? '',
    reminderAt: instants.reminderAt.toISO() ?? '',
    ...(campaign.timingVersion !== undefined ? { timedFor: campaign.timingVersion } : {}),
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  // Stored before it is scheduled: a job that fires at once (a visit less than noticeDaysBefore away) finds it.
  await deps.campaigns.store.createVisit(visit);
  await scheduleVisitJobs(deps.campaigns.scheduler, campaignId, visit.id, instants);
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'campaign.visit.add',
    target: `campaign/${campaignId}/visit/${visit.id}`,
    summary: `${checked.value.township.nameZh} ${visit.date} 上门服务（${visit.place}，${visit.slots.length} 场） / visit to ${checked.value.township.nameZh} on ${visit.date} added`,
    details: { township: visit.township, date: visit.date, place: visit.place, slots: visit.slots.length, noticeAt: visit.noticeAt, reminderAt: visit.reminderAt },
  });
  return visit;
}

/**
 * New slots keep the bookings of the slots with the same number. A move may not drop a slot that holds
 * bookings, nor give it fewer places than it has booked: those holders would be left without a slot.
 */
function carryBookings(current: readonly Slot[], next: CheckedVisit['slots']): { slots: Slot[]; problems: string[] } {
  const problems: string[] = [];
  const slots = next.map((slot) => ({ ...slot, booked: current.find((c) => c.number === slot.number)?.booked ?? 0 }));
  for (const old of current) {
    if (old.booked === 0) continue;
    const kept = slots.find((s) => s.number === old.number);
    if (kept === undefined) problems.push(`第${old.number}场已有 ${old.booked} 人预约，不能删除 / slot ${old.number} holds ${old.booked} bookings and cannot be removed`);
    else if (kept.capacity < old.booked) problems.push(`第${old.number}场已有 ${old.booked} 人预约，名额不能少于此数 / slot ${old.number} holds ${old.booked} bookings; its capacity cannot go below that`);
  }
  return { slots, problems };
}

export async function moveVisit(deps: CampaignDeps, principal: Principal, campaignId: string, visitId: string, body: unknown): Promise<Visit> {
  const campaign = await campaignOf(deps, campaignId);
  assertMayManage(deps, principal, campaign.types);
  const visit = await visitOf(deps, campaignId, visitId);
  if (visit.state === 'cancelled') throw new CampaignConflict(`上门服务 ${visitId} 已取消，不能再改期 / visit ${visitId} is cancelled and cannot be moved`);
  const township = deps.reference.townships.resolve(visit.township) ?? { code: visit.township, nameZh: visit.township };
  const checked = checkVisitMove(body, visit, township, visitContext(deps, campaign));
  if (!checked.ok) throw new CampaignRejected(checked.errors);
  const { slots, problems } = carryBookings(visit.slots, checked.value.slots);
  if (problems.length > 0) throw new CampaignConflict(problems.join('; '));
  const now = deps.clock.now();
  const instants = instantsOf(deps, campaign, checked.value.date);
  const moved: Visit = {
    ...visit,
    date: checked.value.date,
    place: checked.value.place,
    slots,
    state: 'moved',
    noticeAt: instants.noticeAt.toISO() ?? '',
    reminderAt: instants.reminderAt.toISO() ?? '',
    moves: (visit.moves ?? 0) + 1,
    updatedAt: now.toISO() ?? '',
    // Timed with the campaign's days as they are now.
    ...(campaign.timingVersion !== undefined ? { timedFor: campaign.timingVersion } : {}),
  };
  if (!(await deps.campaigns.store.saveVisit(moved, visit.version))) {
    throw new CampaignConflict(`上门服务 ${visitId} 刚被修改（或有新的预约），请重新读取后再试 / visit ${visitId} changed meanwhile (a booking or another change); read it again and retry`);
  }
  const { scheduler } = deps.campaigns;
  await rescheduleVisitJobs(scheduler, campaignId, visitId, instants);
  const bookedHolders = visit.slots.reduce((sum, s) => sum + s.booked, 0);
  if (bookedHolders > 0) await scheduleBookedHoldersJob(scheduler, campaignId, visitId, 'moved', nextSendableInstant(now, deps.settings.sendWindow));
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'campaign.visit.move',
    target: `campaign/${campaignId}/visit/${visitId}`,
    summary: `上门服务改到 ${moved.date}（${moved.place}），通知 ${bookedHolders} 位已预约者 / visit moved to ${moved.date} at ${moved.place}; ${bookedHolders} booked holders told`,
    details: { from: { date: visit.date, place: visit.place }, to: { date: moved.date, place: moved.place }, slots: slots.length, noticeAt: moved.noticeAt, reminderAt: moved.reminderAt, bookedHolders },
  });
  return { ...moved, version: visit.version + 1 };
}

export async function cancelVisit(deps: CampaignDeps, principal: Principal, campaignId: string, visitId: string): Promise<Visit> {
  const campaign = await campaignOf(deps, campaignId);
  assertMayManage(deps, principal, campaign.types);
  const visit = await visitOf(deps, campaignId, visitId);
  if (visit.state === 'cancelled') return visit;
  const now = deps.clock.now();
  const cancelled: Visit = { ...visit, state: 'cancelled', updatedAt: now.toISO() ?? '' };
  if (!(await deps.campaigns.store.saveVisit(cancelled, visit.version))) {
    throw new CampaignConflict(`上门服务 ${visitId} 刚被修改（或有新的预约），请重新读取后再试 / visit ${visitId} changed meanwhile (a booking or another change); read it again and retry`);
  }
  const { scheduler } = deps.campaigns;
  await cancelVisitJobs(scheduler, campaignId, visitId);
  const bookedHolders = visit.slots.reduce((sum, s) => sum + s.booked, 0);
  if (bookedHolders > 0) await scheduleBookedHoldersJob(scheduler, campaignId, visitId, 'cancelled', nextSendableInstant(now, deps.settings.sendWindow));
  await recordAudit(deps, auditPrincipal(principal), {
    action: 'campaign.visit.cancel',
    target: `campaign/${campaignId}/visit/${visitId}`,
    summary: `取消 ${visit.date} 的上门服务（${visit.place}），通知 ${bookedHolders} 位已预约者 / visit on ${visit.date} cancelled; ${bookedHolders} booked holders told`,
    details: { date: visit.date, place: visit.place, bookedHolders },
  });
  return { ...cancelled, version: visit.version + 1 };
}

export async function listCampaigns(deps: CampaignDeps): Promise<Campaign[]> {
  return deps.campaigns.store.listCampaigns();
}

export async function campaignWithVisits(deps: CampaignDeps, id: string): Promise<{ campaign: Campaign; visits: Visit[] }> {
  const campaign = await campaignOf(deps, id);
  return { campaign, visits: await deps.campaigns.store.listVisits(id) };
}

/** What the API shows of a campaign; the notice template is the one in force (the default when none was given). */
export function campaignView(campaign: Campaign) {
  return {
    id: campaign.id,
    name: campaign.name,
    types: campaign.types,
    season: campaign.season,
    blackouts: campaign.blackouts,
    noticeDaysBefore: campaign.noticeDaysBefore,
    reminderDaysBefore: campaign.reminderDaysBefore,
    noticeTemplate: campaign.noticeTemplate ?? DEFAULT_NOTICE_TEMPLATE,
    reminderTemplate: campaign.reminderTemplate ?? DEFAULT_REMINDER_TEMPLATE,
    createdBy: campaign.createdBy,
    createdAt: campaign.createdAt,
    // An edit (PATCH /v1/campaigns/{id}) sends back the version it read.
    version: campaign.version,
    changedBy: campaign.changedBy ?? null,
    changedAt: campaign.changedAt ?? null,
    comment: campaign.comment ?? null,
  };
}

/** A visit with its booking counts, read from its slots (bookings keep them). */
export function visitView(deps: Pick<CampaignDeps, 'reference'>, visit: Visit) {
  const township = deps.reference.townships.resolve(visit.township);
  return {
    id: visit.id,
    township: { code: visit.township, nameZh: township?.nameZh ?? visit.township },
    date: visit.date,
    place: visit.place,
    state: visit.state,
    noticeAt: visit.noticeAt,
    reminderAt: visit.reminderAt,
    slots: visit.slots.map((s) => ({ number: s.number, start: s.start, end: s.end, capacity: s.capacity, booked: s.booked })),
    capacity: visit.slots.reduce((sum, s) => sum + s.capacity, 0),
    booked: visit.slots.reduce((sum, s) => sum + s.booked, 0),
  };
}
