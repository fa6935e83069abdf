import {
  AuthorizationErrorException,
  InvalidParameterException,
  ListPhoneNumbersOptedOutCommand,
  OptInPhoneNumberCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import type { ProviderOptIn, ProviderOptOutList } from '../../core/ports.js';
import type { ProviderOptInOutcome, ProviderOptInRefusal } from '../../core/suppression.js';

export interface SnsOptedOutNumbersOptions {
  /** Reuse one client per cold start; one is created only when none is given. */
  client?: SNSClient;
}

/**
 * The account's SNS opt-out list (people who replied STOP, or the carrier's equivalent, to a message
 * of this account), read page by page: SNS returns up to 100 numbers a page and a `nextToken` while
 * more follow. The numbers are E.164 as SNS keeps them; the use case decides what to do with each.
 * An operator's reinstatement takes a number off it with `OptInPhoneNumber`.
 */
export class SnsOptedOutNumbers implements ProviderOptOutList, ProviderOptIn {
  private readonly client: SNSClient;

  constructor(options: SnsOptedOutNumbersOptions = {}) {
    this.client = options.client ?? new SNSClient({});
  }

  async *optedOutNumbers(): AsyncIterable<string> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new ListPhoneNumbersOptedOutCommand(nextToken === undefined ? {} : { nextToken }));
      for (const number of page.phoneNumbers ?? []) yield number;
      nextToken = page.nextToken === undefined || page.nextToken === '' ? undefined : page.nextToken;
    } while (nextToken !== undefined);
  }

  async optIn(phone: string): Promise<ProviderOptInOutcome> {
    try {
      await this.client.send(new OptInPhoneNumberCommand({ phoneNumber: phone }));
      return { status: 'opted-in' };
    } catch (error) {
      return { status: 'refused', reason: optInRefusal(error) };
    }
  }
}

/**
 * SNS lets a number be opted in once every 30 days and answers a second try with InvalidParameter (as it
 * does a number it cannot text); the operator's next step differs per answer, so each is named.
 */
function optInRefusal(error: unknown): ProviderOptInRefusal {
  if (error instanceof InvalidParameterException) return 'once-per-30-days';
  if (error instanceof ThrottledException) return 'throttled';
  if (error instanceof AuthorizationErrorException) return 'not-permitted';
  return 'provider-error';
}
