import { ListPhoneNumbersOptedOutCommand, SNSClient } from '@aws-sdk/client-sns';
import type { ProviderOptOutList } from '../../core/ports.js';

export interface SnsOptedOutNumbersOptions {
  /** Reuse one client per cold start; one is created only when none is given. */
  client?: SNSClient;
}

/**
 * The account's SNS opt-out list (people who replied STOP, or the carrier's equivalent, to a message
 * of this account), read page by page: SNS returns up to 100 numbers a page and a `nextToken` while
 * more follow. The numbers are E.164 as SNS keeps them; the use case decides what to do with each.
 */
export class SnsOptedOutNumbers implements ProviderOptOutList {
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
}
