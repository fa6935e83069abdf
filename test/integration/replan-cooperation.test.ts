/**
 * A rule re-plan writes whole certificates without conditions; these are the writers that must not
 * lose what they stored meanwhile, and the re-plan's own lifecycle (crash, lease, two runs at once).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../functions/core/access.js';
import { ZONE } from '../../functions/core/model.js';
import type { Clock, ReplanMarks, TypeCertificateSource } from '../../functions/core/ports.js';
import { defaultStages } from '../../functions/core/rules.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbImportStore } from '../../functions/adapters/aws/dynamodb/dynamodb-import-store.js';
import { DynamoDbReplanMarks } from '../../functions/adapters/aws/dynamodb/dynamodb-replan-marks.js';
import { DynamoDbRuleStore } from '../../functions/adapters/aws/dynamodb/dynamodb-rule-store.js';
import { documentClient, DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { LocalImportFiles } from '../../functions/adapters/local/local-imports.js';
import { createImport, runImport, type ImportDeps } from '../../functions/app/imports/run-import.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { revokeCertificates } from '../../functions/app/revoke-certificates.js';
import { changeRule, continueRuleReplans, REPLAN_LEASE_MS, replanRule, type RuleDeps } from '../../functions/app/rules/change-rule.js';
import { StoredRuleSource } from '../../functions/app/rules/stored-rules.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { record, testSettings, validUscc } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:ops-1' };
const START = '2026-12-01T10:00:00+08:00';
const TYPE = 'pesticide_business_license';
const CHANGE = { comment: '加一次', enabled: true, expectedVersion: 0, stages: [...defaultStages(), { name: 'extra', from: 'deadline', days: -15, template: '提醒：您的{typeName}（编号{number}）请{applyBy}办理{action}。' }] };

function movableClock(iso: string): Clock & { set(iso: string): void } {
  let now = DateTime.fromISO(iso, { setZone: true }).setZone(ZONE);
  return { now: () => now, set: (next) => (now = DateTime.fromISO(next, { setZone: true }).setZone(ZONE)) };
}

/** `queryFromTypes`: 1 makes writers read the rules partition (as for pages of many types) even for one type. */
async function world(prefix: string, queryFromTypes?: number) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const store = new DynamoDbStore(client, tableName);
  const replanMarks = new DynamoDbReplanMarks(client, tableName, queryFromTypes === undefined ? {} : { queryFromTypes });
  const ruleStore = new DynamoDbRuleStore(client, tableName);
  const audit = new DynamoDbAuditLog(client, tableName);
  const reference = loadReferenceData();
  const clock = movableClock(START);
  const settings = testSettings();
  const rules = new StoredRuleSource({ rules: ruleStore, clock, policy: settings.stagePolicy });
  const deps: RuleDeps = { ruleStore, rules, store, typeCertificates: store, reference, settings, clock, logger: silentLogger, audit, replanMarks };
  const upload = (records: unknown[], marks: ReplanMarks | undefined = replanMarks, ruleSource = rules) =>
    uploadCertificates({ store, reference, settings, rules: ruleSource, ...(marks !== undefined ? { replanMarks: marks } : {}) }, records, clock.now());
  const stagesOf = async (serial: number) => (await store.getCertificate({ type: TYPE, number: `TEST-${String(serial).padStart(6, '0')}` }))?.plan.stages.map((s) => [s.stage, s.status]);
  const expiryOf = async (serial: number) => (await store.getCertificate({ type: TYPE, number: `TEST-${String(serial).padStart(6, '0')}` }))?.certificate.expiresOn;
  return { client, tableName, store, replanMarks, ruleStore, audit, reference, settings, clock, rules, deps, upload, stagesOf, expiryOf };
}

/** The type's certificates as the store lists them, with `meanwhile` run after the first page is read and before it is returned. */
function interleaved(source: TypeCertificateSource, meanwhile: () => Promise<unknown>): TypeCertificateSource {
  let ran = false;
  return {
    countCertificatesOfTypeExpiringFrom: (type, from) => source.countCertificatesOfTypeExpiringFrom(type, from),
    planRowsOfTypeExpiringFrom: (type, from, cursor) => source.planRowsOfTypeExpiringFrom(type, from, cursor),
    async certificatesOfTypeExpiringFrom(type, from, cursor) {
      const page = await source.certificatesOfTypeExpiringFrom(type, from, cursor);
      if (!ran) {
        ran = true;
        await meanwhile();
      }
      return page;
    },
  };
}

const ALL_PENDING_WITH_EXTRA = [
  ['first', 'pending'],
  ['extra', 'pending'],
  ['final', 'pending'],
  ['expired', 'pending'],
];

// Writers read their types' state either a key per type or, for many types, the whole rules partition: each guarantee holds both ways.
describe.each([
  ['a key per type', undefined],
  ['the rules partition', 1],
])('Rule re-plan with BatchWriteItem: the writers it must not overwrite, reading %s (DynamoDB Local)', (_reading, queryFromTypes) => {
  it('keeps an import batch stored while the re-plan holds the old records, planned on the new rule', async () => {
    // Prepare: two stored certificates; a bureau's file renews one and adds one, imported between the re-plan's read and its write.
    const w = await world('replan-import', queryFromTypes);
    await w.upload([record(41, { expiresOn: '2027-06-20' }), record(42, { expiresOn: '2027-06-20' })]);
    const dir = mkdtempSync(join(tmpdir(), 'certalarm-replan-import-'));
    const files = new LocalImportFiles(dir);
    const importDeps: ImportDeps = {
      store: w.store,
      reference: w.reference,
      settings: w.settings,
      rules: w.rules,
      replanMarks: w.replanMarks,
      imports: new DynamoDbImportStore(w.client, w.tableName),
      openSpreadsheet: files.opener(),
      removeFile: (key) => files.remove(key),
      limits: { maxBytes: 1_000_000, maxRows: 1000 },
      logger: silentLogger,
      clock: w.clock,
    };
    const row = (serial: number, expiry: string) =>
      ['农药经营许可证', `TEST-${String(serial).padStart(6, '0')}`, `测试农资有限公司${serial}`, validUscc(serial), `1390000${String(serial).padStart(4, '0')}`, '潋江镇', '2026-06-21', expiry].join(',');
    const csv = ['证照类型,证照编号,持证主体,统一社会信用代码,联系电话,所属乡镇,发证日期,有效期至', row(41, '2029-06-20'), row(43, '2028-06-20')].join('\n');
    const blobKey = join(dir, 'renewals.csv');
    writeFileSync(blobKey, csv);
    const { record: created } = await createImport(importDeps, OPERATOR, {
      fileName: 'renewals.csv',
      contentType: 'text/csv',
      bytes: Buffer.byteLength(csv),
      sha256: createHash('sha256').update(csv).digest('hex'),
      blobKey,
      options: { allOrNothing: false },
    });
    const typeCertificates = interleaved(w.deps.typeCertificates, () => runImport(importDeps, created.id));

    // Act
    const result = await changeRule({ ...w.deps, typeCertificates }, OPERATOR, TYPE, CHANGE);

    // Assess: the renewal and the new certificate stand, every certificate on the new rule, and the journal is empty again.
    expect(result.replan).toMatchObject({ state: 'done' });
    expect(await w.expiryOf(41)).toBe('2029-06-20');
    expect(await w.expiryOf(43)).toBe('2028-06-20');
    for (const serial of [41, 42, 43]) expect(await w.stagesOf(serial)).toEqual(ALL_PENDING_WITH_EXTRA);
    expect(await w.replanMarks.journalEntries(TYPE)).toEqual([]);
    expect((await w.replanMarks.typeWriteStates([TYPE])).get(TYPE)?.mark).toBeUndefined();
  }, 60_000);

  it('keeps a revocation made while the re-plan holds the record from before, and gives it no new stage', async () => {
    // Prepare
    const w = await world('replan-revoke', queryFromTypes);
    await w.upload([record(51, { expiresOn: '2027-06-20' })]);
    const revoke = () =>
      revokeCertificates(
        { store: w.store, revoker: w.store, reference: w.reference, settings: w.settings, replanMarks: w.replanMarks, audit: w.audit, clock: w.clock, logger: silentLogger },
        OPERATOR,
        [{ type: TYPE, number: 'TEST-000051', reason: '注销', comment: '企业注销' }],
        w.clock.now(),
      );
    const typeCertificates = interleaved(w.deps.typeCertificates, revoke);

    // Act
    await changeRule({ ...w.deps, typeCertificates }, OPERATOR, TYPE, CHANGE);

    // Assess
    const stored = await w.store.getCertificate({ type: TYPE, number: 'TEST-000051' });
    expect(stored?.revoked).toMatchObject({ reason: '注销' });
    expect(stored?.plan.stages.filter((s) => s.status === 'pending')).toEqual([]);
    expect(stored?.plan.stages.map((s) => s.stage)).not.toContain('extra');
  }, 60_000);

  it('puts a renewal back itself when its journal entry loses the race with the end of the re-plan', async () => {
    // Prepare: the writer stores the renewal and sees the mark open; the re-plan then overwrites it,
    // finishes its repair pass and releases the mark before the writer's journal entry is written.
    const w = await world('replan-journal-race', queryFromTypes);
    await w.upload([record(61, { expiresOn: '2027-06-20' })]);
    let reachedJournal!: () => void;
    const atJournal = new Promise<void>((resolve) => (reachedJournal = resolve));
    let openJournal!: () => void;
    const journalOpen = new Promise<void>((resolve) => (openJournal = resolve));
    const lateWriterMarks = new Proxy(w.replanMarks, {
      get(target, property) {
        if (property === 'journal') {
          return async (...args: Parameters<ReplanMarks['journal']>) => {
            reachedJournal();
            await journalOpen;
            return target.journal(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    let uploading: Promise<unknown> = Promise.resolve();
    const typeCertificates = interleaved(w.deps.typeCertificates, async () => {
      uploading = w.upload([record(61, { expiresOn: '2029-06-20', issuedOn: '2026-06-21' })], lateWriterMarks);
      await atJournal;
    });
    await changeRule({ ...w.deps, typeCertificates }, OPERATOR, TYPE, CHANGE);
    const overwritten = await w.expiryOf(61);

    // Act
    openJournal();
    await uploading;

    // Assess: the re-plan did overwrite the renewal, and the writer put it back, on the new rule.
    expect(overwritten).toBe('2027-06-20');
    expect((await w.replanMarks.typeWriteStates([TYPE])).get(TYPE)?.mark).toBeUndefined();
    expect(await w.expiryOf(61)).toBe('2029-06-20');
    expect(await w.stagesOf(61)).toEqual(ALL_PENDING_WITH_EXTRA);
    expect(await w.replanMarks.journalEntries(TYPE)).toEqual([]);
  }, 60_000);

  it('plans an upload on a rule changed by another process within the cache\'s minute', async () => {
    // Prepare: this process read the rules (the default) just before another process changed them.
    const w = await world('replan-stale-cache', queryFromTypes);
    const staleRules = new StoredRuleSource({ rules: w.ruleStore, clock: w.clock, policy: w.settings.stagePolicy });
    await staleRules.ruleFor(TYPE);
    await changeRule(w.deps, OPERATOR, TYPE, CHANGE);

    // Act
    await w.upload([record(71, { expiresOn: '2027-06-20' })], w.replanMarks, staleRules);

    // Assess
    expect(await w.stagesOf(71)).toEqual(ALL_PENDING_WITH_EXTRA);
  }, 60_000);
});

describe('Rule re-plan lifecycle under its mark (DynamoDB Local)', () => {
  it('finishes a re-plan that crashed part-way, applies what writers journaled meanwhile, and stops holding writers once its lease lapses', async () => {
    // Prepare: 600 certificates (two pages); the re-plan dies reading its second page, after writing the first.
    const w = await world('replan-crash');
    await w.upload(Array.from({ length: 600 }, (_, i) => record(1000 + i, { expiresOn: '2027-06-20' })));
    const crashing: TypeCertificateSource = {
      ...w.store,
      countCertificatesOfTypeExpiringFrom: (type, from) => w.store.countCertificatesOfTypeExpiringFrom(type, from),
      planRowsOfTypeExpiringFrom: (type, from, cursor) => w.store.planRowsOfTypeExpiringFrom(type, from, cursor),
      certificatesOfTypeExpiringFrom: (type, from, cursor) =>
        cursor === undefined ? w.store.certificatesOfTypeExpiringFrom(type, from, cursor) : Promise.reject(new Error('process killed')),
    };
    await expect(changeRule({ ...w.deps, typeCertificates: crashing }, OPERATOR, TYPE, CHANGE)).rejects.toThrow('process killed');
    const heldAfterCrash = (await w.replanMarks.typeWriteStates([TYPE])).get(TYPE)?.mark;

    // Act: a renewal while the crashed run's lease still holds, then one after it lapsed.
    await w.upload([record(1000, { expiresOn: '2029-06-20', issuedOn: '2026-06-21' })]);
    const journaledWhileHeld = (await w.replanMarks.journalEntries(TYPE)).length;
    w.clock.set(DateTime.fromISO(START).plus({ milliseconds: REPLAN_LEASE_MS + 60_000 }).toISO() ?? '');
    await w.upload([record(1001, { expiresOn: '2029-06-20', issuedOn: '2026-06-21' })]);
    const journaledAfterLapse = (await w.replanMarks.journalEntries(TYPE)).length;
    const continued = await continueRuleReplans(w.deps);

    // Assess
    expect(heldAfterCrash).toMatchObject({ state: 'open', ruleVersion: 1 });
    expect(journaledWhileHeld).toBe(1);
    expect(journaledAfterLapse).toBe(1);
    expect(continued).toEqual([TYPE]);
    expect((await w.ruleStore.getRule(TYPE))?.replan).toMatchObject({ state: 'done' });
    expect(await w.replanMarks.journalEntries(TYPE)).toEqual([]);
    expect((await w.replanMarks.typeWriteStates([TYPE])).get(TYPE)?.mark).toBeUndefined();
    for (const serial of [1000, 1001]) {
      expect(await w.expiryOf(serial)).toBe('2029-06-20');
      expect(await w.stagesOf(serial)).toEqual(ALL_PENDING_WITH_EXTRA);
    }
    expect(await w.stagesOf(1599)).toEqual(ALL_PENDING_WITH_EXTRA);
  }, 120_000);

  it('lets only one run re-plan a type at a time: a second one leaves the work to the holder, and two at once count each certificate once', async () => {
    // Prepare: a change paused after its first page; another run holds the type's mark.
    const w = await world('replan-two-runs');
    await w.upload(Array.from({ length: 600 }, (_, i) => record(2000 + i, { expiresOn: '2027-06-20' })));
    const paused = await changeRule(w.deps, OPERATOR, TYPE, CHANGE, { stopAtMs: 0 });
    const other = await w.replanMarks.acquireMark(TYPE, 1, w.clock.now().toMillis(), REPLAN_LEASE_MS);

    // Act
    const refused = await replanRule(w.deps, TYPE);

    // Assess: nothing moved while the other run held the type.
    expect(other).toBeDefined();
    expect(refused).toMatchObject({ state: 'running', done: paused.replan.done });
    expect(await w.stagesOf(2599)).not.toEqual(ALL_PENDING_WITH_EXTRA);

    // Act: the holder lets go; two runs start at once.
    await w.replanMarks.closeMark(TYPE, other?.id ?? '');
    await w.replanMarks.releaseMark(TYPE, other?.id ?? '');
    await Promise.all([replanRule(w.deps, TYPE), replanRule(w.deps, TYPE)]);

    // Assess
    expect((await w.ruleStore.getRule(TYPE))?.replan).toMatchObject({ state: 'done', done: 600, replanned: 600 });
    expect(await w.stagesOf(2599)).toEqual(ALL_PENDING_WITH_EXTRA);
  }, 120_000);
});

describe('Type write state: the rule item carries the re-plan mark (DynamoDB Local)', () => {
  const SECOND = { ...CHANGE, comment: '再改一次', expectedVersion: 1, stages: [...defaultStages(), { ...CHANGE.stages[3], name: 'extra2', days: -20 }] } as typeof CHANGE;

  it('keeps a running re-plan\'s mark when a newer rule is saved while it holds the type', async () => {
    // Prepare: the first change is re-planned; another run then holds the type's mark.
    const w = await world('state-keep-mark');
    await changeRule(w.deps, OPERATOR, TYPE, CHANGE);
    const held = await w.replanMarks.acquireMark(TYPE, 1, w.clock.now().toMillis(), REPLAN_LEASE_MS);
    const seqWhileHeld = (await w.replanMarks.typeWriteStates([TYPE])).get(TYPE)?.markSeq;

    // Act: a second change is saved (its re-plan finds the type held and leaves the work to the holder).
    const second = await changeRule(w.deps, OPERATOR, TYPE, SECOND);

    // Assess: the save moved the rule on and left the holder's mark and the mark count as they were.
    const state = (await w.replanMarks.typeWriteStates([TYPE])).get(TYPE);
    expect(second.replan).toMatchObject({ state: 'running' });
    expect(state?.rule?.version).toBe(2);
    expect(state?.mark).toMatchObject({ id: held?.id, state: 'open', ruleVersion: 1 });
    expect(state?.markSeq).toBe(seqWhileHeld);
  }, 60_000);

  it('plans an upload on the stored rule when this process last read an older version of it', async () => {
    // Prepare: this process uploads under version 1; another process then saves version 2.
    const w = await world('state-rule-cache');
    await changeRule(w.deps, OPERATOR, TYPE, CHANGE);
    await w.upload([record(81, { expiresOn: '2027-06-20' })]);
    const otherProcess = { ...w.deps, replanMarks: new DynamoDbReplanMarks(w.client, w.tableName), rules: new StoredRuleSource({ rules: w.ruleStore, clock: w.clock, policy: w.settings.stagePolicy }) };
    await changeRule(otherProcess, OPERATOR, TYPE, SECOND);

    // Act
    await w.upload([record(82, { expiresOn: '2027-06-20' })]);

    // Assess: planned on version 2 (the first upload is re-planned by the change).
    for (const serial of [81, 82]) expect((await w.stagesOf(serial))?.map(([stage]) => stage)).toEqual(['first', 'extra2', 'final', 'expired']);
  }, 60_000);

  it('reads each type\'s version and mark in one call (a key per type, or the rules partition for many types) and a whole rule only when its version is new to this process', async () => {
    // Prepare: a changed type and 33 never changed; every read this process sends is recorded.
    const w = await world('state-one-read');
    await changeRule(w.deps, OPERATOR, TYPE, CHANGE);
    const client = dynamoTestClient();
    const reads: Array<{ command: string; keys?: number; projected: boolean }> = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ProjectionExpression?: string; RequestItems?: Record<string, { Keys: unknown[]; ProjectionExpression?: string }> };
        if (context.commandName === 'QueryCommand') reads.push({ command: 'Query', projected: input.ProjectionExpression !== undefined });
        for (const request of Object.values(input.RequestItems ?? {})) reads.push({ command: 'BatchGetItem', keys: request.Keys.length, projected: request.ProjectionExpression !== undefined });
        return next(args);
      },
      { step: 'initialize', name: 'recordReads' },
    );
    const marks = new DynamoDbReplanMarks(client, w.tableName);
    const types = [TYPE, ...w.reference.catalogue.all().filter((t) => t.reminders && t.code !== TYPE).slice(0, 33).map((t) => t.code)];
    const calls = async (read: () => Promise<unknown>) => {
      const from = reads.length;
      await read();
      return reads.slice(from);
    };

    // Act
    const first = await marks.typeWriteStates(types);
    const firstReads = reads.slice();
    const secondReads = await calls(() => marks.typeWriteStates(types));
    const oneTypeReads = await calls(() => marks.typeWriteStates([TYPE]));

    // Assess: the changed type's whole rule is read once; after that, one projected call per read.
    expect(first.get(TYPE)?.rule?.stages.map((s) => s.name)).toContain('extra');
    expect(first.get(types[1] ?? '')).toEqual({ rule: undefined, mark: undefined, markSeq: 0 });
    expect(firstReads).toEqual([{ command: 'Query', projected: true }, { command: 'BatchGetItem', keys: 1, projected: false }]);
    expect(secondReads).toEqual([{ command: 'Query', projected: true }]);
    expect(oneTypeReads).toEqual([{ command: 'BatchGetItem', keys: 1, projected: true }]);
  }, 60_000);

  it('reads a table written before the mark moved onto the rule item: a rule item without mark fields, a type without one', async () => {
    // Prepare: the rule item exactly as the earlier release stored it (a Put, no mark fields), and a leftover mark item of that release.
    const w = await world('state-old-table');
    const { stages, comment, enabled } = CHANGE;
    const doc = documentClient(w.client);
    const replan = { version: 1, state: 'done', done: 0, total: 0, replanned: 0, startedAt: START, finishedAt: START };
    await doc.send(
      new PutCommand({
        TableName: w.tableName,
        Item: { pk: 'RULES', sk: `TYPE#${TYPE}`, entity: 'rule', type: TYPE, version: 1, enabled, stages, comment, changedBy: 'token:ops-1', changedAt: START, replan },
      }),
    );
    await doc.send(new PutCommand({ TableName: w.tableName, Item: { pk: `REPLAN#${TYPE}`, sk: 'MARK', entity: 'replanMark', markSeq: 3 } }));

    // Act
    const states = await w.replanMarks.typeWriteStates([TYPE, 'construction_permit']);
    await w.upload([record(91, { expiresOn: '2027-06-20' })]);
    const next = await changeRule(w.deps, OPERATOR, TYPE, SECOND);

    // Assess: the stored rule is planned with, no mark is seen, a type never changed runs the default, and the next change re-plans.
    expect(states.get(TYPE)).toMatchObject({ rule: { version: 1 }, mark: undefined, markSeq: 0 });
    expect(states.get('construction_permit')).toEqual({ rule: undefined, mark: undefined, markSeq: 0 });
    expect(next).toMatchObject({ version: 2, replan: { state: 'done' } });
    expect((await w.stagesOf(91))?.map(([stage]) => stage)).toEqual(['first', 'extra2', 'final', 'expired']);
    expect((await w.replanMarks.typeWriteStates([TYPE])).get(TYPE)).toMatchObject({ rule: { version: 2 }, mark: undefined, markSeq: 1 });
  }, 60_000);
});
