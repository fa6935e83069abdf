import { DynamoDbImportStore } from '../adapters/aws/dynamodb/dynamodb-import-store.js';
import { S3ImportFiles } from '../adapters/aws/s3-import-files.js';
import { SqsImportQueue } from '../adapters/aws/sqs-import-queue.js';
import type { AdvanceImportDeps } from '../app/imports/advance-import.js';
import { baseDeps, requiredEnv, type Environment } from './runtime.js';

/**
 * The import worker's composition root, apart from runtime.ts so that only this function bundles
 * the spreadsheet reader (csv-parse, fflate, saxes) and the other functions do not.
 */
let deps: AdvanceImportDeps | undefined;

export function importWorkerDeps(env: Environment = process.env): AdvanceImportDeps {
  if (deps !== undefined) return deps;
  const shared = baseDeps(env);
  const files = new S3ImportFiles({
    signing: shared.dynamo.config,
    bucket: requiredEnv(env, 'CERTALARM_IMPORT_BUCKET'),
    maxBytes: shared.settings.importMaxBytes,
    limits: shared.settings.importLimits,
  });
  deps = {
    store: shared.store,
    reference: shared.reference,
    settings: shared.settings,
    logger: shared.logger,
    clock: shared.clock,
    calendarSource: shared.calendarSource,
    rules: shared.rules,
    replanMarks: shared.replanMarks,
    audit: shared.audit,
    imports: new DynamoDbImportStore(shared.dynamo, shared.tableName),
    openSpreadsheet: files.opener(),
    removeFile: (blobKey) => files.remove(blobKey),
    limits: { maxBytes: shared.settings.importMaxBytes, maxRows: shared.settings.importMaxRows },
    continuations: new SqsImportQueue({ signing: shared.dynamo.config, queueUrl: requiredEnv(env, 'CERTALARM_IMPORT_QUEUE_URL') }),
  };
  return deps;
}

/** Tests build a fresh composition per environment (call resetLambdaDeps too, for the shared part). */
export function resetImportWorkerDeps(): void {
  deps = undefined;
}
