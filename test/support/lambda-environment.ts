import { inject } from 'vitest';

/**
 * The environment a Lambda handler sees in the tests: the stack's variables pointed at the DynamoDB
 * Local of this run, with dummy credentials. Returns a function that restores the previous environment.
 */
export function useLambdaEnvironment(tableName: string, extra: Record<string, string> = {}): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    LOG_LEVEL: 'silent',
    // The stack's cursor key; a listing that pages also needs AWS_ENDPOINT_URL_KMS pointed at a stand-in.
    CERTALARM_CURSOR_KMS_KEY_ID: 'arn:aws:kms:ap-southeast-1:123456789012:key/00000000-0000-0000-0000-000000000000',
    ...extra,
  });
  return () => {
    process.env = saved;
  };
}
