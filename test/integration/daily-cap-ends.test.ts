import { describe, expect, it } from 'vitest';
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
});
