import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { StageRule } from '../../../core/model.js';
import type { MergedTemplateStore, RuleStore, StoredMergedTemplate } from '../../../core/ports.js';
import type { ReminderRule, RuleReplanProgress, RuleVersion } from '../../../core/rules.js';
import { documentClient } from './dynamodb-store.js';
import { isConditionalFailure } from './conditions.js';
import { accessPatterns, mergedTemplateKey, ruleKey, ruleVersionKey } from './keys.js';
import { queryAll, saveReplanProgress, updateNewVersion } from './versioned-items.js';

type Item = Record<string, NativeAttributeValue>;

/** Operators' reminder rules, one item per type plus one per version, in the service's one table. */
export class DynamoDbRuleStore implements RuleStore, MergedTemplateStore {
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
    // An update, not a put: the rule item also carries the mark of a re-plan that may still hold the type.
    return updateNewVersion(this.doc, this.tableName, {
      current: { key: ruleKey(version.type), item: { entity: 'rule', ...rule, replan } },
      version: { key: ruleVersionKey(version.type, version.version), item: { entity: 'ruleVersion', ...version } },
      expectedVersion: version.version === 1 ? undefined : version.version - 1,
    });
  }

  async saveRuleReplan(type: string, progress: RuleReplanProgress): Promise<boolean> {
    return saveReplanProgress(this.doc, this.tableName, ruleKey(type), progress);
  }

  async getMergedTemplate(): Promise<StoredMergedTemplate | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: mergedTemplateKey(), ConsistentRead: true }));
    if (Item === undefined) return undefined;
    return {
      template: Item.template as string,
      itemTemplate: Item.itemTemplate as string,
      version: Item.version as number,
      changedBy: (Item.changedBy as string | undefined) ?? null,
      changedAt: (Item.changedAt as string | undefined) ?? null,
      comment: (Item.comment as string | undefined) ?? null,
    };
  }

  async putMergedTemplate(next: StoredMergedTemplate): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...mergedTemplateKey(), entity: 'mergedTemplate', ...next },
          // Two operators editing at once: the second finds the version moved and reads again.
          ConditionExpression: next.version === 1 ? 'attribute_not_exists(pk)' : 'version = :previous',
          ...(next.version === 1 ? {} : { ExpressionAttributeValues: { ':previous': next.version - 1 } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  private queryAll(pattern: Parameters<typeof queryAll>[2]): Promise<Item[]> {
    return queryAll(this.doc, this.tableName, pattern);
  }
}

export function toRule(item: Item): ReminderRule {
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
