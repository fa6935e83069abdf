import 'aws-sdk-client-mock-vitest/extend';
import {
  AuthorizationErrorException,
  InternalErrorException,
  InvalidParameterException,
  InvalidParameterValueException,
  KMSThrottlingException,
  OptedOutException,
  PublishCommand,
  SNSClient,
  SNSServiceException,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsSmsSender } from '../../functions/adapters/aws/sns-sms-sender.js';
import { OptedOutSendError, PermanentSendError, RetryableSendError } from '../../functions/core/errors.js';
import type { SmsMessage } from '../../functions/core/ports.js';

const snsMock = mockClient(SNSClient);

const message: SmsMessage = {
  to: '+8613900000001',
  body: '【兴国县行政审批局】您的食品经营许可证将于2026年08月31日到期，请于届满前办理延续。',
  idempotencyKey: 'SC01#JY13607330000001#2026-08-31#d90',
};

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1', attempts: 3, totalRetryDelay: 0 });

function serviceError(name: string, httpStatusCode: number, fault: 'client' | 'server'): SNSServiceException {
  return new SNSServiceException({ name, $fault: fault, $metadata: meta(httpStatusCode), message: `${name} from SNS` });
}

function networkError(props: { name?: string; code?: string }): Error {
  return Object.assign(new Error('socket hang up'), props);
}

describe('Class: SnsSmsSender', () => {
  beforeEach(() => {
    snsMock.reset();
  });

  afterEach(() => {
    snsMock.reset();
  });

  describe('Method: send', () => {
    it('publishes a transactional SMS to the phone number and returns the message id', async () => {
      // Prepare
      snsMock.on(PublishCommand).resolves({ MessageId: 'msg-0001' });
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const receipt = await sender.send(message);

      // Assess
      expect(receipt).toEqual({ messageId: 'msg-0001' });
      expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
      expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
        PhoneNumber: '+8613900000001',
        Message: message.body,
        MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
      });
    });

    it('publishes a transactional SMS with the configured sender ID', async () => {
      // Prepare
      snsMock.on(PublishCommand).resolves({ MessageId: 'msg-0002' });
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }), senderId: 'CERTALARM' });

      // Act
      await sender.send(message);

      // Assess
      expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
        PhoneNumber: '+8613900000001',
        Message: message.body,
        MessageAttributes: {
          'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'CERTALARM' },
        },
      });
    });

    it('caps the price per message with MaxPrice as a Number attribute', async () => {
      // Prepare
      snsMock.on(PublishCommand).resolves({ MessageId: 'msg-0003' });
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }), senderId: 'CERTALARM', maxPrice: '0.10' });

      // Act
      await sender.send(message);

      // Assess
      expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
        MessageAttributes: {
          'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'CERTALARM' },
          'AWS.SNS.SMS.MaxPrice': { DataType: 'Number', StringValue: '0.10' },
        },
      });
    });

    it('creates its own SNS client when none is given', async () => {
      // Prepare
      snsMock.on(PublishCommand).resolves({ MessageId: 'msg-0004' });
      const sender = new SnsSmsSender();

      // Act
      const receipt = await sender.send(message);

      // Assess
      expect(receipt.messageId).toBe('msg-0004');
      expect(snsMock).toHaveReceivedCommandOnce(PublishCommand);
    });

    it('throws a plain error, not a retry decision, when SNS answers without a message id', async () => {
      // Prepare
      snsMock.on(PublishCommand).resolves({});
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const outcome = sender.send(message);

      // Assess
      await expect(outcome).rejects.toThrow('SNS returned no MessageId for the SMS to +86139****0001');
      await expect(outcome).rejects.not.toBeInstanceOf(RetryableSendError);
      await expect(outcome).rejects.not.toBeInstanceOf(PermanentSendError);
    });
  });

  describe('Method: send (error mapping)', () => {
    it.each([
      ['SNS ThrottledException', new ThrottledException({ message: 'Rate exceeded', $metadata: meta(429) })],
      ['ThrottlingException', serviceError('ThrottlingException', 400, 'client')],
      ['Throttling', serviceError('Throttling', 400, 'client')],
      ['KMSThrottlingException', new KMSThrottlingException({ message: 'KMS rate exceeded', $metadata: meta(400) })],
      ['InternalErrorException', new InternalErrorException({ message: 'internal error', $metadata: meta(500) })],
      ['any 5xx', serviceError('ServiceUnavailable', 503, 'server')],
      ['an SDK timeout', networkError({ name: 'TimeoutError' })],
      ['a reset socket', networkError({ code: 'ECONNRESET' })],
    ])('maps %s to RetryableSendError, keeping the cause', async (_label, error) => {
      // Prepare
      snsMock.on(PublishCommand).rejects(error);
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const thrown = await sender.send(message).catch((e: unknown) => e);

      // Assess
      expect(thrown).toBeInstanceOf(RetryableSendError);
      expect((thrown as RetryableSendError).cause).toBe(error);
    });

    it.each([
      ['InvalidParameterException', new InvalidParameterException({ message: 'Invalid parameter: PhoneNumber', $metadata: meta(400) })],
      ['InvalidParameterValueException', new InvalidParameterValueException({ message: 'Invalid value', $metadata: meta(400) })],
      ['OptedOutException', new OptedOutException({ message: 'Phone number is opted out', $metadata: meta(400) })],
      ['AuthorizationErrorException', new AuthorizationErrorException({ message: 'not authorized', $metadata: meta(403) })],
      ['any other 4xx', serviceError('SomethingNewException', 400, 'client')],
    ])('maps %s to PermanentSendError, keeping the cause', async (_label, error) => {
      // Prepare
      snsMock.on(PublishCommand).rejects(error);
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const thrown = await sender.send(message).catch((e: unknown) => e);

      // Assess
      expect(thrown).toBeInstanceOf(PermanentSendError);
      expect((thrown as PermanentSendError).cause).toBe(error);
    });

    it.each([
      ['OptedOutException (the SDK\'s class for the wire code OptedOut)', new OptedOutException({ message: 'Phone number is opted out', $metadata: meta(400) })],
      ['OptedOut (the wire code, when the SDK does not map it to its class)', serviceError('OptedOut', 400, 'client')],
    ])('maps %s to an OptedOutSendError, a permanent failure the caller can tell apart', async (_label, error) => {
      // Prepare
      snsMock.on(PublishCommand).rejects(error);
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const thrown = await sender.send(message).catch((e: unknown) => e);

      // Assess
      expect(thrown).toBeInstanceOf(OptedOutSendError);
      expect(thrown).toBeInstanceOf(PermanentSendError);
      expect((thrown as OptedOutSendError).to).toBe('+8613900000001');
      expect((thrown as Error).message).not.toContain('13900000001');
      expect((thrown as OptedOutSendError).cause).toBe(error);
    });

    it('never puts the unmasked phone number in the error message', async () => {
      // Prepare
      snsMock
        .on(PublishCommand)
        .rejects(new InvalidParameterException({ message: 'Invalid parameter: PhoneNumber Reason: +8613900000001 is not valid', $metadata: meta(400) }));
      const sender = new SnsSmsSender({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const thrown = (await sender.send(message).catch((e: unknown) => e)) as Error;

      // Assess
      expect(thrown.message).not.toContain('13900000001');
      expect(thrown.message).toContain('+86139****0001');
      expect(thrown.message).toContain('InvalidParameterException');
    });
  });
});
