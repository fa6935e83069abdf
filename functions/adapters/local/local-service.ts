import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DateTime } from 'luxon';
import { ZONE } from '../../core/model.js';
import { maskPhone } from '../../core/phone.js';
import type { Clock } from '../../core/ports.js';
import { demoCertificates } from '../../app/demo-data.js';
import { createHttpApp } from '../../app/http/app.js';
import type { Logger } from '../../app/logger.js';
import { RateLimitedSmsSender } from '../../app/rate-limited-sender.js';
import { loadReferenceData } from '../../app/reference-data.js';
import { sendDueReminders, type ScanResult } from '../../app/send-due-reminders.js';
import type { ServiceSettings } from '../../app/settings.js';
import { uploadCertificates } from '../../app/upload-certificates.js';
import { DynamoDbStore } from '../aws/dynamodb/dynamodb-store.js';
import { ensureTable } from '../aws/dynamodb/table.js';
import { localDynamoClientConfig, startDynamoDbLocal } from './dynamodb-local.js';
import { startHttpServer } from './http-server.js';
import { startLocalScheduler } from './local-scheduler.js';
import { OutboxSmsSender, type OutboxEntry } from './outbox-sms-sender.js';
import { serviceClock } from './service-clock.js';

export interface LocalServiceOptions {
  dataDir: string;
  port: number;
  settings: ServiceSettings;
  logger: Logger;
  /** Start the service clock at this instant (CERTALARM_NOW); it then runs forward in real time. */
  startAt?: DateTime;
  demo: boolean;
  /** Minutes between scheduled due scans; 0 turns the local scheduler off. */
  scanEveryMinutes: number;
  /** Where each outbox message is shown as it is "sent". */
  printMessage?: (entry: OutboxEntry) => void;
  /** In-memory DynamoDB Local instead of the data dir (tests). */
  inMemory?: boolean;
  tableName?: string;
}

export interface LocalService {
  url: string;
  dynamoEndpoint: string;
  clock: Clock;
  outbox: OutboxSmsSender;
  demoLoaded: number;
  scan(now?: DateTime): Promise<ScanResult>;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: DynamoDB Local (127.0.0.1 only, data in the data dir), the table,
 * reference data, demo certificates on first start, the HTTP API, the scheduled due scan and the SMS outbox.
 */
export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const log = options.logger;
  const reference = loadReferenceData();
  const dynamo = await startDynamoDbLocal({
    ...(options.inMemory === true ? {} : { dbPath: join(dataDir, 'dynamodb') }),
    log: (line) => log.debug({ dynamodbLocal: line }, 'dynamodb-local'),
  });
  const client = new DynamoDBClient(localDynamoClientConfig(dynamo.endpoint));
  const stopParts: Array<() => Promise<void> | void> = [() => client.destroy(), () => dynamo.stop()];
  try {
    const tableName = options.tableName ?? 'certalarm';
    const created = await ensureTable(client, tableName);
    log.info({ table: tableName, created: created === 'created' }, created === 'created' ? 'table created' : 'table found');
    const store = new DynamoDbStore(client, tableName);
    const clock = serviceClock(options.startAt);
    const outbox = new OutboxSmsSender(join(dataDir, 'outbox.jsonl'), clock, options.printMessage);
    const sms = new RateLimitedSmsSender(outbox, options.settings.smsRate);
    const deps = { store, ledger: store, sms, reference, settings: options.settings, logger: log, clock, outbox };

    let demoLoaded = 0;
    if (options.demo && (await store.getMeta('DEMO')) === undefined) {
      const records = demoCertificates({ now: clock.now(), types: reference.catalogue.all(), townships: reference.townships.all() });
      const result = await uploadCertificates(deps, records, clock.now());
      demoLoaded = result.accepted;
      await store.putMeta('DEMO', { loadedAt: clock.now().toISO(), count: result.accepted, rejected: result.rejected.length });
      log.info({ accepted: result.accepted, rejected: result.rejected.length }, 'demo certificates loaded');
    }

    const app = createHttpApp(deps);
    const http = await startHttpServer({ app, port: options.port, maxBodyBytes: options.settings.maxBodyBytes });
    stopParts.unshift(() => http.close());

    const scan = (now?: DateTime) => sendDueReminders(deps, now ?? clock.now());
    if (options.scanEveryMinutes > 0) {
      const scheduler = startLocalScheduler({
        clock,
        everyMinutes: options.scanEveryMinutes,
        runAtStart: true,
        job: async () => {
          const result = await scan();
          if (result.insideSendWindow) log.info({ sent: result.sent }, 'scheduled scan done');
        },
        onError: (error) => log.error({ err: (error as Error).message }, 'scheduled scan failed; the next run retries'),
      });
      stopParts.unshift(() => scheduler.stop());
    }

    return {
      url: http.url,
      dynamoEndpoint: dynamo.endpoint,
      clock,
      outbox,
      demoLoaded,
      scan,
      async stop() {
        for (const part of stopParts) await part();
      },
    };
  } catch (error) {
    for (const part of stopParts) await part();
    throw error;
  }
}

/** How the console shows an outbox message: the number masked, the text in full. */
export function formatOutboxLine(entry: OutboxEntry): string {
  const at = DateTime.fromISO(entry.sentAt, { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm');
  return `[短信 ${at}] → ${maskPhone(entry.to)} (${entry.segments} 条计费)\n  ${entry.body}`;
}
