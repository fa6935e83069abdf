import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { StageRule } from '../../../core/model.js';
import type { RuleStore } from '../../../core/ports.js';
import type { ReminderRule, RuleReplanProgress, RuleVersion } from '../../../core/rules.js';
import { documentClient, isConditionalFailure } from './dynamodb-store.js';
import { accessPatterns, ruleKey, ruleVersionKey } from './keys.js';

type Item = Record<string, NativeAttributeValue>;

/** Operators' reminder rules, one item per type plus one per version, in the service's one table. */
export class DynamoDbRuleStore implements RuleStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async listRules(): Promise<ReminderRule[]> {
    return (await this.queryAll(accessPatterns.rules())).map(toRule).sort((a, b) => a.type.localeCompare(b.type));
  }

  async getRule(type: string): Promise<ReminderRule | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: ruleKey(type), ConsistentRead: true }));
    return Item === undefined ? undefined : toRule(Item);
  }

  async ruleHistory(type: string): Promise<RuleVersion[]> {
    return (await this.queryAll(accessPatterns.ruleVersions(type))).map((item) => ({ ...toRule(item), diff: (item.diff ?? []) as string[] }));
  }

  async putRule(version: RuleVersion, replan: RuleReplanProgress): Promise<boolean> {
    const { diff: _diff, ...rule } = version;
    try {
      // One transaction, so the current rule and its history never disagree.
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...ruleKey(version.type), entity: 'rule', ...rule, replan },
                ...(version.version === 1
                  ? { ConditionExpression: 'attribute_not_exists(pk)' }
                  : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': version.version - 1 } }),
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...ruleVersionKey(version.type, version.version), entity: 'ruleVersion', ...version },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      // Only a failed condition means "another change got there first"; anything else is an error to retry.
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return false;
      throw error;
    }
  }

  async saveRuleReplan(type: string, progress: RuleReplanProgress): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ruleKey(type),
          UpdateExpression: 'SET replan = :progress',
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':progress': progress, ':version': progress.version },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  private async queryAll(pattern: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string>; ScanIndexForward?: boolean }): Promise<Item[]> {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...pattern, ConsistentRead: true, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return items;
  }
}

function toRule(item: Item): ReminderRule {
  return {
    type: item.type as string,
    version: item.version as number,
    enabled: item.enabled === true,
    stages: (item.stages ?? []) as StageRule[],
    changedBy: (item.changedBy as string | undefined) ?? null,
    changedAt: (item.changedAt as string | undefined) ?? null,
    comment: (item.comment as string | undefined) ?? '',
    ...(item.replan !== undefined ? { replan: item.replan as RuleReplanProgress } : {}),
  };
}
