import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { RULE_CHANGED_NOTE, ZONE } from '../../functions/core/model.js';
import type { Clock, TypeCertificateSource } from '../../functions/core/ports.js';
import { defaultStages } from '../../functions/core/rules.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbReplanMarks } from '../../functions/adapters/aws/dynamodb/dynamodb-replan-marks.js';
import { DynamoDbRuleStore } from '../../functions/adapters/aws/dynamodb/dynamodb-rule-store.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { changeRule, continueRuleReplans, restoreRule, RuleChangeRejected, RuleConflict, type RuleDeps } from '../../functions/app/rules/change-rule.js';
import { previewRule } from '../../functions/app/rules/preview-rule.js';
import { StoredRuleSource } from '../../functions/app/rules/stored-rules.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { RecordingSender, record, testSettings } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:ops-1' };
const START = '2026-12-01T10:00:00+08:00';
const TYPE = 'pesticide_business_license'; // deadline 90 days before expiry

function movableClock(iso: string): Clock & { set(iso: string): void } {
  let now = DateTime.fromISO(iso, { setZone: true }).setZone(ZONE);
  return { now: () => now, set: (next) => (now = DateTime.fromISO(next, { setZone: true }).setZone(ZONE)) };
}

async function world(prefix: string) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const store = new DynamoDbStore(client, tableName);
  const replanMarks = new DynamoDbReplanMarks(client, tableName);
  const ruleStore = new DynamoDbRuleStore(client, tableName);
  const audit = new DynamoDbAuditLog(client, tableName);
  const reference = loadReferenceData();
  const clock = movableClock(START);
  const settings = testSettings();
  const rules = new StoredRuleSource({ rules: ruleStore, clock, policy: settings.stagePolicy });
  const deps: RuleDeps = { ruleStore, rules, store, typeCertificates: store, reference, settings, clock, logger: silentLogger, audit, replanMarks };
  const sms = new RecordingSender();
  const scan = () => sendDueReminders({ store, ledger: store, sms, reference, settings, logger: silentLogger, rules }, clock.now());
  const upload = (records: unknown[]) => uploadCertificates({ store, reference, settings, rules, replanMarks }, records, clock.now());
  return { store, ruleStore, replanMarks, audit, clock, deps, sms, scan, upload };
}

/** The default rule with an extra stage `days` from the deadline. */
function withExtraStage(days: number, template = '提醒：您的{typeName}（编号{number}）请{applyBy}办理{action}。') {
  return [...defaultStages(), { name: 'extra', from: 'deadline', days, template }];
}

/** The type's certificates as the store lists them, with `meanwhile` run after the first page is read and before it is returned. */
function interleaved(source: TypeCertificateSource, meanwhile: () => Promise<unknown>): TypeCertificateSource {
  let ran = false;
  return {
    countCertificatesOfTypeExpiringFrom: (type, from) => source.countCertificatesOfTypeExpiringFrom(type, from),
    async certificatesOfTypeExpiringFrom(type, from, cursor) {
      const page = await source.certificatesOfTypeExpiringFrom(type, from, cursor);
      if (!ran) {
        ran = true;
        await meanwhile();
      }
      return page;
    },
    async planRowsOfTypeExpiringFrom(type, from, cursor) {
      const page = await source.planRowsOfTypeExpiringFrom(type, from, cursor);
      if (!ran) {
        ran = true;
        await meanwhile();
      }
      return page;
    },
  };
}

describe('Use case: changing a reminder rule (DynamoDB Local)', () => {
  it('re-plans without repeating a sent stage, and skips a new stage whose time had already passed', async () => {
    // Prepare: expiry 2027-03-20 → deadline 2026-12-20; the first reminder (2026-11-20) is due now and is sent.
    const w = await world('rules-replan');
    await w.upload([record(1, { expiresOn: '2027-03-20' })]);
    await w.scan();
    expect(w.sms.sent.map((m) => m.reminder?.stage)).toEqual(['first']);

    // Act: a new stage 15 days before the deadline (2026-12-05, future) and one 25 days before it (2026-11-25, past).
    const result = await changeRule(w.deps, OPERATOR, TYPE, {
      comment: '增加两次提醒',
      enabled: true,
      expectedVersion: 0,
      stages: [...withExtraStage(-15), { name: 'past', from: 'deadline', days: -25, template: '您的{typeName}（编号{number}）即将到期。' }],
    });

    // Assess: the plan keeps first as sent, skips the past stage, plans the future one.
    expect(result.version).toBe(1);
    expect(result.replan).toMatchObject({ state: 'done', done: 1, total: 1, replanned: 1 });
    const stored = await w.store.getCertificate({ type: TYPE, number: 'TEST-000001' });
    const byName = new Map(stored?.plan.stages.map((s) => [s.stage, s]));
    expect(byName.get('first')).toMatchObject({ status: 'sent' });
    expect(byName.get('past')).toMatchObject({ status: 'skipped', note: RULE_CHANGED_NOTE });
    expect(byName.get('extra')).toMatchObject({ status: 'pending', date: '2026-12-04' });

    // Act: scan again now, and on the new stage's day.
    await w.scan();
    w.clock.set('2026-12-04T10:00:00+08:00');
    await w.scan();

    // Assess: first was never sent again; the new stage went out once, with its own text.
    expect(w.sms.sent.map((m) => m.reminder?.stage)).toEqual(['first', 'extra']);
    expect(w.sms.sent[1]?.body).toMatch(/^【兴国县行政审批局】提醒：您的/);
    const delivery = await w.store.get({ key: { type: TYPE, number: 'TEST-000001' }, expiresOn: '2027-03-20', stage: 'extra' });
    expect(delivery).toMatchObject({ status: 'sent', ruleVersion: 1, body: w.sms.sent[1]?.body });
  });

  it('answers a stale expectedVersion with a conflict, so of two concurrent edits one is told to re-read', async () => {
    // Prepare
    const w = await world('rules-409');
    const edit = (comment: string) => changeRule(w.deps, OPERATOR, TYPE, { comment, enabled: true, expectedVersion: 0, stages: defaultStages() });

    // Act
    const outcomes = await Promise.allSettled([edit('甲'), edit('乙')]);

    // Assess
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(RuleConflict);
    expect((await w.ruleStore.ruleHistory(TYPE)).map((v) => v.version)).toEqual([1]);
    await expect(edit('丙')).rejects.toBeInstanceOf(RuleConflict);
  });

  it('stops reminders while disabled, and turning it back on re-plans the future stages', async () => {
    // Prepare: expiry 2027-06-20 → deadline 2027-03-22; every stage is in the future.
    const w = await world('rules-enabled');
    await w.upload([record(2, { expiresOn: '2027-06-20' })]);

    // Act
    await changeRule(w.deps, OPERATOR, TYPE, { comment: '暂停', enabled: false, expectedVersion: 0, stages: defaultStages() });
    const off = await w.store.getCertificate({ type: TYPE, number: 'TEST-000002' });
    w.clock.set('2027-02-22T10:00:00+08:00');
    const scanWhileOff = await w.scan();

    // Assess
    expect(off?.plan.stages).toEqual([]);
    expect(scanWhileOff.sent).toBe(0);

    // Act: back on, after the first reminder's date (2027-02-20) passed.
    await changeRule(w.deps, OPERATOR, TYPE, { comment: '恢复', enabled: true, expectedVersion: 1, stages: defaultStages() });
    const on = await w.store.getCertificate({ type: TYPE, number: 'TEST-000002' });

    // Assess: the passed stage is skipped, the later ones are planned; nothing goes out in a burst.
    expect(on?.plan.stages.map((s) => [s.stage, s.status])).toEqual([
      ['first', 'skipped'],
      ['final', 'pending'],
      ['expired', 'pending'],
    ]);
    expect((await w.scan()).sent).toBe(0);
  });

  it('never sends a due stage of a disabled type that another process planned before the change, and says why', async () => {
    // Prepare: the first reminder (2026-11-20) is due; the rule is switched off without its re-plan having run yet.
    const w = await world('rules-disabled-scan');
    await w.upload([record(4, { expiresOn: '2027-03-20' })]);
    const at = w.clock.now().toISO() ?? '';
    await w.ruleStore.putRule(
      { type: TYPE, version: 1, enabled: false, stages: defaultStages(), changedBy: 'token:ops-2', changedAt: at, comment: '暂停', diff: [] },
      { version: 1, state: 'running', done: 0, total: 1, replanned: 0, startedAt: at },
    );

    // Act: once this process's cached rules (a minute) have run out
    w.clock.set('2026-12-01T10:02:00+08:00');
    const result = await w.scan();

    // Assess
    expect(result).toMatchObject({ sent: 0, disabled: 1 });
    expect(w.sms.sent).toEqual([]);
    const stored = await w.store.getCertificate({ type: TYPE, number: 'TEST-000004' });
    expect(stored?.plan.stages[0]).toMatchObject({ stage: 'first', status: 'skipped', note: 'reminders disabled for the type' });
  });

  it('plans a new upload with the stored rule', async () => {
    // Prepare
    const w = await world('rules-upload');
    await changeRule(w.deps, OPERATOR, TYPE, { comment: '加一次', enabled: true, expectedVersion: 0, stages: withExtraStage(-15) });

    // Act
    await w.upload([record(3, { expiresOn: '2027-06-20' })]);

    // Assess
    const stored = await w.store.getCertificate({ type: TYPE, number: 'TEST-000003' });
    expect(stored?.plan.stages.map((s) => s.stage)).toEqual(['first', 'extra', 'final', 'expired']);
  });

  it('records its progress on the rule and finishes a re-plan that stopped part-way', async () => {
    // Prepare: 600 certificates, more than one page of the byType index.
    const w = await world('rules-resume');
    await w.upload(Array.from({ length: 600 }, (_, i) => record(1000 + i, { expiresOn: '2027-06-20' })));

    // Act: a budget already spent stops after the first page.
    const paused = await changeRule(w.deps, OPERATOR, TYPE, { comment: '加一次', enabled: true, expectedVersion: 0, stages: withExtraStage(-15) }, { stopAtMs: 0 });

    // Assess
    expect(paused.replan).toMatchObject({ state: 'running', total: 600 });
    expect(paused.replan.done).toBeLessThan(600);
    expect((await w.ruleStore.getRule(TYPE))?.replan?.state).toBe('running');

    // Act
    const continued = await continueRuleReplans(w.deps);

    // Assess
    expect(continued).toEqual([TYPE]);
    expect((await w.ruleStore.getRule(TYPE))?.replan).toMatchObject({ state: 'done', done: 600, total: 600, replanned: 600 });
    const last = await w.store.getCertificate({ type: TYPE, number: 'TEST-001599' });
    expect(last?.plan.stages.map((s) => s.stage)).toContain('extra');
  });

  it('keeps a renewal uploaded while the re-plan holds the old record, and plans it on the new rule', async () => {
    // Prepare: the renewal lands after the re-plan has read the page and before it writes it.
    const w = await world('rules-renewal-race');
    await w.upload([record(31, { expiresOn: '2027-06-20' })]);
    const typeCertificates = interleaved(w.deps.typeCertificates, () => w.upload([record(31, { expiresOn: '2029-06-20', issuedOn: '2026-06-21' })]));

    // Act
    const result = await changeRule({ ...w.deps, typeCertificates }, OPERATOR, TYPE, { comment: '加一次', enabled: true, expectedVersion: 0, stages: withExtraStage(-15) });

    // Assess: the renewed expiry stands, with the new rule's stages for it.
    expect(result.replan).toMatchObject({ state: 'done', done: 1 });
    const stored = await w.store.getCertificate({ type: TYPE, number: 'TEST-000031' });
    expect(stored?.certificate.expiresOn).toBe('2029-06-20');
    expect(stored?.plan.renewalDeadline).toBe('2029-03-22');
    expect(stored?.plan.stages.map((s) => [s.stage, s.status])).toEqual([
      ['first', 'pending'],
      ['extra', 'pending'],
      ['final', 'pending'],
      ['expired', 'pending'],
    ]);
  });

  it('keeps a stage a scan sent while the re-plan held the plan from before, and never sends it again', async () => {
    // Prepare: expiry 2027-03-20, its first reminder due now; the scan runs between the re-plan's read and its write.
    const w = await world('rules-scan-race');
    await w.upload([record(32, { expiresOn: '2027-03-20' })]);
    const typeCertificates = interleaved(w.deps.typeCertificates, () => w.scan());

    // Act
    await changeRule({ ...w.deps, typeCertificates }, OPERATOR, TYPE, { comment: '加一次', enabled: true, expectedVersion: 0, stages: withExtraStage(-15) });
    await w.scan();

    // Assess
    expect(w.sms.sent.map((m) => m.reminder?.stage)).toEqual(['first']);
    const stored = await w.store.getCertificate({ type: TYPE, number: 'TEST-000032' });
    expect(stored?.plan.stages.map((s) => [s.stage, s.status])).toEqual([
      ['first', 'sent'],
      ['extra', 'pending'],
      ['final', 'pending'],
      ['expired', 'pending'],
    ]);
  });

  it('refuses a rule with errors naming each field, and stores nothing', async () => {
    // Prepare
    const w = await world('rules-400');

    // Act
    const attempt = changeRule(w.deps, OPERATOR, TYPE, { comment: ' ', enabled: true, expectedVersion: 0, stages: withExtraStage(-15, '{typName}') });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RuleChangeRejected);
    const error = (await attempt.catch((e: unknown) => e)) as RuleChangeRejected;
    expect(error.errors.map((e) => e.field)).toEqual(['comment', 'stages[3].template']);
    expect(await w.ruleStore.getRule(TYPE)).toBeUndefined();
  });

  it('restores an earlier version as a new one, and keeps the history newest first with the audit trail', async () => {
    // Prepare
    const w = await world('rules-restore');
    await changeRule(w.deps, OPERATOR, TYPE, { comment: '加一次', enabled: true, expectedVersion: 0, stages: withExtraStage(-15) });
    w.clock.set('2026-12-01T11:00:00+08:00');

    // Act
    const restored = await restoreRule(w.deps, OPERATOR, TYPE, { version: 0, comment: '撤回' });

    // Assess
    expect(restored.version).toBe(2);
    expect(restored.stages.map((s) => s.name)).toEqual(['first', 'final', 'expired']);
    const history = await w.ruleStore.ruleHistory(TYPE);
    expect(history.map((v) => [v.version, v.comment])).toEqual([
      [2, '撤回'],
      [1, '加一次'],
    ]);
    expect(history[0]?.diff).toEqual(['restored from version 0', '- extra']);
    const trail = await w.audit.list({ limit: 10 });
    expect(trail.items.map((e) => [e.action, e.target])).toEqual([
      ['rules.restore', `rules/${TYPE}`],
      ['rules.change', `rules/${TYPE}`],
    ]);
  });
});

describe('Use case: previewing a rule over real stored data (DynamoDB Local)', () => {
  it('counts messages per day now and under the draft, renders samples from stored certificates, and writes nothing', async () => {
    // Prepare: three certificates whose first reminders fall in the next 90 days.
    const w = await world('rules-preview');
    await w.upload([record(11, { expiresOn: '2027-04-20' }), record(12, { expiresOn: '2027-04-20' }), record(13, { expiresOn: '2027-05-10' })]);
    const before = await w.store.getCertificate({ type: TYPE, number: 'TEST-000011' });

    // Act
    const preview = await previewRule(w.deps, TYPE, { enabled: true, stages: withExtraStage(-15), days: 90 });

    // Assess: first reminders 2027-01-20 ×2 and 2027-02-09 ×1 (moved off days off as the calendar says) today and in the draft, plus the extra stages.
    expect(preview.from).toBe('2026-12-01');
    expect(preview.to).toBe('2027-02-28');
    const total = (counts: Array<{ count: number }>) => counts.reduce((n, c) => n + c.count, 0);
    expect(total(preview.current)).toBe(6);
    expect(total(preview.draft)).toBe(9);
    expect(preview.affected).toBe(3);
    expect(preview.samples.map((s) => s.stage).sort()).toEqual(['extra', 'final', 'first']);
    expect(preview.samples[0]?.to).toMatch(/\*/);
    expect(preview.samples.every((s) => s.body.startsWith('【兴国县行政审批局】') && s.segments >= 1)).toBe(true);
    expect(await w.store.getCertificate({ type: TYPE, number: 'TEST-000011' })).toEqual(before);
    expect(await w.ruleStore.getRule(TYPE)).toBeUndefined();
    expect(w.sms.sent).toEqual([]);
  });
});

describe('Method: DynamoDbStore.updatePlans (DynamoDB Local)', () => {
  it('writes each plan only over the version it read, and a stale one fails alone', async () => {
    // Prepare
    const w = await world('rules-update-plans');
    await w.upload([record(21, { expiresOn: '2027-06-20' }), record(22, { expiresOn: '2027-06-20' })]);
    const [a, b] = await Promise.all([w.store.getCertificate({ type: TYPE, number: 'TEST-000021' }), w.store.getCertificate({ type: TYPE, number: 'TEST-000022' })]);
    const emptied = (plan: NonNullable<typeof a>['plan']) => ({ ...plan, stages: [] });

    // Act: b's version is stale
    const written = await w.store.updatePlans(
      [
        { key: a!.certificate, expectedVersion: a!.version, plan: emptied(a!.plan) },
        { key: b!.certificate, expectedVersion: b!.version - 1, plan: emptied(b!.plan) },
      ],
      '2026-12-01T10:00:00.000+08:00',
    );

    // Assess
    expect(written).toEqual([true, false]);
    expect((await w.store.getCertificate(a!.certificate))?.plan.stages).toEqual([]);
    expect((await w.store.getCertificate(b!.certificate))?.plan.stages).toHaveLength(3);
  });

  it('writes a whole page of plans, more than one transaction holds, and answers for each in order', async () => {
    // Prepare: 230 certificates; the 150th was changed after it was read.
    const w = await world('rules-update-plans-page');
    await w.upload(Array.from({ length: 230 }, (_, i) => record(100 + i, { expiresOn: '2027-06-20' })));
    const page = (await w.store.certificatesOfTypeExpiringFrom(TYPE, '2026-01-01')).items;
    const updates = page.map((s, i) => ({ key: s.certificate, expectedVersion: i === 149 ? s.version - 1 : s.version, plan: { ...s.plan, stages: [] } }));

    // Act
    const written = await w.store.updatePlans(updates, '2026-12-01T10:00:00.000+08:00');

    // Assess
    expect(page).toHaveLength(230);
    expect(written.map((ok, i) => [i, ok]).filter(([, ok]) => !ok)).toEqual([[149, false]]);
    const after = (await w.store.certificatesOfTypeExpiringFrom(TYPE, '2026-01-01')).items;
    expect(after.filter((s) => s.plan.stages.length > 0).map((s) => s.certificate.number)).toEqual([page[149]?.certificate.number]);
  });
});
