import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCampaignStore } from '../../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import type { Campaign, Visit } from '../../functions/core/campaigns/model.js';
import { dynamoTestClient, uniqueTableName } from './dynamo.js';
import { validResidentId } from './fixtures.js';

export const INSPECTION = 'farm_machine_annual_inspection';
export const OPERATOR_LICENSE = 'farm_machine_operator_license';
export const LIANJIANG = '360732100';
export const JIANGBEI = '360732101';

/** A farm machine's annual inspection held by a farmer; override any field. */
export function farmRecord(serial: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: INSPECTION,
    number: `NJ-${String(serial).padStart(5, '0')}`,
    holder: { name: `演示农户${serial}`, id: validResidentId(serial) },
    phone: `1390000${String(serial % 10000).padStart(4, '0')}`,
    township: LIANJIANG,
    issuedOn: '2026-02-10',
    expiresOn: '2027-02-09',
    ...overrides,
  };
}

export async function freshCampaignTable(prefix: string): Promise<{ client: DynamoDBClient; store: DynamoDbStore; campaigns: DynamoDbCampaignStore }> {
  const client = dynamoTestClient();
  const table = uniqueTableName(prefix);
  await ensureTable(client, table);
  return { client, store: new DynamoDbStore(client, table), campaigns: new DynamoDbCampaignStore(client, table) };
}

export function springCampaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'cmp_spring2027',
    name: '2027年春季农机上门服务',
    types: [INSPECTION, OPERATOR_LICENSE],
    season: { from: '2027-01-04', to: '2027-06-30' },
    blackouts: [{ from: '2027-03-25', to: '2027-04-20', reason: '春季插秧' }],
    noticeDaysBefore: 14,
    reminderDaysBefore: 1,
    createdBy: 'token:ops',
    createdAt: '2026-12-01T10:00:00.000+08:00',
    version: 1,
    ...overrides,
  };
}

export function lianjiangVisit(overrides: Partial<Visit> = {}): Visit {
  return {
    campaignId: 'cmp_spring2027',
    id: 'v_lianjiang',
    township: LIANJIANG,
    date: '2027-01-12',
    place: '潋江镇农机服务站',
    slots: [
      { number: 1, start: '09:00', end: '10:00', capacity: 20, booked: 0 },
      { number: 2, start: '10:00', end: '11:00', capacity: 20, booked: 0 },
    ],
    state: 'scheduled',
    noticeAt: '2026-12-29T09:00:00.000+08:00',
    reminderAt: '2027-01-11T09:00:00.000+08:00',
    createdAt: '2026-12-01T10:00:00.000+08:00',
    updatedAt: '2026-12-01T10:00:00.000+08:00',
    version: 1,
    ...overrides,
  };
}
