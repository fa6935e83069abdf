import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Api,
  certificateRecord,
  enterpriseId,
  expectedSegments,
  instant,
  makeTempDir,
  residentId,
  SERVICE_START,
  stagesOf,
  startTestService,
  uniqueNumber,
  withBrokenCheck,
  type ApiError,
  type CertificatePage,
  type CertificateRecord,
  type OutboxMessage,
  type TestService,
} from '../support/e2e-service.js';

// One service for the file: DynamoDB Local costs a JVM start, a certificate costs milliseconds.
// Tests run in order and each uses certificate numbers of its own; a scan sends whatever is due
// in the whole store, so scan assertions look at the test's own numbers, or at counts that hold
// whatever else is stored.
const FAST_SMS = { CERTALARM_SMS_RATE: '1000' };
let local: TestService;
let api: Api;

beforeAll(async () => {
  // The SMS rate is raised so that scans finding dozens of due reminders are not paced at 10 a second.
  local = await startTestService({ inMemory: true, env: FAST_SMS });
  api = new Api(local.url);
});

afterAll(async () => {
  await local?.stop();
});

describe('Local service: GET /healthz', () => {
  it('answers ok with the service clock, which starts at the configured instant and runs forward', async () => {
    // Act
    const health = await api.get<{ status: string; now: string }>('/healthz');

    // Assess
    expect(health.status).toBe(200);
    expect(health.contentType).toMatch(/^application\/json/);
    expect(health.body.status).toBe('ok');
    const drift = Date.parse(health.body.now) - Date.parse(SERVICE_START);
    expect(drift).toBeGreaterThanOrEqual(0);
    expect(drift).toBeLessThan(60_000);
  });

  it('serves on 127.0.0.1 only, with DynamoDB Local on 127.0.0.1 too', () => {
    // Assess
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(local.service.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('Local service: GET /v1/catalogue', () => {
  it('lists the 42 certificate types, each with its code, names, renewal window and authority', async () => {
    // Act
    const catalogue = await api.get<Array<Record<string, unknown>>>('/v1/catalogue');

    // Assess
    expect(catalogue.status).toBe(200);
    expect(catalogue.body).toHaveLength(42);
    expect(new Set(catalogue.body.map((t) => t.code)).size).toBe(42);
    for (const type of catalogue.body) {
      expect(type.code).toMatch(/^[a-z0-9_]+$/);
      expect(type.nameZh).toEqual(expect.any(String));
      expect(type.nameEn).toEqual(expect.any(String));
      expect(type.authority).toEqual(expect.any(String));
      expect(type).toHaveProperty('renewalWindow');
    }
    expect(catalogue.body.find((t) => t.code === 'pesticide_business_license')).toMatchObject({
      nameZh: '农药经营许可证',
      renewalWindow: { days: 90, semantics: 'atLeastBefore' },
    });
  });
});

describe('Local service: GET /v1/townships', () => {
  it("lists Xingguo's 25 townships with their codes and names", async () => {
    // Act
    const townships = await api.get<Array<{ code: string; nameZh: string }>>('/v1/townships');

    // Assess
    expect(townships.status).toBe(200);
    expect(townships.body).toHaveLength(25);
    expect(new Set(townships.body.map((t) => t.code)).size).toBe(25);
    expect(townships.body.every((t) => /^360732\d{3}$/.test(t.code))).toBe(true);
    expect(townships.body).toContainEqual(expect.objectContaining({ code: '360732102', nameZh: '古龙冈镇' }));
  });
});

/** A holder ID as API answers show it: the first and last four characters. */
function maskedId(id: string): string {
  return `${id.slice(0, 4)}${'*'.repeat(id.length - 8)}${id.slice(-4)}`;
}

describe('Local service: POST /v1/certificates', () => {
  it('stores a single record sent as an object, normalising the phone to E.164', async () => {
    // Prepare
    const record = certificateRecord({ phone: '139 0000 0001' });

    // Act
    const upload = await api.upload(record);
    const stored = await api.certificate(record.type, record.number);

    // Assess
    expect(upload.status).toBe(200);
    expect(upload.body).toEqual({ accepted: 1, created: 1, updated: 0, renewed: 0, unchanged: 0, rejected: [] });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ ...record, holder: { name: record.holder.name, id: maskedId(record.holder.id ?? '') }, phone: '+8613900000001' });
  });

  it('stores the good records of a batch and reports every bad one with index, field and reason', async () => {
    // Prepare
    const batch = [
      certificateRecord({ township: '360732100' }),
      certificateRecord({ type: 'pesticide_licence' }),
      certificateRecord({ expiresOn: '2026-02-30' }),
      certificateRecord({ issuedOn: '2021-01-01', expiresOn: '2020-12-31' }),
      certificateRecord({ phone: '0797-8321234' }),
      certificateRecord({ holder: { name: '兴国县某农资有限公司', id: withBrokenCheck(enterpriseId(77)) } }),
      certificateRecord({ township: '不存在镇' }),
      certificateRecord({ phone: '+1 415 555 0100' }),
      certificateRecord({ holder: { name: '刘某某', id: residentId('1985-03-12', '231') }, township: '古龙岗镇', phone: '+86 139-0000-0002' }),
    ];

    // Act
    const upload = await api.upload(batch);

    // Assess
    expect(upload.status).toBe(200);
    expect(upload.body).toMatchObject({ accepted: 2, created: 2 });
    expect(upload.body.rejected.map(({ index, field }) => ({ index, field }))).toEqual([
      { index: 1, field: 'type' },
      { index: 2, field: 'expiresOn' },
      { index: 3, field: 'expiresOn' },
      { index: 4, field: 'phone' },
      { index: 5, field: 'holder.id' },
      { index: 6, field: 'township' },
      { index: 7, field: 'phone' },
    ]);
    for (const rejection of upload.body.rejected) expect(rejection.reason.length).toBeGreaterThan(10);
    const reasonFor = (index: number) => upload.body.rejected.find((r) => r.index === index)?.reason;
    expect(reasonFor(1)).toContain('pesticide_licence');
    expect(reasonFor(2)).toContain('2026-02-30');
    expect(reasonFor(6)).toContain('不存在镇');
    const found = await Promise.all(batch.map((r) => api.certificate(r.type, r.number)));
    expect(found.map((f) => f.status)).toEqual([200, 404, 404, 404, 404, 404, 404, 404, 200]);
  });

  it('accepts a township by code, by name or by alias and stores its code', async () => {
    // Prepare
    const byCode = certificateRecord({ township: '360732102' });
    const byName = certificateRecord({ township: '古龙冈镇' });
    const byAlias = certificateRecord({ township: '古龙岗镇' });

    // Act
    const upload = await api.upload([byCode, byName, byAlias]);
    const stored = await Promise.all([byCode, byName, byAlias].map((r) => api.certificate(r.type, r.number)));

    // Assess
    expect(upload.body).toMatchObject({ accepted: 3, rejected: [] });
    expect(stored.map((s) => s.body.township)).toEqual(['360732102', '360732102', '360732102']);
  });

  it('accepts an organisation (unified social credit code) or a person (resident ID) as holder', async () => {
    // Prepare
    const organisation = certificateRecord({ holder: { name: '兴国县某农资有限公司', id: enterpriseId(1) } });
    const person = certificateRecord({
      type: 'farm_machine_operator_license',
      number: uniqueNumber('HX-NJ'),
      // 36073219791130018X: a check character X, typed in lower case.
      holder: { name: '钟某某', id: residentId('1979-11-30', '018').toLowerCase() },
    });

    // Act
    const upload = await api.upload([organisation, person]);
    const storedPerson = await api.certificate(person.type, person.number);
    const revealed = await api.get<CertificateRecord>(`/v1/certificates/${person.type}/${encodeURIComponent(person.number)}?reveal=holderId`);

    // Assess
    expect(upload.body).toMatchObject({ accepted: 2, rejected: [] });
    // Masked in every answer but an operator's request for the one record, where it is whole and upper-case.
    expect(storedPerson.body.holder.id).toBe('3607**********018X');
    expect(revealed.body.holder.id).toBe('36073219791130018X');
  });
});

describe('Local service: GET /v1/certificates/{type}/{number}', () => {
  it('finds a certificate whose number has Chinese characters, brackets and a slash', async () => {
    // Prepare
    const record = certificateRecord({ number: `农药经许（赣）${uniqueNumber('3607')}/副本` });
    await api.upload(record);

    // Act
    const found = await api.certificate(record.type, record.number);

    // Assess
    expect(found.status).toBe(200);
    expect(found.body.number).toBe(record.number);
  });

  it('finds a certificate by the Chinese name of its type', async () => {
    // Prepare
    const record = certificateRecord();
    await api.upload(record);

    // Act
    const found = await api.certificate('农药经营许可证', record.number);

    // Assess
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ type: 'pesticide_business_license', number: record.number });
  });

  it('answers 404 with a JSON error for a certificate nobody uploaded', async () => {
    // Act
    const missing = await api.certificate('pesticide_business_license', uniqueNumber('NEVER'));

    // Assess
    expect(missing.status).toBe(404);
    expect((missing.body as unknown as ApiError).error).toEqual({ code: expect.any(String), message: expect.any(String), details: null });
  });
});

describe('Local service: GET /v1/certificates', () => {
  // A type no other test in this file uploads, so its listing is exactly these five.
  const type = 'water_abstraction_permit';
  const xinglian = [
    certificateRecord({ type, number: uniqueNumber('HX-WATER'), township: '兴莲乡', expiresOn: '2026-07-10' }),
    certificateRecord({ type, number: uniqueNumber('HX-WATER'), township: '兴莲乡', expiresOn: '2026-08-15' }),
    certificateRecord({ type, number: uniqueNumber('HX-WATER'), township: '兴莲乡', expiresOn: '2026-10-01' }),
  ];
  const chayuan = [
    certificateRecord({ type, number: uniqueNumber('HX-WATER'), township: '茶园乡', expiresOn: '2026-09-30' }),
    certificateRecord({ type, number: uniqueNumber('HX-WATER'), township: '茶园乡', expiresOn: '2027-03-01' }),
  ];
  const numbersOf = (items: Array<{ number: string }>) => items.map((i) => i.number).sort();

  beforeAll(async () => {
    await api.uploadAll([...xinglian, ...chayuan]);
  });

  it('filters by type', async () => {
    // Act
    const listed = await api.listAll({ type });

    // Assess
    expect(numbersOf(listed.items)).toEqual(numbersOf([...xinglian, ...chayuan]));
  });

  it('filters by township, given by code or by name', async () => {
    // Act
    const byCode = await api.listAll({ township: '360732210' });
    const byName = await api.listAll({ township: '茶园乡', type });

    // Assess
    expect(byCode.items.every((c) => c.township === '360732210')).toBe(true);
    expect(numbersOf(byCode.items)).toEqual(expect.arrayContaining(numbersOf(chayuan)));
    expect(numbersOf(byName.items)).toEqual(numbersOf(chayuan));
  });

  it('filters by expiringBefore, the given day itself excluded', async () => {
    // Act
    const ofType = await api.listAll({ type, expiringBefore: '2026-10-01' });
    const ofTownship = await api.listAll({ township: '兴莲乡', type, expiringBefore: '2026-09-01' });

    // Assess
    expect(numbersOf(ofType.items)).toEqual(numbersOf([xinglian[0]!, xinglian[1]!, chayuan[0]!]));
    expect(numbersOf(ofTownship.items)).toEqual(numbersOf([xinglian[0]!, xinglian[1]!]));
  });

  it('pages with limit and nextCursor → cursor, returning every certificate exactly once', async () => {
    // Act
    const first = await api.get<CertificatePage>(`/v1/certificates?type=${type}&limit=2`);
    const paged = await api.listAll({ type, limit: '2' });

    // Assess
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(paged.pages).toBe(3);
    expect(numbersOf(paged.items)).toEqual(numbersOf([...xinglian, ...chayuan]));
  });

  it('pages through every stored certificate without a filter, none repeated or lost', async () => {
    // Prepare
    const everything = await api.listAll({ limit: '1000' });

    // Act
    const paged = await api.listAll({ limit: '3' });

    // Assess
    const numbers = paged.items.map((c) => `${c.type}/${c.number}`);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.sort()).toEqual(everything.items.map((c) => `${c.type}/${c.number}`).sort());
    expect(numbers.length).toBeGreaterThanOrEqual(5);
  });
});

describe('Local service: GET /v1/certificates/{type}/{number}/plan', () => {
  it('plans the contract example: a pesticide licence expiring 2026-12-20', async () => {
    // Prepare
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    const plan = await api.plan(record.type, record.number);

    // Assess
    expect(plan).toMatchObject({ renewalDeadline: '2026-09-21', windowOpens: null, calendarProvisional: false });
    expect(stagesOf(plan)).toEqual([
      // 2026-08-22 is a Saturday: the first reminder moves back to Friday.
      { stage: 'first', sendAt: instant('2026-08-21T09:00:00+08:00'), status: 'pending' },
      { stage: 'final', sendAt: instant('2026-09-14T09:00:00+08:00'), status: 'pending' },
      { stage: 'expired', sendAt: instant('2026-12-21T09:00:00+08:00'), status: 'pending' },
    ]);
  });

  it('moves a final reminder off the National Day holiday to the working day before it', async () => {
    // Prepare: tobacco licences must be renewed 30 days ahead, so the deadline is 2026-10-12.
    const record = certificateRecord({ type: 'tobacco_retail_license', number: uniqueNumber('HX-YC'), expiresOn: '2026-11-11' });
    await api.upload(record);

    // Act
    const plan = await api.plan(record.type, record.number);

    // Assess
    expect(plan.renewalDeadline).toBe('2026-10-12');
    expect(stagesOf(plan)).toEqual([
      { stage: 'first', sendAt: instant('2026-09-11T09:00:00+08:00'), status: 'pending' },
      // 2026-10-05 is inside the 1–7 October holiday; 30 September is the last working day before it.
      { stage: 'final', sendAt: instant('2026-09-30T09:00:00+08:00'), status: 'pending' },
      { stage: 'expired', sendAt: instant('2026-11-12T09:00:00+08:00'), status: 'pending' },
    ]);
  });

  it('keeps a reminder on a Sunday that the official calendar makes a working day', async () => {
    // Prepare: deadline 2026-09-27, so the final reminder falls on Sunday 2026-09-20, a make-up working day.
    const record = certificateRecord({ type: 'tobacco_retail_license', number: uniqueNumber('HX-YC'), expiresOn: '2026-10-27' });
    await api.upload(record);

    // Act
    const plan = await api.plan(record.type, record.number);

    // Assess
    expect(plan.renewalDeadline).toBe('2026-09-27');
    expect(stagesOf(plan).find((s) => s.stage === 'final')?.sendAt).toBe(instant('2026-09-20T09:00:00+08:00'));
  });

  it('sends the expired notice on the first working day after a holiday, never before the expiry', async () => {
    // Prepare: expires on 2026-09-30; 1–7 October are public holidays.
    const record = certificateRecord({ type: 'tobacco_retail_license', number: uniqueNumber('HX-YC'), expiresOn: '2026-09-30' });
    await api.upload(record);

    // Act
    const plan = await api.plan(record.type, record.number);

    // Assess
    expect(stagesOf(plan)).toEqual([
      { stage: 'first', sendAt: instant('2026-07-31T09:00:00+08:00'), status: 'pending' },
      { stage: 'final', sendAt: instant('2026-08-24T09:00:00+08:00'), status: 'pending' },
      { stage: 'expired', sendAt: instant('2026-10-08T09:00:00+08:00'), status: 'pending' },
    ]);
  });

  it('gives the day the renewal window opens for a type renewed only within a period before expiry', async () => {
    // Prepare: a tractor driving licence is renewed within the 90 days before it expires.
    const record = certificateRecord({
      type: 'farm_machine_operator_license',
      number: uniqueNumber('HX-NJ'),
      holder: { name: '钟某某', id: residentId('1979-11-30', '001') },
      expiresOn: '2026-12-20',
    });
    await api.upload(record);

    // Act
    const plan = await api.plan(record.type, record.number);

    // Assess
    expect(plan).toMatchObject({ renewalDeadline: '2026-12-20', windowOpens: '2026-09-21', calendarProvisional: false });
    expect(stagesOf(plan)).toEqual([
      { stage: 'first', sendAt: instant('2026-11-20T09:00:00+08:00'), status: 'pending' },
      // 2026-12-13 is a Sunday.
      { stage: 'final', sendAt: instant('2026-12-11T09:00:00+08:00'), status: 'pending' },
      { stage: 'expired', sendAt: instant('2026-12-21T09:00:00+08:00'), status: 'pending' },
    ]);
  });

  it('marks the plan provisional when it reaches a year whose holiday calendar is not published', async () => {
    // Prepare
    const record = certificateRecord({ expiresOn: '2031-06-30' });
    await api.upload(record);

    // Act
    const plan = await api.plan(record.type, record.number);

    // Assess
    expect(plan.calendarProvisional).toBe(true);
    expect(plan.renewalDeadline).toBe('2031-04-01');
  });

  it('answers 404 for the plan of an unknown certificate', async () => {
    // Act
    const missing = await api.get<ApiError>(`/v1/certificates/pesticide_business_license/${uniqueNumber('NEVER')}/plan`);

    // Assess
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toEqual(expect.any(String));
  });
});

describe('Local service: re-uploading a certificate', () => {
  it('changes nothing when the same record comes again', async () => {
    // Prepare
    const record = certificateRecord();
    await api.upload(record);

    // Act
    const again = await api.upload(record);

    // Assess
    expect(again.body).toEqual({ accepted: 1, created: 0, updated: 0, renewed: 0, unchanged: 1, rejected: [] });
  });

  it('updates the details of a certificate and keeps what was already sent, so nothing is sent twice', async () => {
    // Prepare
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);
    await api.scan('2026-08-21T09:30:00+08:00');

    // Act
    const update = await api.upload({ ...record, phone: '13900000009', holder: { name: '兴国县某农资有限公司（更名）', id: record.holder.id } });
    await api.scan('2026-08-21T10:00:00+08:00');
    await api.scan('2026-09-14T09:30:00+08:00');

    // Assess
    expect(update.body).toMatchObject({ accepted: 1, updated: 1, created: 0, renewed: 0 });
    expect((await api.certificate(record.type, record.number)).body).toMatchObject({ phone: '+8613900000009', holder: { name: '兴国县某农资有限公司（更名）' } });
    const sent = await api.outboxFor(record.number);
    expect(sent.map(({ stage, to }) => ({ stage, to }))).toEqual([
      { stage: 'first', to: `+86${record.phone}` },
      { stage: 'final', to: '+8613900000009' },
    ]);
  });

  it('treats a later expiry as a renewal: drops the reminders of the old expiry and plans new ones', async () => {
    // Prepare: expiring 2026-10-20 gives a deadline of 2026-07-22; its first reminder goes on 2026-06-22.
    const record = certificateRecord({ expiresOn: '2026-10-20' });
    await api.upload(record);
    await api.scan('2026-06-22T09:30:00+08:00');
    const before = await api.plan(record.type, record.number);

    // Act
    const renewal = await api.upload({ ...record, issuedOn: '2026-06-25', expiresOn: '2026-12-20' });
    const after = await api.plan(record.type, record.number);
    await api.scan('2026-07-15T09:30:00+08:00'); // the old final reminder's time
    await api.scan('2026-08-21T09:30:00+08:00'); // the new first reminder's time

    // Assess
    expect(before.renewalDeadline).toBe('2026-07-22');
    expect(before.stages.map((s) => s.status)).toEqual(['sent', 'pending', 'pending']);
    expect(renewal.body).toMatchObject({ accepted: 1, renewed: 1, created: 0, updated: 0 });
    expect(after.renewalDeadline).toBe('2026-09-21');
    expect(stagesOf(after)).toEqual([
      { stage: 'first', sendAt: instant('2026-08-21T09:00:00+08:00'), status: 'pending' },
      { stage: 'final', sendAt: instant('2026-09-14T09:00:00+08:00'), status: 'pending' },
      { stage: 'expired', sendAt: instant('2026-12-21T09:00:00+08:00'), status: 'pending' },
    ]);
    const sent = await api.outboxFor(record.number);
    expect(sent.map(({ stage, expiresOn }) => ({ stage, expiresOn }))).toEqual([
      { stage: 'first', expiresOn: '2026-10-20' },
      { stage: 'first', expiresOn: '2026-12-20' },
    ]);
  });
});

describe('Local service: POST /v1/scans', () => {
  it('sends a due reminder once: a second scan at the same or a later time does not resend', async () => {
    // Prepare
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    const first = await api.scan('2026-08-21T09:00:00+08:00');
    const sameTime = await api.scan('2026-08-21T09:00:00+08:00');
    await api.scan('2026-08-25T11:00:00+08:00');

    // Assess
    expect(first.sent).toBeGreaterThanOrEqual(1);
    expect(sameTime.sent).toBe(0);
    expect((await api.outboxFor(record.number)).map((m) => m.stage)).toEqual(['first']);
    expect((await api.plan(record.type, record.number)).stages.map((s) => s.status)).toEqual(['sent', 'pending', 'pending']);
  });

  it('sends one message when scans run at the same moment', async () => {
    // Prepare
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);
    await api.scan('2026-08-21T09:00:00+08:00');
    const outboxBefore = (await api.outbox()).length;

    // Act
    const scans = await Promise.all([1, 2, 3, 4].map(() => api.scan('2026-09-14T09:05:00+08:00')));

    // Assess
    const newMessages = (await api.outbox()).slice(outboxBefore);
    expect(scans.reduce((sum, s) => sum + s.sent, 0)).toBe(newMessages.length);
    expect(newMessages.filter((m) => m.number === record.number).map((m) => m.stage)).toEqual(['final']);
  });

  it('sends only the latest due reminder when scans were missed, never a burst', async () => {
    // Prepare: nothing scanned between the first (2026-08-21) and final (2026-09-14) reminder times.
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    await api.scan('2026-09-15T10:00:00+08:00');

    // Assess
    expect((await api.outboxFor(record.number)).map((m) => m.stage)).toEqual(['final']);
    expect((await api.plan(record.type, record.number)).stages.map((s) => s.status)).toEqual(['skipped', 'sent', 'pending']);
  });

  it('sends nothing outside the 09:00–20:00 Asia/Shanghai send window', async () => {
    // Prepare
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    const atEight = await api.scan('2026-08-24T08:59:59+08:00');
    const atTwenty = await api.scan('2026-08-24T20:00:00+08:00');
    const utcEvening = await api.scan('2026-08-24T13:30:00Z'); // 21:30 in Xingguo
    const sentAfter = await api.outboxFor(record.number);
    const atNine = await api.scan('2026-08-25T09:00:00+08:00');

    // Assess
    expect([atEight.sent, atTwenty.sent, utcEvening.sent]).toEqual([0, 0, 0]);
    expect(sentAfter).toEqual([]);
    expect(atNine.sent).toBeGreaterThanOrEqual(1);
    expect((await api.outboxFor(record.number)).map((m) => m.stage)).toEqual(['first']);
  });

  it('scans as of the service clock when no time is given', async () => {
    // Prepare: expired before the service clock's day, so its one catch-up notice is due at once.
    const record = certificateRecord({ issuedOn: '2021-05-20', expiresOn: '2026-05-20' });
    await api.upload(record);

    // Act
    const scan = await api.post<{ sent: number; now: string }>('/v1/scans');

    // Assess
    expect(scan.status).toBe(200);
    expect(scan.body.sent).toBeGreaterThanOrEqual(1);
    expect((await api.outboxFor(record.number)).map((m) => m.stage)).toEqual(['expired']);
  });

  it('reads a scan time written without an offset as Asia/Shanghai time, or refuses it, never in the host time zone', async () => {
    // Prepare: 08:30 in Xingguo is before the send window; read as UTC it would be 16:30 in Xingguo, inside it.
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    const scan = await api.post<{ now?: string }>('/v1/scans', { now: '2026-08-21T08:30:00' });

    // Assess
    const readAs = scan.status === 400 ? 'refused' : instant(scan.body.now ?? 'missing');
    expect(['refused', instant('2026-08-21T08:30:00+08:00')]).toContain(readAs);
    expect(await api.outboxFor(record.number)).toEqual([]);
  });

  it('answers 400 when the scan time is not an ISO instant', async () => {
    // Act
    const scan = await api.post<ApiError>('/v1/scans', { now: 'tomorrow morning' });

    // Assess
    expect(scan.status).toBe(400);
    expect(scan.body.error.code).toEqual(expect.any(String));
    expect(scan.body.error.message).toContain('now');
  });
});

describe('Local service: late uploads', () => {
  it('plans one catch-up for the latest passed reminder and skips the older ones', async () => {
    // Prepare: expiring 2026-06-10, its deadline (2026-03-12) and both reminders passed before the upload.
    const record = certificateRecord({ issuedOn: '2021-06-11', expiresOn: '2026-06-10' });

    // Act
    await api.upload(record);
    const plan = await api.plan(record.type, record.number);

    // Assess
    expect(plan.renewalDeadline).toBe('2026-03-12');
    expect(plan.stages.map(({ stage, status }) => ({ stage, status }))).toEqual([
      { stage: 'first', status: 'skipped' },
      { stage: 'final', status: 'pending' },
      { stage: 'expired', status: 'pending' },
    ]);
    const catchUp = Date.parse(plan.stages[1]!.sendAt);
    expect(catchUp).toBeGreaterThanOrEqual(Date.parse(SERVICE_START));
    expect(catchUp).toBeLessThan(Date.parse(SERVICE_START) + 60 * 60_000);
    expect(instant(plan.stages[2]!.sendAt)).toBe(instant('2026-06-11T09:00:00+08:00'));
  });

  it('sends the catch-up with the next scan inside the send window, one message per certificate', async () => {
    // Prepare
    const dueForRenewal = certificateRecord({ issuedOn: '2021-06-11', expiresOn: '2026-06-10' });
    const alreadyExpired = certificateRecord({ issuedOn: '2021-05-21', expiresOn: '2026-05-20' });
    await api.upload([dueForRenewal, alreadyExpired]);

    // Act
    const evening = await api.scan('2026-06-01T21:00:00+08:00');
    const nextMorning = await api.scan('2026-06-02T09:00:00+08:00');
    const afternoon = await api.scan('2026-06-02T15:00:00+08:00');
    const catchUps = [(await api.outboxFor(dueForRenewal.number)).map((m) => m.stage), (await api.outboxFor(alreadyExpired.number)).map((m) => m.stage)];
    await api.scan('2026-06-11T09:30:00+08:00');

    // Assess
    expect(evening.sent).toBe(0);
    expect(nextMorning.sent).toBeGreaterThanOrEqual(2);
    expect(afternoon.sent).toBe(0);
    expect(catchUps).toEqual([['final'], ['expired']]);
    // The expired notice of the first one is its own planned stage, not part of the catch-up.
    expect((await api.outboxFor(dueForRenewal.number)).map((m) => m.stage)).toEqual(['final', 'expired']);
    expect((await api.outboxFor(alreadyExpired.number)).map((m) => m.stage)).toEqual(['expired']);
  });
});

describe('Local service: GET /v1/outbox', () => {
  it('holds each SMS in Chinese with the signature, type, number, dates and where to renew', async () => {
    // Prepare
    const record = certificateRecord({ number: uniqueNumber('HX-PEST'), expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    await api.scan('2026-08-21T09:10:00+08:00');
    await api.scan('2026-09-14T09:10:00+08:00');
    await api.scan('2026-12-21T09:10:00+08:00');
    const messages = await api.outboxFor(record.number);

    // Assess
    expect(messages.map((m) => m.stage)).toEqual(['first', 'final', 'expired']);
    for (const message of messages) {
      expect(message).toMatchObject({
        to: `+86${record.phone}`,
        type: 'pesticide_business_license',
        number: record.number,
        expiresOn: '2026-12-20',
        renewalDeadline: '2026-09-21',
      });
      expect(message.body.startsWith('【兴国县行政审批局】')).toBe(true);
      expect(message.body).toContain('农药经营许可证');
      expect(message.body).toContain(record.number);
      expect(message.body).toContain('2026年12月20日');
      expect(message.body).toContain('兴国县政务服务中心');
      expect(message.segments).toBe(expectedSegments(message.body));
      expect(Number.isNaN(Date.parse(message.sentAt))).toBe(false);
    }
    const [first, final, expired] = messages;
    expect(first!.body).toContain('2026年9月21日');
    expect(final!.body).toContain('2026年9月21日');
    expect(expired!.body).toContain('已于2026年12月20日到期');
  });

  it('stamps each message with the instant its scan ran as of', async () => {
    // Prepare
    const record = certificateRecord({ expiresOn: '2026-12-20' });
    await api.upload(record);

    // Act
    await api.scan('2026-08-21T09:30:00+08:00');
    const messages = await api.outboxFor(record.number);

    // Assess
    expect(messages.map((m) => ({ stage: m.stage, sentAt: instant(m.sentAt) }))).toEqual([{ stage: 'first', sentAt: instant('2026-08-21T09:30:00+08:00') }]);
  });

  it('counts a short message as one segment and a long one in parts of 67, signature included', async () => {
    // Prepare
    const short = certificateRecord({ number: 'S1', issuedOn: '2021-05-20', expiresOn: '2026-05-20' });
    const long = certificateRecord({ number: uniqueNumber(`HX-PEST-${'0'.repeat(40)}`), issuedOn: '2021-05-20', expiresOn: '2026-05-20' });
    await api.upload([short, long]);

    // Act
    await api.scan('2026-06-01T11:00:00+08:00');
    const [shortMessage] = await api.outboxFor(short.number);
    const [longMessage] = await api.outboxFor(long.number);

    // Assess
    expect(Array.from(shortMessage!.body).length).toBeLessThanOrEqual(70);
    expect(shortMessage!.segments).toBe(1);
    expect(Array.from(longMessage!.body).length).toBeGreaterThan(70);
    expect(longMessage!.segments).toBe(Math.ceil(Array.from(longMessage!.body).length / 67));
  });
});

describe('Local service: errors and headers', () => {
  it('answers 400 invalid JSON with a JSON error body', async () => {
    // Act
    const answer = await api.postRaw<ApiError>('/v1/certificates', '[{"type": "pesticide_business_license",');

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: null } });
  });

  it.each([
    ['an impossible expiringBefore date', 'expiringBefore=2026-02-30'],
    ['a limit of 0', 'limit=0'],
    ['a limit that is not a number', 'limit=ten'],
    ['an unknown parameter', 'colour=red'],
    ['a cursor the service never issued', 'cursor=not-a-cursor'],
    ['an unknown township', 'township=不存在镇'],
  ])('answers 400 for a listing with %s', async (_what, query) => {
    // Act
    const answer = await api.get<ApiError>(`/v1/certificates?${query}`);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(answer.body.error).toHaveProperty('details');
  });

  it('answers 404 for an unknown route', async () => {
    // Act
    const answer = await api.get<ApiError>('/v1/no-such-thing');

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });

  it('answers 413 to a body over the default 5 MiB limit and keeps serving', async () => {
    // Prepare
    const oversized = JSON.stringify([certificateRecord({ holder: { name: 'x'.repeat(5 * 1024 * 1024) } })]);

    // Act
    const answer = await api.postRaw<ApiError>('/v1/certificates', oversized);
    const health = await api.get<{ status: string }>('/healthz');

    // Assess
    expect(answer.status).toBe(413);
    expect(answer.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(health.status).toBe(200);
  });
});

describe('Local service: data directory', () => {
  const started: TestService[] = [];
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await makeTempDir('certalarm-e2e-restart-');
  });

  afterAll(async () => {
    for (const service of started.splice(0)) await service.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps certificates, sent reminders and the outbox across a restart, and loads the demo only once', async () => {
    // Prepare
    const first = await startTestService({ dataDir, demo: true, env: FAST_SMS });
    started.push(first);
    const firstApi = new Api(first.url);
    const record = certificateRecord({ issuedOn: '2021-05-20', expiresOn: '2026-05-20' });
    await firstApi.upload(record);
    const scan = await firstApi.post<{ sent: number; now: string }>('/v1/scans');
    const outboxBefore = await firstApi.outbox();
    const storedBefore = await firstApi.listAll({ limit: '1000' });
    await first.stop();
    started.pop();

    // Act
    const second = await startTestService({ dataDir, demo: true, env: FAST_SMS });
    started.push(second);
    const secondApi = new Api(second.url);
    const storedAfter = await secondApi.listAll({ limit: '1000' });
    const outboxAfter = await secondApi.outbox();
    const rescan = await secondApi.scan(scan.body.now);

    // Assess
    expect(first.service.demoLoaded).toBeGreaterThanOrEqual(250);
    expect(first.service.demoLoaded).toBeLessThanOrEqual(300);
    expect(storedBefore.items.filter((c) => c.number.startsWith('DEMO-'))).toHaveLength(first.service.demoLoaded);
    expect(second.service.demoLoaded).toBe(0);
    expect(storedAfter.items).toHaveLength(first.service.demoLoaded + 1);
    expect((await secondApi.certificate(record.type, record.number)).body).toMatchObject({ number: record.number, expiresOn: '2026-05-20' });
    expect(scan.body.sent).toBe(outboxBefore.length);
    expect(outboxAfter).toEqual(outboxBefore);
    expect(outboxAfter.filter((m) => m.number === record.number).map((m) => m.stage)).toEqual(['expired']);
    expect(rescan.sent).toBe(0);
    expect((await secondApi.outbox()).length).toBe(outboxBefore.length);
    const outboxFile = join(dataDir, 'outbox.jsonl');
    expect(existsSync(outboxFile)).toBe(true);
    const lines = readFileSync(outboxFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as OutboxMessage);
    expect(lines.map((m) => `${m.number}/${m.stage}`)).toEqual(outboxBefore.map((m) => `${m.number}/${m.stage}`));
  }, 90_000); // two starts of the service with the demo: on a loaded machine this alone takes 30 s
});
