import { describe, expect, it } from 'vitest';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import type { CampaignDeps } from '../../functions/app/campaigns/campaign-deps.js';
import { addVisit, createCampaign } from '../../functions/app/campaigns/manage-campaigns.js';
import { runDueCampaignJobs } from '../../functions/app/campaigns/run-campaign-job.js';
import { DynamoDbDailySendCap } from '../../functions/adapters/aws/dynamodb/dynamodb-daily-send-cap.js';
import { DynamoDbDeliveries } from '../../functions/adapters/aws/dynamodb/dynamodb-deliveries.js';
import { DynamoDbSuppressionList } from '../../functions/adapters/aws/dynamodb/dynamodb-suppression-list.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { revokeCertificates } from '../../functions/app/revoke-certificates.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, freshStore, record, RecordingSender, scanDeps, testSettings } from '../support/fixtures.js';
import { farmRecord, freshCampaignTable, INSPECTION, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';

const reference = loadReferenceData();
// Pesticide business licences expiring 2026-12-20 (see daily-cap.test.ts): the first reminder is due 2026-08-21 09:00.
const UPLOADED = at('2026-08-01T10:00:00+08:00');
const DAY_1 = at('2026-08-21T09:00:00+08:00');
const DAY_2 = at('2026-08-22T09:00:00+08:00');
const PHONE = '13900000787';
const PESTICIDE = 'pesticide_business_license';
const OPERATOR: Principal = { role: 'operator', subject: 'token:ops' };

/** Two certificates of one holder fall due together under a cap of 1: one goes out, the other is deferred. */
async function oneDeferred(prefix: string) {
  const store = await freshStore(prefix);
  const upload = await uploadCertificates({ store, reference, settings: testSettings() }, [record(1, { phone: PHONE }), record(2, { phone: PHONE })], UPLOADED);
  expect(upload.rejected).toEqual([]);
  const sms = new RecordingSender();
  const suppressions = new DynamoDbSuppressionList(dynamoTestClient(), store.tableName);
  const deps = scanDeps(store, sms, { cap: new DynamoDbDailySendCap(dynamoTestClient(), store.tableName), settings: testSettings({ smsDailyCapPerPhone: 1 }), suppressions });
  const day1 = await sendDueReminders(deps, DAY_1);
  expect(day1).toMatchObject({ sent: 1, deferred: 1 });
  const deliveries = new DynamoDbDeliveries(dynamoTestClient(), store.tableName);
  const [listed] = (await deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 })).items;
  const number = listed?.number ?? '';
  const id = { key: { type: PESTICIDE, number }, expiresOn: '2026-12-20', stage: 'first' as const };
  return { store, sms, deps, deliveries, suppressions, number, id };
}

describe('Daily cap: a deferred message whose reason to go out has gone', () => {
  it('ends a deferred reminder of a certificate revoked before its next day as cancelled (revoked), sends nothing, and no longer lists it as deferred', async () => {
    // Prepare
    const w = await oneDeferred('cap-ends-revoked');
    const revoked = await revokeCertificates(
      { store: w.store, revoker: w.store, reference, audit: undefined, clock: { now: () => DAY_1.plus({ hours: 2 }) }, logger: silentLogger },
      OPERATOR,
      [{ type: PESTICIDE, number: w.number, reason: '注销', comment: '企业注销' }],
      DAY_1.plus({ hours: 2 }),
    );
    expect(revoked.revoked).toBe(1);

    // Act
    const day2 = await sendDueReminders(w.deps, DAY_2);
    const record = await w.store.get(w.id);
    const deferred = await w.deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 });

    // Assess
    expect(day2).toMatchObject({ sent: 0, deferred: 0 });
    expect(w.sms.sent).toHaveLength(1);
    expect(record).toMatchObject({ status: 'cancelled', reason: 'revoked: 注销' });
    expect(deferred.items).toEqual([]);
  });

  it('ends a deferred reminder whose number opted out before its next day as suppressed, listed as such and not as deferred', async () => {
    // Prepare
    const w = await oneDeferred('cap-ends-suppressed');
    await w.suppressions.suppress('+86' + PHONE, { source: 'sms-keyword', at: DAY_1.plus({ hours: 2 }).toUTC().toISO() ?? '', detail: 'TD' });

    // Act
    const day2 = await sendDueReminders(w.deps, DAY_2);
    const record = await w.store.get(w.id);
    const deferred = await w.deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 });
    const suppressed = await w.deliveries.listDeliveries({ statuses: ['suppressed'], limit: 10 });

    // Assess
    expect(day2).toMatchObject({ sent: 0, deferred: 0, suppressed: 1 });
    expect(w.sms.sent).toHaveLength(1);
    expect(record?.status).toBe('suppressed');
    expect(deferred.items).toEqual([]);
    expect(suppressed.items).toMatchObject([{ number: w.number, status: 'suppressed' }]);
  });

  it('ends a deferred campaign notice whose number opted out before its next day as suppressed, no longer listed as deferred', async () => {
    // Prepare: phone 1 is a campaign recipient whose reminder took the day's only slot, so its notice was deferred.
    const created = at('2026-12-01T10:00:00+08:00');
    const noticeAt = at('2026-12-29T09:00:00+08:00');
    const { client, store, campaigns } = await freshCampaignTable('cap-ends-campaign');
    const records = [farmRecord(1), farmRecord(5), record(1, { expiresOn: '2027-01-10', issuedOn: '2022-01-11' })];
    expect((await uploadCertificates({ store, reference, settings: testSettings() }, records, created)).rejected).toEqual([]);
    const clock = { now: () => created };
    const sms = new RecordingSender();
    const settings = testSettings({ smsDailyCapPerPhone: 1 });
    const cap = new DynamoDbDailySendCap(client, store.tableName);
    const suppressions = new DynamoDbSuppressionList(client, store.tableName);
    const gateway = new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined });
    const deps: CampaignDeps = {
      campaigns: { store: campaigns, messages: campaigns, recipients: campaigns, jobs: campaigns, scheduler: { gateway, targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' } },
      sms,
      reference,
      settings,
      logger: silentLogger,
      clock,
      cap,
      suppressions,
    };
    const campaign = await createCampaign(deps, OPERATOR, { name: '2027年春季农机上门服务', types: [INSPECTION, OPERATOR_LICENSE], season: { from: '2027-01-04', to: '2027-06-30' }, blackouts: [] });
    await addVisit(deps, OPERATOR, campaign.id, { township: '潋江镇', date: '2027-01-12', place: '潋江镇农机服务站', slots: [{ start: '09:00', end: '10:00', capacity: 20 }] });
    await sendDueReminders(scanDeps(store, sms, { cap, settings, suppressions }), noticeAt);
    expect(await runDueCampaignJobs(deps, noticeAt)).toMatchObject({ sent: 1, deferred: 1 });
    await suppressions.suppress('+8613900000001', { source: 'sms-keyword', at: noticeAt.plus({ hours: 2 }).toUTC().toISO() ?? '', detail: 'TD' });
    const deliveries = new DynamoDbDeliveries(client, store.tableName);

    // Act
    const day2 = await runDueCampaignJobs(deps, noticeAt.plus({ days: 1 }));
    const deferred = await deliveries.listDeliveries({ statuses: ['deferred'], limit: 10 });
    const suppressed = await deliveries.listDeliveries({ statuses: ['suppressed'], limit: 10 });

    // Assess
    expect(day2).toMatchObject({ sent: 0, deferred: 0, suppressed: 1, done: 1 });
    expect(deferred.items).toEqual([]);
    expect(suppressed.items).toMatchObject([{ source: 'campaign', kind: 'notice', status: 'suppressed', to: '+8613900000001' }]);
    expect(sms.sent.filter((m) => m.to === '+8613900000001').map((m) => m.campaign?.kind ?? m.reminder?.stage)).toEqual(['final']);
  });
});
