import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** A conditional write that found the item not as expected (someone else got there first). */
export function isConditionalFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
