import { PutCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { deliveryIndexKeys, messagePointerKey, TTL_ATTRIBUTE, type ItemKey } from './keys.js';

/** Receipts arrive within 72 hours (SNS's own bound); the pointer from a message id is kept well past that. */
const MESSAGE_POINTER_SECONDS = 30 * 24 * 3600;

/**
 * Point a provider's message id at the delivery item it was sent for, so that a receipt finds the item
 * with one GetItem whatever its kind. A receipt that outruns the pointer or the record is retried (see
 * recordDeliveryReceipt).
 */
export async function putMessagePointer(doc: DynamoDBDocumentClient, tableName: string, messageId: string, item: ItemKey, sentAt: string): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: tableName,
      Item: { ...messagePointerKey(messageId), entity: 'messagePointer', deliveryPk: item.pk, deliverySk: item.sk, [TTL_ATTRIBUTE]: Math.floor(Date.parse(sentAt) / 1000) + MESSAGE_POINTER_SECONDS },
    }),
  );
}

/** What the deliveries listing shows of any delivery item, beyond its status, text and message id. */
export interface DeliveryListingFacts {
  /** The certificate type the message is about: a bureau sees the deliveries of its own types only. */
  type?: string | undefined;
  number?: string | undefined;
  /** A reminder's stage, or a campaign message's kind. */
  kind: string;
  phoneHash?: string | undefined;
  /** A reminder's final stage (see finalReminderStage); campaign messages leave it false. */
  final: boolean;
  /** A campaign message's: the authority whose bureau sees it (it has no certificate type). */
  authority?: string | undefined;
}

/** SET clauses with their values and names, added to a record's own update. */
export interface ListingUpdate {
  set: string;
  values: Record<string, NativeAttributeValue>;
  names: Record<string, string>;
}

/**
 * The SET clauses that put a delivery item of any kind on the deliveries index with what its listing shows
 * (`dlvpk`, `dlvsk`, `dlvType`, `dlvNumber`, `dlvAuthority`, `dlvKind`, `final`, `phoneHash`, `statusAt`). A campaign
 * message's record uses it the same way as a reminder's, with its own item key; `status`, `sentTo`, `body`,
 * `sentAt` and `messageId` are the record's own attributes, as on a reminder's delivery.
 */
export function deliveryListingUpdate(item: ItemKey, status: 'sent' | 'failed' | 'deferred' | 'suppressed', at: string, facts: DeliveryListingFacts): ListingUpdate {
  const { dlvpk, dlvsk } = deliveryIndexKeys(status, at, item);
  const set = ['dlvpk = :dlvpk', 'dlvsk = :dlvsk', 'dlvKind = :dlvKind', '#final = :final', 'statusAt = :statusAt'];
  const values: Record<string, NativeAttributeValue> = { ':dlvpk': dlvpk, ':dlvsk': dlvsk, ':dlvKind': facts.kind, ':final': facts.final, ':statusAt': at };
  const optional = { dlvType: facts.type, dlvNumber: facts.number, phoneHash: facts.phoneHash, dlvAuthority: facts.authority };
  for (const [name, value] of Object.entries(optional)) {
    if (value === undefined) continue;
    set.push(`${name} = :${name}`);
    values[`:${name}`] = value;
  }
  return { set: set.join(', '), values, names: { '#final': 'final' } };
}
