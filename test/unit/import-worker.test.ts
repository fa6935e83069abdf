import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sdkStreamMixin } from '@smithy/core/serde';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ImportFiles } from '../../functions/adapters/aws/s3-import-files.js';
import { SqsImportQueue } from '../../functions/adapters/aws/sqs-import-queue.js';
import { importBlobKey, importIdOfBlobKey, InvalidImportMessageError, parseImportMessage } from '../../functions/app/import-messages.js';
import { ImportFailure } from '../../functions/app/imports/run-import.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;
const bodyOf = (name: string): string => fixture<SQSEvent>(name).Records[0]!.body;

const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const BUCKET = 'certalarm-imports-test-123456789012-ap-southeast-1';
const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/Certalarm-test-ImportsQueue';
const ID = 'imp_0123456789abcdef0123';

/** A GetObject answer as the SDK gives it in Node: a Readable with the SDK's stream helpers mixed in. */
const objectBody = (content: string | Buffer) => ({ Body: sdkStreamMixin(Readable.from([Buffer.from(content)])) });

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
  beforeEach(() => {
    sqs.reset();
  });

  describe('Method: continueLater', () => {
    it('sends the continuation to the import queue as the JSON the worker parses', async () => {
      // Prepare
      sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
      const queue = new SqsImportQueue({ client: new SQSClient({ region: 'ap-southeast-1' }), queueUrl: QUEUE_URL });

      // Act
      await queue.continueLater({ kind: 'importContinue', importId: ID });

      // Assess
      expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URL, MessageBody: `{"kind":"importContinue","importId":"${ID}"}` });
      expect(parseImportMessage(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!)).toEqual({ kind: 'run', importIds: [ID] });
    });
  });
});

describe('Class: S3ImportFiles', () => {
  beforeEach(() => {
    s3.reset();
  });

  const files = () => new S3ImportFiles({ client: new S3Client({ region: 'ap-southeast-1' }), bucket: BUCKET });

  describe('Method: open', () => {
    it('streams the object with a GetObject of its own on every open, so the file can be read twice', async () => {
      // Prepare
      s3.on(GetObjectCommand).callsFake(() => objectBody('a,b\n1,2\n'));
      const store = files();

      // Act
      const first = await readAll(store.open(importBlobKey(ID)));
      const second = await readAll(store.open(importBlobKey(ID)));

      // Assess
      expect([first, second]).toEqual(['a,b\n1,2\n', 'a,b\n1,2\n']);
      expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 2);
      expect(s3).toHaveReceivedNthCommandWith(GetObjectCommand, 2, { Bucket: BUCKET, Key: `imports/${ID}` });
    });

    it('asks S3 for nothing until the stream is read', () => {
      // Act
      files().open(importBlobKey(ID));

      // Assess
      expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
    });
  });

  describe('Method: remove', () => {
    it('deletes the object', async () => {
      // Prepare
      s3.on(DeleteObjectCommand).resolves({});

      // Act
      await files().remove(importBlobKey(ID));

      // Assess
      expect(s3).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: BUCKET, Key: `imports/${ID}` });
    });
  });

  describe('Method: opener', () => {
    it('fails the import, instead of retrying it, when the file cannot be read as a spreadsheet', async () => {
      // Prepare
      s3.on(GetObjectCommand).callsFake(() => objectBody(Buffer.alloc(0)));

      // Act
      const attempt = files().opener()(importBlobKey(ID), { contentType: 'text/csv', fileName: 'empty.csv' });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ImportFailure);
      await expect(attempt).rejects.toMatchObject({ code: 'empty_file' });
    });

    it('passes an S3 failure on unchanged, so the queue retries it', async () => {
      // Prepare
      s3.on(GetObjectCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));

      // Act
      const attempt = files().opener()(importBlobKey(ID), { contentType: 'text/csv', fileName: 'a.csv' });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ServiceUnavailable' });
      await expect(attempt).rejects.not.toBeInstanceOf(ImportFailure);
    });

    it('reads the header and rows of a CSV object', async () => {
      // Prepare
      s3.on(GetObjectCommand).callsFake(() => objectBody('证照类型,证照编号\n农药经营许可证,NY-1\n'));

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
