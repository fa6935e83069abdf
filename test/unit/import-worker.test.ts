import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { S3ImportFiles } from '../../functions/adapters/aws/s3-import-files.js';
import { SqsImportQueue } from '../../functions/adapters/aws/sqs-import-queue.js';
import { importBlobKey, importIdOfBlobKey, InvalidImportMessageError, parseImportMessage } from '../../functions/core/import-messages.js';
import { ImportFailure } from '../../functions/core/import-failure.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;
const bodyOf = (name: string): string => fixture<SQSEvent>(name).Records[0]!.body;

const BUCKET = 'certalarm-imports-test-123456789012-ap-southeast-1';
const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/Certalarm-test-ImportsQueue';
const ID = 'imp_0123456789abcdef0123';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

describe('Function: parseImportMessage', () => {
  it('takes the import id from the key of an S3 ObjectCreated notification', () => {
    // Act
    const message = parseImportMessage(bodyOf('sqs-s3-object-created.json'));

    // Assess
    expect(message).toEqual({ kind: 'run', importIds: [ID] });
  });

  it('ignores the test event S3 sends when the notification is configured', () => {
    // Act
    const message = parseImportMessage(bodyOf('sqs-s3-test-event.json'));

    // Assess
    expect(message).toEqual({ kind: 'ignore', reason: 's3:TestEvent' });
  });

  it('reads a continuation the worker queued for itself', () => {
    // Act
    const message = parseImportMessage(JSON.stringify({ kind: 'importContinue', importId: ID }));

    // Assess
    expect(message).toEqual({ kind: 'run', importIds: [ID] });
  });

  it('ignores an object outside imports/<id>', () => {
    // Prepare
    const notification = JSON.parse(bodyOf('sqs-s3-object-created.json')) as { Records: Array<{ s3: { object: { key: string } } }> };
    notification.Records[0]!.s3.object.key = 'imports/notes+for+the+bureau.txt';

    // Act
    const message = parseImportMessage(JSON.stringify(notification));

    // Assess
    expect(message).toEqual({ kind: 'ignore', reason: 'no import file among imports/notes for the bureau.txt' });
  });

  it('throws a non-retryable error, naming what was wrong, for a message that is not ours', () => {
    // Act
    const parse = () => parseImportMessage(JSON.stringify({ kind: 'importContinue', importId: 'imp_x' }));

    // Assess
    expect(parse).toThrow(InvalidImportMessageError);
    expect(parse).toThrow(/importId/);
    expect(() => parseImportMessage('not json')).toThrow(InvalidImportMessageError);
  });

  it('maps import ids to their object keys and back', () => {
    // Act
    const key = importBlobKey(ID);

    // Assess
    expect(key).toBe(`imports/${ID}`);
    expect(importIdOfBlobKey(key)).toBe(ID);
    expect(importIdOfBlobKey(`other/${ID}`)).toBeUndefined();
  });
});

describe('Class: SqsImportQueue', () => {
  // The worker signs with its DynamoDB client's resolved config, as the composition root wires it.
  const signing = new DynamoDBClient({ region: 'ap-southeast-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } }).config;
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');

  /** A fetch that records each request and answers as SQS's JSON protocol does. */
  function fakeSqs(answer: (body: { QueueUrl: string; MessageBody: string }) => Response) {
    const calls: Array<{ url: string; headers: Record<string, string>; body: { QueueUrl: string; MessageBody: string } }> = [];
    const fetch = (async (url: URL, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as { QueueUrl: string; MessageBody: string };
      calls.push({ url: String(url), headers: init.headers as Record<string, string>, body });
      return answer(body);
    }) as unknown as typeof globalThis.fetch;
    return { fetch, calls };
  }

  const accepted = (body: { MessageBody: string }) => Response.json({ MessageId: 'm-1', MD5OfMessageBody: md5(body.MessageBody) });

  describe('Method: continueLater', () => {
    it('sends the continuation to the import queue as the JSON the worker parses, in one signed SendMessage', async () => {
      // Prepare
      const sqs = fakeSqs(accepted);
      const queue = new SqsImportQueue({ signing, queueUrl: QUEUE_URL, fetch: sqs.fetch });

      // Act
      await queue.continueLater({ kind: 'importContinue', importId: ID });

      // Assess
      expect(sqs.calls).toHaveLength(1);
      const [call] = sqs.calls;
      expect(call?.url).toBe('https://sqs.ap-southeast-1.amazonaws.com/');
      expect(call?.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
      expect(call?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/ap-southeast-1\/sqs\/aws4_request/);
      expect(call?.body).toEqual({ QueueUrl: QUEUE_URL, MessageBody: `{"kind":"importContinue","importId":"${ID}"}` });
      expect(parseImportMessage(call!.body.MessageBody)).toEqual({ kind: 'run', importIds: [ID] });
    });

    it('throws when the body SQS stored is not the one sent (its MD5 differs), as the SDK does', async () => {
      // Prepare
      const sqs = fakeSqs(() => Response.json({ MessageId: 'm-1', MD5OfMessageBody: md5('something else') }));
      const queue = new SqsImportQueue({ signing, queueUrl: QUEUE_URL, fetch: sqs.fetch });

      // Act
      const attempt = queue.continueLater({ kind: 'importContinue', importId: ID });

      // Assess
      await expect(attempt).rejects.toThrow(/MD5 of the stored body/);
    });

    it('throws naming SQS’s error when the queue refuses the message', async () => {
      // Prepare
      const sqs = fakeSqs(() => Response.json({ __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' }, { status: 400 }));
      const queue = new SqsImportQueue({ signing, queueUrl: QUEUE_URL, fetch: sqs.fetch });

      // Act
      const attempt = queue.continueLater({ kind: 'importContinue', importId: ID });

      // Assess
      await expect(attempt).rejects.toThrow('sqs answered HTTP 400 QueueDoesNotExist: The specified queue does not exist.');
      expect(sqs.calls).toHaveLength(1);
    });

    it('tries a throttled SendMessage again and succeeds when SQS accepts it', async () => {
      // Prepare
      let answered = 0;
      const sqs = fakeSqs((body) =>
        ++answered === 1 ? Response.json({ __type: 'com.amazonaws.sqs#ThrottlingException', message: 'Rate exceeded' }, { status: 400 }) : accepted(body),
      );
      const queue = new SqsImportQueue({ signing, queueUrl: QUEUE_URL, fetch: sqs.fetch, sleep: async () => undefined });

      // Act
      await queue.continueLater({ kind: 'importContinue', importId: ID });

      // Assess
      expect(sqs.calls).toHaveLength(2);
    });
  });
});

describe('Class: S3ImportFiles', () => {
  // The worker signs with its DynamoDB client's resolved config, as the composition root wires it.
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', sessionToken: 'session/token+=' };
  const signing = new DynamoDBClient({ region: 'ap-southeast-1', credentials }).config;
  // The reference: the SDK's own presigner through a full S3 client with the same credentials.
  const s3 = new S3Client({ region: 'ap-southeast-1', credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const files = () => new S3ImportFiles({ signing, bucket: BUCKET });
  let fetchSpy: MockInstance<typeof fetch>;

  /** The requests sent, as method and parsed URL. */
  const requests = () => fetchSpy.mock.calls.map(([input, init]) => ({ method: init?.method, url: new URL(String(input)) }));

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-08-01T02:00:00Z'));
    fetchSpy = vi.spyOn(globalThis, 'fetch');
  });

  afterEach(() => {
    fetchSpy.mockRestore();
    vi.useRealTimers();
  });

  describe('Method: open', () => {
    it('streams the object with a GetObject of its own on every open, so the file can be read twice', async () => {
      // Prepare
      fetchSpy.mockImplementation(async () => new Response('a,b\n1,2\n'));
      const store = files();

      // Act
      const first = await readAll(store.open(importBlobKey(ID)));
      const second = await readAll(store.open(importBlobKey(ID)));

      // Assess
      expect([first, second]).toEqual(['a,b\n1,2\n', 'a,b\n1,2\n']);
      expect(fetchSpy).toHaveBeenCalledTimes(2);
      const { method, url } = requests()[1]!;
      expect(method).toBe('GET');
      expect(url.origin).toBe(`https://${BUCKET}.s3.ap-southeast-1.amazonaws.com`);
      expect(url.pathname).toBe(`/imports/${ID}`);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': 'AKIDTEST/20260801/ap-southeast-1/s3/aws4_request',
        'X-Amz-Date': '20260801T020000Z',
        'X-Amz-Expires': '60',
        'X-Amz-SignedHeaders': 'host',
        'X-Amz-Security-Token': 'session/token+=',
        'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
        'x-id': 'GetObject',
      });
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    });

    it('signs the very URL the SDK\'s getSignedUrl gives for a GetObject of the file', async () => {
      // Prepare
      fetchSpy.mockImplementation(async () => new Response('a,b\n'));

      // Act
      await readAll(files().open(importBlobKey(ID)));

      // Assess
      const expected = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: importBlobKey(ID) }), { expiresIn: 60 });
      expect(String(fetchSpy.mock.calls[0]![0])).toBe(expected);
    });

    it('signs for S3 even with the config of a DynamoDB client that has already sent requests', async () => {
      // Prepare: a used client's config names its own service, which the signer must not pick up.
      const used = { ...signing, signingName: 'dynamodb' };
      fetchSpy.mockImplementation(async () => new Response('a,b\n'));

      // Act
      await readAll(new S3ImportFiles({ signing: used, bucket: BUCKET }).open(importBlobKey(ID)));

      // Assess
      expect(requests()[0]!.url.searchParams.get('X-Amz-Credential')).toBe('AKIDTEST/20260801/ap-southeast-1/s3/aws4_request');
    });

    it('asks S3 for nothing until the stream is read', () => {
      // Act
      files().open(importBlobKey(ID));

      // Assess
      expect(fetchSpy).not.toHaveBeenCalled();
    });

    it('names the missing object when S3 answers 404', async () => {
      // Prepare
      fetchSpy.mockResolvedValue(new Response('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>', { status: 404 }));

      // Act
      const reading = readAll(files().open(importBlobKey(ID)));

      // Assess
      await expect(reading).rejects.toMatchObject({ name: 'NoSuchKey', status: 404, message: expect.stringContaining(`s3://${BUCKET}/imports/${ID} does not exist`) });
    });
  });

  describe('Method: remove', () => {
    it('deletes the object', async () => {
      // Prepare
      fetchSpy.mockResolvedValue(new Response(null, { status: 204 }));

      // Act
      await files().remove(importBlobKey(ID));

      // Assess
      const expected = await getSignedUrl(s3, new DeleteObjectCommand({ Bucket: BUCKET, Key: importBlobKey(ID) }), { expiresIn: 60 });
      expect(fetchSpy).toHaveBeenCalledTimes(1);
      expect(requests()[0]).toMatchObject({ method: 'DELETE', url: new URL(expected) });
      expect(requests()[0]!.url.searchParams.get('x-id')).toBe('DeleteObject');
    });

    it('succeeds when the object is already gone', async () => {
      // Prepare
      fetchSpy.mockResolvedValue(new Response('<Error><Code>NoSuchKey</Code></Error>', { status: 404 }));

      // Act
      const removing = files().remove(importBlobKey(ID));

      // Assess
      await expect(removing).resolves.toBeUndefined();
    });

    it('throws S3\'s error code when the delete is refused', async () => {
      // Prepare
      fetchSpy.mockResolvedValue(new Response('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', { status: 403 }));

      // Act
      const removing = files().remove(importBlobKey(ID));

      // Assess
      await expect(removing).rejects.toMatchObject({ name: 'AccessDenied', status: 403 });
    });
  });

  describe('Method: opener', () => {
    it('fails the import, instead of retrying it, when the file cannot be read as a spreadsheet', async () => {
      // Prepare
      fetchSpy.mockImplementation(async () => new Response(new Uint8Array(0)));

      // Act
      const attempt = files().opener()(importBlobKey(ID), { contentType: 'text/csv', fileName: 'empty.csv' });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ImportFailure);
      await expect(attempt).rejects.toMatchObject({ code: 'empty_file' });
    });

    it('passes an S3 failure on as a plain error, so the queue retries it', async () => {
      // Prepare
      fetchSpy.mockImplementation(async () => new Response('<Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>', { status: 503 }));

      // Act
      const attempt = files().opener()(importBlobKey(ID), { contentType: 'text/csv', fileName: 'a.csv' });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ServiceUnavailable', status: 503 });
      await expect(attempt).rejects.not.toBeInstanceOf(ImportFailure);
    });

    it('passes a network failure on unchanged, so the queue retries it', async () => {
      // Prepare
      fetchSpy.mockImplementation(async () => {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' }) });
      });

      // Act
      const attempt = files().opener()(importBlobKey(ID), { contentType: 'text/csv', fileName: 'a.csv' });

      // Assess
      await expect(attempt).rejects.toThrow('fetch failed');
      await expect(attempt).rejects.not.toBeInstanceOf(ImportFailure);
    });

    it('reads the header and rows of a CSV object', async () => {
      // Prepare
      fetchSpy.mockImplementation(async () => new Response('证照类型,证照编号\n农药经营许可证,NY-1\n'));

      // Act
      const sheet = await files().opener()(importBlobKey(ID), { contentType: 'text/csv', fileName: 'a.csv' });
      const rows = [];
      for await (const row of sheet.rows) rows.push(row);

      // Assess
      expect(sheet).toMatchObject({ format: 'csv', encoding: 'utf-8', headers: ['证照类型', '证照编号'] });
      expect(rows).toEqual([{ row: 2, values: ['农药经营许可证', 'NY-1'] }]);
    });
  });
});
