import 'aws-sdk-client-mock-vitest/extend';
import { ListPhoneNumbersOptedOutCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsOptedOutNumbers } from '../../functions/adapters/aws/sns-opted-out-numbers.js';

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
});
