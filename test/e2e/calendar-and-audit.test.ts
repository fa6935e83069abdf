import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, E2E_TOKEN, startTestService, type ApiError, type ApiResponse, type PlanAnswer, type TestService } from '../support/e2e-service.js';
import { validUscc } from '../support/fixtures.js';

/** TEST FIXTURE: an invented 2027 arrangement (the State Council has not published 2027's yet). */
const FIXTURE_2027 = JSON.parse(readFileSync(new URL('../fixtures/holidays/2027-invented.json', import.meta.url), 'utf8')) as {
  holidays: string[];
  workdays: string[];
  source: string;
};
const LOAD_2027 = { source: FIXTURE_2027.source, holidays: FIXTURE_2027.holidays, workdays: FIXTURE_2027.workdays };

interface Warning {
  code: string;
  year: number;
  message: string;
}
interface CalendarList {
  years: Array<{ year: number; source: string; holidays: number; workdays: number; loadedBy: string; loadedAt: string; origin: string; version: number }>;
  coveredThrough: string | null;
  warnings: Warning[];
}
interface AuditPage {
  items: Array<{ at: string; actor: string; role: string; action: string; target: string; summary: string }>;
  nextCursor?: string;
}

let local: TestService;
let operator: Api;
let bureau: Api;
let viewer: Api;

function put<T>(api: Api, path: string, body: unknown): Promise<ApiResponse<T>> {
  return api.send<T>('PUT', path, JSON.stringify(body), { 'content-type': 'application/json' });
}

async function issue(body: object): Promise<Api> {
  const issued = await operator.post<{ token: string }>('/v1/tokens', body);
  expect(issued.status).toBe(201);
  return new Api(local.url, issued.body.token);
}

/** A food production licence (30 working days before expiry) whose deadline falls in 2027. */
const FOOD = {
  type: 'food_production_license',
  number: 'E2E-FOOD-1',
  holder: { name: '兴国县测试食品有限公司', id: validUscc(901) },
  phone: '13900000901',
  township: '潋江镇',
  issuedOn: '2022-03-16',
  expiresOn: '2027-03-15',
};

beforeAll(async () => {
  // December 2026: the next 60 days reach into 2027, which no bundled calendar covers.
  local = await startTestService({ inMemory: true, startAt: '2026-12-01T10:00:00+08:00' });
  operator = new Api(local.url);
  bureau = await issue({ role: 'bureau', authority: 'market_regulation', label: 'e2e bureau' });
  viewer = await issue({ role: 'viewer' });
});

afterAll(async () => {
  await local?.stop();
});

describe('Local service: the holiday calendar', () => {
  it('warns in /healthz and GET /v1/calendar that 2027 is not loaded, and lists the seeded years', async () => {
    // Act
    const health = await new Api(local.url, null).get<{ status: string; warnings: Warning[] }>('/healthz');
    const list = await viewer.get<CalendarList>('/v1/calendar');

    // Assess
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(health.body.warnings.map((w) => w.year)).toEqual([2027]);
    expect(list.status).toBe(200);
    expect(list.body.coveredThrough).toBe('2026-12-31');
    expect(list.body.warnings.map((w) => [w.code, w.year])).toEqual([['calendar_year_missing', 2027]]);
    const y2026 = list.body.years.find((y) => y.year === 2026);
    expect(y2026).toMatchObject({ origin: 'bundled', loadedBy: 'bundled data', version: 1 });
    expect(y2026?.source).toMatch(/^chinese-days /);
    expect(y2026?.holidays).toBeGreaterThan(20);
  });

  it('lets only operators load a year: a bureau or a viewer gets 403 and nothing changes', async () => {
    // Act
    const byBureau = await put<ApiError>(bureau, '/v1/calendar/2099', LOAD_2027);
    const byViewer = await put<ApiError>(viewer, '/v1/calendar/2099', LOAD_2027);
    const anonymous = await put<ApiError>(new Api(local.url, null), '/v1/calendar/2099', LOAD_2027);
    const stored = await operator.get<ApiError>('/v1/calendar/2099');

    // Assess
    expect(byBureau.status).toBe(403);
    expect(byBureau.body.error.message).toContain('operator');
    expect(byViewer.status).toBe(403);
    expect(anonymous.status).toBe(401);
    expect(stored.status).toBe(404);
  });

  it.each([
    ['a date outside the year', { ...LOAD_2027, holidays: [...LOAD_2027.holidays, '2028-01-01'] }, '不在 2027 年内'],
    ['a date in both lists', { ...LOAD_2027, workdays: ['2027-01-02'] }, 'is in both holidays and workdays'],
    ['a make-up workday on a weekday', { ...LOAD_2027, workdays: ['2027-01-05'] }, 'a make-up workday (调休上班) is always a Saturday or Sunday'],
    ['no days off', { ...LOAD_2027, holidays: [] }, 'holidays is empty'],
    ['no source', { holidays: LOAD_2027.holidays, workdays: [] }, 'source is required'],
  ])('refuses %s with 400 and the reason', async (_case, body, reason) => {
    // Act
    const answer = await put<ApiError>(operator, '/v1/calendar/2027', body);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_calendar');
    expect(answer.body.error.message).toContain(reason);
  });

  it('loads 2027: the provisional plan follows the loaded days and the warning goes', async () => {
    // Prepare
    await operator.uploadAll([FOOD]);
    const before = await operator.plan(FOOD.type, FOOD.number);

    // Act
    const loaded = await put<{ year: number; version: number; replan: { state: string; replanned: number } }>(operator, '/v1/calendar/2027', LOAD_2027);

    // Assess
    expect(before.calendarProvisional).toBe(true);
    expect(loaded.status).toBe(200);
    expect(loaded.body).toMatchObject({ year: 2027, version: 1, replan: { state: 'done', replanned: 1 } });
    const after: PlanAnswer = await operator.plan(FOOD.type, FOOD.number);
    expect(after.calendarProvisional).toBe(false);
    expect(after.renewalDeadline).not.toBe(before.renewalDeadline);
    const year = await viewer.get<{ year: number; source: string; holidays: string[]; workdays: string[] }>('/v1/calendar/2027');
    expect(year.body).toMatchObject({ year: 2027, source: LOAD_2027.source, holidays: [...LOAD_2027.holidays].sort(), workdays: LOAD_2027.workdays });
    const health = await new Api(local.url, null).get<{ warnings: Warning[] }>('/healthz');
    expect(health.body.warnings).toEqual([]);
    const list = await operator.get<CalendarList>('/v1/calendar');
    expect(list.body.coveredThrough).toBe('2027-12-31');
    expect(list.body.years.find((y) => y.year === 2027)).toMatchObject({ origin: 'operator', loadedBy: 'token:admin', version: 1 });
  });
});

describe('Local service: the audit log', () => {
  it('records every kind of write by a person, newest first, and filters by action, actor and time', async () => {
    // Prepare: a token issued and revoked, an upload, an import, a calendar load
    const since = local.service.clock.now().toISO() ?? '';
    const temporary = await operator.post<{ id: string }>('/v1/tokens', { role: 'viewer', label: 'audit e2e' });
    await operator.send('DELETE', `/v1/tokens/${temporary.body.id}`, undefined, {});
    await bureau.uploadAll([{ ...FOOD, number: 'E2E-FOOD-2' }]);
    const csv = ['证照类型,证照编号,持证主体,联系电话,所属乡镇,发证日期,有效期至', `food_production_license,E2E-FOOD-3,测试食品厂,13900000903,潋江镇,2022-01-01,2027-06-30`].join('\n');
    const submitted = await fetch(new URL('/v1/imports?fileName=audit.csv', local.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${E2E_TOKEN}`, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(submitted.status).toBe(202);
    await local.service.importsIdle();
    await put(operator, '/v1/calendar/2027', { ...LOAD_2027, source: 'TEST FIXTURE: reloaded for the audit test' });

    // Act
    const all = await operator.get<AuditPage>('/v1/audit?limit=100');
    const tokens = await operator.get<AuditPage>('/v1/audit?action=token');
    const byBureau = await operator.get<AuditPage>(`/v1/audit?actor=${encodeURIComponent(all.body.items.find((e) => e.role === 'bureau')?.actor ?? '')}`);
    const recent = await operator.get<AuditPage>(`/v1/audit?since=${encodeURIComponent(since)}&action=calendar.load`);
    const firstPage = await operator.get<AuditPage>('/v1/audit?limit=2');
    const secondPage = await operator.get<AuditPage>(`/v1/audit?limit=2&cursor=${firstPage.body.nextCursor ?? ''}`);

    // Assess
    expect(all.status).toBe(200);
    const actions = all.body.items.map((e) => e.action);
    for (const action of ['calendar.load', 'import.finished', 'import.submitted', 'certificates.upload', 'token.revoke', 'token.issue']) expect(actions).toContain(action);
    // Newest first: the reload is the latest write, the first token issued (before all tests) among the oldest.
    expect(actions[0]).toBe('calendar.load');
    expect(actions.at(-1)).toBe('token.issue');
    const times = all.body.items.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    const finished = all.body.items.find((e) => e.action === 'import.finished');
    expect(finished?.summary).toContain('1 accepted');
    expect(tokens.body.items.every((e) => e.action.startsWith('token.'))).toBe(true);
    expect(tokens.body.items.map((e) => e.action)).toEqual(expect.arrayContaining(['token.issue', 'token.revoke']));
    expect(byBureau.body.items.map((e) => e.action)).toEqual(['certificates.upload']);
    expect(recent.body.items).toHaveLength(1);
    expect(recent.body.items[0]?.summary).toContain('reloaded for the audit test');
    expect([...firstPage.body.items, ...secondPage.body.items]).toEqual(all.body.items.slice(0, 4));
  });

  it('refuses a hand-made start key and a cursor replayed on another query with 400', async () => {
    // Prepare: a start key written by hand, and a genuine cursor of the unfiltered trail.
    const handMade = Buffer.from(JSON.stringify({ sk: '9999' })).toString('base64url');
    const firstPage = await operator.get<AuditPage>('/v1/audit?limit=1');
    const cursor = encodeURIComponent(firstPage.body.nextCursor ?? '');

    // Act
    const forged = await operator.get<ApiError>(`/v1/audit?cursor=${handMade}`);
    const otherQuery = await operator.get<ApiError>(`/v1/audit?limit=1&action=token&cursor=${cursor}`);
    const sameQuery = await operator.get<AuditPage>(`/v1/audit?limit=1&cursor=${cursor}`);

    // Assess
    expect(firstPage.body.nextCursor).toBeDefined();
    expect(forged.status).toBe(400);
    expect(otherQuery.status).toBe(400);
    expect(sameQuery.status).toBe(200);
  });

  it('is for operators only, and has no route to edit or delete an entry', async () => {
    // Act
    const byBureau = await bureau.get<ApiError>('/v1/audit');
    const byViewer = await viewer.get<ApiError>('/v1/audit');
    const remove = await operator.send<ApiError>('DELETE', '/v1/audit', undefined, {});
    const edit = await put<ApiError>(operator, '/v1/audit', { summary: 'rewritten' });
    const removeOne = await operator.send<ApiError>('DELETE', '/v1/audit/anything', undefined, {});
    const badCursor = await operator.get<ApiError>('/v1/audit?cursor=not-a-cursor');

    // Assess
    expect(byBureau.status).toBe(403);
    expect(byViewer.status).toBe(403);
    expect(remove.status).toBe(405);
    expect(edit.status).toBe(405);
    expect(removeOne.status).toBe(404);
    expect(badCursor.status).toBe(400);
  });
});
