/**
 * The one module that owns certalarm's DynamoDB key formats and indexes.
 * Every access pattern is a named function; nothing else builds a key string.
 *
 * Single table, generic key names:
 *   pk / sk                         the item's identity
 *   dueShard / nextAlarmAt          sparse GSI `due`: only certificates with a pending stage carry these
 *   gsi1pk / gsi1sk                 GSI `byTownship`: gsi1sk=<expiry>#<type>#<number>
 *   gsi2pk / gsi2sk                 GSI `byType`:      gsi2sk=<expiry>#<number>
 *   gsi3pk / gsi3sk                 GSI `byTownshipType`: gsi3pk=TWP#<township>#<type>, gsi3sk=<expiry>#<number>
 *                                   (a campaign's recipients: the township's certificates of one type, by expiry)
 *   dlvpk / dlvsk                   sparse GSI `deliveries`: only finished delivery items (any kind) carry these;
 *                                   dlvpk=DLV#<status>, dlvsk=<sentAt, UTC ISO>#<item pk>#<item sk>
 *   phone / sk                      GSI `byPhone` (keys only): the `phone` attribute a certificate already has (E.164),
 *                                   so no item needs new attributes and DynamoDB builds the index over the stored ones.
 *                                   Other items with a `phone` (invitations, campaign messages, suppressions) land in it
 *                                   too under their own `sk`; the certificates of a phone are `sk = CERT`. Any item's
 *                                   `phone` must therefore be a non-empty string.
 *
 * <expiry> is the certificate's expiresOn (YYYY-MM-DD), or NOEXPIRY for a certificate of a type without
 * an expiry. `N` sorts after every digit, so those certificates come after all dated ones: an
 * `expiringBefore` condition (gsi?sk < a date) never reaches them, while a township or type listing
 * without one still returns them, last.
 *
 * Items:
 *   certificate   pk=CERT#<type>#<number>  sk=CERT
 *   delivery      pk=CERT#<type>#<number>  sk=DELIVERY#<expiresOn>#<stage>   claim + record of one SMS
 *   meta          pk=META                  sk=<name>                          e.g. the demo-seed marker, the retention purge's progress (PURGE),
 *                                                                              INDEX#byTownshipType (the backfill of its keys: progress, or done)
 *   token         pk=TOKENS                sk=TOKEN#<id>                      an API token, stored hashed
 *   import        pk=IMPORT#<id>           sk=IMPORT                          one upload: who, when, hash, state, counts
 *   import error  pk=IMPORT#<id>           sk=ERR#<row>#<seq>                 one rejected cell or row
 *   open import   pk=IMPORTS#OPEN          sk=<id>                            present while an import is unfinished
 *   file hash     pk=IMPORTHASH#<sha256>   sk=<scope>                         the latest import of this file by this caller
 *   calendar year pk=CALENDAR               sk=YEAR#<yyyy>                     a year's current holiday arrangement, its re-plan progress
 *   calendar ver. pk=CALENDAR#<yyyy>        sk=V#<version, 6 digits>           every arrangement ever stored for the year (history)
 *   audit entry   pk=AUDIT                  sk=<at, UTC ISO>#<id>              one write by a person; put once, never updated
 *   rule          pk=RULES                  sk=TYPE#<type>                     a type's current reminder rule, its re-plan progress,
 *                                                                              and a rule re-plan's mark on the type (markId, markState,
 *                                                                              leaseUntilMs, markRuleVersion, markSeq): the one item a
 *                                                                              writer of certificates reads per type (see typeStateKey)
 *   rule version  pk=RULE#<type>            sk=V#<version, 6 digits>           every version of a type's rule (history)
 *   merged text   pk=RULES                  sk=MERGED                          the merged reminder's texts as an operator set them, version
 *   old mark      pk=REPLAN#<type>          sk=MARK                            where the earlier release kept the mark; no longer read or written
 *   journal entry pk=REPLAN#<type>          sk=JOURNAL#<number>#<version>#<id> a certificate written while the mark was open, as written
 *   msg pointer   pk=MSG#<messageId>        sk=MSG                             the delivery item a provider's message id belongs to (TTL)
 *   campaign      pk=CAMPAIGN#<id>          sk=CAMPAIGN                        definition, createdBy/At, version
 *   campaign idx  pk=CAMPAIGNS              sk=<createdAt UTC>#<id>            one per campaign, for listing newest first
 *   visit         pk=CAMPAIGN#<id>          sk=VISIT#<visitId>                 township, date, place, slots (with `booked`), state,
 *                                                                              noticeAt, reminderAt, version. A booking changes only
 *                                                                              `slots[i].booked` and `version` (conditionally), a move
 *                                                                              the rest and `version`, so neither undoes the other.
 *   invitation    pk=CAMPAIGN#<id>          sk=INVITE#<visitId>#<phone>        code, certificate keys, count (one per visit and phone)
 *   booking code  pk=CAMPAIGN#<id>          sk=CODE#<code>                     visitId, phone; put only if absent: unique in the campaign
 *   booking       pk=CAMPAIGN#<id>          sk=BOOKING#<code>                  visitId, slot number, bookingId, attended?, at; one per code
 *   campaign msg  pk=CAMPAIGN#<id>          sk=MSG#<visitId>#<phone>#<kind>    one campaign SMS (notice, reminder, moved, cancelled,
 *                                                                              confirmation …): claim + record, as a delivery
 *   daily reply   pk=INBOUND#<phone>        sk=REPLY#<day>#<topic>             a reply to an inbound SMS went out that day (TTL)
 *   daily count   pk=SMSCAP#<phone>         sk=DAY#<day>                       capped SMS sent to the phone that Shanghai day (TTL)
 *   job           pk=JOBS                   sk=<at UTC ISO>#<name>             a one-off schedule the local scheduler holds: name,
 *                                                                              group, payload (EventBridge Scheduler holds them on AWS)
 *   suppression   pk=SUPPRESSIONS           sk=<phone>                         a number that opted out: source, at, detail; no TTL,
 *                                                                              and no purge reaches it (it is no certificate's item)
 *   opt-out conf. pk=OPTOUT#<phone>            sk=CONFIRM#<suppressed at, UTC>    the one confirmation SMS of one suppression: claim + record
 *   reinstatement pk=REINSTATED               sk=<phone>                         an operator took the number off the list at `at`: the daily
 *                                                                              copy of SNS's list leaves it off while SNS still lists it
 *
 * Phones in keys are the E.164 form the certificates store; they are never logged unmasked.
 */

export const DUE_SHARDS = 16;

export const INDEX = {
  due: 'due',
  byTownship: 'byTownship',
  byType: 'byType',
  deliveries: 'deliveries',
  byTownshipType: 'byTownshipType',
  byPhone: 'byPhone',
} as const;

/** Attribute holding an epoch-seconds TTL, for records that should expire on their own. */
export const TTL_ATTRIBUTE = 'expiresAtEpoch';

import type { CertificateKey } from '../../../core/ports.js';

export type { CertificateKey };

export interface ItemKey {
  pk: string;
  sk: string;
}

const CERT_PREFIX = 'CERT#';

export function certificateKey({ type, number }: CertificateKey): ItemKey {
  return { pk: `${CERT_PREFIX}${type}#${number}`, sk: 'CERT' };
}

/** Inverse of certificateKey: the type code never contains '#', the number may. */
export function parseCertificatePk(pk: string): CertificateKey {
  const rest = pk.slice(CERT_PREFIX.length);
  const cut = rest.indexOf('#');
  return { type: rest.slice(0, cut), number: rest.slice(cut + 1) };
}

/** One delivery per (certificate, expiry, stage): the identity of "exactly one message". */
export function deliveryKey(cert: CertificateKey, expiresOn: string, stage: string): ItemKey {
  return { pk: certificateKey(cert).pk, sk: `DELIVERY#${expiresOn}#${stage}` };
}

export function deliveryPrefix(): string {
  return 'DELIVERY#';
}

export function metaKey(name: string): ItemKey {
  return { pk: 'META', sk: name };
}

export function tokenKey(id: string): ItemKey {
  return { pk: 'TOKENS', sk: `TOKEN#${id}` };
}

export function importKey(id: string): ItemKey {
  return { pk: `IMPORT#${id}`, sk: 'IMPORT' };
}

/** Rows sort numerically inside an import: zero-padded so string order is row order. */
export function importErrorKey(id: string, row: number, seq: number): ItemKey {
  return { pk: `IMPORT#${id}`, sk: `ERR#${String(row).padStart(10, '0')}#${String(seq).padStart(3, '0')}` };
}

export function openImportKey(id: string): ItemKey {
  return { pk: 'IMPORTS#OPEN', sk: id };
}

export function importByHashKey(sha256: string, scope: string): ItemKey {
  return { pk: `IMPORTHASH#${sha256}`, sk: scope };
}

export function calendarYearKey(year: number): ItemKey {
  return { pk: 'CALENDAR', sk: `YEAR#${year}` };
}

/** Versions sort numerically: zero-padded so string order is version order. */
export function calendarVersionKey(year: number, version: number): ItemKey {
  return { pk: `CALENDAR#${year}`, sk: `V#${String(version).padStart(6, '0')}` };
}

export function ruleKey(type: string): ItemKey {
  return { pk: 'RULES', sk: `TYPE#${type}` };
}

/** The merged reminder's texts: beside the rules, outside their `TYPE#` prefix, so listing rules never meets it. */
export function mergedTemplateKey(): ItemKey {
  return { pk: 'RULES', sk: 'MERGED' };
}

/**
 * What a writer of certificates reads of a type before and after its write (the rule's version and a
 * re-plan's mark): the rule item itself, so one key per type. A rule save and a mark change are then
 * each one write of one item, and a type never changed (no rule item) has version 0 and no mark.
 */
export function typeStateKey(type: string): ItemKey {
  return ruleKey(type);
}

/** One journal entry of a type, by the entry's own id (its sort key, as `journalEntries` returns it). */
export function replanJournalEntryKey(type: string, entryId: string): ItemKey {
  return { pk: `REPLAN#${type}`, sk: entryId };
}

/** Versions are zero-padded so the entries of one certificate sort oldest first. */
export function replanJournalKey(type: string, number: string, version: number, id: string): ItemKey {
  return { pk: `REPLAN#${type}`, sk: `JOURNAL#${number}#${String(version).padStart(9, '0')}#${id}` };
}

/** Versions sort numerically: zero-padded so string order is version order. */
export function ruleVersionKey(type: string, version: number): ItemKey {
  return { pk: `RULE#${type}`, sk: `V#${String(version).padStart(6, '0')}` };
}

/**
 * The whole trail in one partition, sorted by time: people write a few hundred entries a day at most,
 * far below a partition's limits, and one partition gives "newest first" as a single Query.
 * UTC ISO instants sort as strings, so the sort key is the time order.
 */
export function auditEntryKey(atUtc: string, id: string): ItemKey {
  return { pk: 'AUDIT', sk: `${atUtc}#${id}` };
}

/**
 * Write-sharding for the due index: a day's alarms spread over DUE_SHARDS partitions so no
 * single partition key takes every write and every scan read. FNV-1a keeps it stable across runtimes.
 */
export function dueShardOf(cert: CertificateKey): string {
  let hash = 0x811c9dc5;
  const text = `${cert.type}#${cert.number}`;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return dueShardName((hash >>> 0) % DUE_SHARDS);
}

export function dueShardName(index: number): string {
  return `DUE#${String(index).padStart(2, '0')}`;
}

export function allDueShards(): string[] {
  return Array.from({ length: DUE_SHARDS }, (_, i) => dueShardName(i));
}

/** Alarm instants are stored in UTC ("...Z") so that string order is time order. */
export function alarmSortKey(utcIso: string): string {
  return utcIso;
}

/** The expiry part of an index sort key: see the header for why "no expiry" is spelled so. */
export const NO_EXPIRY_SORT = 'NOEXPIRY';

function expirySortPart(expiresOn: string | null): string {
  return expiresOn ?? NO_EXPIRY_SORT;
}

export function townshipIndexKeys(township: string, expiresOn: string | null, cert: CertificateKey): { gsi1pk: string; gsi1sk: string } {
  return { gsi1pk: `TWP#${township}`, gsi1sk: `${expirySortPart(expiresOn)}#${cert.type}#${cert.number}` };
}

export function typeIndexKeys(expiresOn: string | null, cert: CertificateKey): { gsi2pk: string; gsi2sk: string } {
  return { gsi2pk: `TYPE#${cert.type}`, gsi2sk: `${expirySortPart(expiresOn)}#${cert.number}` };
}

/** Written with every certificate, whatever its type: a campaign may cover any catalogue type. */
export function townshipTypeIndexKeys(township: string, expiresOn: string | null, cert: CertificateKey): { gsi3pk: string; gsi3sk: string } {
  return { gsi3pk: `TWP#${township}#${cert.type}`, gsi3sk: `${expirySortPart(expiresOn)}#${cert.number}` };
}

/** The meta item saying how far giving stored certificates the `byTownshipType` keys got (done, or where it stopped). */
export function townshipTypeBackfillKey(): ItemKey {
  return metaKey(`INDEX#${INDEX.byTownshipType}`);
}

const CAMPAIGN_PREFIX = 'CAMPAIGN#';

export function campaignKey(id: string): ItemKey {
  return { pk: `${CAMPAIGN_PREFIX}${id}`, sk: 'CAMPAIGN' };
}

/** UTC ISO instants sort as strings, so the listing's order is creation order. */
export function campaignIndexKey(createdAtUtc: string, id: string): ItemKey {
  return { pk: 'CAMPAIGNS', sk: `${createdAtUtc}#${id}` };
}

export function visitKey(campaignId: string, visitId: string): ItemKey {
  return { pk: `${CAMPAIGN_PREFIX}${campaignId}`, sk: `VISIT#${visitId}` };
}

export function invitationKey(campaignId: string, visitId: string, phone: string): ItemKey {
  return { pk: `${CAMPAIGN_PREFIX}${campaignId}`, sk: `INVITE#${visitId}#${phone}` };
}

export function bookingCodeKey(campaignId: string, code: string): ItemKey {
  return { pk: `${CAMPAIGN_PREFIX}${campaignId}`, sk: `CODE#${code}` };
}

export function bookingKey(campaignId: string, code: string): ItemKey {
  return { pk: `${CAMPAIGN_PREFIX}${campaignId}`, sk: `BOOKING#${code}` };
}

/** One campaign SMS per (visit, phone, kind): the identity of "exactly one message". */
export function campaignMessageKey(campaignId: string, visitId: string, phone: string, kind: string): ItemKey {
  return { pk: `${CAMPAIGN_PREFIX}${campaignId}`, sk: `MSG#${visitId}#${phone}#${kind}` };
}

/** Per phone and day: the help reply (or another topic) went out once that day; two messages race for the one put. */
export function dailyReplyKey(phone: string, day: string, topic: string): ItemKey {
  return { pk: `INBOUND#${phone}`, sk: `REPLY#${day}#${topic}` };
}

/** How many capped SMS went to this phone on this Asia/Shanghai day: one conditional counter, so the last slot has one winner. */
export function dailySendCountKey(phone: string, day: string): ItemKey {
  return { pk: `SMSCAP#${phone}`, sk: `DAY#${day}` };
}

const SUPPRESSIONS_PK = 'SUPPRESSIONS';

/**
 * One partition for the whole list: a county's opt-outs are thousands, written rarely, and every send
 * reads one item by phone (far below a partition's 3,000 reads a second); the listing is one Query.
 */
export function suppressionKey(phone: string): ItemKey {
  return { pk: SUPPRESSIONS_PK, sk: phone };
}

const REINSTATED_PK = 'REINSTATED';

/** A reinstatement the daily copy of SNS's opt-out list still honours; one partition, as small as the list. */
export function reinstatementKey(phone: string): ItemKey {
  return { pk: REINSTATED_PK, sk: phone };
}

/** The opt-out confirmation of the suppression made at `suppressedAt`: a later suppression of the number gets its own. */
export function optOutConfirmationKey(phone: string, suppressedAt: string): ItemKey {
  return { pk: `OPTOUT#${phone}`, sk: `CONFIRM#${new Date(suppressedAt).toISOString()}` };
}

/** Is `value` a suppression sort key (an E.164 number) this service could have handed out as a cursor? */
export function isSuppressionSortKey(value: unknown): value is string {
  return typeof value === 'string' && /^\+[1-9]\d{5,14}$/.test(value);
}

/** Pending one-off jobs sort by their instant, so "due by now" is one range Query. */
export function jobKey(atUtc: string, name: string): ItemKey {
  return { pk: 'JOBS', sk: `${atUtc}#${name}` };
}

/**
 * Is `key` a start key that paging certificates can hand out: a certificate's own key, plus the keys of
 * the index being read (none for the table), in the index partition being read? A start key names the
 * item DynamoDB reads on from, so anything else (a token, a delivery, another township) is refused.
 */
export function isCertificatePageStart(key: unknown, index: string | undefined, partition: string | undefined): boolean {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
  const attributes = key as Record<string, unknown>;
  const indexKeys = index === INDEX.byTownship ? ['gsi1pk', 'gsi1sk'] : index === INDEX.byType ? ['gsi2pk', 'gsi2sk'] : [];
  const names = Object.keys(attributes);
  if (names.length !== indexKeys.length + 2 || ![...indexKeys, 'pk', 'sk'].every((name) => typeof attributes[name] === 'string')) return false;
  const { pk, sk } = attributes as { pk: string; sk: string };
  if (!pk.startsWith(CERT_PREFIX) || sk !== 'CERT') return false;
  const [indexPartition] = indexKeys;
  return indexPartition === undefined || attributes[indexPartition] === partition;
}

// ---- Delivery status ------------------------------------------------------------------------------
//
// Partitioned by status, so "which failed", "which are still unconfirmed" and the whole history (every
// status, merged newest first) are each a Query on a few partitions. A receipt moves an item to another
// partition by changing `dlvpk`. One partition per status takes at most the county's sends (the scan sends
// at `CERTALARM_SMS_RATE`, 10/s by default), far below a partition's 1,000 writes a second.
// Any delivery item may carry these keys (a reminder's record, a campaign message): build them here.

export function deliveryStatusPartition(status: string): string {
  return `DLV#${status}`;
}

/** The index keys of a delivery item with `status`, sent at `sentAt` (any ISO instant; stored in UTC so string order is time order). */
export function deliveryIndexKeys(status: string, sentAt: string, item: ItemKey): { dlvpk: string; dlvsk: string } {
  return { dlvpk: deliveryStatusPartition(status), dlvsk: `${new Date(sentAt).toISOString()}#${item.pk}#${item.sk}` };
}

/** The sort-key bound for "sent before/at or after this instant". */
export function deliverySortBound(instant: string): string {
  return new Date(instant).toISOString();
}

/** Is `value` a delivery sort key this service could have handed out as a cursor? */
export function isDeliverySortKey(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 1200 && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z(#|$)/.test(value);
}

/** A provider's message id → the delivery item it was recorded on, so a receipt needs one GetItem whatever the kind. */
export function messagePointerKey(messageId: string): ItemKey {
  return { pk: `MSG#${messageId}`, sk: 'MSG' };
}

/** Which kind of delivery an item key is: a certificate's reminder, or a campaign message. */
export function deliverySource(pk: string): 'reminder' | 'campaign' | 'other' {
  if (pk.startsWith(CERT_PREFIX)) return 'reminder';
  if (pk.startsWith('CAMPAIGN#')) return 'campaign';
  return 'other';
}

/** Query pieces, one per access pattern. Each answers one question. */
export const accessPatterns = {
  /** Which certificates have an alarm in this shard at or before `untilUtc`? */
  dueAlarms(shard: string, untilUtc: string) {
    return {
      IndexName: INDEX.due,
      KeyConditionExpression: 'dueShard = :shard AND nextAlarmAt <= :until',
      ExpressionAttributeValues: { ':shard': shard, ':until': alarmSortKey(untilUtc) },
    };
  },
  /** Which certificates in this township expire before a date (exclusive; never those without an expiry)? */
  certificatesInTownship(township: string, expiringBefore?: string) {
    return expiringBefore === undefined
      ? {
          IndexName: INDEX.byTownship,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': `TWP#${township}` } as Record<string, string>,
        }
      : {
          IndexName: INDEX.byTownship,
          KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
          ExpressionAttributeValues: { ':pk': `TWP#${township}`, ':before': expiringBefore } as Record<string, string>,
        };
  },
  /** Which certificates of this type expire before a date (exclusive; never those without an expiry)? */
  certificatesOfType(type: string, expiringBefore?: string) {
    return expiringBefore === undefined
      ? {
          IndexName: INDEX.byType,
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': `TYPE#${type}` } as Record<string, string>,
        }
      : {
          IndexName: INDEX.byType,
          KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :before',
          ExpressionAttributeValues: { ':pk': `TYPE#${type}`, ':before': expiringBefore } as Record<string, string>,
        };
  },
  /** Which of these certificates exist (given their partition keys, at most 50)? A point read, not a scan. */
  certificatesByKeys(tableName: string, partitionKeys: readonly string[]) {
    return {
      Statement: `SELECT * FROM "${tableName}" WHERE pk IN [${partitionKeys.map(() => '?').join(', ')}] AND sk = ?`,
      Parameters: [...partitionKeys, 'CERT'],
    };
  },
  /** What are the phones of these certificates (given their partition keys, at most 50)? Point reads of one attribute. */
  phonesByKeys(tableName: string, partitionKeys: readonly string[]) {
    return {
      Statement: `SELECT pk, phone FROM "${tableName}" WHERE pk IN [${partitionKeys.map(() => '?').join(', ')}] AND sk = ?`,
      Parameters: [...partitionKeys, 'CERT'],
    };
  },
  /** Which API tokens exist? */
  allTokens() {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': 'TOKENS', ':prefix': 'TOKEN#' } };
  },
  /** Which rows of this import were rejected, in row order? */
  importErrors(id: string) {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': `IMPORT#${id}`, ':prefix': 'ERR#' } };
  },
  /** Which imports were started and not finished (to resume after a restart)? */
  openImports() {
    return { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'IMPORTS#OPEN' } };
  },
  /** Which certificates of this type with a pending stage expire between two dates (inclusive)? */
  pendingCertificatesOfTypeExpiring(type: string, from: string, to: string) {
    return {
      IndexName: INDEX.byType,
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
      // gsi2sk is `<expiresOn>#<number>`: every number of the last day sorts below `#\uffff`.
      FilterExpression: 'attribute_exists(nextAlarmAt)',
      ExpressionAttributeValues: { ':pk': `TYPE#${type}`, ':from': from, ':to': `${to}#\uffff` },
    };
  },
  /** Which certificates of this type expire on or after a date (a rule change re-plans them)? */
  certificatesOfTypeExpiringFrom(type: string, from: string) {
    return {
      IndexName: INDEX.byType,
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :from',
      ExpressionAttributeValues: { ':pk': `TYPE#${type}`, ':from': from },
    };
  },
  /** What did writers store while a re-plan held this type (its repair pass puts it back)? */
  replanJournal(type: string) {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': `REPLAN#${type}`, ':prefix': 'JOURNAL#' } };
  },
  /** What is every changed type's rule version and re-plan mark (a writer of many types at once)? Types absent: version 0, no mark. */
  typeStates() {
    return accessPatterns.rules();
  },
  /** Which types' reminder rules were changed by operators? */
  rules() {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': 'RULES', ':prefix': 'TYPE#' } };
  },
  /** Which versions of this type's rule were stored, newest first? */
  ruleVersions(type: string) {
    return {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `RULE#${type}`, ':prefix': 'V#' },
      ScanIndexForward: false,
    };
  },
  /** Which holiday years are stored? */
  calendarYears() {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': 'CALENDAR', ':prefix': 'YEAR#' } };
  },
  /** Which arrangements were ever stored for this year, oldest first? */
  calendarYearVersions(year: number) {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': `CALENDAR#${year}`, ':prefix': 'V#' } };
  },
  /** What did people write, newest first (at or after `sinceUtc`)? */
  auditTrail(sinceUtc?: string) {
    return sinceUtc === undefined
      ? { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'AUDIT' } as Record<string, string>, ScanIndexForward: false }
      : {
          KeyConditionExpression: 'pk = :pk AND sk >= :since',
          ExpressionAttributeValues: { ':pk': 'AUDIT', ':since': sinceUtc } as Record<string, string>,
          ScanIndexForward: false,
        };
  },
  /** What was sent for this certificate for expiries before a date (retention purges those)? */
  deliveriesOfExpiriesBefore(cert: CertificateKey, before: string) {
    // sk is `DELIVERY#<expiresOn>#<stage>`: every one of an expiry before `before` sorts below `DELIVERY#<before>`.
    return {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': certificateKey(cert).pk, ':from': deliveryPrefix(), ':to': `${deliveryPrefix()}${before}` },
    };
  },
  /**
   * Which deliveries are in this status, newest first, sent at or after `sinceBound` and before `beforeBound`
   * (bounds from deliverySortBound, or a cursor's sort key)? With both, BETWEEN is inclusive: the caller
   * drops the item equal to `beforeBound`.
   */
  deliveriesWithStatus(status: string, sinceBound?: string, beforeBound?: string) {
    const values: Record<string, string> = { ':pk': deliveryStatusPartition(status) };
    let condition = 'dlvpk = :pk';
    if (sinceBound !== undefined && beforeBound !== undefined) {
      condition += ' AND dlvsk BETWEEN :since AND :before';
      Object.assign(values, { ':since': sinceBound, ':before': beforeBound });
    } else if (sinceBound !== undefined) {
      condition += ' AND dlvsk >= :since';
      values[':since'] = sinceBound;
    } else if (beforeBound !== undefined) {
      condition += ' AND dlvsk < :before';
      values[':before'] = beforeBound;
    }
    return { IndexName: INDEX.deliveries, KeyConditionExpression: condition, ExpressionAttributeValues: values, ScanIndexForward: false };
  },
  /** Which certificates of this type in this township expire on or before a date (never those without an expiry)? */
  certificatesInTownshipOfType(township: string, type: string, onOrBefore: string) {
    return {
      IndexName: INDEX.byTownshipType,
      // gsi3sk is `<expiresOn>#<number>`: every number of the last day sorts below `#\uffff`, NOEXPIRY after it.
      KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk <= :last',
      ExpressionAttributeValues: { ':pk': `TWP#${township}#${type}`, ':last': `${onOrBefore}#\uffff` },
    };
  },
  /** Which campaigns exist, newest first? */
  campaigns() {
    return { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'CAMPAIGNS' }, ScanIndexForward: false };
  },
  /** Which visits does this campaign have? */
  visitsOf(campaignId: string) {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': `${CAMPAIGN_PREFIX}${campaignId}`, ':prefix': 'VISIT#' } };
  },
  /** Which phones were invited to this visit? */
  invitationsOf(campaignId: string, visitId: string) {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': `${CAMPAIGN_PREFIX}${campaignId}`, ':prefix': `INVITE#${visitId}#` } };
  },
  /** Which bookings does this campaign hold (every visit's)? */
  bookingsOf(campaignId: string) {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': `${CAMPAIGN_PREFIX}${campaignId}`, ':prefix': 'BOOKING#' } };
  },
  /** What did this campaign send for this visit? */
  campaignMessagesOf(campaignId: string, visitId: string) {
    return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': `${CAMPAIGN_PREFIX}${campaignId}`, ':prefix': `MSG#${visitId}#` } };
  },
  /** Which one-off jobs are due at or before `untilUtc`, oldest first? */
  dueJobs(untilUtc: string) {
    // The sort key is `<at>#<name>`: every job of the instant itself sorts below `#\uffff`.
    return { KeyConditionExpression: 'pk = :pk AND sk <= :until', ExpressionAttributeValues: { ':pk': 'JOBS', ':until': `${untilUtc}#\uffff` } };
  },
  /** Which numbers are on our suppression list, in phone-number order? */
  suppressions() {
    return { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': SUPPRESSIONS_PK } };
  },
  /** Which reinstated numbers does the daily copy of SNS's opt-out list still leave off our list? */
  reinstatements() {
    return { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': REINSTATED_PK } };
  },
  /** Which one-off jobs are pending (to re-arm them after a restart)? */
  pendingJobs() {
    return { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'JOBS' } };
  },
  /** Which certificates does this phone (E.164) hold? Keys only: the type is in the key. */
  certificatesOfPhone(phone: string) {
    return {
      IndexName: INDEX.byPhone,
      KeyConditionExpression: 'phone = :phone AND sk = :cert',
      ExpressionAttributeValues: { ':phone': phone, ':cert': 'CERT' },
    };
  },
  /** What was sent for this certificate, across all its expiries? */
  deliveriesOf(cert: CertificateKey) {
    return {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': certificateKey(cert).pk, ':prefix': deliveryPrefix() },
    };
  },
};

/**
 * The table and its indexes, shared by the local bootstrap (CreateTable) and the CDK stack,
 * so the deployed table is exactly the one the code queries.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: TTL_ATTRIBUTE,
  indexes: [
    // Only keys are projected: a due hit is re-read with a consistent GetItem before any claim.
    { name: INDEX.due, partitionKey: 'dueShard', sortKey: 'nextAlarmAt', projection: 'KEYS_ONLY' as const },
    { name: INDEX.byTownship, partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' as const },
    { name: INDEX.byType, partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'ALL' as const },
    // All attributes: the listing shows the text sent, and reads nothing else.
    { name: INDEX.deliveries, partitionKey: 'dlvpk', sortKey: 'dlvsk', projection: 'ALL' as const },
    { name: INDEX.byTownshipType, partitionKey: 'gsi3pk', sortKey: 'gsi3sk', projection: 'ALL' as const },
    // Keys only: "does this phone hold a certificate of these types" needs the key and nothing else.
    { name: INDEX.byPhone, partitionKey: 'phone', sortKey: 'sk', projection: 'KEYS_ONLY' as const },
  ],
} as const;
