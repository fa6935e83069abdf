import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../functions/adapters/aws/dynamodb/keys.js';

export type IndexName = (typeof TABLE_SCHEMA.indexes)[number]['name'];

export interface CertalarmTableProps {
  /** Production: deletion protection on, table and key retained when the stack goes. */
  production: boolean;
}

/** Table actions on items; Query is granted per index separately. */
export type ItemAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:PartiQLSelect'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:Query'
  | 'dynamodb:Scan'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:ConditionCheckItem';

/**
 * The single certalarm table, built from TABLE_SCHEMA (functions/adapters/aws/dynamodb/keys.ts) so the
 * deployed keys and indexes are exactly the ones the code queries. Every key attribute is a string.
 *
 * Encryption: a customer-managed KMS key, not the AWS-owned or AWS-managed one. The table holds citizens'
 * names and mobile numbers (personal information under PIPL); with our own key, every decrypt is visible in
 * CloudTrail against a key the bureau controls, and access can be cut off by key policy independent of IAM.
 */
export class CertalarmTable extends Construct {
  readonly table: dynamodb.Table;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: CertalarmTableProps) {
    super(scope, id);
    const removalPolicy = props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', {
      description: 'certalarm: encrypts the certificate table (holders and phone numbers)',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(props.production ? 30 : 7),
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: props.production,
      removalPolicy,
    });
    for (const index of TABLE_SCHEMA.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: index.projection === 'KEYS_ONLY' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL,
      });
    }
  }

  indexArn(name: IndexName): string {
    return `${this.table.tableArn}/index/${name}`;
  }

  /**
   * Grant exactly these item actions on the table, Query on exactly these indexes, and the KMS
   * actions DynamoDB performs on the caller's behalf (only through DynamoDB, in this region).
   * Written out instead of grantReadWriteData, which would add Scan/ConditionCheck/DescribeTable,
   * every index (`index/*`) and wildcard KMS actions.
   */
  grantItemAccess(grantee: iam.IGrantable, actions: readonly ItemAction[], queryIndexes: readonly IndexName[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...actions], resources: [this.table.tableArn] }),
    );
    if (queryIndexes.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: queryIndexes.map((name) => this.indexArn(name)) }),
      );
    }
    const readOnly = actions.every((a) => ['dynamodb:GetItem', 'dynamodb:PartiQLSelect', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'].includes(a));
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: readOnly
          ? ['kms:Decrypt', 'kms:DescribeKey']
          : ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${this.table.stack.region}.amazonaws.com` } },
      }),
    );
  }
}
