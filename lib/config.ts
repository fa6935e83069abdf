import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';

/**
 * Deployment configuration, one validated JSON file per stage (`config/<stage>.json`).
 * The stage comes from CDK context: `-c env=prod` or `-c stage=prod` (default `dev`).
 * Everything the Lambda functions read at run time reaches them as environment variables
 * built from this object (see `runtime-environment.ts`).
 */

/** Placeholder for an e-mail that must be replaced before a real deployment. */
export const PLACEHOLDER_EMAIL_DOMAIN = 'example.invalid';

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;

const sendWindow = z
  .string()
  .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'use HH:mm-HH:mm, e.g. 09:00-20:00')
  .refine((text) => text.split('-').every((part) => hhmm.test(part)), 'both ends must be times of day (HH:mm)')
  .refine((text) => {
    const [start = '', end = ''] = text.split('-');
    return start < end;
  }, 'the window must end after it starts, on the same day');

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const deploymentConfigSchema = z
  .object({
    /** Free text for people editing the file; ignored. */
    $comment: z.string().optional(),
    /** Names the stage in resource names and tags; must match the file name. */
    stage: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, 'lower-case letters, digits and dashes, e.g. prod'),
    /** Production keeps data on stack deletion and turns on deletion protection. */
    production: z.boolean(),
    /** Optional pinning of the target account/region. SMS to +86 must go out from a global region (not cn-*). */
    account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id').optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as ap-southeast-1')
      .refine((r) => !r.startsWith('cn-'), 'SNS SMS is not available in the AWS China regions; use e.g. ap-southeast-1')
      .optional(),
    county: z.string().min(1),
    signature: z.string().regex(/^【[^【】]{2,16}】$/, 'a signature is 2–16 characters in full-width brackets, e.g. 【兴国县行政审批局】'),
    /** The service centre's name, for types renewed at its windows (checked again, fully, when the functions start). */
    renewalPlace: z.string().min(2).max(30),
    /** A number holders may call, appended to reminders where it costs no extra segment. */
    helpPhone: z
      .string()
      .regex(/^(0\d{2,3}-\d{7,8}|1[3-9]\d{9}|12345)$/, 'a landline with its area code (0797-5321234), a mobile or 12345')
      .optional(),
    sendWindow,
    sms: z
      .object({
        /** Messages per second across one scan. */
        ratePerSecond: z.number().positive().max(1000),
        /** 3–11 alphanumerics with at least one letter (SNS rule). For China, only a registered sender. */
        senderId: z
          .string()
          .regex(/^(?=.*[A-Za-z])[A-Za-z0-9]{3,11}$/, '3–11 letters or digits, at least one letter')
          .optional(),
        /** USD per message; a send that would cost more is refused by SNS. */
        maxPrice: z.string().regex(/^\d+(\.\d{1,5})?$/, 'a decimal USD amount, e.g. 0.10').optional(),
        /** The account's monthly SMS spend quota; an alarm fires at 80 % of it. */
        monthlySpendLimitUsd: z.number().positive().optional(),
        /** Alarm when the hourly delivery success rate to +86 falls below this fraction. */
        successRateAlarmThreshold: z.number().gt(0).lte(1).default(0.9),
      })
      .strict(),
    alarmEmail: z.email('an e-mail address that receives operational alarms'),
    api: z
      .object({
        jwtIssuer: z.url({ protocol: /^https$/, error: 'an https:// issuer URL (the OIDC provider)' }),
        jwtAudience: z.array(z.string().min(1)).min(1),
        throttlingRateLimit: z.number().int().positive().max(10_000).default(20),
        throttlingBurstLimit: z.number().int().positive().max(5_000).default(40),
        /**
         * Largest request body the function accepts. HTTP APIs cap payloads at 10 MB and a synchronous
         * Lambda invocation at 6 MB, so the app limit must stay below both; the function enforces it (413).
         */
        maxBodyBytes: z.number().int().min(1024).max(5 * 1024 * 1024).default(5 * 1024 * 1024),
      })
      .strict(),
    /** Spreadsheet imports: uploaded straight to S3 with a presigned PUT, processed by the import worker. */
    imports: z
      .object({
        /** Largest file accepted (bytes). A presigned PUT is a single S3 PutObject, which S3 caps at 5 GiB. */
        maxBytes: z.number().int().min(1024).max(5 * 1024 * 1024 * 1024).default(512 * 1024 * 1024),
        /** Most data rows in one file. */
        maxRows: z.number().int().min(1).max(10_000_000).default(2_000_000),
        /** Browser origins allowed to PUT files to the upload bucket (CORS); none: only non-browser clients upload. */
        corsAllowedOrigins: z.array(z.url({ protocol: /^https?$/, error: 'an origin such as https://certalarm.example.gov.cn' })).default([]),
      })
      .strict()
      .prefault({}),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(90),
  })
  .strict();

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));

/** Validate a parsed config object; every problem is reported with its path. */
export function parseDeploymentConfig(raw: unknown, source = 'config'): DeploymentConfig {
  const parsed = deploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
    throw new DeploymentConfigError(`${source} is invalid:\n${problems}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** Read and validate `config/<stage>.json`. */
export function loadDeploymentConfig(stage: string, configDir: string = CONFIG_DIR): DeploymentConfig {
  if (!/^[a-z][a-z0-9-]{1,15}$/.test(stage)) {
    throw new DeploymentConfigError(`stage "${stage}" is not a valid stage name (lower-case letters, digits, dashes)`);
  }
  const file = `${configDir.replace(/\/?$/, '/')}${stage}.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DeploymentConfigError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const config = parseDeploymentConfig(raw, file);
  if (config.stage !== stage) {
    throw new DeploymentConfigError(`${file} declares stage "${config.stage}", expected "${stage}"`);
  }
  return config;
}

/** The stage named on the command line: `-c env=<stage>` or `-c stage=<stage>`; `dev` when neither is given. */
export function stageFromContext(tryGetContext: (key: string) => unknown): string {
  const value = tryGetContext('env') ?? tryGetContext('stage') ?? 'dev';
  if (typeof value !== 'string') throw new DeploymentConfigError('context "env"/"stage" must be a string');
  return value;
}

export function usesPlaceholderEmail(config: DeploymentConfig): boolean {
  return config.alarmEmail.toLowerCase().endsWith(`@${PLACEHOLDER_EMAIL_DOMAIN}`);
}
