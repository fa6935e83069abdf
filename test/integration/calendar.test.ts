import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { WorkingDayCalendar } from '../../functions/core/calendar.js';
import { ZONE } from '../../functions/core/model.js';
import { planReminders } from '../../functions/core/planning.js';
import type { Clock } from '../../functions/core/ports.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbCalendarStore } from '../../functions/adapters/aws/dynamodb/dynamodb-calendar-store.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { continueCalendarReplans, loadCalendarYear, type CalendarDeps } from '../../functions/app/calendar/load-calendar.js';
import { logCalendarWarnings, seedCalendar, StoredCalendarSource } from '../../functions/app/calendar/stored-calendar.js';
import { createHttpApp, type HttpAppDeps } from '../../functions/app/http/app.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { RecordingSender, record, testSettings } from '../support/fixtures.js';

/** TEST FIXTURE: an invented 2027 arrangement (the State Council has not published 2027's yet). */
const FIXTURE_2027 = JSON.parse(readFileSync(new URL('../fixtures/holidays/2027-invented.json', import.meta.url), 'utf8')) as {
  year: number;
  holidays: string[];
  workdays: string[];
  source: string;
};
const LOAD_2027 = { source: FIXTURE_2027.source, holidays: FIXTURE_2027.holidays, workdays: FIXTURE_2027.workdays };
const OPERATOR: Principal = { role: 'operator', subject: 'token:ops-1' };
const START = '2026-12-01T10:00:00+08:00';

/** A clock a test moves by hand. */
function movableClock(iso: string): Clock & { advance(ms: number): void } {
  let now = DateTime.fromISO(iso, { setZone: true }).setZone(ZONE);
  return { now: () => now, advance: (ms) => (now = now.plus({ milliseconds: ms })) };
}

async function world(prefix: string) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const store = new DynamoDbStore(client, tableName);
  const calendars = new DynamoDbCalendarStore(client, tableName);
  const audit = new DynamoDbAuditLog(client, tableName);
  const reference = loadReferenceData();
  const clock = movableClock(START);
  const calendarSource = new StoredCalendarSource({ calendars, bundled: reference.calendarYears, clock, logger: silentLogger });
  const deps: CalendarDeps = {
    calendars,
    calendarSource,
    store,
    replanSource: store,
    reference,
    settings: testSettings(),
    clock,
    logger: silentLogger,
    audit,
  };
  const upload = (records: unknown[]) => uploadCertificates(deps, records, clock.now());
  return { client, tableName, store, calendars, audit, reference, clock, calendarSource, deps, upload };
}

/** What the planner makes of a certificate on the bundled years plus the given 2027 arrangement. */
function expectedPlan(expiresOn: string, typeCode: string, load: typeof LOAD_2027, now: DateTime) {
  const reference = loadReferenceData();
  const calendar = new WorkingDayCalendar([...reference.calendarYears, { year: 2027, ...load }]);
  return planReminders({
    expiresOn,
    renewalWindow: reference.catalogue.get(typeCode)?.renewalWindow ?? null,
    calendar,
    policy: testSettings().stagePolicy,
    sendWindow: testSettings().sendWindow,
    now,
  });
}

const FOOD = 'food_production_license'; // 30 working days before expiry
const key = (number: string) => ({ type: FOOD, number });

describe('Use case: seedCalendar', () => {
  it('stores every bundled year once, and never overwrites a year an operator loaded', async () => {
    // Prepare
    const w = await world('calendar-seed');
    await w.calendars.putCalendarYear({ ...FIXTURE_2027, year: 2026, holidays: ['2026-01-01'], workdays: [], version: 1, origin: 'operator', loadedBy: 'token:ops-1', loadedAt: START }, undefined);

    // Act
    const first = await seedCalendar(w.calendars, w.reference.calendarYears, w.clock, silentLogger);
    const second = await seedCalendar(w.calendars, w.reference.calendarYears, w.clock, silentLogger);

    // Assess
    expect(first).toEqual(w.reference.calendarYears.map((y) => y.year).filter((y) => y !== 2026));
    expect(second).toEqual([]);
    const y2026 = await w.calendars.getCalendarYear(2026);
    expect(y2026).toMatchObject({ origin: 'operator', holidays: ['2026-01-01'], version: 1 });
    expect((await w.calendars.getCalendarYear(2025))?.origin).toBe('bundled');
  });
});

describe('Class: DynamoDbCalendarStore', () => {
  it('stores a year only over the version the writer read, so of two racing loads one is told to retry', async () => {
    // Prepare
    const w = await world('calendar-race');
    const year = { ...FIXTURE_2027, version: 1, origin: 'operator' as const, loadedBy: 'token:ops-1', loadedAt: START };
    await w.calendars.putCalendarYear(year, undefined);

    // Act
    const firstWriter = await w.calendars.putCalendarYear({ ...year, version: 2, source: 'first' }, 1);
    const secondWriter = await w.calendars.putCalendarYear({ ...year, version: 2, source: 'second' }, 1);
    const notStoredYet = await w.calendars.putCalendarYear({ ...year, version: 1 }, undefined);

    // Assess
    expect([firstWriter, secondWriter, notStoredYet]).toEqual([true, false, false]);
    expect((await w.calendars.getCalendarYear(2027))?.source).toBe('first');
    expect((await w.calendars.calendarYearHistory(2027)).map((h) => h.source)).toEqual([FIXTURE_2027.source, 'first']);
  });
});

describe('Use case: loadCalendarYear', () => {
  it('plans a working-day deadline in 2027 as provisional, and loading 2027 re-plans it on the loaded days', async () => {
    // Prepare
    const w = await world('calendar-load');
    await w.upload([record(1, { type: FOOD, number: 'FOOD-1', expiresOn: '2027-03-15' })]);
    const before = await w.store.getCertificate(key('FOOD-1'));

    // Act
    const result = await loadCalendarYear(w.deps, OPERATOR, 2027, LOAD_2027);

    // Assess
    expect(before?.plan.calendarProvisional).toBe(true);
    const after = await w.store.getCertificate(key('FOOD-1'));
    const expected = expectedPlan('2027-03-15', FOOD, LOAD_2027, w.clock.now());
    expect(after?.plan).toEqual(expected);
    expect(after?.plan.calendarProvisional).toBe(false);
    // The invented Spring Festival (6–14 Feb) pushes the 30th working day back.
    expect((after?.plan.renewalDeadline ?? '') < (before?.plan.renewalDeadline ?? '')).toBe(true);
    expect(after?.version).toBe((before?.version ?? 0) + 1);
    expect(result).toMatchObject({ year: 2027, version: 1, replaced: null, replan: { state: 'done', replanned: 1 } });
  });

  it('keeps a stage already sent and never sends it again', async () => {
    // Prepare: the first reminder is past at upload, so it goes out at once as the catch-up
    const w = await world('calendar-sent');
    await w.upload([record(2, { type: FOOD, number: 'FOOD-2', expiresOn: '2027-02-01' })]);
    const sms = new RecordingSender();
    const scanDeps = { store: w.store, ledger: w.store, sms, reference: w.reference, settings: testSettings(), logger: silentLogger };
    await sendDueReminders(scanDeps, w.clock.now());
    const sent = await w.store.getCertificate(key('FOOD-2'));

    // Act
    await loadCalendarYear(w.deps, OPERATOR, 2027, LOAD_2027);
    const again = await sendDueReminders(scanDeps, w.clock.now());

    // Assess
    expect(sms.sent).toHaveLength(1);
    expect(again.sent).toBe(0);
    const after = await w.store.getCertificate(key('FOOD-2'));
    const first = sent?.plan.stages.find((s) => s.stage === 'first');
    expect(first?.status).toBe('sent');
    expect(after?.plan.stages.find((s) => s.stage === 'first')).toEqual(first);
    expect(after?.plan.calendarProvisional).toBe(false);
    const expectedFinal = expectedPlan('2027-02-01', FOOD, LOAD_2027, w.clock.now()).stages.find((s) => s.stage === 'final');
    expect(after?.plan.stages.find((s) => s.stage === 'final')).toEqual(expectedFinal);
  });

  it('re-plans again when the same year is loaded with other days, and keeps every version', async () => {
    // Prepare
    const w = await world('calendar-reload');
    await w.upload([record(3, { type: FOOD, number: 'FOOD-3', expiresOn: '2027-03-15' })]);
    await loadCalendarYear(w.deps, OPERATOR, 2027, LOAD_2027);
    const corrected = {
      source: 'TEST FIXTURE: a corrected invented 2027 arrangement',
      holidays: FIXTURE_2027.holidays.filter((d) => !d.startsWith('2027-02-')),
      workdays: ['2027-01-09'],
    };

    // Act
    const second = await loadCalendarYear(w.deps, OPERATOR, 2027, corrected);

    // Assess
    expect(second).toMatchObject({ version: 2, replaced: { version: 1, source: FIXTURE_2027.source }, replan: { state: 'done', replanned: 1 } });
    const after = await w.store.getCertificate(key('FOOD-3'));
    expect(after?.plan).toEqual(expectedPlan('2027-03-15', FOOD, corrected, w.clock.now()));
    const history = await w.calendars.calendarYearHistory(2027);
    expect(history.map((h) => [h.version, h.source, h.loadedBy])).toEqual([
      [1, FIXTURE_2027.source, 'token:ops-1'],
      [2, corrected.source, 'token:ops-1'],
    ]);
    expect((await w.calendars.getCalendarYear(2027))?.holidays).toEqual(corrected.holidays);
  });

  it('reads only the certificates whose expiry lies within the calendar reach of the year', async () => {
    // Prepare
    const w = await world('calendar-reach');
    await w.upload([
      record(4, { type: FOOD, number: 'FOOD-4', expiresOn: '2027-03-15' }),
      record(5, { type: FOOD, number: 'FOOD-5', expiresOn: '2030-06-30' }),
      record(6, { number: 'PEST-6', expiresOn: '2026-06-30' }),
    ]);

    // Act
    const result = await loadCalendarYear(w.deps, OPERATOR, 2027, LOAD_2027);

    // Assess
    expect(result.replan).toMatchObject({ state: 'done', examined: 1, replanned: 1 });
  });

  it('records its progress on the year and finishes a re-plan that stopped part-way', async () => {
    // Prepare: a budget already spent stops the re-plan after its first page
    const w = await world('calendar-resume');
    await w.upload([record(7, { type: FOOD, number: 'FOOD-7', expiresOn: '2027-03-15' })]);
    const stopped = await loadCalendarYear({ ...w.deps, wallClock: () => 1 }, OPERATOR, 2027, LOAD_2027, { stopAtMs: 0 });
    const midway = await w.store.getCertificate(key('FOOD-7'));

    // Act
    const continued = await continueCalendarReplans(w.deps);

    // Assess
    expect(stopped.replan.state).toBe('running');
    expect(stopped.replan.typesDone).toEqual([]);
    expect(midway?.plan.calendarProvisional).toBe(true);
    expect(continued).toEqual([2027]);
    expect((await w.calendars.getCalendarYear(2027))?.replan).toMatchObject({ state: 'done', replanned: 1 });
    expect((await w.store.getCertificate(key('FOOD-7')))?.plan.calendarProvisional).toBe(false);
  });

  it('re-checks after every process has read the load, so a plan made on a stale cache is re-planned too', async () => {
    // Prepare: another process read the calendar just before the load and keeps it for a minute
    const w = await world('calendar-recheck');
    const stale = new StoredCalendarSource({ calendars: w.calendars, bundled: w.reference.calendarYears, clock: w.clock, logger: silentLogger });
    await stale.current();
    await loadCalendarYear(w.deps, OPERATOR, 2027, LOAD_2027);
    await uploadCertificates({ ...w.deps, calendarSource: stale }, [record(8, { type: FOOD, number: 'FOOD-8', expiresOn: '2027-03-15' })], w.clock.now());
    const onStaleCalendar = await w.store.getCertificate(key('FOOD-8'));

    // Act
    const tooEarly = await continueCalendarReplans(w.deps);
    w.clock.advance(2 * 60_000 + 1);
    const rechecked = await continueCalendarReplans(w.deps);

    // Assess
    expect(onStaleCalendar?.plan.calendarProvisional).toBe(true);
    expect(tooEarly).toEqual([]);
    expect(rechecked).toEqual([2027]);
    expect((await w.store.getCertificate(key('FOOD-8')))?.plan).toEqual(expectedPlan('2027-03-15', FOOD, LOAD_2027, w.clock.now()));
    const replan = (await w.calendars.getCalendarYear(2027))?.replan;
    expect(replan).toMatchObject({ state: 'done', pass: 'recheck', replanned: 1 });
    expect(replan?.recheckAfter).toBeUndefined();
    expect(await continueCalendarReplans(w.deps)).toEqual([]);
  });

  it('refuses a load that breaks a rule and stores nothing', async () => {
    // Prepare
    const w = await world('calendar-refuse');

    // Act
    const act = loadCalendarYear(w.deps, OPERATOR, 2027, { ...LOAD_2027, workdays: ['2027-01-05'] });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'CalendarLoadRejected', issues: [expect.objectContaining({ field: 'workdays.0' })] });
    expect(await w.calendars.getCalendarYear(2027)).toBeUndefined();
  });
});

describe('Class: StoredCalendarSource', () => {
  it("picks up another process's load once its cache of one minute has run out", async () => {
    // Prepare: a second process with its own cache reads the same table
    const w = await world('calendar-cache');
    const other = new StoredCalendarSource({ calendars: w.calendars, bundled: w.reference.calendarYears, clock: w.clock, logger: silentLogger });
    const before = await other.current();
    await loadCalendarYear(w.deps, OPERATOR, 2027, LOAD_2027);

    // Act
    const within = await other.current();
    w.clock.advance(60_001);
    const after = await other.current();

    // Assess
    expect(before.isWorkingDay('2027-01-04')).toEqual({ working: true, provisional: true });
    expect(within).toBe(before);
    expect(after.isWorkingDay('2027-01-04')).toEqual({ working: false, provisional: false });
  });
});

describe('Function: logCalendarWarnings', () => {
  it('writes a warning to the service log while reminders in the next 60 days fall in an unloaded year, and stops once it is loaded', async () => {
    // Prepare
    const w = await world('calendar-log');
    const lines: Array<{ fields: object; message: string | undefined }> = [];
    const logger = { ...silentLogger, warn: (fields: object, message?: string) => lines.push({ fields, message }) };

    // Act
    await logCalendarWarnings(w.calendarSource, w.clock, logger);
    const beforeLoad = lines.length;
    await loadCalendarYear(w.deps, OPERATOR, 2027, LOAD_2027);
    await logCalendarWarnings(w.calendarSource, w.clock, logger);

    // Assess
    expect(beforeLoad).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({ calendarWarning: 'calendar_year_missing', year: 2027 });
    expect(lines[0]?.message).toContain('the 2027 holiday calendar is not loaded');
  });
});

describe('Class: DynamoDbAuditLog', () => {
  it('lists entries newest first, filters by actor, action kind and time, and pages with a cursor', async () => {
    // Prepare
    const w = await world('audit-log');
    const entries = [
      { id: 'a1', at: '2026-12-01T01:00:00.000Z', actor: 'token:ops-1', role: 'operator', action: 'calendar.load', target: 'calendar/2027', summary: 's1' },
      { id: 'a2', at: '2026-12-01T02:00:00.000Z', actor: 'token:bur-1', role: 'bureau', action: 'import.submitted', target: 'import/imp_1', summary: 's2' },
      { id: 'a3', at: '2026-12-01T03:00:00.000Z', actor: 'token:bur-1', role: 'bureau', action: 'import.finished', target: 'import/imp_1', summary: 's3', details: { rows: 3 } },
      { id: 'a4', at: '2026-12-01T04:00:00.000Z', actor: 'token:ops-1', role: 'operator', action: 'token.issue', target: 'token/x', summary: 's4' },
    ];
    for (const entry of entries) await w.audit.record(entry);

    // Act
    const all = await w.audit.list({ limit: 10 });
    const page1 = await w.audit.list({ limit: 3 });
    const page2 = await w.audit.list({ limit: 3, ...(page1.nextCursor !== undefined ? { cursor: page1.nextCursor } : {}) });
    const imports = await w.audit.list({ limit: 10, action: 'import' });
    const finished = await w.audit.list({ limit: 10, action: 'import.finished' });
    const byOps = await w.audit.list({ limit: 10, actor: 'token:ops-1' });
    const since = await w.audit.list({ limit: 10, since: '2026-12-01T10:30:00+08:00' });
    const rewrite = w.audit.record({ ...entries[0]!, summary: 'rewritten' });

    // Assess
    expect(all.items.map((e) => e.id)).toEqual(['a4', 'a3', 'a2', 'a1']);
    expect(all.items[1]).toEqual(entries[2]);
    expect(all.nextCursor).toBeUndefined();
    expect([...page1.items, ...page2.items].map((e) => e.id)).toEqual(['a4', 'a3', 'a2', 'a1']);
    expect(page2.nextCursor).toBeUndefined();
    expect(imports.items.map((e) => e.id)).toEqual(['a3', 'a2']);
    expect(finished.items.map((e) => e.id)).toEqual(['a3']);
    expect(byOps.items.map((e) => e.id)).toEqual(['a4', 'a1']);
    expect(since.items.map((e) => e.id)).toEqual(['a4', 'a3']);
    await expect(rewrite).rejects.toThrow();
    expect((await w.audit.list({ limit: 10 })).items.find((e) => e.id === 'a1')?.summary).toBe('s1');
  });
});

describe('Route: POST /v1/scans run in the request (local mode)', () => {
  it('finishes a calendar re-plan left running before it sends, as the scheduled scan does, and answers the scan’s result', async () => {
    // Prepare: a load whose re-plan stopped at once, leaving a plan on the provisional 2027 calendar
    const w = await world('calendar-scan-route');
    await w.upload([record(9, { type: FOOD, number: 'FOOD-9', expiresOn: '2027-03-15' })]);
    await loadCalendarYear({ ...w.deps, wallClock: () => 1 }, OPERATOR, 2027, LOAD_2027, { stopAtMs: 0 });
    const deps: Partial<HttpAppDeps> = { ...w.deps, ledger: w.store, sms: new RecordingSender(), authenticate: async () => OPERATOR };
    const app = createHttpApp(deps as HttpAppDeps);

    // Act
    const response = await app({ method: 'POST', path: '/v1/scans', query: {}, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ now: START }) });

    // Assess
    expect(response.status).toBe(200);
    expect(Object.keys(JSON.parse(response.body) as object)).toEqual(['now', 'insideSendWindow', 'sent', 'superseded', 'alreadySent', 'inFlightElsewhere', 'retryLater', 'failed', 'errors', 'disabled', 'revoked', 'suppressed', 'deferred', 'merged', 'mergedMessages', 'incomplete']);
    expect((await w.calendars.getCalendarYear(2027))?.replan).toMatchObject({ state: 'done', replanned: 1 });
    expect((await w.store.getCertificate(key('FOOD-9')))?.plan.calendarProvisional).toBe(false);
  });
});
