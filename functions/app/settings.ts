import * as z from 'zod';
import type { SendWindow, StagePolicy } from '../core/model.js';
import { DEFAULT_SEND_WINDOW, DEFAULT_STAGE_POLICY } from '../core/model.js';
import { checkSmsSafeText } from '../core/sms-safe-text.js';
import { DEFAULT_RENEWAL_PLACE } from '../core/sms.js';
import { DEFAULT_SPREADSHEET_LIMITS, type SpreadsheetLimits } from '../core/import-limits.js';
import { DEFAULT_RETENTION_YEARS } from '../core/retention.js';
import { DEFAULT_SMS_DAILY_CAP_PER_PHONE } from '../core/daily-cap.js';

/** What an operator can set for a deployment; the same in local mode and on AWS. */
export interface ServiceSettings {
  county: string;
  signature: string;
  /** The service centre's name, for the types renewed at its windows; types with their own office name it themselves. */
  renewalPlace: string;
  /** A number holders may call, appended to reminders where it costs no extra segment. */
  helpPhone?: string | undefined;
  sendWindow: SendWindow;
  stagePolicy: StagePolicy;
  /** SMS per second, across the whole scan. */
  smsRate: number;
  /** How long a claim protects a send in progress before another scan may take it over. */
  claimLeaseMs: number;
  /** Largest request body accepted by the HTTP API. */
  maxBodyBytes: number;
  /** Largest file an import accepts, and most data rows. */
  importMaxBytes: number;
  importMaxRows: number;
  /** How long a listing's paging cursor stays valid after it is issued. */
  cursorTtlSeconds: number;
  /** What one import file may make the service inflate, hold or write (see core/import-limits.ts). */
  importLimits: SpreadsheetLimits;
  /** Certificates (and their deliveries) are purged this many whole years after their expiry. */
  retentionYears: number;
  /** Capped SMS one phone may get on one Asia/Shanghai day (booking confirmations are exempt); the rest wait a day. */
  smsDailyCapPerPhone: number;
}

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:mm, e.g. 09:00');

const sendWindowText = z
  .string()
  .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'use HH:mm-HH:mm, e.g. 09:00-20:00')
  .transform((text, ctx) => {
    const [start = '', end = ''] = text.split('-');
    for (const part of [start, end]) {
      if (!hhmm.safeParse(part).success) ctx.addIssue({ code: 'custom', message: `${part} is not a time of day (HH:mm)` });
    }
    if (start >= end) ctx.addIssue({ code: 'custom', message: 'the window must end after it starts, on the same day' });
    return { start, end } satisfies SendWindow;
  });

const environmentSchema = z.object({
  // Templates may say {county}, so it is held to the same form as every other text that reaches an SMS.
  CERTALARM_COUNTY: z
    .string()
    .trim()
    .min(1)
    .superRefine((county, ctx) => {
      const problem = checkSmsSafeText('place', county);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `the county name ${problem.en}` });
    })
    .default('兴国县'),
  CERTALARM_SIGNATURE: z
    .string()
    .regex(/^【[^【】]{2,16}】$/, 'a signature is 2–16 characters in full-width brackets, e.g. 【兴国县行政审批局】')
    .default('【兴国县行政审批局】'),
  CERTALARM_RENEWAL_PLACE: z
    .string()
    .trim()
    .min(2)
    .superRefine((place, ctx) => {
      const problem = checkSmsSafeText('place', place);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `the service centre's name ${problem.en}` });
    })
    .default(DEFAULT_RENEWAL_PLACE),
  CERTALARM_HELP_PHONE: z
    .string()
    .trim()
    .regex(/^(0\d{2,3}-\d{7,8}|1[3-9]\d{9}|12345)$/, 'use a landline with its area code (0797-5321234), a mobile (13900000000) or 12345')
    .optional(),
  CERTALARM_SEND_WINDOW: sendWindowText.default({ ...DEFAULT_SEND_WINDOW }),
  CERTALARM_SMS_RATE: z.coerce.number().positive().max(1000).default(10),
  CERTALARM_CLAIM_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(300),
  CERTALARM_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(5 * 1024 * 1024),
  CERTALARM_IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).default(512 * 1024 * 1024),
  CERTALARM_IMPORT_MAX_ROWS: z.coerce.number().int().min(1).default(2_000_000),
  CERTALARM_CURSOR_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  CERTALARM_IMPORT_MAX_INFLATED_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_SPREADSHEET_LIMITS.maxInflatedBytes),
  CERTALARM_IMPORT_MAX_PART_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_SPREADSHEET_LIMITS.maxPartBytes),
  CERTALARM_IMPORT_MAX_INFLATION_RATIO: z.coerce.number().min(2).default(DEFAULT_SPREADSHEET_LIMITS.maxInflationRatio),
  CERTALARM_IMPORT_RATIO_FLOOR_BYTES: z.coerce.number().int().min(0).default(DEFAULT_SPREADSHEET_LIMITS.ratioFloorBytes),
  CERTALARM_IMPORT_MAX_CELL_CHARS: z.coerce.number().int().min(64).default(DEFAULT_SPREADSHEET_LIMITS.maxCellChars),
  CERTALARM_IMPORT_MAX_COLUMNS: z.coerce.number().int().min(8).default(DEFAULT_SPREADSHEET_LIMITS.maxColumns),
  CERTALARM_IMPORT_MAX_SHARED_STRINGS: z.coerce.number().int().min(1).default(DEFAULT_SPREADSHEET_LIMITS.maxSharedStrings),
  CERTALARM_IMPORT_MAX_SHARED_STRING_CHARS: z.coerce.number().int().min(1024).default(DEFAULT_SPREADSHEET_LIMITS.maxSharedStringChars),
  CERTALARM_RETENTION_YEARS: z.coerce.number().int().min(1, 'keep certificates at least 1 year past their expiry').max(100).default(DEFAULT_RETENTION_YEARS),
  CERTALARM_SMS_DAILY_CAP_PER_PHONE: z.coerce
    .number()
    .int('每日上限须为整数 / use a whole number of messages')
    .min(1, '每个号码每天至少1条 / allow at least 1 message a day per phone')
    .max(50)
    .default(DEFAULT_SMS_DAILY_CAP_PER_PHONE),
});

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export function settingsFromEnvironment(env: Record<string, string | undefined>): ServiceSettings {
  const parsed = environmentSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new SettingsError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    county: e.CERTALARM_COUNTY,
    signature: e.CERTALARM_SIGNATURE,
    renewalPlace: e.CERTALARM_RENEWAL_PLACE,
    helpPhone: e.CERTALARM_HELP_PHONE,
    sendWindow: e.CERTALARM_SEND_WINDOW,
    stagePolicy: DEFAULT_STAGE_POLICY,
    smsRate: e.CERTALARM_SMS_RATE,
    claimLeaseMs: e.CERTALARM_CLAIM_LEASE_SECONDS * 1000,
    maxBodyBytes: e.CERTALARM_MAX_BODY_BYTES,
    importMaxBytes: e.CERTALARM_IMPORT_MAX_BYTES,
    importMaxRows: e.CERTALARM_IMPORT_MAX_ROWS,
    cursorTtlSeconds: e.CERTALARM_CURSOR_TTL_SECONDS,
    importLimits: {
      maxInflatedBytes: e.CERTALARM_IMPORT_MAX_INFLATED_BYTES,
      maxPartBytes: e.CERTALARM_IMPORT_MAX_PART_BYTES,
      maxInflationRatio: e.CERTALARM_IMPORT_MAX_INFLATION_RATIO,
      ratioFloorBytes: e.CERTALARM_IMPORT_RATIO_FLOOR_BYTES,
      maxCellChars: e.CERTALARM_IMPORT_MAX_CELL_CHARS,
      maxColumns: e.CERTALARM_IMPORT_MAX_COLUMNS,
      maxSharedStrings: e.CERTALARM_IMPORT_MAX_SHARED_STRINGS,
      maxSharedStringChars: e.CERTALARM_IMPORT_MAX_SHARED_STRING_CHARS,
    },
    retentionYears: e.CERTALARM_RETENTION_YEARS,
    smsDailyCapPerPhone: e.CERTALARM_SMS_DAILY_CAP_PER_PHONE,
  };
}

/** What DynamoDB Local's JVM may hold in local mode, in MiB; see the README's configuration table. */
export const DEFAULT_DYNAMODB_HEAP_MB = 128;

const localEnvironmentSchema = z.object({
  CERTALARM_DYNAMODB_HEAP_MB: z.coerce
    .number()
    .int()
    .refine((mb) => mb === 0 || (mb >= 32 && mb <= 65_536), 'use a whole number of MiB from 32 to 65536, or 0 to leave the JVM its default (a quarter of the memory)')
    .default(DEFAULT_DYNAMODB_HEAP_MB),
});

/**
 * Local mode only: the Java heap limit for the DynamoDB Local the service starts, or undefined for
 * the JVM's own default (`CERTALARM_DYNAMODB_HEAP_MB=0`).
 */
export function dynamoDbHeapFromEnvironment(env: Record<string, string | undefined>): number | undefined {
  const parsed = localEnvironmentSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([k, v]) => k in localEnvironmentSchema.shape && v !== undefined && v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new SettingsError(`invalid configuration: ${problems}`);
  }
  const mb = parsed.data.CERTALARM_DYNAMODB_HEAP_MB;
  return mb === 0 ? undefined : mb;
}

// ---- Local delivery receipts (sandbox) ----------------------------------------------------------

/** How long after a send the local outbox's sandbox reports it delivered or failed, by default. */
export const DEFAULT_SANDBOX_RECEIPT_MS = 3_000;

const sandboxEnvironmentSchema = z.object({
  CERTALARM_SANDBOX_RECEIPT_MS: z.coerce.number().int().min(0).max(86_400_000).default(DEFAULT_SANDBOX_RECEIPT_MS),
});

/** Local mode only: the delay of the outbox's simulated receipts (`CERTALARM_SANDBOX_RECEIPT_MS`, 0–86400000). */
export function sandboxReceiptDelayFromEnvironment(env: Record<string, string | undefined>): number {
  const value = env.CERTALARM_SANDBOX_RECEIPT_MS;
  const parsed = sandboxEnvironmentSchema.safeParse(value === undefined || value === '' ? {} : { CERTALARM_SANDBOX_RECEIPT_MS: value });
  if (!parsed.success) {
    throw new SettingsError(`invalid configuration: CERTALARM_SANDBOX_RECEIPT_MS: ${parsed.error.issues.map((i) => i.message).join('; ')} (use whole milliseconds, 0–86400000)`);
  }
  return parsed.data.CERTALARM_SANDBOX_RECEIPT_MS;
}
