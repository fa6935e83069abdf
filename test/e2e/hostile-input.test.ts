/**
 * The local service attacked over HTTP: hostile dates, over-long path segments and query values,
 * forged cursors and large bodies from callers who may not send them. None may get a 500, leave a
 * partial write, or cost the service more than the refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, certificateRecord, startTestService, type ApiError, type TestService, type UploadAnswer } from '../support/e2e-service.js';

let local: TestService;
let operator: Api;

beforeAll(async () => {
  local = await startTestService({ inMemory: true });
  operator = new Api(local.url);
});

afterAll(async () => {
  await local?.stop();
});

describe('Local service: hostile records', () => {
  it('rejects a 9999-12-31 expiry as a bad record and stores the rest of the batch', async () => {
    // Prepare
    const good = certificateRecord();
    const hostile = certificateRecord({ expiresOn: '9999-12-31' });

    // Act
    const answer = await operator.upload([good, hostile]);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, field: 'expiresOn', reason: expect.stringContaining('2199-12-31') }] });
    expect((await operator.certificate(good.type, good.number)).status).toBe(200);
    expect((await operator.certificate(hostile.type, hostile.number)).status).toBe(404);
  });

  it('refuses a phone sent as a JSON number, saying it must be text', async () => {
    // Act
    const answer = await operator.upload({ ...certificateRecord(), phone: 1.39e10 });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject<Partial<UploadAnswer>>({
      accepted: 0,
      rejected: [{ index: 0, field: 'phone', reason: '手机号应为文本（加引号），实际为 number / phone must be text (in quotes), got number' }],
    });
  });
});

describe('Local service: over-long path segments and query values', () => {
  const longNumber = 'N'.repeat(2100);
  const longId = 'x'.repeat(3000);

  it.each([
    ['a certificate number of 2,100 characters', `/v1/certificates/pesticide_business_license/${longNumber}`],
    ['a certificate number of 2,100 characters in /plan', `/v1/certificates/pesticide_business_license/${longNumber}/plan`],
    ['a certificate number one character over the upload limit', `/v1/certificates/pesticide_business_license/${'N'.repeat(65)}`],
    ['a type of 3,000 characters', `/v1/certificates/${longId}/N-1`],
    ['an import id of 3,000 characters', `/v1/imports/${longId}`],
    ['an import id of 3,000 characters in errors.csv', `/v1/imports/${longId}/errors.csv`],
  ])('answers 404, not 500, to %s', async (_what, path) => {
    // Act
    const answer = await operator.get<ApiError>(path);

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.body.error.message).toEqual(expect.any(String));
  });

  it('answers 404, not 500, to revoking a token id of 3,000 characters', async () => {
    // Act
    const answer = await operator.send<ApiError>('DELETE', `/v1/tokens/${longId}`, undefined, {});

    // Assess
    expect(answer.status).toBe(404);
  });

  it.each([
    ['township', `township=${'镇'.repeat(1000)}`],
    ['type', `type=${'t'.repeat(3000)}`],
    ['cursor', `cursor=${'c'.repeat(3000)}`],
  ])('answers 400, not 500, to a listing with a %s of thousands of characters', async (_what, query) => {
    // Act
    const answer = await operator.get<ApiError>(`/v1/certificates?${query}`);

    // Assess
    expect(answer.status).toBe(400);
  });
});
