import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Principal } from '../../functions/core/access.js';
import { CursorSeal } from '../../functions/app/cursors.js';
import { createHttpApp } from '../../functions/app/http/app.js';
import { contentHash, legacyContentHash, uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Certificate } from '../../functions/core/model.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb/dynamodb-audit-log.js';
import { documentClient, DynamoDbStore, toItem } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { certificateKey } from '../../functions/adapters/aws/dynamodb/keys.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { LocalHolderIdCipher } from '../../functions/adapters/local/local-holder-id-cipher.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { at, record, RecordingSender, scanDeps, testSettings, validUscc } from '../support/fixtures.js';

const NOW = at('2026-08-01T10:00:00+08:00');
const PESTICIDE = 'pesticide_business_license';
const reference = loadReferenceData();
const CALLERS: Record<string, Principal> = {
  operator: { role: 'operator', subject: 'token:ops' },
  agriculture: { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' },
};

async function world(prefix: string) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  const cipher = new LocalHolderIdCipher(Buffer.alloc(32, 5));
  const store = new DynamoDbStore(client, tableName, { holderIds: cipher });
  const plainStore = new DynamoDbStore(client, tableName);
  const audit = new DynamoDbAuditLog(client, tableName);
  const upload = (records: unknown[]) => uploadCertificates({ store, reference, settings: testSettings() }, records, NOW);
  /** The item exactly as DynamoDB holds it. */
  const raw = async (number: string) =>
    (await documentClient(client).send(new GetCommand({ TableName: tableName, Key: certificateKey({ type: PESTICIDE, number }) }))).Item ?? {};
  const app = createHttpApp({
    ...scanDeps(store, new RecordingSender()),
    clock: { now: () => NOW },
    audit,
    authenticate: async (req) => CALLERS[req.headers.authorization ?? ''],
    cursors: new CursorSeal(async () => Buffer.alloc(32, 1), 3600),
  });
  const get = async (path: string, query: Record<string, string> = {}, caller = 'operator') => {
    const response = await app({ method: 'GET', path, query, headers: { authorization: caller } });
    return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  return { client, tableName, cipher, store, plainStore, audit, upload, raw, get };
}

describe('Holder IDs at rest', () => {
  it('stores the ID sealed, never in plain text nor under an unkeyed hash of it, and reads it back whole', async () => {
    // Prepare
    const w = await world('holder-ids-sealed');
    const id = validUscc(1);

    // Act
    await w.upload([record(1, { number: 'HID-1' })]);
    const item = await w.raw('HID-1');
    const read = await w.store.getCertificate({ type: PESTICIDE, number: 'HID-1' });

    // Assess
    expect(item.holderId).toMatch(new RegExp(`^hid1:${w.cipher.keyId}:`));
    expect(JSON.stringify(item)).not.toContain(id);
    expect(read?.certificate.holder.id).toBe(id);
    // The stored hash leaves the ID out: the same record with another ID hashes the same.
    const other = { ...(read?.certificate ?? { holder: {} }), holder: { name: '测试农资有限公司1', id: validUscc(99) } } as Certificate;
    expect(item.contentHash).toBe(contentHash(other));
  });

  it('still recognises an unchanged re-upload, and a changed ID as an update', async () => {
    // Prepare
    const w = await world('holder-ids-unchanged');
    await w.upload([record(2, { number: 'HID-2' }), record(3, { number: 'HID-3' })]);

    // Act
    const again = await w.upload([record(2, { number: 'HID-2' }), record(3, { number: 'HID-3', holder: { name: '测试农资有限公司3', id: validUscc(33) } })]);

    // Assess
    expect(again).toMatchObject({ accepted: 2, unchanged: 1, updated: 1 });
    expect((await w.store.getCertificate({ type: PESTICIDE, number: 'HID-3' }))?.certificate.holder.id).toBe(validUscc(33));
  });

  it('reads an ID stored in plain text before encryption, and seals it when the same record is uploaded again (counted unchanged)', async () => {
    // Prepare
    const w = await world('holder-ids-legacy');
    await uploadCertificates({ store: w.plainStore, reference, settings: testSettings() }, [record(4, { number: 'HID-4' })], NOW);
    const stored = await w.plainStore.getCertificate({ type: PESTICIDE, number: 'HID-4' });
    if (stored === undefined) throw new Error('fixture missing');
    // As written before this change: the plain ID, and the content hash over it.
    await w.plainStore.batchWrite([{ ...toItem(stored), contentHash: legacyContentHash(stored.certificate) }]);

    // Act
    const before = await w.store.getCertificate({ type: PESTICIDE, number: 'HID-4' });
    const again = await w.upload([record(4, { number: 'HID-4' })]);
    const item = await w.raw('HID-4');

    // Assess
    expect(before?.certificate.holder.id).toBe(validUscc(4));
    expect(again).toMatchObject({ accepted: 1, unchanged: 1, updated: 0 });
    expect(item.holderId).toMatch(/^hid1:/);
    expect((await w.store.getCertificate({ type: PESTICIDE, number: 'HID-4' }))?.certificate.holder.id).toBe(validUscc(4));
  });
});

describe('Holder IDs in API answers', () => {
  it('masks the ID in a read and a listing, and shows it whole only to an operator who asks for one record, audited', async () => {
    // Prepare
    const w = await world('holder-ids-api');
    await w.upload([record(5, { number: 'HID-5' })]);
    const id = validUscc(5);
    const path = `/v1/certificates/${PESTICIDE}/HID-5`;

    // Act
    const read = await w.get(path);
    const listed = await w.get('/v1/certificates', { type: PESTICIDE });
    const bureau = await w.get(path, { reveal: 'holderId' }, 'agriculture');
    const revealed = await w.get(path, { reveal: 'holderId' });
    const trail = await w.audit.list({ limit: 5, action: 'certificate' });

    // Assess
    const masked = `${id.slice(0, 4)}**********${id.slice(-4)}`;
    expect((read.body.holder as { id: string }).id).toBe(masked);
    expect((listed.body.items as Array<{ holder: { id: string } }>)[0]?.holder.id).toBe(masked);
    expect(bureau.status).toBe(403);
    expect((revealed.body.holder as { id: string }).id).toBe(id);
    expect(trail.items).toMatchObject([{ action: 'certificate.reveal', actor: 'token:ops', target: `certificate/${PESTICIDE}/HID-5` }]);
  });
});
