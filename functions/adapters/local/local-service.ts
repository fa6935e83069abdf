import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DateTime } from 'luxon';
import type { Clock } from '../../core/ports.js';
import { DEMO_CAMPAIGN, DEMO_CAMPAIGN_VISITS, demoCertificates } from '../../app/demo-data.js';
import { addVisit, createCampaign } from '../../app/campaigns/manage-campaigns.js';
import { CursorSeal } from '../../app/cursors.js';
import { createHttpApp } from '../../app/http/app.js';
import { DynamoDbPhoneHoldings } from '../aws/dynamodb/dynamodb-phone-holdings.js';
import { DynamoDbSuppressedPhones } from '../aws/dynamodb/dynamodb-suppressed-phones.js';
import type { Logger } from '../../app/logger.js';
import { RateLimitedSmsSender } from '../../app/rate-limited-sender.js';
import { loadReferenceData } from '../../app/reference-data.js';
import { purgeExpired } from '../../app/purge-expired.js';
import { runScheduledScan, type ScheduledScanResult } from '../../app/scheduled-scan.js';
import type { ServiceSettings } from '../../app/settings.js';
import { uploadCertificates } from '../../app/upload-certificates.js';
import { continueCalendarReplans } from '../../app/calendar/load-calendar.js';
import { continueRuleReplans } from '../../app/rules/change-rule.js';
import { StoredRuleSource } from '../../app/rules/stored-rules.js';
import { DynamoDbBookingStore } from '../aws/dynamodb/dynamodb-booking-store.js';
import { DynamoDbRuleStore } from '../aws/dynamodb/dynamodb-rule-store.js';
import { logCalendarWarnings, StoredCalendarSource } from '../../app/calendar/stored-calendar.js';
import { DynamoDbAuditLog } from '../aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbCampaignStore } from '../aws/dynamodb/dynamodb-campaign-store.js';
import { DynamoDbDailySendCap } from '../aws/dynamodb/dynamodb-daily-send-cap.js';
import { campaignJobPayloadSchema } from '../../core/schedule-payloads.js';
import type { CampaignServices } from '../../app/campaigns/campaign-deps.js';
import { runCampaignJob } from '../../app/campaigns/run-campaign-job.js';
import { InProcessScheduleGateway } from './in-process-schedule-gateway.js';
import { DynamoDbCalendarStore } from '../aws/dynamodb/dynamodb-calendar-store.js';
import { DynamoDbReplanMarks } from '../aws/dynamodb/dynamodb-replan-marks.js';
import { DynamoDbStore } from '../aws/dynamodb/dynamodb-store.js';
import { LocalProviderOptIn } from './local-provider-opt-in.js';
import { DynamoDbSuppressionList } from '../aws/dynamodb/dynamodb-suppression-list.js';
import { DynamoDbImportStore } from '../aws/dynamodb/dynamodb-import-store.js';
import { DynamoDbTokenStore } from '../aws/dynamodb/dynamodb-token-store.js';
import { authenticateToken, bearerToken, generateToken, installAdminToken } from '../../app/tokens.js';
import { localCursorKey, localPhoneHashKey } from './cursor-key.js';
import { LocalHolderIdCipher, localHolderIdKey } from './local-holder-id-cipher.js';
import { DynamoDbDeliveries } from '../aws/dynamodb/dynamodb-deliveries.js';
import { recordDeliveryReceipt } from '../../app/deliveries/record-receipt.js';
import { HmacPhoneHasher } from '../../app/deliveries/phone-hash.js';
import { DEFAULT_SANDBOX_RECEIPT_MS } from '../../app/settings.js';
import { LocalImportWorker } from './local-import-worker.js';
import { LocalImportFiles } from './local-imports.js';
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
  /** Most Java heap DynamoDB Local may use, in MiB (CERTALARM_DYNAMODB_HEAP_MB); undefined: the JVM's default. */
  dynamoDbHeapMb?: number;
  /** How long after a send the outbox's sandbox receipt arrives (CERTALARM_SANDBOX_RECEIPT_MS; default 3000). */
  sandboxReceiptMs?: number;
  /** In-memory DynamoDB Local instead of the data dir (tests). */
  inMemory?: boolean;
  tableName?: string;
  /** The first operator's token (CERTALARM_ADMIN_TOKEN); generated and kept in the data dir if unset. */
  adminToken?: string;
  /**
   * Something the service cannot run without died (DynamoDB Local). It has been logged and the
   * service stopped; `npm start` exits with the message. Default: only that.
   */
  onFatal?: (error: Error) => void;
}

export interface LocalService {
  url: string;
  dynamoEndpoint: string;
  clock: Clock;
  outbox: OutboxSmsSender;
  demoLoaded: number;
  /** The first operator's token, and whether it was generated by this start (then print it once). */
  adminToken: { token: string; generatedNow: boolean; file?: string };
  /** Resolves when every queued import has finished. */
  importsIdle(): Promise<void>;
  scan(now?: DateTime): Promise<ScheduledScanResult>;
  stop(): Promise<void>;
}

/**
 * The local composition root (the counterpart of handlers/runtime.ts), so it may import from app/.
 * The whole service on one machine: DynamoDB Local (127.0.0.1 only, data in the data dir), the table,
 * reference data, demo certificates on first start, the HTTP API, the scheduled due scan and the SMS outbox.
 */
export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const log = options.logger;
  const reference = loadReferenceData();
  const stopParts: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const part of stopParts.splice(0)) await part();
  };
  const dynamo = await startDynamoDbLocal({
    ...(options.inMemory === true ? {} : { dbPath: join(dataDir, 'dynamodb') }),
    ...(options.dynamoDbHeapMb !== undefined ? { heapMb: options.dynamoDbHeapMb } : {}),
    log: (line) => log.debug({ dynamodbLocal: line }, 'dynamodb-local'),
    // Every request would fail from now on: say plainly what died rather than answer 500s.
    onUnexpectedExit: (error) => {
      log.error({ pid: error.pid, code: error.code, signal: error.signal, lastOutput: error.lastOutput }, 'DynamoDB Local exited unexpectedly; the service stops');
      void stopAll()
        .catch((stopError: unknown) => log.error({ err: (stopError as Error).message }, 'stopping the service after DynamoDB Local died failed'))
        .finally(() => options.onFatal?.(error));
    },
  });
  const client = new DynamoDBClient(localDynamoClientConfig(dynamo.endpoint));
  stopParts.push(() => client.destroy(), () => dynamo.stop());
  try {
    const tableName = options.tableName ?? 'certalarm';
    const created = await ensureTable(client, tableName);
    log.info({ table: tableName, created: created === 'created' }, created === 'created' ? 'table created' : 'table found');
    // Holder IDs are sealed with a key kept beside the data, never in the table (see README, "Holder IDs").
    const holderIds = new LocalHolderIdCipher(localHolderIdKey(dataDir));
    const store = new DynamoDbStore(client, tableName, { holderIds });
    // DynamoDB Local maintains the byType index within each write, so the re-plan reads its pages as they are.
    const replanMarks = new DynamoDbReplanMarks(client, tableName, { holderIds });
    const clock = serviceClock(options.startAt);
    // Delivery status: the outbox's sandbox receipts go through the same use case as SNS's on AWS.
    const deliveries = new DynamoDbDeliveries(client, tableName);
    const receiptSink = (receipt: Parameters<typeof recordDeliveryReceipt>[1]) => recordDeliveryReceipt({ receipts: deliveries, logger: log }, receipt);
    const outbox = new OutboxSmsSender(join(dataDir, 'outbox.jsonl'), clock, options.printMessage, undefined, {
      deliver: receiptSink,
      delayMs: options.sandboxReceiptMs ?? DEFAULT_SANDBOX_RECEIPT_MS,
    });
    const receiptTimer = setInterval(() => {
      outbox.flushReceipts().catch((error: unknown) => log.error({ err: (error as Error).message }, 'sandbox receipts failed; they are offered again'));
    }, 1_000);
    receiptTimer.unref();
    stopParts.unshift(() => clearInterval(receiptTimer));
    const sms = new RateLimitedSmsSender(outbox, options.settings.smsRate);
    const tokens = new DynamoDbTokenStore(client, tableName);
    const adminToken = await setUpAdminToken(tokens, dataDir, options, clock.now().toISO() ?? '');
    const imports = new DynamoDbImportStore(client, tableName);
    const files = new LocalImportFiles(join(dataDir, 'imports'), options.settings.importLimits);
    const calendars = new DynamoDbCalendarStore(client, tableName);
    const audit = new DynamoDbAuditLog(client, tableName);
    // The first read seeds the store with the bundled years it lacks; operators' loads are kept.
    const calendarSource = new StoredCalendarSource({ calendars, bundled: reference.calendarYears, clock, logger: log });
    await calendarSource.current();
    const ruleStore = new DynamoDbRuleStore(client, tableName);
    const rules = new StoredRuleSource({ rules: ruleStore, clock, policy: options.settings.stagePolicy });
    const phoneHashKey = localPhoneHashKey(dataDir);
    const phoneHasher = new HmacPhoneHasher(async () => phoneHashKey);
    // Campaign jobs run in this process at their instants, and are kept in the table so a restart re-arms them.
    const campaignStore = new DynamoDbCampaignStore(client, tableName);
    const gateway = new InProcessScheduleGateway({
      clock,
      jobs: campaignStore,
      run: async (payload) => {
        // Runs only once the service is up: `base` is defined by then.
        const run = await runCampaignJob(base, campaignJobPayloadSchema.parse(payload));
        // Something left unsent (outside the window, a retryable failure): the job stays for the next scan.
        return run.outcome === 'done' || run.outcome === 'skipped';
      },
      onError: (error, schedule) => log.error({ job: schedule.name, err: (error as Error).message }, 'campaign job failed; the next scan retries it'),
    });
    stopParts.unshift(() => gateway.stop());
    const campaigns: CampaignServices = {
      store: campaignStore,
      messages: campaignStore,
      recipients: campaignStore,
      jobs: campaignStore,
      scheduler: { gateway, targetArn: 'local:campaign-job', roleArn: 'local:scheduler', group: 'certalarm' },
    };
    // One per-phone daily counter for reminders, campaign messages and inbound replies alike.
    const cap = new DynamoDbDailySendCap(client, tableName);
    // Our opt-out list: every send (reminders, campaign messages, replies) asks it after its claim.
    const suppressions = new DynamoDbSuppressionList(client, tableName);
    const base = { store, ledger: store, sms, reference, settings: options.settings, logger: log, clock, calendarSource, audit, rules, phoneHasher, campaigns, suppressions, cap, phones: store, mergedTemplates: ruleStore, replanMarks };
    const cursorKey = localCursorKey(dataDir);
    const worker = new LocalImportWorker({
      ...base,
      imports,
      openSpreadsheet: files.opener(),
      removeFile: (key) => files.remove(key),
      limits: { maxBytes: options.settings.importMaxBytes, maxRows: options.settings.importMaxRows },
    });
    stopParts.unshift(() => worker.stop());
    const deps = {
      ...base,
      calendars,
      replanSource: store,
      revoker: store,
      retention: store,
      ruleStore,
      typeCertificates: store,
      deliveries,
      bookings: new DynamoDbBookingStore(client, tableName),
      // The suppression list read for the routes (SNS's own list exists only on AWS: locally there is nothing to copy).
      suppressedPhones: new DynamoDbSuppressedPhones(client, tableName),
      phoneHoldings: new DynamoDbPhoneHoldings(client, tableName),
      providerOptIn: new LocalProviderOptIn(),
      outbox,
      tokens,
      imports,
      submitImport: worker.submitter(),
      authenticate: (req: { headers: Record<string, string | undefined> }) => authenticateToken(tokens, bearerToken(req.headers.authorization)),
      cursors: new CursorSeal(async () => cursorKey, options.settings.cursorTtlSeconds),
    };

    let demoLoaded = 0;
    if (options.demo && (await store.getMeta('DEMO')) === undefined) {
      const records = demoCertificates({ now: clock.now(), types: reference.catalogue.all(), townships: reference.townships.all() });
      const result = await uploadCertificates(deps, records, clock.now());
      demoLoaded = result.accepted;
      await store.putMeta('DEMO', { loadedAt: clock.now().toISO(), count: result.accepted, rejected: result.rejected.length });
      log.info({ accepted: result.accepted, rejected: result.rejected.length }, 'demo certificates loaded');
    }
    if (options.demo && (await store.getMeta('DEMO_CAMPAIGN')) === undefined) {
      // Through the use cases, as an operator would: the visits' notices are scheduled like any others.
      const demo = { role: 'operator' as const, subject: 'demo' };
      try {
        const campaign = await createCampaign(deps, demo, DEMO_CAMPAIGN);
        // Marked before the visits, so a refused visit does not make every later start create the campaign again.
        await store.putMeta('DEMO_CAMPAIGN', { loadedAt: clock.now().toISO(), id: campaign.id });
        for (const visit of DEMO_CAMPAIGN_VISITS) await addVisit(deps, demo, campaign.id, visit);
        log.info({ campaign: campaign.id, visits: DEMO_CAMPAIGN_VISITS.length }, 'demo campaign created: GET /v1/campaigns/' + campaign.id);
      } catch (error) {
        // After the demo's season (or with a clock set past it) the visits are refused as past: the rest of the demo still runs.
        log.warn({ err: (error as Error).message }, 'demo campaign not created');
      }
    }

    const app = createHttpApp(deps);
    const http = await startHttpServer({
      app,
      port: options.port,
      maxBodyBytes: options.settings.maxBodyBytes,
      spool: {
        matches: (method, path) => method === 'POST' && /^\/v1\/imports\/?$/.test(path),
        store: (body) => files.spool(body, options.settings.importMaxBytes),
        discard: (upload) => files.remove(upload.blobKey),
      },
    });
    stopParts.unshift(() => http.close());

    // A re-plan a stopped service left running finishes before anything is sent on its old dates.
    await continueCalendarReplans(deps);
    await continueRuleReplans(deps);
    await logCalendarWarnings(calendarSource, clock, log);

    const rearmed = await gateway.restore();
    if (rearmed > 0) log.info({ jobs: rearmed }, 'campaign jobs re-armed');

    const resumed = await worker.resumeUnfinished();
    if (resumed.length > 0) log.info({ imports: resumed }, 'resuming unfinished imports');

    // The scan use case the Lambda scan function runs: the rest of a calendar re-plan first, then the scan.
    const scan = (now?: DateTime) => runScheduledScan(deps, now === undefined ? {} : { now });
    if (options.scanEveryMinutes > 0) {
      const scheduler = startLocalScheduler({
        clock,
        everyMinutes: options.scanEveryMinutes,
        runAtStart: true,
        job: async () => {
          const result = await scan();
          if (result.insideSendWindow) log.info({ sent: result.sent, unsentAtWindowClose: result.unsentAtWindowClose }, 'scheduled scan done');
        },
        onError: (error) => log.error({ err: (error as Error).message }, 'scheduled scan failed; the next run retries'),
      });
      stopParts.unshift(() => scheduler.stop());
      // The retention purge, daily (and once at start), on the same local scheduler as the scans.
      const purges = startLocalScheduler({
        clock,
        everyMinutes: 24 * 60,
        runAtStart: true,
        job: async () => {
          await purgeExpired(deps, clock.now());
        },
        onError: (error) => log.error({ err: (error as Error).message }, 'retention purge failed; the next run continues it'),
      });
      stopParts.unshift(() => purges.stop());
    }

    return {
      url: http.url,
      dynamoEndpoint: dynamo.endpoint,
      clock,
      outbox,
      demoLoaded,
      adminToken,
      importsIdle: () => worker.idle(),
      scan,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * CERTALARM_ADMIN_TOKEN wins; otherwise the token kept in `<data dir>/admin-token` (readable only by its
 * owner), generated on the first start. Only its hash goes into the table.
 */
async function setUpAdminToken(
  tokens: DynamoDbTokenStore,
  dataDir: string,
  options: LocalServiceOptions,
  now: string,
): Promise<LocalService['adminToken']> {
  if (options.adminToken !== undefined && options.adminToken !== '') {
    await installAdminToken(tokens, options.adminToken, now);
    return { token: options.adminToken, generatedNow: false };
  }
  const file = join(dataDir, 'admin-token');
  let generatedNow = false;
  if (!existsSync(file)) {
    writeFileSync(file, `${generateToken().token}\n`, { mode: 0o600 });
    generatedNow = true;
  }
  const token = readFileSync(file, 'utf8').trim();
  await installAdminToken(tokens, token, now);
  return { token, generatedNow, file };
}

export { formatOutboxLine } from './outbox-format.js';
