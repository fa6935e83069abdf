import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DateTime } from 'luxon';
import { ZONE } from '../core/model.js';
import type { Clock } from '../core/ports.js';
import { DynamoDbStore } from '../adapters/aws/dynamodb/dynamodb-store.js';
import { SnsSmsSender } from '../adapters/aws/sns-sms-sender.js';
import type { HttpAppDeps } from '../app/http/app.js';
import { createLogger } from '../app/logger.js';
import { RateLimitedSmsSender } from '../app/rate-limited-sender.js';
import { loadReferenceData } from '../app/reference-data.js';
import { settingsFromEnvironment } from '../app/settings.js';
import { principalFromClaims } from '../app/claims.js';

/**
 * The Lambda composition root: clients and adapters are built once per cold start and shared by
 * every invocation of the function that imports this module.
 */
let deps: HttpAppDeps | undefined;

export function lambdaDeps(env: Record<string, string | undefined> = process.env): HttpAppDeps {
  if (deps !== undefined) return deps;
  const tableName = env.TABLE_NAME;
  if (tableName === undefined || tableName === '') throw new Error('TABLE_NAME is not set: the stack sets it on every function');
  const settings = settingsFromEnvironment(env);
  const store = new DynamoDbStore(new DynamoDBClient({}), tableName);
  const sms = new RateLimitedSmsSender(
    new SnsSmsSender({
      client: new SNSClient({}),
      ...(env.CERTALARM_SMS_SENDER_ID !== undefined ? { senderId: env.CERTALARM_SMS_SENDER_ID } : {}),
      ...(env.CERTALARM_SMS_MAX_PRICE !== undefined ? { maxPrice: env.CERTALARM_SMS_MAX_PRICE } : {}),
    }),
    settings.smsRate,
  );
  const clock: Clock = { now: () => DateTime.now().setZone(ZONE) };
  // The stack copies data/ next to the bundle and points here; unbundled (tests) the repository's data/ is used.
  const reference = loadReferenceData(env.CERTALARM_REFERENCE_DIR !== undefined ? { dataDir: env.CERTALARM_REFERENCE_DIR } : {});
  const built: HttpAppDeps = {
    store,
    ledger: store,
    sms,
    reference,
    settings,
    logger: createLogger(),
    clock,
    authenticate: async (req) => principalFromClaims(req.claims),
  };
  deps = built;
  return built;
}

/** Tests build a fresh composition per environment. */
export function resetLambdaDeps(): void {
  deps = undefined;
}
