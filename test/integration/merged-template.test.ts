import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbRuleStore } from '../../functions/adapters/aws/dynamodb/dynamodb-rule-store.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp } from '../../functions/app/http/app.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { sendDueReminders } from '../../functions/app/send-due-reminders.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import { DEFAULT_MERGED_TEMPLATE } from '../../functions/core/merged-reminder.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { at, freshStore, record, RecordingSender, testSettings } from '../support/fixtures.js';

const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:ops' },
  viewer: { role: 'viewer', subject: 'token:viewer' },
};
const reference = loadReferenceData();

async function world(prefix: string) {
  const store = await freshStore(prefix);
  const client = dynamoTestClient();
  const mergedTemplates = new DynamoDbRuleStore(client, store.tableName);
  const audit = new DynamoDbAuditLog(client, store.tableName);
  const clock = { now: () => at('2026-08-01T10:00:00+08:00') };
  const key = randomBytes(32);
  const sms = new RecordingSender();
  const app = createHttpApp({
    store,
    ledger: store,
    sms,
    reference,
    settings: testSettings(),
    logger: silentLogger,
    clock,
    audit,
    mergedTemplates,
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => key, 3600),
  });
  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const response = await app({ method, path, query: {}, headers: { authorization: who, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  return { store, mergedTemplates, audit, sms, call };
}

const EDITED = { template: '您有{count}本证照需办理：{items}。', itemTemplate: '{typeName}（编号{number}）请{applyBy}办理{action}' };

describe('Routes: /v1/rules/merged-template', () => {
  it('shows the default texts as version 0 until an operator changes them', async () => {
    // Prepare
    const w = await world('merged-template-default');

    // Act
    const shown = await w.call('viewer', 'GET', '/v1/rules/merged-template');

    // Assess
    expect(shown).toMatchObject({ status: 200, body: { ...DEFAULT_MERGED_TEMPLATE, version: 0 } });
  });

  it('previews the texts with real values, two and three certificates, saying whether each would be merged', async () => {
    // Prepare
    const w = await world('merged-template-preview');

    // Act
    const preview = await w.call('operator', 'POST', '/v1/rules/merged-template/preview', EDITED);

    // Assess
    expect(preview.status).toBe(200);
    const samples = preview.body.samples as Array<{ count: number; body: string; segments: number; merged: boolean }>;
    expect(samples.map((s) => s.count)).toEqual([2, 3]);
    expect(samples[0]?.body.startsWith('【兴国县行政审批局】您有2本证照需办理：')).toBe(true);
    expect(samples[0]?.merged).toBe(true);
    for (const sample of samples) expect(sample.merged).toBe(sample.segments <= 3);
  });

  it('stores a change as the next version, audited, and the next scan merges with it', async () => {
    // Prepare: two certificates of one holder, first reminders due 2026-08-21 09:00
    const w = await world('merged-template-change');
    const records = [record(1, { phone: '13900000777' }), record(2, { phone: '13900000777' })];
    expect((await uploadCertificates({ store: w.store, reference, settings: testSettings() }, records, at('2026-08-01T10:00:00+08:00'))).rejected).toEqual([]);

    // Act
    const changed = await w.call('operator', 'PUT', '/v1/rules/merged-template', { ...EDITED, comment: '更短的合并短信' });
    await sendDueReminders(
      { store: w.store, ledger: w.store, phones: w.store, mergedTemplates: w.mergedTemplates, sms: w.sms, reference, settings: testSettings(), logger: silentLogger },
      at('2026-08-21T09:00:00+08:00'),
    );

    // Assess
    expect(changed).toMatchObject({ status: 200, body: { ...EDITED, version: 1, changedBy: 'token:ops', comment: '更短的合并短信' } });
    expect(w.sms.sent.map((m) => m.body)).toEqual([
      '【兴国县行政审批局】您有2本证照需办理：农药经营许可证（编号TEST-000001）请在2026年9月21日（含）前办理延续；农药经营许可证（编号TEST-000002）请在2026年9月21日（含）前办理延续。',
    ]);
    expect((await w.audit.list({ limit: 10 })).items.map((e) => e.action)).toEqual(['rules.merged']);
  });

  it('refuses texts without {items}, an item without {number}, or a merge of two that takes more than 3 segments, naming the field', async () => {
    // Prepare
    const w = await world('merged-template-refused');
    const long = `{typeName}（编号{number}）将于{expiresOn}到期，请{applyBy}到{place}办理{action}，${'逾期未办理将影响正常经营，'.repeat(4)}`;

    // Act
    const noItems = await w.call('operator', 'PUT', '/v1/rules/merged-template', { template: '您名下{count}本证照即将到期', itemTemplate: EDITED.itemTemplate, comment: 'x' });
    const noNumber = await w.call('operator', 'PUT', '/v1/rules/merged-template', { template: EDITED.template, itemTemplate: '{typeName}即将到期', comment: 'x' });
    const tooLong = await w.call('operator', 'PUT', '/v1/rules/merged-template', { template: EDITED.template, itemTemplate: long, comment: 'x' });
    const noComment = await w.call('operator', 'PUT', '/v1/rules/merged-template', EDITED);
    const byViewer = await w.call('viewer', 'PUT', '/v1/rules/merged-template', { ...EDITED, comment: 'x' });

    // Assess
    expect(noItems).toMatchObject({ status: 400, body: { errors: [{ field: 'template', reason: expect.stringContaining('{items}') }] } });
    expect(noNumber).toMatchObject({ status: 400, body: { errors: [{ field: 'itemTemplate', reason: expect.stringContaining('{number}') }] } });
    expect(tooLong).toMatchObject({ status: 400, body: { errors: [{ field: 'template', reason: expect.stringContaining('at most 3') }] } });
    expect(noComment).toMatchObject({ status: 400, body: { errors: [{ field: 'comment' }] } });
    expect(byViewer.status).toBe(403);
    expect(await w.mergedTemplates.getMergedTemplate()).toBeUndefined();
  });
});
