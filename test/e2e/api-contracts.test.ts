import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPageContract } from '../../functions/contracts/api/audit.js';
import {
  certificateContract,
  certificatePageContract,
  planContract,
  revocationContract,
  revocationReportContract,
  uploadResultContract,
} from '../../functions/contracts/api/certificates.js';
import { importContract, importSubmittedContract } from '../../functions/contracts/api/imports.js';
import { inboundOutcomeContract } from '../../functions/contracts/api/inbound.js';
import { purgeResultContract, scanPreviewContract, scanResultContract } from '../../functions/contracts/api/scans.js';
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
import { Api, certificateRecord, E2E_TOKEN, enterpriseId, startTestService, uniqueNumber, type TestService } from '../support/e2e-service.js';
import { answersWith } from '../support/contract-answers.js';

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

  it('scans and their dry run, deliveries, the attention list, inbound SMS, suppressions, a purge dry run and the audit log', async () => {
    const phone = '13900000477';
    // Its first reminder is due on 2026-08-21.
    await api.uploadAll([certificateRecord({ number: uniqueNumber('CONTRACT-D'), phone, expiresOn: '2026-12-20' })]);
    const preview = await answersWith(scanPreviewContract, api.post('/v1/scans', { now: '2026-08-21T09:30:00+08:00', dryRun: true }));
    expect(preview.messages.length).toBeGreaterThan(0);
    const scan = await answersWith(scanResultContract, api.post('/v1/scans', { now: '2026-08-21T09:30:00+08:00' }));
    expect(scan.sent).toBeGreaterThan(0);
    const sent = await answersWith(deliveryPageContract, api.get('/v1/deliveries?limit=5'));
    expect(sent.items.length).toBeGreaterThan(0);
    await answersWith(attentionPageContract, api.get('/v1/deliveries/attention?limit=5'));

    const optedOut = await answersWith(inboundOutcomeContract, api.post('/v1/inbound-sms', { from: phone, text: '退订' }));
    expect(optedOut.action).toBe('optedOut');
    await answersWith(inboundOutcomeContract, api.post('/v1/inbound-sms', { from: '13900000478', text: '你好' }));
    await answersWith(purgeResultContract, api.post('/v1/purges', { dryRun: true }));
    const suppressed = await answersWith(suppressionPageContract, api.get('/v1/suppressions'));
    expect(suppressed.items.map((s) => s.source)).toContain('sms-keyword');
    await answersWith(reinstatedContract, api.send('DELETE', `/v1/suppressions/${phone}`, JSON.stringify({ comment: '本人来电要求恢复' }), { 'content-type': 'application/json' }));

    const audit = await answersWith(auditPageContract, api.get('/v1/audit?limit=50'));
    expect(audit.items.length).toBeGreaterThan(0);
  });

  it('certificates: upload, one, a page, its plan, a revocation and a bulk revocation', async () => {
    const good = certificateRecord({ number: uniqueNumber('CONTRACT-C') });
    const upload = await answersWith(uploadResultContract, api.upload([good, { ...good, number: uniqueNumber('CONTRACT-BAD'), expiresOn: '2026-02-30' }]));
    expect(upload.rejected).toEqual([expect.objectContaining({ index: 1, field: 'expiresOn' })]);
    const one = await answersWith(certificateContract, api.certificate(good.type, good.number));
    expect(one.holder.id).toContain('*');
    await answersWith(certificateContract, api.get(`/v1/certificates/${good.type}/${encodeURIComponent(good.number)}?reveal=holderId`));
    const page = await answersWith(certificatePageContract, api.get(`/v1/certificates?type=${good.type}&limit=2`));
    expect(page.items.length).toBeGreaterThan(0);
    await answersWith(planContract, api.get(`/v1/certificates/${good.type}/${encodeURIComponent(good.number)}/plan`));

    const revoked = await answersWith(
      revocationContract,
      api.send('DELETE', `/v1/certificates/${good.type}/${encodeURIComponent(good.number)}`, JSON.stringify({ reason: '注销', comment: '申请注销' }), { 'content-type': 'application/json' }),
    );
    expect(revoked.revoked.reason).toBe('注销');
    const report = await answersWith(
      revocationReportContract,
      api.post('/v1/certificates/revocations', { items: [{ type: good.type, number: good.number, reason: '注销', comment: '再次' }, { type: good.type, number: 'NO-SUCH', reason: '注销', comment: '无' }] }),
    );
    expect(report.results.map((r) => r.outcome)).toEqual(['alreadyRevoked', 'notFound']);
  });

  it('imports: the submission and the status followed to done', async () => {
    const csv = ['证照类型,证照编号,单位名称,统一社会信用代码,手机号,所属乡镇,发证日期,有效期至', `农药经营许可证,${uniqueNumber('CONTRACT-I')},兴国县契约农资店,${enterpriseId(9301)},13900009301,潋江镇,2022-01-01,2027-01-01`].join('\r\n');
    const submitted = await answersWith(
      importSubmittedContract,
      fetch(new URL('/v1/imports?fileName=contract.csv', local.url), { method: 'POST', headers: { 'content-type': 'text/csv', authorization: `Bearer ${E2E_TOKEN}` }, body: csv }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as unknown,
      })),
      202,
    );
    let state = '';
    for (let i = 0; i < 200 && state !== 'done' && state !== 'failed'; i += 1) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await answersWith(importContract, api.get(`/v1/imports/${submitted.id}`))).state;
    }
    expect(state).toBe('done');
  });
});
