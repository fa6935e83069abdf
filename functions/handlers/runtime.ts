import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DateTime } from 'luxon';
import { ZONE } from '../core/model.js';
import type { AuditLog, CalendarSource, CalendarStore, Clock, HolderIdCipher, ReplanMarks, RuleSource, RuleStore, ScheduleGateway, SmsSender } from '../core/ports.js';
import type { CalendarDeps } from '../app/calendar/load-calendar.js';
import { StoredCalendarSource } from '../app/calendar/stored-calendar.js';
import { DynamoDbAuditLog } from '../adapters/aws/dynamodb/dynamodb-audit-log.js';
import { DynamoDbCampaignStore } from '../adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { DynamoDbDailySendCap } from '../adapters/aws/dynamodb/dynamodb-daily-send-cap.js';
import { EventBridgeScheduleGateway } from '../adapters/aws/schedule-gateway.js';
import type { CampaignDeps, CampaignScheduler, CampaignServices } from '../app/campaigns/campaign-deps.js';
import type { InboundDeps } from '../app/inbound/receive-inbound-sms.js';
import { DynamoDbCalendarStore } from '../adapters/aws/dynamodb/dynamodb-calendar-store.js';
import { DynamoDbImportStore } from '../adapters/aws/dynamodb/dynamodb-import-store.js';
import { DynamoDbBookingStore } from '../adapters/aws/dynamodb/dynamodb-booking-store.js';
import { DynamoDbRuleStore } from '../adapters/aws/dynamodb/dynamodb-rule-store.js';
import type { PurgeDeps } from '../app/purge-expired.js';
import type { IndexBackfillDeps } from '../app/backfill-township-type-index.js';
import { DynamoDbTownshipTypeBackfill } from '../adapters/aws/dynamodb/township-type-backfill.js';
import type { RuleDeps } from '../app/rules/change-rule.js';
import { StoredRuleSource } from '../app/rules/stored-rules.js';
import { DynamoDbStore } from '../adapters/aws/dynamodb/dynamodb-store.js';
import { DynamoDbSuppressionList } from '../adapters/aws/dynamodb/dynamodb-suppression-list.js';
import { DynamoDbReplanMarks } from '../adapters/aws/dynamodb/dynamodb-replan-marks.js';
import { kmsCursorKey, PHONE_HASH_DERIVATION_MESSAGE } from '../adapters/aws/kms-cursor-key.js';
import { KmsHolderIdCipher } from '../adapters/aws/kms-holder-id-cipher.js';
import { DynamoDbDeliveries } from '../adapters/aws/dynamodb/dynamodb-deliveries.js';
import { HmacPhoneHasher } from '../app/deliveries/phone-hash.js';
import { LambdaScanTrigger } from '../adapters/aws/lambda-scan-trigger.js';
import { S3ImportSubmitter } from '../adapters/aws/s3-import-submitter.js';
import { SnsSmsSender } from '../adapters/aws/sns-sms-sender.js';
import { SnsOptedOutNumbers } from '../adapters/aws/sns-opted-out-numbers.js';
import { DynamoDbSuppressedPhones } from '../adapters/aws/dynamodb/dynamodb-suppressed-phones.js';
import { DynamoDbPhoneHoldings } from '../adapters/aws/dynamodb/dynamodb-phone-holdings.js';
import { OptOutHonouringSender, type ProviderOptOutDeps } from '../app/suppressions/provider-opt-outs.js';
import { CursorSeal } from '../app/cursors.js';
import type { HttpAppDeps } from '../app/http/app.js';
import type { HttpGroup } from '../app/http/route-groups.js';
import type { SuppressionList } from '../core/ports.js';
import type { Logger } from '../core/ports.js';
import { lambdaLogger } from '../adapters/aws/lambda-logger.js';
import { RateLimitedSmsSender } from '../app/rate-limited-sender.js';
import { loadReferenceData, type ReferenceData } from '../app/reference-data.js';
import type { ScanDeps } from '../app/send-due-reminders.js';
import { settingsFromEnvironment, type ServiceSettings } from '../app/settings.js';
import { principalFromClaims } from '../app/claims.js';
import { createImport } from '../app/imports/run-import.js';

/**
 * The Lambda composition roots: clients and adapters are built once per cold start and shared by
 * every invocation of the function that imports this module. Each function builds only what it uses
 * (the scan no S3 or Lambda client, the HTTP API no spreadsheet reader), so each bundle stays lean;
 * the import worker's composition is in import-worker-runtime.ts for the same reason. A service a
 * function calls for one operation (S3, KMS, Lambda, SQS) gets a signed request, not an SDK client.
 */
export type Environment = Record<string, string | undefined>;

export interface BaseDeps {
  env: Environment;
  tableName: string;
  dynamo: DynamoDBClient;
  store: DynamoDbStore;
  reference: ReferenceData;
  settings: ServiceSettings;
  logger: Logger;
  clock: Clock;
  /** The holiday calendar as stored: every function plans and warns from it, read with a short cache. */
  calendars: CalendarStore;
  calendarSource: CalendarSource;
  audit: AuditLog;
  /** Operators' reminder rules: every function plans and sends with them, read with a short cache. */
  ruleStore: RuleStore;
  rules: RuleSource;
  /** A rule re-plan's marks and journal, for every writer of certificates (see app/rules/type-writes.ts). */
  replanMarks: ReplanMarks;
}

/**
 * On AWS the byType index is eventually consistent: the re-plan reads each page's certificates again
 * from the table and first gives the index a moment to catch up with writes just before its mark.
 */
const AWS_REPLAN_READS = { consistentPages: true, indexSettleMs: 2_000 } as const;

/** The host's time: the one place a Lambda reads it. Tests put a fixed clock in its place (resetLambdaDeps). */
const systemClock: Clock = { now: () => DateTime.now().setZone(ZONE) };

let clock: Clock = systemClock;
let base: BaseDeps | undefined;
let scan: ScanDeps | undefined;
let http: HttpAppDeps | undefined;
const httpGroups = new Map<HttpGroup, HttpAppDeps>();
let campaignJob: CampaignDeps | undefined;
let inbound: (InboundDeps & CampaignDeps) | undefined;
let continuations: EventBridgeScheduleGateway | undefined;

export function requiredEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: the stack sets it on every function that needs it`);
  return value;
}

/** What every function shares: the table, settings, reference data, logger and clock. */
export function baseDeps(env: Environment = process.env): BaseDeps {
  if (base !== undefined) return base;
  const tableName = requiredEnv(env, 'TABLE_NAME');
  const dynamo = new DynamoDBClient({});
  // The stack copies data/ next to the bundle and points here; unbundled (tests) the repository's data/ is used.
  const reference = loadReferenceData(env.CERTALARM_REFERENCE_DIR !== undefined ? { dataDir: env.CERTALARM_REFERENCE_DIR } : {});
  const logger = lambdaLogger({ ...(env.LOG_LEVEL !== undefined ? { level: env.LOG_LEVEL } : {}), ...(env.POWERTOOLS_SERVICE_NAME !== undefined ? { service: env.POWERTOOLS_SERVICE_NAME } : {}) });
  const calendars = new DynamoDbCalendarStore(dynamo, tableName);
  const ruleStore = new DynamoDbRuleStore(dynamo, tableName);
  const settings = settingsFromEnvironment(env);
  const holderIds = holderIdOptions(env, dynamo, logger);
  base = {
    env,
    tableName,
    dynamo,
    store: new DynamoDbStore(dynamo, tableName, holderIds),
    replanMarks: new DynamoDbReplanMarks(dynamo, tableName, holderIds),
    reference,
    settings,
    logger,
    clock,
    calendars,
    // Bundled years seed the store on a function's first read; an operator's load reaches every function within the cache's minute.
    calendarSource: new StoredCalendarSource({ calendars, bundled: reference.calendarYears, clock, logger }),
    audit: new DynamoDbAuditLog(dynamo, tableName),
    ruleStore,
    // A rule change reaches every function within the cache's minute, like a calendar load.
    rules: new StoredRuleSource({ rules: ruleStore, clock, policy: settings.stagePolicy }),
  };
  return base;
}

/**
 * Holder IDs sealed under the stack's KMS key (envelope encryption, see kms-holder-id-cipher.ts). The stack
 * sets CERTALARM_HOLDER_ID_KMS_KEY_ID on every function; without it (tests of other parts) IDs are stored as given.
 */
function holderIdOptions(env: Environment, dynamo: DynamoDBClient, logger: Logger): { holderIds?: HolderIdCipher } {
  const keyId = env.CERTALARM_HOLDER_ID_KMS_KEY_ID;
  if (keyId === undefined || keyId === '') {
    logger.warn({}, 'CERTALARM_HOLDER_ID_KMS_KEY_ID is not set: holder IDs are stored unencrypted (the stack always sets it)');
    return {};
  }
  const endpoint = env.AWS_ENDPOINT_URL_KMS;
  return { holderIds: new KmsHolderIdCipher({ signing: dynamo.config, keyId, ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}) }) };
}

/** The due-scan function: the store, the delivery ledger and the SMS sender. */
export function lambdaDeps(env: Environment = process.env): ScanDeps {
  if (scan !== undefined) return scan;
  scan = scanDepsWith(env, (suppressions) => snsSender(env, suppressions));
  return scan;
}

/** SMS through SNS, within the configured rate; a number SNS refuses as opted out goes on our list. */
function snsSender(env: Environment, suppressions: SuppressionList): SmsSender {
  const { settings, clock, logger } = baseDeps(env);
  // SNS refusing a number that opted out with it puts the number on our list, whatever the message kind.
  return new OptOutHonouringSender(
    new RateLimitedSmsSender(
      new SnsSmsSender({
        client: new SNSClient({}),
        ...(env.CERTALARM_SMS_SENDER_ID !== undefined ? { senderId: env.CERTALARM_SMS_SENDER_ID } : {}),
        ...(env.CERTALARM_SMS_MAX_PRICE !== undefined ? { maxPrice: env.CERTALARM_SMS_MAX_PRICE } : {}),
      }),
      settings.smsRate,
    ),
    { suppressions, clock, logger },
  );
}

function scanDepsWith(env: Environment, smsOf: (suppressions: SuppressionList) => SmsSender): ScanDeps {
  const { store, reference, settings, logger, clock, rules, dynamo, tableName } = baseDeps(env);
  const suppressions = new DynamoDbSuppressionList(dynamo, tableName);
  // Leases and time budgets on the composition's clock too: a Lambda has one clock, and its deadlines are instants on it.
  const phoneHasher = phoneHasherOf(env, baseDeps(env));
  return {
    store,
    ledger: store,
    sms: smsOf(suppressions),
    reference,
    settings,
    logger,
    rules,
    wallClock: () => clock.now().toMillis(),
    suppressions,
    // The per-phone daily cap, and `phones`: one holder's due reminders merged into one SMS (see README, "One holder, one message a day").
    cap: new DynamoDbDailySendCap(dynamo, tableName),
    phones: store,
    mergedTemplates: new DynamoDbRuleStore(dynamo, tableName),
    ...(phoneHasher !== undefined ? { phoneHasher } : {}),
  };
}

/**
 * The HTTP functions of groups that never text a holder (on AWS a scan runs in the scan function) carry
 * no SNS client. Should a use case ever ask one to send, the error says so rather than failing on a
 * missing permission, like NO_SCHEDULING below.
 */
const NO_SENDING: SmsSender = {
  send: () => Promise.reject(new Error('this function does not send SMS: reminders are sent by the scan function, campaign messages by the campaigns group')),
};

/**
 * The HTTP function. On AWS it neither receives import files nor sends SMS: imports are presigned
 * uploads to S3 (`CERTALARM_IMPORT_BUCKET`), and `POST /v1/scans` invokes the scan function
 * (`CERTALARM_SCAN_FUNCTION_NAME`). Without those variables the routes fall back to 404 and to an
 * inline scan (the integration tests run it that way).
 */
export function httpDeps(env: Environment = process.env): HttpAppDeps {
  if (http !== undefined) return http;
  http = httpDepsWith(env, lambdaDeps(env), (shared, imports) => ({
    ...importSubmission(env, shared, imports),
    ...scanTrigger(env, shared),
    ...campaignServices(env, shared),
    providerOptIn: new SnsOptedOutNumbers({ client: new SNSClient({}) }),
  }));
  return http;
}

/**
 * The HTTP API's functions on AWS, one per route group (functions/app/http/route-groups.ts). Each is
 * the HTTP composition with only the services its group's routes call, so that its bundle leaves out the
 * rest: SNS and Scheduler for campaigns and bookings only, S3 uploads for imports, the scan trigger for scans.
 */
export function certificatesHttpDeps(env: Environment = process.env): HttpAppDeps {
  return groupDeps('certificates', () => httpDepsWith(env, scanDepsWith(env, () => NO_SENDING), (shared, imports) => importSubmission(env, shared, imports)));
}

export function rulesHttpDeps(env: Environment = process.env): HttpAppDeps {
  return groupDeps('rules', () => httpDepsWith(env, scanDepsWith(env, () => NO_SENDING), (shared) => scanTrigger(env, shared)));
}

export function campaignsHttpDeps(env: Environment = process.env): HttpAppDeps {
  return groupDeps('campaigns', () => httpDepsWith(env, scanDepsWith(env, () => NO_SENDING), (shared) => campaignServices(env, shared), { pages: false }));
}

/**
 * A booking made or cancelled by an operator, or by a holder's reply, is confirmed to the holder by SMS;
 * a booking never schedules (like the inbound-SMS function's), so this function has no Scheduler client.
 */
export function bookingsHttpDeps(env: Environment = process.env): HttpAppDeps {
  return groupDeps('bookings', () =>
    httpDepsWith(env, lambdaDeps(env), (shared) => {
      const store = new DynamoDbCampaignStore(shared.dynamo, shared.tableName);
      return { campaigns: { store, messages: store, recipients: store, scheduler: { gateway: NO_SCHEDULING, targetArn: '', roleArn: '', group: '' } } };
    }, { pages: false }),
  );
}

export function deliveriesHttpDeps(env: Environment = process.env): HttpAppDeps {
  return groupDeps('deliveries', () =>
    httpDepsWith(env, scanDepsWith(env, () => NO_SENDING), () => ({
      // A reinstated number is opted back in at SNS too, or SNS would refuse every SMS to it.
      providerOptIn: new SnsOptedOutNumbers({ client: new SNSClient({}) }),
    })),
  );
}

const NO_CURSOR_KEY = (): Promise<Uint8Array> => Promise.reject(new Error('this function hands out no paging cursors, so it has no cursor key'));

function groupDeps(group: HttpGroup, build: () => HttpAppDeps): HttpAppDeps {
  let deps = httpGroups.get(group);
  if (deps === undefined) {
    deps = build();
    httpGroups.set(group, deps);
  }
  return deps;
}

type HttpServices = Pick<HttpAppDeps, 'submitImport' | 'triggerScan' | 'campaigns' | 'providerOptIn'>;

/**
 * `pages: false` for a group whose routes hand out no paging cursors (campaigns, bookings): its function
 * is given no cursor key, and a cursor asked of it is refused rather than derived.
 */
function httpDepsWith(
  env: Environment,
  scanDeps: ScanDeps,
  services: (shared: BaseDeps, imports: DynamoDbImportStore) => Partial<HttpServices>,
  options: { pages: boolean } = { pages: true },
): HttpAppDeps {
  const shared = baseDeps(env);
  const imports = new DynamoDbImportStore(shared.dynamo, shared.tableName);
  return {
    ...scanDeps,
    clock: shared.clock,
    calendars: shared.calendars,
    calendarSource: shared.calendarSource,
    replanSource: shared.store,
    revoker: shared.store,
    retention: shared.store,
    audit: shared.audit,
    ruleStore: shared.ruleStore,
    typeCertificates: shared.store,
    replanMarks: shared.replanMarks,
    ...AWS_REPLAN_READS,
    deliveries: new DynamoDbDeliveries(shared.dynamo, shared.tableName),
    bookings: new DynamoDbBookingStore(shared.dynamo, shared.tableName),
    suppressedPhones: new DynamoDbSuppressedPhones(shared.dynamo, shared.tableName),
    phoneHoldings: new DynamoDbPhoneHoldings(shared.dynamo, shared.tableName),
    imports,
    authenticate: async (req) => principalFromClaims(req.claims),
    cursors: new CursorSeal(options.pages ? cursorKeySource(env, shared) : NO_CURSOR_KEY, shared.settings.cursorTtlSeconds),
    ...services(shared, imports),
  };
}

/** Imports are presigned uploads into `CERTALARM_IMPORT_BUCKET`; without it the import routes answer 404. */
function importSubmission(env: Environment, shared: BaseDeps, imports: DynamoDbImportStore): Pick<HttpServices, 'submitImport'> {
  const bucket = env.CERTALARM_IMPORT_BUCKET;
  if (bucket === undefined || bucket === '') return {};
  return {
    submitImport: new S3ImportSubmitter({
      signing: shared.dynamo.config,
      bucket,
      imports,
      // Nothing is uploaded yet, so a resumed import has no stray file of this request to remove.
      recordImport: (principal, upload) => createImport({ imports, clock: shared.clock, removeFile: async () => undefined }, principal, upload),
      clock: shared.clock,
      maxBytes: shared.settings.importMaxBytes,
    }).submitter(),
  };
}

/** `POST /v1/scans` invokes `CERTALARM_SCAN_FUNCTION_NAME`; without it the request runs the scan itself. */
function scanTrigger(env: Environment, shared: BaseDeps): Pick<HttpServices, 'triggerScan'> {
  const scanFunction = env.CERTALARM_SCAN_FUNCTION_NAME;
  return scanFunction !== undefined && scanFunction !== '' ? { triggerScan: lambdaScanTrigger(env, shared, scanFunction) } : {};
}

/** Invokes the scan function (AWS_ENDPOINT_URL_LAMBDA, the SDK's own override, points tests at a stand-in). */
function lambdaScanTrigger(env: Environment, shared: BaseDeps, functionName: string): LambdaScanTrigger {
  const endpoint = env.AWS_ENDPOINT_URL_LAMBDA;
  return new LambdaScanTrigger({ signing: shared.dynamo.config, functionName, ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}) });
}

/**
 * Campaigns, where the stack names what a visit's schedules invoke (`CERTALARM_CAMPAIGN_JOB_ARN`, the
 * campaign-job function), the role Scheduler assumes (`CERTALARM_SCHEDULER_ROLE_ARN`), their group
 * (`CERTALARM_SCHEDULE_GROUP`) and dead-letter queue (`CERTALARM_SCHEDULE_DLQ_ARN`); without them the
 * campaign routes answer 404. Scheduler holds the jobs, so no job store is wired here.
 */
function campaignServices(env: Environment, shared: BaseDeps): { campaigns?: CampaignServices } {
  const targetArn = env.CERTALARM_CAMPAIGN_JOB_ARN;
  const roleArn = env.CERTALARM_SCHEDULER_ROLE_ARN;
  if (targetArn === undefined || targetArn === '' || roleArn === undefined || roleArn === '') return {};
  const store = new DynamoDbCampaignStore(shared.dynamo, shared.tableName);
  // A schedule whose invocations fail would otherwise be dropped silently, and with it a township's notice.
  const gateway = new EventBridgeScheduleGateway({ deadLetterArn: requiredEnv(env, 'CERTALARM_SCHEDULE_DLQ_ARN') });
  return {
    campaigns: {
      store,
      messages: store,
      recipients: store,
      scheduler: { gateway, targetArn, roleArn, group: requiredEnv(env, 'CERTALARM_SCHEDULE_GROUP') },
    },
  };
}

/**
 * The cursor service key: derived from the stack's KMS HMAC key on the first listing of a cold start
 * (AWS_ENDPOINT_URL_KMS, the SDK's own override, points tests at a stand-in).
 */
function cursorKeySource(env: Environment, shared: BaseDeps): () => Promise<Uint8Array> {
  const keyId = requiredEnv(env, 'CERTALARM_CURSOR_KMS_KEY_ID');
  const endpoint = env.AWS_ENDPOINT_URL_KMS;
  return () => kmsCursorKey({ signing: shared.dynamo.config, keyId, ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}) });
}

/**
 * The phone search hash's key, derived from the stack's KMS HMAC key on first use
 * (CERTALARM_PHONE_HASH_KMS_KEY_ID); without it, deliveries are recorded without a phone hash.
 */
function phoneHasherOf(env: Environment, shared: BaseDeps): HmacPhoneHasher | undefined {
  const keyId = env.CERTALARM_PHONE_HASH_KMS_KEY_ID;
  if (keyId === undefined || keyId === '') return undefined;
  const endpoint = env.AWS_ENDPOINT_URL_KMS;
  return new HmacPhoneHasher(() =>
    kmsCursorKey({ signing: shared.dynamo.config, keyId, message: PHONE_HASH_DERIVATION_MESSAGE, ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}) }),
  );
}

/** What continuing a calendar re-plan needs; the scan function finishes re-plans a load left running. */
export function calendarDeps(env: Environment = process.env): CalendarDeps {
  const shared = baseDeps(env);
  return { ...shared, replanSource: shared.store, wallClock: () => shared.clock.now().toMillis() };
}

/** What continuing a rule change's re-plan needs; the scan function finishes re-plans a change left running. */
export function ruleDeps(env: Environment = process.env): RuleDeps {
  const shared = baseDeps(env);
  return { ...shared, typeCertificates: shared.store, ...AWS_REPLAN_READS, wallClock: () => shared.clock.now().toMillis() };
}

/** What the daily retention purge needs; it runs in the scan function. */
export function purgeDeps(env: Environment = process.env): PurgeDeps {
  const shared = baseDeps(env);
  return { ...shared, retention: shared.store, wallClock: () => shared.clock.now().toMillis() };
}

/** What the daily copy of SNS's opt-out list needs; it runs in the scan function. */
export function providerOptOutDeps(env: Environment = process.env): ProviderOptOutDeps & { clock: Clock } {
  const shared = baseDeps(env);
  return {
    suppressions: new DynamoDbSuppressionList(shared.dynamo, shared.tableName),
    optOuts: new SnsOptedOutNumbers({ client: new SNSClient({}) }),
    logger: shared.logger,
    clock: shared.clock,
  };
}

/** What the nightly `byTownshipType` keys backfill needs; it runs in the scan function. */
export function indexBackfillDeps(env: Environment = process.env): IndexBackfillDeps {
  const shared = baseDeps(env);
  return { ...shared, backfill: new DynamoDbTownshipTypeBackfill(shared.dynamo, shared.tableName), wallClock: () => shared.clock.now().toMillis() };
}

/** Tests build a fresh composition per environment, optionally on a clock of their own. */
/**
 * The campaign-job and inbound-SMS functions send and record campaign messages but never schedule:
 * the HTTP API alone creates, moves and deletes schedules (and alone may). Should a use case ever ask
 * these functions to, the error says so rather than failing on a missing permission.
 */
const NO_SCHEDULING: ScheduleGateway = {
  scheduleOnce: () => Promise.reject(new Error('this function does not schedule: visits are scheduled by the HTTP API')),
  reschedule: () => Promise.reject(new Error('this function does not schedule: visits are scheduled by the HTTP API')),
  cancel: () => Promise.reject(new Error('this function does not schedule: visits are scheduled by the HTTP API')),
};

/** The campaign-job function (EventBridge Scheduler's target): the campaign store, the SMS sender, the clock. */
export function campaignJobDeps(env: Environment = process.env): CampaignDeps {
  if (campaignJob !== undefined) return campaignJob;
  const shared = baseDeps(env);
  const { sms, wallClock, suppressions } = lambdaDeps(env);
  const store = new DynamoDbCampaignStore(shared.dynamo, shared.tableName);
  const phoneHasher = phoneHasherOf(env, shared);
  campaignJob = {
    campaigns: { store, messages: store, recipients: store, scheduler: { gateway: NO_SCHEDULING, targetArn: '', roleArn: '', group: '' } },
    sms,
    reference: shared.reference,
    settings: shared.settings,
    logger: shared.logger,
    clock: shared.clock,
    audit: shared.audit,
    // The same per-phone daily counter as the scan's: a notice and a reminder share a holder's cap.
    cap: new DynamoDbDailySendCap(shared.dynamo, shared.tableName),
    ...(wallClock !== undefined ? { wallClock } : {}),
    ...(suppressions !== undefined ? { suppressions } : {}),
    ...(phoneHasher !== undefined ? { phoneHasher } : {}),
  };
  return campaignJob;
}

/**
 * Where the campaign-job function schedules its own continuation when a job stops with messages unsent:
 * the campaign group, the role Scheduler assumes and the dead-letter queue, from the environment the
 * stack sets (the target is the function itself, known only from its invocation context). Undefined
 * without them: the job then fails and Lambda's own retries run it again.
 */
export function campaignJobContinuations(env: Environment = process.env): Omit<CampaignScheduler, 'targetArn'> | undefined {
  const roleArn = env.CERTALARM_SCHEDULER_ROLE_ARN;
  const group = env.CERTALARM_SCHEDULE_GROUP;
  const deadLetterArn = env.CERTALARM_SCHEDULE_DLQ_ARN;
  if (roleArn === undefined || roleArn === '' || group === undefined || group === '' || deadLetterArn === undefined || deadLetterArn === '') return undefined;
  continuations ??= new EventBridgeScheduleGateway({ deadLetterArn });
  return { gateway: continuations, roleArn, group };
}

/** The inbound-SMS function (subscribed to the two-way SMS topic): what a job has, and the bookings. */
export function inboundDeps(env: Environment = process.env): InboundDeps & CampaignDeps {
  if (inbound !== undefined) return inbound;
  const shared = baseDeps(env);
  inbound = { ...campaignJobDeps(env), bookings: new DynamoDbBookingStore(shared.dynamo, shared.tableName) };
  return inbound;
}

export function resetLambdaDeps(options: { clock?: Clock } = {}): void {
  clock = options.clock ?? systemClock;
  base = undefined;
  scan = undefined;
  http = undefined;
  httpGroups.clear();
  campaignJob = undefined;
  inbound = undefined;
  continuations = undefined;
}
