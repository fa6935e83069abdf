import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { localDynamoClientConfig } from '../../functions/adapters/local/dynamodb-local.js';

/** A client for the DynamoDB Local that test/support/global-setup.ts started for this run. */
export function dynamoTestClient(): DynamoDBClient {
  return new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
}

/**
 * A table name no other test file uses: the run shares one DynamoDB Local, and files run in
 * parallel. The prefix keeps names readable when a test fails.
 */
export function uniqueTableName(prefix: string): string {
  const readable = prefix.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 200);
  return `${readable}-${randomUUID()}`;
}
