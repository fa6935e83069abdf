import 'aws-sdk-client-mock-vitest/extend';
import { ListPhoneNumbersOptedOutCommand, OptedOutException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbSuppressionList } from '../../functions/adapters/aws/dynamodb/dynamodb-suppression-list.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { silentLogger } from '../../functions/app/logger.js';
import { copyProviderOptOuts, OptOutHonouringSender } from '../../functions/app/suppressions/provider-opt-outs.js';
import { reinstateSuppression } from '../../functions/app/suppressions/manage-suppressions.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { OptedOutSendError, PermanentSendError, RetryableSendError } from '../../functions/core/errors.js';
import type { Logger, ProviderOptOutList, SmsMessage, SmsSender } from '../../functions/core/ports.js';
import { handler as dueScan } from '../../functions/handlers/due-scan.js';
import { resetLambdaDeps } from '../../functions/handlers/runtime.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';
import { fixedClock } from '../support/fixtures.js';
import { useLambdaEnvironment } from '../support/lambda-environment.js';

const NOW = '2026-12-01T08:30:00.000+08:00';
const NOW_UTC = '2026-12-01T00:30:00.000Z';

async function freshList(prefix: string) {
  const client = dynamoTestClient();
  const tableName = uniqueTableName(prefix);
  await ensureTable(client, tableName);
  return { tableName, list: new DynamoDbSuppressionList(client, tableName) };
}

function providerList(...pages: string[][]): ProviderOptOutList {
  return {
    async *optedOutNumbers() {
      for (const page of pages) yield* page;
    },
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, debug: log, info: log, warn: log, error: log };
}

async function phonesOn(list: DynamoDbSuppressionList): Promise<Array<{ phone: string; source: string }>> {
  const page = await list.list({ limit: 1000 });
  return page.items.map(({ phone, source }) => ({ phone, source }));
}

describe('Use case: copyProviderOptOuts', () => {
  it('puts every mainland number of the provider\'s list on ours as sns-opted-out, keeping entries already there as they are', async () => {
    // Prepare
    const { list } = await freshList('optouts-copy');
    await list.suppress('+8613900000201', { source: 'sms-keyword', at: '2026-11-20T10:00:00.000+08:00', detail: 'TD' });
    const provider = providerList(['+8613900000201', '+8613900000202'], ['+8613900000203', '+15555550100']);

    // Act
    const result = await copyProviderOptOuts({ suppressions: list, optOuts: provider, logger: silentLogger }, fixedClock(NOW).now());

    // Assess
    expect(result).toEqual({ listed: 4, added: 2, alreadySuppressed: 1, notMainlandMobile: 1, reinstated: 0 });
    expect(await phonesOn(list)).toEqual([
      { phone: '+8613900000201', source: 'sms-keyword' },
      { phone: '+8613900000202', source: 'sns-opted-out' },
      { phone: '+8613900000203', source: 'sns-opted-out' },
    ]);
    expect(await list.get('+8613900000202')).toEqual({ phone: '+8613900000202', source: 'sns-opted-out', at: NOW_UTC, detail: 'SNS ListPhoneNumbersOptedOut' });
  });

  it('adds nothing the second day when the provider\'s list has not changed', async () => {
    // Prepare
    const { list } = await freshList('optouts-again');
    const provider = providerList(['+8613900000211', '+8613900000212']);
    await copyProviderOptOuts({ suppressions: list, optOuts: provider, logger: silentLogger }, fixedClock(NOW).now());

    // Act
    const again = await copyProviderOptOuts({ suppressions: list, optOuts: provider, logger: silentLogger }, fixedClock('2026-12-02T08:30:00.000+08:00').now());

    // Assess
    expect(again).toEqual({ listed: 2, added: 0, alreadySuppressed: 2, notMainlandMobile: 0, reinstated: 0 });
    expect((await list.get('+8613900000211'))?.at).toBe(NOW_UTC);
  });

  it('logs its counts and never a whole number', async () => {
    // Prepare
    const { list } = await freshList('optouts-log');
    const logger = recordingLogger();

    // Act
    await copyProviderOptOuts({ suppressions: list, optOuts: providerList(['+8613900000221', '+447700900123']), logger }, fixedClock(NOW).now());

    // Assess
    expect(logger.lines.join('\n')).toContain('"added":1');
    expect(logger.lines.join('\n')).not.toMatch(/13900000221|447700900123/);
  });
});

describe('Use case: copyProviderOptOuts after an operator reinstated a number SNS lists', () => {
  const OPERATOR = { role: 'operator' as const, subject: 'token:ops' };
  const PHONE = '+8613900000221';
  const optInRefused = { optIn: async () => ({ status: 'refused' as const, reason: 'once-per-30-days' as const }) };

  async function reinstatedWorld(prefix: string) {
    const { list } = await freshList(prefix);
    await list.suppress(PHONE, { source: 'sns-opted-out', at: '2026-11-20T00:30:00.000Z', detail: 'SNS ListPhoneNumbersOptedOut' });
    const deps = { suppressions: list, holdings: { typesHeldBy: async () => new Set<string>() }, reference: loadReferenceData(), clock: fixedClock('2026-12-01T10:00:00.000+08:00'), logger: silentLogger, providerOptIn: optInRefused };
    const reinstated = await reinstateSuppression(deps, OPERATOR, PHONE, '本人来电要求恢复');
    expect(reinstated.outcome).toBe('reinstated');
    return list;
  }

  it('leaves the number off our list while SNS keeps listing it, and counts it as reinstated', async () => {
    // Prepare
    const list = await reinstatedWorld('optouts-pardon');

    // Act
    const next = await copyProviderOptOuts({ suppressions: list, optOuts: providerList([PHONE, '+8613900000222']), logger: silentLogger }, fixedClock('2026-12-02T08:30:00.000+08:00').now());
    const dayAfter = await copyProviderOptOuts({ suppressions: list, optOuts: providerList([PHONE]), logger: silentLogger }, fixedClock('2026-12-03T08:30:00.000+08:00').now());

    // Assess
    expect(next).toEqual({ listed: 2, added: 1, alreadySuppressed: 0, notMainlandMobile: 0, reinstated: 1 });
    expect(dayAfter).toEqual({ listed: 1, added: 0, alreadySuppressed: 0, notMainlandMobile: 0, reinstated: 1 });
    expect(await list.get(PHONE)).toBeUndefined();
  });

  it('copies the number again once it opts out anew at SNS: listed after a copy that found it off SNS\'s list', async () => {
    // Prepare
    const list = await reinstatedWorld('optouts-pardon-ends');
    // SNS opted it back in (or it left SNS's list some other way): the reinstatement has done its work.
    await copyProviderOptOuts({ suppressions: list, optOuts: providerList([]), logger: silentLogger }, fixedClock('2026-12-02T08:30:00.000+08:00').now());

    // Act: the holder replies STOP to an SNS message, and SNS lists the number again.
    const result = await copyProviderOptOuts({ suppressions: list, optOuts: providerList([PHONE]), logger: silentLogger }, fixedClock('2026-12-03T08:30:00.000+08:00').now());

    // Assess
    expect(result).toEqual({ listed: 1, added: 1, alreadySuppressed: 0, notMainlandMobile: 0, reinstated: 0 });
    expect(await list.get(PHONE)).toEqual({ phone: PHONE, source: 'sns-opted-out', at: '2026-12-03T00:30:00.000Z', detail: 'SNS ListPhoneNumbersOptedOut' });
  });

  it('keeps the reinstatement when the copy fails part-way through SNS\'s list', async () => {
    // Prepare
    const list = await reinstatedWorld('optouts-pardon-failed-read');
    const failing: ProviderOptOutList = {
      async *optedOutNumbers() {
        yield '+8613900000223';
        throw new Error('Rate exceeded');
      },
    };

    // Act
    const outcome = copyProviderOptOuts({ suppressions: list, optOuts: failing, logger: silentLogger }, fixedClock('2026-12-02T08:30:00.000+08:00').now());
    await expect(outcome).rejects.toThrow('Rate exceeded');
    const next = await copyProviderOptOuts({ suppressions: list, optOuts: providerList([PHONE]), logger: silentLogger }, fixedClock('2026-12-03T08:30:00.000+08:00').now());

    // Assess: a read that did not see the whole list proves nothing about the number leaving it.
    expect(next.reinstated).toBe(1);
    expect(await list.get(PHONE)).toBeUndefined();
  });
});

describe('Class: OptOutHonouringSender', () => {
  const message: SmsMessage = { to: '+8613900000231', body: '【兴国县行政审批局】…', idempotencyKey: 'k', at: NOW };

  function failingWith(error: Error): SmsSender {
    return { send: () => Promise.reject(error) };
  }

  it('puts the number on the list as sns-publish-error when the provider says it opted out, and still fails the send', async () => {
    // Prepare
    const { list } = await freshList('optouts-publish');
    const refusal = new OptedOutSendError('SNS OptedOutException for the SMS to +86139****0231', message.to);
    const sender = new OptOutHonouringSender(failingWith(refusal), { suppressions: list, clock: fixedClock(NOW), logger: silentLogger });

    // Act
    const thrown = await sender.send(message).catch((e: unknown) => e);

    // Assess
    expect(thrown).toBe(refusal);
    expect(await list.get('+8613900000231')).toEqual({ phone: '+8613900000231', source: 'sns-publish-error', at: NOW_UTC, detail: 'SNS OptedOut' });
  });

  it.each([
    ['a permanent failure of another kind', new PermanentSendError('SNS InvalidParameterException')],
    ['a retryable failure', new RetryableSendError('SNS ThrottledException')],
  ])('leaves the list alone on %s', async (_label, error) => {
    // Prepare
    const { list } = await freshList('optouts-other');
    const sender = new OptOutHonouringSender(failingWith(error), { suppressions: list, clock: fixedClock(NOW), logger: silentLogger });

    // Act
    const thrown = await sender.send(message).catch((e: unknown) => e);

    // Assess
    expect(thrown).toBe(error);
    expect(await list.get(message.to)).toBeUndefined();
  });

  it('passes a successful send through untouched', async () => {
    // Prepare
    const { list } = await freshList('optouts-ok');
    const sender = new OptOutHonouringSender({ send: async () => ({ messageId: 'm-1' }) }, { suppressions: list, clock: fixedClock(NOW), logger: silentLogger });

    // Act
    const receipt = await sender.send(message);

    // Assess
    expect(receipt).toEqual({ messageId: 'm-1' });
    expect(await list.get(message.to)).toBeUndefined();
  });
});

describe('Handler: due-scan with {"kind": "providerOptOuts"}', () => {
  const snsMock = mockClient(SNSClient);
  let restore: () => void = () => undefined;

  beforeEach(() => {
    snsMock.reset();
  });

  afterEach(() => {
    snsMock.reset();
    restore();
    resetLambdaDeps();
  });

  it('reads every page of SNS\'s opt-out list into ours, with ListPhoneNumbersOptedOut and nothing else', async () => {
    // Prepare
    const { tableName, list } = await freshList('optouts-handler');
    snsMock
      .on(ListPhoneNumbersOptedOutCommand, {})
      .resolves({ phoneNumbers: ['+8613900000241'], nextToken: 'next-1' })
      .on(ListPhoneNumbersOptedOutCommand, { nextToken: 'next-1' })
      .resolves({ phoneNumbers: ['+8613900000242'] });
    restore = useLambdaEnvironment(tableName);
    resetLambdaDeps({ clock: fixedClock(NOW) });

    // Act
    const result = await dueScan({ kind: 'providerOptOuts' }, { getRemainingTimeInMillis: () => 300_000 });

    // Assess
    expect(result).toEqual({ listed: 2, added: 2, alreadySuppressed: 0, notMainlandMobile: 0, reinstated: 0 });
    expect(snsMock).toHaveReceivedCommandTimes(ListPhoneNumbersOptedOutCommand, 2);
    expect(snsMock.commandCalls(ListPhoneNumbersOptedOutCommand).map((call) => call.args[0].input)).toEqual([{}, { nextToken: 'next-1' }]);
    expect(snsMock.calls()).toHaveLength(2);
    expect((await phonesOn(list)).map((s) => s.phone)).toEqual(['+8613900000241', '+8613900000242']);
  });

  it('suppresses the number when a reminder\'s publish is refused with OptedOut', async () => {
    // Prepare
    const { tableName, list } = await freshList('optouts-handler-publish');
    snsMock.on(PublishCommand).rejects(new OptedOutException({ message: 'Phone number is opted out', $metadata: { httpStatusCode: 400 } }));
    restore = useLambdaEnvironment(tableName);
    resetLambdaDeps({ clock: fixedClock(NOW) });
    const { lambdaDeps } = await import('../../functions/handlers/runtime.js');

    // Act
    const thrown = await lambdaDeps().sms.send({ to: '+8613900000243', body: '【兴国县行政审批局】…', idempotencyKey: 'k', at: NOW }).catch((e: unknown) => e);

    // Assess
    expect(thrown).toBeInstanceOf(OptedOutSendError);
    expect(await list.get('+8613900000243')).toMatchObject({ source: 'sns-publish-error' });
  });
});
