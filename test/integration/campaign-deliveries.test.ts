import { describe, expect, it } from 'vitest';
import { DynamoDbBookingStore } from '../../functions/adapters/aws/dynamodb/dynamodb-booking-store.js';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import { confirmBooking } from '../../functions/app/campaigns/booking-messages.js';
import { bookSlot } from '../../functions/app/campaigns/bookings.js';
import type { CampaignDeps } from '../../functions/app/campaigns/campaign-deps.js';
import { addVisit, cancelVisit, createCampaign } from '../../functions/app/campaigns/manage-campaigns.js';
import { runDueCampaignJobs } from '../../functions/app/campaigns/run-campaign-job.js';
import { HmacPhoneHasher } from '../../functions/app/deliveries/phone-hash.js';
import { listDeliveries } from '../../functions/app/deliveries/list-deliveries.js';
import { recordDeliveryReceipt } from '../../functions/app/deliveries/record-receipt.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import { PermanentSendError } from '../../functions/core/errors.js';
import type { DeliveryListing } from '../../functions/core/ports.js';
import { farmRecord, freshCampaignTable, INSPECTION, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';
import { at, RecordingSender, testSettings } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:ops' };
const AGRICULTURE: Principal = { role: 'bureau', subject: 'token:nongye', authority: 'agriculture_rural' };
const MARKET: Principal = { role: 'bureau', subject: 'token:shichang', authority: 'market_regulation' };
const CREATED = at('2026-12-01T10:00:00+08:00');
const NOTICE_AT = at('2026-12-29T09:00:00+08:00');
const REMINDER_AT = at('2027-01-11T09:00:00+08:00');
const reference = loadReferenceData();
const PHONE_1 = '+8613900000001';
const PHONE_2 = '+8613900000002';
/** Phone 3's notice is refused by the provider. */
const PHONE_3 = '+8613900000003';

async function world(prefix: string) {
  const { client, store, campaigns } = await freshCampaignTable(prefix);
  const upload = await uploadCertificates({ store, reference, settings: testSettings() }, [farmRecord(1), farmRecord(2), farmRecord(3)], CREATED);
  expect(upload.rejected).toEqual([]);
  let now = CREATED;
  const clock = { now: () => now };
  const sms = new RecordingSender({ fail: (m) => (m.to === PHONE_3 ? new PermanentSendError('号码无效 / invalid number') : undefined) });
  const phoneHasher = new HmacPhoneHasher(async () => new Uint8Array(32).fill(7));
  const deps: CampaignDeps = {
    campaigns: {
      store: campaigns,
      messages: campaigns,
      recipients: campaigns,
      jobs: campaigns,
      scheduler: { gateway: new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined }), targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' },
    },
    sms,
    reference,
    settings: testSettings(),
    logger: silentLogger,
    clock,
    phoneHasher,
  };
  const campaign = await createCampaign(deps, OPERATOR, {
    name: '2027年春季农机上门服务',
    types: [INSPECTION, OPERATOR_LICENSE],
    season: { from: '2027-01-04', to: '2027-06-30' },
    blackouts: [],
  });
  const visit = await addVisit(deps, OPERATOR, campaign.id, {
    township: '潋江镇',
    date: '2027-01-12',
    place: '潋江镇农机服务站',
    slots: [{ start: '09:00', end: '10:00', capacity: 20 }],
  });
  const deliveries = new DynamoDbDeliveries(client, campaigns.tableName);
  const list = async (principal: Principal, filter: { status?: 'sent' | 'delivered' | 'failed'; phone?: string } = {}): Promise<DeliveryListing[]> =>
    (
      await listDeliveries({ deliveries, reference }, principal, {
        limit: 50,
        ...(filter.status !== undefined ? { status: filter.status } : {}),
        ...(filter.phone !== undefined ? { phoneHash: await phoneHasher.hash(filter.phone) } : {}),
      })
    ).items;
  return { deps, campaigns, bookings: new DynamoDbBookingStore(client, campaigns.tableName), deliveries, sms, campaign, visit, list, setNow: (instant: typeof now) => (now = instant) };
}

describe('Deliveries listing: campaign messages', () => {
  it('lists booking notices with their kind, phone, status, reason, text and message id, sent and refused alike', async () => {
    // Prepare
    const w = await world('cmp-dlv-notice');

    // Act
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    const all = await w.list(OPERATOR);

    // Assess
    const sent = w.sms.sent.filter((m) => m.to !== PHONE_3);
    expect(all).toHaveLength(3);
    for (const message of sent) {
      expect(all).toContainEqual(
        expect.objectContaining({ source: 'campaign', kind: 'notice', to: message.to, status: 'sent', body: message.body, messageId: expect.any(String) }),
      );
    }
    expect(all).toContainEqual(expect.objectContaining({ source: 'campaign', kind: 'notice', to: PHONE_3, status: 'failed', reason: '号码无效 / invalid number', body: expect.stringContaining('潋江镇') }));
  }, 60_000);

  it('finds a phone’s campaign messages by its keyed hash, and by status', async () => {
    // Prepare
    const w = await world('cmp-dlv-filters');
    await runDueCampaignJobs(w.deps, NOTICE_AT);

    // Act
    const byPhone = await w.list(OPERATOR, { phone: PHONE_2 });
    const failed = await w.list(OPERATOR, { status: 'failed' });

    // Assess
    expect(byPhone.map((d) => [d.to, d.kind])).toEqual([[PHONE_2, 'notice']]);
    expect(failed.map((d) => d.to)).toEqual([PHONE_3]);
  }, 60_000);

  it('shows a campaign’s messages to the bureau that issues its types, and not to another bureau', async () => {
    // Prepare
    const w = await world('cmp-dlv-scope');
    await runDueCampaignJobs(w.deps, NOTICE_AT);

    // Act
    const agriculture = await w.list(AGRICULTURE);
    const market = await w.list(MARKET);

    // Assess
    expect(agriculture).toHaveLength(3);
    expect(market).toEqual([]);
  }, 60_000);

  it('moves a campaign message to delivered or failed in the listing when its receipt comes', async () => {
    // Prepare
    const w = await world('cmp-dlv-receipts');
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    const [first, second] = (await w.list(OPERATOR, { status: 'sent' })).sort((a, b) => ((a.to ?? '') < (b.to ?? '') ? -1 : 1));

    // Act
    const outcomes = [
      await recordDeliveryReceipt({ receipts: w.deliveries, logger: silentLogger }, { messageId: first?.messageId ?? '', status: 'delivered', at: '2026-12-29T01:00:05.000Z' }),
      await recordDeliveryReceipt({ receipts: w.deliveries, logger: silentLogger }, { messageId: second?.messageId ?? '', status: 'failed', reason: 'UNREACHABLE', at: '2026-12-29T01:00:09.000Z' }),
    ];

    // Assess
    expect(outcomes).toEqual(['recorded', 'recorded']);
    expect(await w.list(OPERATOR, { status: 'delivered' })).toEqual([expect.objectContaining({ source: 'campaign', kind: 'notice', to: PHONE_1, status: 'delivered' })]);
    expect(await w.list(OPERATOR, { phone: PHONE_2 })).toEqual([expect.objectContaining({ kind: 'notice', status: 'failed', reason: 'UNREACHABLE' })]);
    expect(await w.list(OPERATOR, { status: 'sent' })).toEqual([]);
  }, 60_000);

  it('lists booking confirmations, day-before reminders and cancellation texts with their kinds', async () => {
    // Prepare: phone 1 books after the notice; the day-before reminder goes out; then the visit is cancelled
    const w = await world('cmp-dlv-kinds');
    await runDueCampaignJobs(w.deps, NOTICE_AT);
    const invitation = await w.campaigns.getInvitation(w.campaign.id, w.visit.id, PHONE_1);
    const booked = await bookSlot({ ...w.deps, bookings: w.bookings }, w.campaign.id, { code: invitation?.code ?? '', slot: 1 }, NOTICE_AT.plus({ hours: 1 }));
    await confirmBooking(w.deps, booked, NOTICE_AT.plus({ hours: 1 }));
    await runDueCampaignJobs(w.deps, REMINDER_AT);
    w.setNow(REMINDER_AT.plus({ hours: 1 }));
    await cancelVisit(w.deps, OPERATOR, w.campaign.id, w.visit.id);

    // Act
    await runDueCampaignJobs(w.deps, REMINDER_AT.plus({ hours: 2 }));
    const phone1 = await w.list(AGRICULTURE, { phone: PHONE_1 });

    // Assess: newest first
    expect(phone1.map((d) => [d.kind, d.status])).toEqual([
      ['cancelled', 'sent'],
      ['reminder', 'sent'],
      ['confirmation#1', 'sent'],
      ['notice', 'sent'],
    ]);
    expect(phone1.every((d) => d.source === 'campaign' && d.to === PHONE_1 && d.messageId !== undefined && (d.body ?? '').length > 0)).toBe(true);
  }, 60_000);
});
