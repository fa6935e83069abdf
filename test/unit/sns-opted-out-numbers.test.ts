import 'aws-sdk-client-mock-vitest/extend';
import {
  AuthorizationErrorException,
  InternalErrorException,
  InvalidParameterException,
  ListPhoneNumbersOptedOutCommand,
  OptInPhoneNumberCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsOptedOutNumbers } from '../../functions/adapters/aws/sns-opted-out-numbers.js';
import { providerOptInMessage } from '../../functions/core/suppression.js';

const snsMock = mockClient(SNSClient);

async function collect(numbers: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const number of numbers) all.push(number);
  return all;
}

describe('Class: SnsOptedOutNumbers', () => {
  beforeEach(() => {
    snsMock.reset();
  });

  afterEach(() => {
    snsMock.reset();
  });

  describe('Method: optedOutNumbers', () => {
    it('reads every page of ListPhoneNumbersOptedOut, passing each nextToken on, until a page has none', async () => {
      // Prepare
      snsMock
        .on(ListPhoneNumbersOptedOutCommand, {})
        .resolves({ phoneNumbers: ['+8613900000001', '+8613900000002'], nextToken: 'page-2' })
        .on(ListPhoneNumbersOptedOutCommand, { nextToken: 'page-2' })
        .resolves({ phoneNumbers: ['+8613900000003'], nextToken: 'page-3' })
        .on(ListPhoneNumbersOptedOutCommand, { nextToken: 'page-3' })
        .resolves({ phoneNumbers: ['+15555550100'] });
      const list = new SnsOptedOutNumbers({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const numbers = await collect(list.optedOutNumbers());

      // Assess
      expect(numbers).toEqual(['+8613900000001', '+8613900000002', '+8613900000003', '+15555550100']);
      expect(snsMock).toHaveReceivedCommandTimes(ListPhoneNumbersOptedOutCommand, 3);
      expect(snsMock).toHaveReceivedNthCommandWith(ListPhoneNumbersOptedOutCommand, 1, {});
      expect(snsMock.commandCalls(ListPhoneNumbersOptedOutCommand)[0]!.args[0].input).toEqual({});
      expect(snsMock).toHaveReceivedNthCommandWith(ListPhoneNumbersOptedOutCommand, 2, { nextToken: 'page-2' });
      expect(snsMock).toHaveReceivedNthCommandWith(ListPhoneNumbersOptedOutCommand, 3, { nextToken: 'page-3' });
    });

    it('ends on an empty page without a token, and on a page without a phoneNumbers field', async () => {
      // Prepare
      snsMock.on(ListPhoneNumbersOptedOutCommand, {}).resolves({ nextToken: 'page-2' }).on(ListPhoneNumbersOptedOutCommand, { nextToken: 'page-2' }).resolves({ phoneNumbers: [] });
      const list = new SnsOptedOutNumbers({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const numbers = await collect(list.optedOutNumbers());

      // Assess
      expect(numbers).toEqual([]);
      expect(snsMock).toHaveReceivedCommandTimes(ListPhoneNumbersOptedOutCommand, 2);
    });

    it('lets a failed page reject, so the daily job fails and Scheduler retries it', async () => {
      // Prepare
      snsMock.on(ListPhoneNumbersOptedOutCommand).rejects(new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
      const list = new SnsOptedOutNumbers({ client: new SNSClient({ region: 'ap-southeast-1', maxAttempts: 1 }) });

      // Act
      const outcome = collect(list.optedOutNumbers());

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(ThrottledException);
    });
  });

  describe('Method: optIn', () => {
    it('sends exactly one OptInPhoneNumber for the E.164 number and answers opted-in', async () => {
      // Prepare
      snsMock.on(OptInPhoneNumberCommand).resolves({});
      const list = new SnsOptedOutNumbers({ client: new SNSClient({ region: 'ap-southeast-1' }) });

      // Act
      const outcome = await list.optIn('+8613900000401');

      // Assess
      expect(outcome).toEqual({ status: 'opted-in' });
      expect(snsMock).toHaveReceivedCommandTimes(OptInPhoneNumberCommand, 1);
      expect(snsMock.commandCalls(OptInPhoneNumberCommand)[0]!.args[0].input).toEqual({ phoneNumber: '+8613900000401' });
      expect(snsMock.calls()).toHaveLength(1);
    });

    it.each([
      ['InvalidParameter (SNS allows one opt-in per number every 30 days)', new InvalidParameterException({ message: 'Invalid parameter: Cannot opt in right now, latest opt in is less than 30 days ago', $metadata: { httpStatusCode: 400 } }), 'once-per-30-days'],
      ['Throttled', new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }), 'throttled'],
      ['AuthorizationError (the function lacks sns:OptInPhoneNumber)', new AuthorizationErrorException({ message: 'not authorized', $metadata: { httpStatusCode: 403 } }), 'not-permitted'],
      ['InternalError', new InternalErrorException({ message: 'internal', $metadata: { httpStatusCode: 500 } }), 'provider-error'],
      ['a network failure', new Error('socket hang up'), 'provider-error'],
    ] as const)('maps %s onto a refusal that says what happened and what to do, in both languages', async (_name, error, reason) => {
      // Prepare
      snsMock.on(OptInPhoneNumberCommand).rejects(error);
      const list = new SnsOptedOutNumbers({ client: new SNSClient({ region: 'ap-southeast-1', maxAttempts: 1 }) });

      // Act
      const outcome = await list.optIn('+8613900000402');

      // Assess
      expect(outcome).toEqual({ status: 'refused', reason });
      const message = providerOptInMessage(reason);
      expect(message).toMatch(/[\u4e00-\u9fff].* \/ [A-Za-z]/);
      expect(message).not.toContain('13900000402');
    });
  });
});
