import { DateTime } from 'luxon';
import { residentIdCheckCharacter, usccCheckCharacter } from '../../functions/core/holder-id.js';
import { ZONE } from '../../functions/core/model.js';
import type { Clock, SmsMessage, SmsReceipt, SmsSender } from '../../functions/core/ports.js';
import { ensureTable } from '../../functions/adapters/aws/dynamodb/table.js';
import { DynamoDbStore } from '../../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { settingsFromEnvironment, type ServiceSettings } from '../../functions/app/settings.js';
import type { ScanDeps } from '../../functions/app/send-due-reminders.js';
import { dynamoTestClient, uniqueTableName } from './dynamo.js';

export const at = (iso: string): DateTime => DateTime.fromISO(iso, { setZone: true }).setZone(ZONE);

export function fixedClock(iso: string): Clock {
  const now = at(iso);
  return { now: () => now };
}

export function validUscc(serial: number): string {
  const first17 = `91360732MA${String(serial).padStart(7, '0')}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

export function validResidentId(serial: number): string {
  const first17 = `36073219800101${String(serial % 1000).padStart(3, '0')}`;
  return `${first17}${residentIdCheckCharacter(first17)}`;
}

export interface RecordInput {
  type?: string;
  number?: string;
  holder?: { name: string; id?: string };
  phone?: string;
  township?: string;
  issuedOn?: string;
  expiresOn?: string;
}

/** A valid pesticide business licence record (90 days atLeastBefore); override any field. */
export function record(serial: number, overrides: RecordInput = {}): Record<string, unknown> {
  return {
    type: 'pesticide_business_license',
    number: `TEST-${String(serial).padStart(6, '0')}`,
    holder: { name: `测试农资有限公司${serial}`, id: validUscc(serial) },
    phone: `1390000${String(serial % 10000).padStart(4, '0')}`,
    township: '360732100',
    issuedOn: '2021-12-21',
    expiresOn: '2026-12-20',
    ...overrides,
  };
}

/** A sender that records every message; optionally slow, or failing on chosen calls. */
export class RecordingSender implements SmsSender {
  readonly sent: SmsMessage[] = [];
  constructor(private readonly behaviour: { delayMs?: number; fail?: (message: SmsMessage, call: number) => Error | undefined } = {}) {}
  private calls = 0;
  async send(message: SmsMessage): Promise<SmsReceipt> {
    const call = this.calls++;
    if (this.behaviour.delayMs !== undefined) await new Promise((r) => setTimeout(r, this.behaviour.delayMs));
    const failure = this.behaviour.fail?.(message, call);
    if (failure !== undefined) throw failure;
    this.sent.push(message);
    return { messageId: `msg-${this.sent.length}` };
  }
}

export async function freshStore(prefix: string): Promise<DynamoDbStore> {
  const client = dynamoTestClient();
  const table = uniqueTableName(prefix);
  await ensureTable(client, table);
  return new DynamoDbStore(client, table);
}

export function testSettings(overrides: Partial<ServiceSettings> = {}): ServiceSettings {
  return { ...settingsFromEnvironment({}), smsRate: 1000, ...overrides };
}

export function scanDeps(store: DynamoDbStore, sms: SmsSender, overrides: Partial<ScanDeps> = {}): ScanDeps & { clock?: Clock } {
  return {
    store,
    ledger: store,
    sms,
    reference: loadReferenceData(),
    settings: testSettings(),
    logger: silentLogger,
    ...overrides,
  };
}
