import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { auditPageContract } from '../../functions/contracts/api/audit.js';
import { calendarListContract, calendarLoadContract, calendarYearContract } from '../../functions/contracts/api/calendar.js';
import { attentionPageContract, deliveryPageContract } from '../../functions/contracts/api/deliveries.js';
import {
  mergedTemplateContract,
  mergedTemplatePreviewContract,
  ruleChangeContract,
  ruleContract,
  ruleHistoryContract,
  ruleListContract,
  rulePreviewContract,
} from '../../functions/contracts/api/rules.js';
import { reinstatedContract, suppressionPageContract } from '../../functions/contracts/api/suppressions.js';
import { issuedTokenContract, revokedTokenContract, tokenListContract } from '../../functions/contracts/api/tokens.js';
import { Api, certificateRecord, startTestService, uniqueNumber, type TestService } from '../support/e2e-service.js';

/** TEST FIXTURE: an invented 2027 arrangement (the State Council has not published 2027's yet). */
const { year: _year, ...FIXTURE_2027 } = JSON.parse(readFileSync(new URL('../fixtures/holidays/2027-invented.json', import.meta.url), 'utf8')) as {
  year: number;
  holidays: string[];
  workdays: string[];
  source: string;
};

let local: TestService;
let api: Api;

beforeAll(async () => {
  local = await startTestService({ inMemory: true });
  api = new Api(local.url);
}, 120_000);

afterAll(async () => {
  await local?.stop();
});

/**
 * The answer has the contract's every required field with the right types, and no field the contract
 * does not name: zod drops unknown keys, so a parse that changes nothing means none were there.
 */
async function answersWith<C extends z.ZodType>(contract: C, answer: Promise<{ status: number; body: unknown }>, status = 200): Promise<z.infer<C>> {
  const { status: got, body } = await answer;
  expect({ status: got, body }).toEqual({ status, body: expect.anything() as unknown });
  const parsed = contract.safeParse(body);
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  expect(parsed.data).toEqual(body);
  return parsed.data as z.infer<C>;
}

const FOOD = 'food_production_license';

describe('the HTTP API answers exactly as functions/contracts/api describes', () => {
  it('rules: list, one rule, change, preview, history, restore and the merged texts', async () => {
    const list = await answersWith(ruleListContract, api.get('/v1/rules'));
    expect(list.rules.length).toBeGreaterThan(30);
    const rule = await answersWith(ruleContract, api.get(`/v1/rules/${FOOD}`));
    expect(rule.version).toBe(0);

    await api.uploadAll([certificateRecord({ type: FOOD, number: uniqueNumber('CONTRACT-F'), expiresOn: '2026-09-30' })]);
    // The first reminder a day earlier: every stored certificate of the type gets a new plan.
    const stages = rule.stages.map((s) =>
      s.name !== 'first' ? s : s.days !== undefined ? { ...s, days: s.days - 1 } : { ...s, workingDays: (s.workingDays ?? 0) - 1 },
    );
    const preview = await answersWith(rulePreviewContract, api.post(`/v1/rules/${FOOD}/preview`, { enabled: true, stages, days: 30 }));
    expect(preview.affected).toBeGreaterThan(0);

    const changed = await answersWith(ruleChangeContract, api.send('PUT', `/v1/rules/${FOOD}`, JSON.stringify({ comment: '契约测试', enabled: true, stages, expectedVersion: 0 }), { 'content-type': 'application/json' }));
    expect(changed.version).toBe(1);
    const history = await answersWith(ruleHistoryContract, api.get(`/v1/rules/${FOOD}/history`));
    expect(history.versions.map((v) => v.version)).toEqual([1]);
    const restored = await answersWith(ruleChangeContract, api.post(`/v1/rules/${FOOD}/restore`, { version: 0, comment: '恢复默认' }));
    expect(restored.version).toBe(2);
    await answersWith(ruleContract, api.get(`/v1/rules/${FOOD}`));

    const merged = await answersWith(mergedTemplateContract, api.get('/v1/rules/merged-template'));
    await answersWith(mergedTemplatePreviewContract, api.post('/v1/rules/merged-template/preview', { template: merged.template, itemTemplate: merged.itemTemplate }));
    const saved = await answersWith(
      mergedTemplateContract,
      api.send('PUT', '/v1/rules/merged-template', JSON.stringify({ template: merged.template, itemTemplate: merged.itemTemplate, comment: '契约测试', expectedVersion: merged.version }), {
        'content-type': 'application/json',
      }),
    );
    expect(saved.version).toBe(merged.version + 1);
  });

  it('calendar: the years, one year with its history, and a load', async () => {
    const before = await answersWith(calendarListContract, api.get('/v1/calendar'));
    expect(before.years.length).toBeGreaterThan(0);
    const loaded = await answersWith(calendarLoadContract, api.send('PUT', '/v1/calendar/2027', JSON.stringify(FIXTURE_2027), { 'content-type': 'application/json' }));
    expect(loaded.year).toBe(2027);
    const year = await answersWith(calendarYearContract, api.get('/v1/calendar/2027'));
    expect(year.holidays).toEqual(FIXTURE_2027.holidays);
    expect(year.history.length).toBeGreaterThan(0);
    await answersWith(calendarListContract, api.get('/v1/calendar'));
  });

  it('tokens: issue, list and revoke', async () => {
    const issued = await answersWith(issuedTokenContract, api.post('/v1/tokens', { role: 'viewer', label: '契约测试' }), 201);
    const tokens = await answersWith(tokenListContract, api.get('/v1/tokens'));
    expect(tokens.map((t) => t.id)).toContain(issued.id);
    await answersWith(revokedTokenContract, api.send('DELETE', `/v1/tokens/${issued.id}`, undefined, {}));
  });

  it('deliveries, the attention list, suppressions and the audit log', async () => {
    const phone = '13900000477';
    // Its first reminder is due on 2026-08-21.
    await api.uploadAll([certificateRecord({ number: uniqueNumber('CONTRACT-D'), phone, expiresOn: '2026-12-20' })]);
    const scan = await api.post('/v1/scans', { now: '2026-08-21T09:30:00+08:00' });
    expect(scan.status).toBe(200);
    const sent = await answersWith(deliveryPageContract, api.get('/v1/deliveries?limit=5'));
    expect(sent.items.length).toBeGreaterThan(0);
    await answersWith(attentionPageContract, api.get('/v1/deliveries/attention?limit=5'));

    expect((await api.post('/v1/inbound-sms', { from: phone, text: '退订' })).status).toBe(200);
    const suppressed = await answersWith(suppressionPageContract, api.get('/v1/suppressions'));
    expect(suppressed.items.map((s) => s.source)).toContain('sms-keyword');
    await answersWith(reinstatedContract, api.send('DELETE', `/v1/suppressions/${phone}`, JSON.stringify({ comment: '本人来电要求恢复' }), { 'content-type': 'application/json' }));

    const audit = await answersWith(auditPageContract, api.get('/v1/audit?limit=50'));
    expect(audit.items.length).toBeGreaterThan(0);
  });
});
