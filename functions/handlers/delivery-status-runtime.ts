import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DateTime } from 'luxon';
import { DynamoDbDeliveries } from '../adapters/aws/dynamodb/dynamodb-deliveries.js';
import { lambdaLogger } from '../adapters/aws/lambda-logger.js';
import type { ReceiptDeps } from '../app/deliveries/record-receipt.js';
import { ZONE } from '../core/model.js';
import type { Clock } from '../core/ports.js';

/**
 * The delivery-status function's composition root, apart from runtime.ts: it needs only the table and a
 * logger (no reference data, calendar or rules), so its bundle stays small and its cold start short.
 */
export type Environment = Record<string, string | undefined>;

let deps: (ReceiptDeps & { clock: Clock }) | undefined;
let clock: Clock = { now: () => DateTime.now().setZone(ZONE) };

export function deliveryStatusDeps(env: Environment = process.env): ReceiptDeps & { clock: Clock } {
  if (deps !== undefined) return deps;
  const tableName = env.TABLE_NAME;
  if (tableName === undefined || tableName === '') throw new Error('TABLE_NAME is not set: the stack sets it on every function that needs it');
  deps = {
    receipts: new DynamoDbDeliveries(new DynamoDBClient({}), tableName),
    logger: lambdaLogger({ ...(env.LOG_LEVEL !== undefined ? { level: env.LOG_LEVEL } : {}), ...(env.POWERTOOLS_SERVICE_NAME !== undefined ? { service: env.POWERTOOLS_SERVICE_NAME } : {}) }),
    clock,
  };
  return deps;
}

/** Tests build a fresh composition, optionally on a clock of their own. */
export function resetDeliveryStatusDeps(options: { clock?: Clock } = {}): void {
  clock = options.clock ?? { now: () => DateTime.now().setZone(ZONE) };
  deps = undefined;
}
