import { campaignReport, type VisitReport } from '../../core/campaigns/report.js';
import type { BookingStore } from '../../core/campaigns/booking-ports.js';
import type { CampaignMessageLedger, CampaignStore, CertificateKey, CertificateStore } from '../../core/ports.js';
import type { ReferenceData } from '../reference-data.js';
import { CampaignNotFound } from './manage-campaigns.js';

export interface CampaignReportDeps {
  campaigns: { store: Pick<CampaignStore, 'getCampaign' | 'listVisits' | 'invitationsOf'>; messages: Pick<CampaignMessageLedger, 'messagesOf'> };
  bookings: Pick<BookingStore, 'campaignBookings'>;
  store: Pick<CertificateStore, 'getCertificates'>;
  reference: ReferenceData;
}

/**
 * The campaign's report, visit by visit. It reads each visit's invitations and messages (one query
 * each, in the campaign's partition) and the invited certificates as they are now (batch reads).
 */
export async function buildCampaignReport(deps: CampaignReportDeps, campaignId: string): Promise<{ campaignId: string; name: string; visits: VisitReport[] }> {
  const campaign = await deps.campaigns.store.getCampaign(campaignId);
  if (campaign === undefined) throw new CampaignNotFound(`没有活动 ${campaignId} / no campaign ${campaignId}`);
  const visits = await deps.campaigns.store.listVisits(campaignId);
  const perVisit = await Promise.all(
    visits.map(async (visit) => ({ invitations: await deps.campaigns.store.invitationsOf(campaignId, visit.id), messages: await deps.campaigns.messages.messagesOf(campaignId, visit.id) })),
  );
  const invitations = perVisit.flatMap((v) => v.invitations);
  const keys = new Map<string, CertificateKey>();
  for (const invitation of invitations) for (const c of invitation.certificates) keys.set(`${c.type}#${c.number}`, { type: c.type, number: c.number });
  const current = await deps.store.getCertificates([...keys.values()]);
  const currentExpiry = new Map([...current].map(([key, stored]) => [key, stored.certificate.expiresOn]));
  const rows = campaignReport({
    visits: visits.map((visit) => ({
      id: visit.id,
      township: visit.township,
      townshipName: deps.reference.townships.resolve(visit.township)?.nameZh ?? visit.township,
      date: visit.date,
      place: visit.place,
      state: visit.state,
      slots: visit.slots.map(({ number, start, end, capacity }) => ({ number, start, end, capacity })),
    })),
    invitations,
    messages: perVisit.flatMap((v) => v.messages),
    bookings: await deps.bookings.campaignBookings(campaignId),
    currentExpiry,
    seasonEnd: campaign.season.to,
  });
  return { campaignId, name: campaign.name, visits: rows };
}
