import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/app/logger.js';
import { farmRecord } from '../support/campaign-fixtures.js';
import { eventually } from '../support/e2e-cli.js';
import { Api, certificateRecord, E2E_TOKEN, enterpriseId, startTestService, uniqueNumber, type TestService } from '../support/e2e-service.js';

/**
 * Every form of a mainland mobile number a log line could carry: bare, with +86 / 86 in front, and
 * written in groups with spaces or dashes (139 0000 0001, 139-0000-0001).
 */
const MOBILE_FORMS = [
  /(?<!\d)1[3-9]\d{9}(?!\d)/g,
  /(?:\+|(?<!\d))86[ -]?1[3-9]\d{9}(?!\d)/g,
  /(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]\d{4}[ -]\d{4}(?!\d)/g,
];

function mobileNumbersIn(text: string): string[] {
  return MOBILE_FORMS.flatMap((form) => [...text.matchAll(form)].map((m) => m[0]));
}

/** Lines of the captured output that carry a number, for a failure message that shows where. */
function linesWithMobiles(text: string): string[] {
  return text.split('\n').filter((line) => mobileNumbersIn(line).length > 0);
}

const FAILING_PHONE = '13900000900';
const DELIVERED_PHONE = '13900000002';
const UNKNOWN_SENDER = '13712345678';
const IMPORT_HEADER = '证照类型,证照编号,单位名称,统一社会信用代码,手机号,所属乡镇,发证日期,有效期至';

let captured = '';
let local: TestService;
let api: Api;
const restoreStreams: Array<() => void> = [];

/** Everything the process writes to stdout and stderr while the run lasts, and the service's own log. */
function captureProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
    restoreStreams.push(() => {
      stream.write = original as typeof stream.write;
    });
  }
}

beforeAll(async () => {
  captureProcessOutput();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured += chunk.toString('utf8');
      done();
    },
  });
  local = await startTestService({
    inMemory: true,
    sandboxReceiptMs: 0,
    startAt: '2026-12-01T10:00:00+08:00',
    env: { CERTALARM_SMS_RATE: '1000' },
    logger: createLogger({ level: 'debug', destination: sink }),
  });
  api = new Api(local.url);
}, 60_000);

afterAll(async () => {
  await local?.stop();
  for (const restore of restoreStreams.splice(0)) restore();
});

describe('The log scan’s detector', () => {
  it('finds a mobile number in every form, and not in timestamps, holder IDs or longer digit runs', () => {
    // Prepare
    const forms = 'a 13900000001, b +8613900000002, c 8613900000003, d 139 0000 0004, e +86 139-0000-0005, f 139-0000-0006';
    const lookalikes = '"time":1796158377998 360732198001011234 139000000012345 +86139****0007 ID 91360732MA35XXXX1X';

    // Act
    const found = mobileNumbersIn(forms);
    const none = mobileNumbersIn(lookalikes);

    // Assess
    expect(found.map((m) => m.replace(/\D/g, '').slice(-4)).sort()).toEqual(['0001', '0002', '0003', '0004', '0005', '0006']);
    expect(none).toEqual([]);
  });
});

describe('Local service: a whole run at debug level', () => {
  it('writes no 11-digit mobile number to its logs, bare, with +86 or grouped', async () => {
    // Prepare: reminders due now for a failing and a delivered sandbox number; farm machines for a campaign
    const failing = certificateRecord({ number: uniqueNumber('LOG-FAIL'), phone: FAILING_PHONE, expiresOn: '2026-12-20' });
    const delivered = certificateRecord({ number: uniqueNumber('LOG-OK'), phone: `+86 139-0000-${DELIVERED_PHONE.slice(-4)}`, expiresOn: '2026-12-20' });
    await api.uploadAll([failing, delivered, farmRecord(1), farmRecord(3)]);

    // Act: an upload and an import with bad rows, each naming a phone
    const badUpload = await api.upload([certificateRecord({ phone: '1390000123' }), certificateRecord({ township: '13900000005' }), certificateRecord({ type: '13900000011' })]);
    const csv = [
      IMPORT_HEADER,
      `农药经营许可证,NY-LOG-1,兴国县甲农资店,${enterpriseId(9301)},13900000021,潋江镇,2022/1/1,2027-01-01`,
      `农药经营许可证,NY-LOG-2,兴国县乙农资店,${enterpriseId(9302)},1390000002,潋江镇,2022/1/1,2027-01-01`,
      `农药经营许可证,NY-LOG-3,兴国县丙农资店,${enterpriseId(9303)},13900000023,13900000024,2022/1/1,2027-01-01`,
      `农药经营许可证,NY-LOG-4,13900000025,${enterpriseId(9304)},139 0000 0026,潋江镇,2022/1/1,2027-02-30`,
    ].join('\r\n');
    const submitted = await fetch(new URL('/v1/imports?fileName=13900000027.csv', local.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${E2E_TOKEN}`, 'content-type': 'text/csv' },
      body: csv,
    });
    const importId = ((await submitted.json()) as { id: string }).id;
    const imported = await eventually('the import to finish', async () => {
      const status = await api.get<{ state: string; counts: { rejected: number } }>(`/v1/imports/${importId}`);
      return status.body.state === 'done' ? status.body : undefined;
    });
    const errorsCsv = await fetch(new URL(`/v1/imports/${importId}/errors.csv`, local.url), { headers: { authorization: `Bearer ${E2E_TOKEN}` } });
    await errorsCsv.arrayBuffer();

    // …a scan that sends, and the sandbox receipts (one failed, one delivered)
    const scan = await api.scan('2026-12-01T10:30:00+08:00');
    await eventually('both sandbox receipts', async () => {
      const failed = await api.get<{ items: unknown[] }>(`/v1/deliveries?status=failed&number=${failing.number}`);
      const ok = await api.get<{ items: unknown[] }>(`/v1/deliveries?status=delivered&number=${delivered.number}`);
      return failed.body.items.length > 0 && ok.body.items.length > 0 ? true : undefined;
    });

    // …a campaign whose notices go out, a booking by SMS reply, someone else's code, an unknown sender
    const campaign = await api.post<{ id: string }>('/v1/campaigns', {
      name: '2027年春季农机上门服务',
      types: ['farm_machine_annual_inspection'],
      season: { from: '2027-01-04', to: '2027-06-30' },
      blackouts: [],
    });
    await api.post(`/v1/campaigns/${campaign.body.id}/visits`, { township: '潋江镇', date: '2027-01-12', place: '潋江镇农机服务站', slots: [{ start: '09:00', end: '10:00', capacity: 20 }] });
    const campaignScan = await api.post<{ campaigns: { sent: number } }>('/v1/scans', { now: '2026-12-29T09:30:00+08:00' });
    const outbox = (await api.get<Array<{ to: string; body: string; campaign?: { kind: string } }>>('/v1/outbox')).body;
    const notice = outbox.find((m) => m.campaign?.kind === 'notice' && m.to === '+8613900000001');
    const code = /回复“([A-Z0-9]{6}) 1”/.exec(notice?.body ?? '')?.[1] ?? /“([A-Z0-9]{6}) 场次号”/.exec(notice?.body ?? '')?.[1] ?? '';
    const booked = await api.post<{ action: string }>('/v1/inbound-sms', { from: '13900000001', text: `${code} 1`, receivedAt: '2026-12-29T10:00:00+08:00' });
    const notOwner = await api.post<{ action: string }>('/v1/inbound-sms', { from: '+86 139 0000 0003', text: `${code} 1`, receivedAt: '2026-12-29T10:01:00+08:00' });
    const stranger = await api.post<{ action: string }>('/v1/inbound-sms', { from: UNKNOWN_SENDER, text: `我是${UNKNOWN_SENDER}，请回电 13700000000`, receivedAt: '2026-12-29T10:02:00+08:00' });

    // …a revocation, the deliveries listing by phone, and requests refused with a phone in them
    const revoked = await api.send<{ revoked?: boolean }>('DELETE', `/v1/certificates/${failing.type}/${encodeURIComponent(failing.number)}`, JSON.stringify({ reason: '注销', comment: `持证人 ${FAILING_PHONE} 申请注销` }), { 'content-type': 'application/json' });
    const byPhone = await api.get<{ items: unknown[] }>(`/v1/deliveries?phone=${encodeURIComponent('+86 139 0000 0001')}`);
    const refusals = await Promise.all([
      api.get(`/v1/deliveries?phone=1390000000`),
      api.get(`/v1/deliveries?phone=${encodeURIComponent('139-0000-00012')}`),
      api.get(`/v1/certificates/pesticide_business_license/13900000031`),
      api.get(`/v1/certificates?township=13900000032`),
      api.post('/v1/inbound-sms', { from: '13900000033', text: 'T', receivedAt: 'yesterday 13900000034' }),
      api.postRaw('/v1/certificates', '{"phone": "13900000035", '),
      api.post('/v1/campaigns', { name: '13900000036', types: ['13900000037'], season: { from: '2027-01-04', to: '2027-06-30' }, blackouts: [] }),
      api.post(`/v1/campaigns/${campaign.body.id}/bookings`, { code: '13900000038', slot: 1 }),
      new Api(local.url, '13900000039').get('/v1/certificates'),
    ]);
    await api.scan('2027-01-11T09:30:00+08:00');

    // Assess: the run did what it says, and its whole output names no mobile number
    expect(badUpload.body.rejected.length).toBe(3);
    expect(imported.counts.rejected).toBeGreaterThanOrEqual(3);
    expect(scan.sent).toBeGreaterThanOrEqual(2);
    expect(campaignScan.body.campaigns.sent).toBe(2);
    expect(code).toMatch(/^[A-Z0-9]{6}$/);
    expect(booked.body.action).toBe('booked');
    expect(notOwner.status).toBe(200);
    expect(stranger.status).toBe(200);
    expect(revoked.status).toBe(200);
    expect(byPhone.body.items.length).toBeGreaterThanOrEqual(2);
    expect(refusals.every((r) => r.status >= 400)).toBe(true);
    expect(captured).toContain('"level":"debug"');
    expect(captured).toContain('139****0001');
    expect(linesWithMobiles(captured)).toEqual([]);
  }, 90_000);
});
