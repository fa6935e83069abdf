import { describe, expect, it } from 'vitest';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { at, freshStore, record, testSettings } from '../support/fixtures.js';

const NOW = at('2026-08-01T10:00:00+08:00');

function upload(store: DynamoDbStore, records: unknown[], now = NOW) {
  return uploadCertificates({ store, reference: loadReferenceData(), settings: testSettings() }, records, now);
}

describe('Use case: uploadCertificates', () => {
  it('stores the good records of a batch and reports every bad one with its index, field and reason', async () => {
    // Prepare
    const store = await freshStore('upload-mixed');
    const records = [
      record(1),
      record(2, { type: 'no_such_type' }),
      record(3, { expiresOn: '2026-02-30' }),
      record(4, { issuedOn: '2027-01-01', expiresOn: '2026-12-20' }),
      record(5, { phone: '07976666666' }),
      record(6, { holder: { name: '某公司', id: '91360732MA35A1B2C0' } }),
      record(7, { township: '莲塘镇' }),
      record(8, { township: '古龙岗镇' }),
    ];

    // Act
    const result = await upload(store, records);

    // Assess
    expect(result.accepted).toBe(2);
    expect(result.rejected.map((r) => [r.index, r.field])).toEqual([
      [1, 'type'],
      [2, 'expiresOn'],
      [3, 'expiresOn'],
      [4, 'phone'],
      [5, 'holder.id'],
      [6, 'township'],
    ]);
    for (const rejection of result.rejected) expect(rejection.reason.length).toBeGreaterThan(10);
    const stored = await store.getCertificates([
      { type: 'pesticide_business_license', number: 'TEST-000001' },
      { type: 'pesticide_business_license', number: 'TEST-000008' },
      { type: 'pesticide_business_license', number: 'TEST-000002' },
    ]);
    expect([...stored.keys()].sort()).toEqual(['pesticide_business_license#TEST-000001', 'pesticide_business_license#TEST-000008']);
    expect(stored.get('pesticide_business_license#TEST-000008')?.certificate.township).toBe('360732102');
  });

  it('normalises the phone to E.164 and stores the plan', async () => {
    // Prepare
    const store = await freshStore('upload-plan');

    // Act
    await upload(store, [record(10, { phone: '139 0000 0010' })]);

    // Assess
    const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000010' });
    expect(stored?.certificate.phone).toBe('+8613900000010');
    expect(stored?.plan.renewalDeadline).toBe('2026-09-21');
    expect(stored?.plan.stages.map((s) => [s.stage, s.date, s.status])).toEqual([
      ['first', '2026-08-21', 'pending'],
      ['final', '2026-09-14', 'pending'],
      ['expired', '2026-12-21', 'pending'],
    ]);
  });

  it('changes nothing when the same batch is uploaded again, and says so', async () => {
    // Prepare
    const store = await freshStore('upload-idempotent');
    const records = [record(20), record(21)];
    const first = await upload(store, records);
    const before = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000020' });

    // Act
    const again = await upload(store, records, NOW.plus({ days: 1 }));

    // Assess
    expect(first).toMatchObject({ accepted: 2, created: 2 });
    expect(again).toMatchObject({ accepted: 2, created: 0, updated: 0, renewed: 0, unchanged: 2 });
    const after = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000020' });
    expect(after).toEqual(before);
  });

  it('keeps the plan when only contact details change', async () => {
    // Prepare
    const store = await freshStore('upload-update');
    await upload(store, [record(30)]);

    // Act
    const result = await upload(store, [record(30, { phone: '13900009999' })], NOW.plus({ days: 1 }));

    // Assess
    expect(result).toMatchObject({ updated: 1 });
    const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000030' });
    expect(stored?.certificate.phone).toBe('+8613900009999');
    expect(stored?.plan.renewalDeadline).toBe('2026-09-21');
    expect(stored?.version).toBe(2);
  });

  it('re-plans a certificate whose expiry moves later (a renewal)', async () => {
    // Prepare
    const store = await freshStore('upload-renewal');
    await upload(store, [record(40)]);

    // Act
    const result = await upload(store, [record(40, { issuedOn: '2026-09-01', expiresOn: '2031-08-31' })], NOW.plus({ days: 31 }));

    // Assess
    expect(result).toMatchObject({ renewed: 1 });
    const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000040' });
    expect(stored?.certificate.expiresOn).toBe('2031-08-31');
    expect(stored?.plan.stages.every((s) => s.status === 'pending' && s.date > '2031-01-01')).toBe(true);
  });

  it('rejects the second occurrence of the same certificate in one batch', async () => {
    // Prepare
    const store = await freshStore('upload-duplicate');

    // Act
    const result = await upload(store, [record(50), record(50, { phone: '13900001111' })]);

    // Assess
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([expect.objectContaining({ index: 1, field: 'number' })]);
  });
});

describe('Use case: uploadCertificates (text that reaches an SMS)', () => {
  it('refuses a JSON record whose number would turn the reminder into a phishing text, and stores nothing for it', async () => {
    // Prepare
    const store = await freshStore('upload-phishing');
    const phishing = '】已停用，回复1解除 http://x.cn【';

    // Act
    const result = await upload(store, [record(70, { number: phishing }), record(71, { holder: { name: '【兴国县行政审批局】某公司' } })]);

    // Assess
    expect(result.accepted).toBe(0);
    expect(result.rejected.map((r) => [r.index, r.field])).toEqual([
      [0, 'number'],
      [1, 'holder.name'],
    ]);
    expect(result.rejected[0]?.reason).toContain('【】');
    expect(await store.getCertificate({ type: 'pesticide_business_license', number: phishing })).toBeUndefined();
  });
});

describe('Use case: uploadCertificates (stale records)', () => {
  it('refuses a record whose expiry is earlier than the stored, renewed certificate', async () => {
    // Prepare
    const store = await freshStore('upload-stale');
    await upload(store, [record(60, { issuedOn: '2026-09-01', expiresOn: '2031-08-31' })]);

    // Act
    const result = await upload(store, [record(60)], NOW.plus({ days: 1 }));

    // Assess
    expect(result.accepted).toBe(0);
    expect(result.rejected).toEqual([expect.objectContaining({ index: 0, field: 'expiresOn' })]);
    const stored = await store.getCertificate({ type: 'pesticide_business_license', number: 'TEST-000060' });
    expect(stored?.certificate.expiresOn).toBe('2031-08-31');
  });
});

/** A calendar that fails on one year, standing in for any planning bug the range checks do not prevent. */
function referenceFailingIn(year: string) {
  const reference = loadReferenceData();
  const calendar = {
    isWorkingDay(date: string) {
      if (date.startsWith(year)) throw new RangeError(`no calendar answer for ${date}`);
      return reference.calendar.isWorkingDay(date);
    },
  };
  return { ...reference, calendar: calendar as unknown as typeof reference.calendar };
}

/** The real store, with slow writes that log when they start and finish, and reads that can fail. */
function instrumented(store: DynamoDbStore, options: { failReadCall?: number } = {}) {
  const log: string[] = [];
  let reads = 0;
  const wrapped = Object.create(store) as DynamoDbStore;
  wrapped.getCertificates = async (keys) => {
    reads += 1;
    if (reads === options.failReadCall) throw new Error('DynamoDB is unavailable');
    return store.getCertificates(keys);
  };
  wrapped.putCertificates = async (items) => {
    log.push('write started');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.putCertificates(items);
    log.push('write finished');
  };
  return { store: wrapped, log };
}

const batchOf = (n: number) => Array.from({ length: n }, (_, i) => record(1000 + i));

describe('Use case: uploadCertificates (hostile dates and failures)', () => {
  it('rejects a 9999-12-31 expiry with a reason and stores the other 500 records of the batch', async () => {
    // Prepare
    const store = await freshStore('upload-9999');
    const records = [...batchOf(500), record(1500, { expiresOn: '9999-12-31' })];

    // Act
    const result = await upload(store, records);

    // Assess
    expect(result.accepted).toBe(500);
    expect(result.rejected).toEqual([{ index: 500, field: 'expiresOn', reason: expect.stringContaining('2199-12-31') }]);
  });

  it('stores nothing when a record of a later page cannot be planned, and writes nothing after it fails', async () => {
    // Prepare: the 501st record is on the second page; the first page would already be written.
    const real = await freshStore('upload-unplannable');
    const { store, log } = instrumented(real);
    const records = [...batchOf(500), record(1500, { expiresOn: '2030-03-15' })];
    const deps = { store, reference: referenceFailingIn('2030'), settings: testSettings() };

    // Act
    const attempt = uploadCertificates(deps, records, NOW);
    await expect(attempt).rejects.toThrow(/2030/);
    const logAtAnswer = [...log];
    await new Promise((resolve) => setTimeout(resolve, 600));

    // Assess
    expect(logAtAnswer).toEqual([]);
    expect(log).toEqual([]);
    expect((await real.getCertificates(records.map((_, i) => ({ type: 'pesticide_business_license', number: `TEST-${String(1000 + i).padStart(6, '0')}` })))).size).toBe(0);
  });

  it('finishes the write in flight before it fails on a later page, so no write lands after the answer', async () => {
    // Prepare: reading the second page fails while the first page is being written.
    const real = await freshStore('upload-read-fails');
    const { store, log } = instrumented(real, { failReadCall: 2 });
    const deps = { store, reference: loadReferenceData(), settings: testSettings() };

    // Act
    const attempt = uploadCertificates(deps, batchOf(1000), NOW);
    await expect(attempt).rejects.toThrow('DynamoDB is unavailable');
    const logAtAnswer = [...log];
    await new Promise((resolve) => setTimeout(resolve, 600));

    // Assess
    expect(logAtAnswer).toEqual(['write started', 'write finished']);
    expect(log).toEqual(logAtAnswer);
  });
});
