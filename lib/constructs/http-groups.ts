import type { HandlerName } from '../bundling.js';
import type { HttpGroup } from '../../functions/app/http/route-groups.js';
import type { IndexName, ItemAction } from './table.js';

/**
 * What each HTTP API function (one per route group, functions/app/http/route-groups.ts) is, and may do:
 * only what its group's routes call. The stack builds the functions and their grants from this table,
 * and the API wires each route of the route table to its group's function.
 */
export interface HttpGroupSpec {
  /** The construct id of the function (its role, log group and alarms are named after it). */
  id: string;
  entry: HandlerName;
  description: string;
  /** Item actions on the table, and the indexes it queries. */
  table: { actions: readonly ItemAction[]; indexes: readonly IndexName[] };
  /** Holder IDs: sealed on write and opened on read (the certificate routes), under the holder-ID key. */
  holderIds: boolean;
  /** Paged listings: the cursors are signed with a key derived from the cursor key. */
  pages: boolean;
  /** Deliveries searched by phone, or campaign messages recorded, with the phone's search hash. */
  phoneHash: boolean;
}

export const HTTP_GROUP_SPECS: Record<HttpGroup, HttpGroupSpec> = {
  // Listings by township or type, or everything (a paged Scan of the table only); uploads read pages with a
  // PartiQL point SELECT on the partition key (never a scan) and write with BatchWriteItem; they and revocations
  // read their types' rule and re-plan mark (BatchGetItem) and journal while a re-plan holds a type (a
  // transaction with a ConditionCheck on the mark). The suppressed flags of a page are one BatchGetItem. Imports
  // are records of their own (Put, Get, a Query of the error rows); a retention purge finds expired
  // certificates on `byType` and deletes them and their deliveries.
  certificates: {
    id: 'HttpCertificates',
    entry: 'httpCertificates',
    description: 'certalarm HTTP API: reference data, certificates, imports, purges (API Gateway HTTP API, payload v2)',
    table: {
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PartiQLSelect', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem'],
      indexes: ['byTownship', 'byType'],
    },
    holderIds: true,
    pages: true,
    phoneHash: false,
  },
  // Reminder rules and calendar years are versioned items (a Query of their partition, a transactional Put of a
  // change, Updates of its re-plan progress); a change re-plans the type's certificates from `byType` (reading
  // each page again with a PartiQL point SELECT, putting them back with BatchWriteItem, deleting journal
  // entries). A scan's preview reads the `due` index; a scan itself runs in the scan function (invoked).
  rules: {
    id: 'HttpRules',
    entry: 'httpRules',
    description: 'certalarm HTTP API: rules, calendar, audit trail, scans (API Gateway HTTP API, payload v2)',
    table: {
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PartiQLSelect', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
      indexes: ['byType', 'due'],
    },
    holderIds: true,
    pages: true,
    phoneHash: false,
  },
  // Campaigns live in their own partitions (Get, Put, Update, Delete, Query, transactions of those); a visit's
  // recipients come from `byTownshipType`. Visits' jobs are schedules (granted by CampaignSchedules).
  campaigns: {
    id: 'HttpCampaigns',
    entry: 'httpCampaigns',
    description: 'certalarm HTTP API: campaigns and their visits (API Gateway HTTP API, payload v2)',
    table: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], indexes: ['byTownshipType'] },
    holderIds: false,
    pages: false,
    phoneHash: false,
  },
  // Like the inbound-SMS function: a booking finds its code (a Query), books or cancels in one transaction with
  // a conditional slot count, and claims/records its confirmation like any campaign message.
  bookings: {
    id: 'HttpBookings',
    entry: 'httpBookings',
    description: 'certalarm HTTP API: campaign bookings, attendance and reports (API Gateway HTTP API, payload v2)',
    table: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], indexes: [] },
    holderIds: false,
    pages: false,
    phoneHash: true,
  },
  // Deliveries are listed on their index (a Get to follow one); the suppression list is a partition of its own
  // (a Query, and a reinstatement deletes an entry and puts its audit record); a bureau sees the numbers of its
  // own holders, found on `byPhone`.
  deliveries: {
    id: 'HttpDeliveries',
    entry: 'httpDeliveries',
    description: 'certalarm HTTP API: deliveries and suppressions (API Gateway HTTP API, payload v2)',
    table: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], indexes: ['deliveries', 'byPhone'] },
    holderIds: false,
    pages: true,
    phoneHash: true,
  },
};
