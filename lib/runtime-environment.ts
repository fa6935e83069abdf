import type { DeploymentConfig } from './config.js';
import { NODE_OPTIONS, REFERENCE_DATA_DIR_ON_LAMBDA } from './bundling.js';

/**
 * The environment variables every function reads at cold start (parsed by functions/app/settings.ts).
 * Optional SMS settings are left out when not configured, so the function sees "unset", not "".
 */
export function runtimeEnvironment(config: DeploymentConfig, tableName: string): Record<string, string> {
  return {
    TABLE_NAME: tableName,
    CERTALARM_SIGNATURE: config.signature,
    CERTALARM_COUNTY: config.county,
    CERTALARM_RENEWAL_PLACE: config.renewalPlace,
    ...(config.helpPhone !== undefined ? { CERTALARM_HELP_PHONE: config.helpPhone } : {}),
    CERTALARM_SEND_WINDOW: config.sendWindow,
    CERTALARM_SMS_RATE: String(config.sms.ratePerSecond),
    ...(config.sms.senderId !== undefined ? { CERTALARM_SMS_SENDER_ID: config.sms.senderId } : {}),
    ...(config.sms.maxPrice !== undefined ? { CERTALARM_SMS_MAX_PRICE: config.sms.maxPrice } : {}),
    CERTALARM_MAX_BODY_BYTES: String(config.api.maxBodyBytes),
    CERTALARM_IMPORT_MAX_BYTES: String(config.imports.maxBytes),
    CERTALARM_IMPORT_MAX_ROWS: String(config.imports.maxRows),
    CERTALARM_REFERENCE_DIR: REFERENCE_DATA_DIR_ON_LAMBDA,
    POWERTOOLS_SERVICE_NAME: 'certalarm',
    LOG_LEVEL: config.logLevel,
    NODE_OPTIONS,
  };
}

/** The variables functions/handlers/runtime.ts reads to build the EventBridge gateway for campaign schedules. */
export const CAMPAIGN_SCHEDULE_ENVIRONMENT = {
  targetArn: 'CERTALARM_CAMPAIGN_JOB_ARN',
  roleArn: 'CERTALARM_SCHEDULER_ROLE_ARN',
  group: 'CERTALARM_SCHEDULE_GROUP',
  deadLetterArn: 'CERTALARM_SCHEDULE_DLQ_ARN',
} as const;
