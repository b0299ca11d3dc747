import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_KEYS, USAGE_PREFIX } from '../../functions/adapters/dynamodb/table.js';
import { UNAVAILABLE_OFFERINGS_PARTITION } from '../../functions/adapters/dynamodb/unavailable-offerings.js';
import { WATCH_LOG_PREFIX } from '../../functions/adapters/dynamodb/watch-log.js';

export interface ObjectTableProps {
  /**
   * What happens to the table (and its key) when the stack is deleted.
   * @default RemovalPolicy.RETAIN - the declared and observed state of every cluster outlives the stack
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection: the table cannot be deleted until it is turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/** The DynamoDB API calls of the Store adapter (adapters/dynamodb/dynamodb-store.ts): no scans, no batches. */
const STORE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'];
const STORE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:DeleteItem'];
/** What a principal needs of the customer-managed key to use the table through DynamoDB. */
const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
const KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'];

/**
 * The one table of DESIGN section 4, declared with the key schema and kind index of
 * functions/adapters/dynamodb/table.ts (TABLE_KEYS, the same constants createTable uses): on-demand,
 * point-in-time recovery, encrypted with a customer-managed key that rotates, deletion protection, and a
 * NEW_AND_OLD_IMAGES stream that triggers the reconciles. The TTL attribute `ttl` (epoch seconds) is carried by
 * Events, the watch log's items and the unavailable offerings' marks only (api/event.ts, adapters/dynamodb/watch-log.ts,
 * adapters/dynamodb/unavailable-offerings.ts); leases expire by comparison (expiresAt, epoch milliseconds) and are
 * deleted when released.
 */
export class ObjectTable extends Construct {
  public readonly table: dynamodb.Table;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ObjectTableProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new kms.Key(this, 'Key', {
      description: 'clusterless: encrypts the object table and its stream',
      enableKeyRotation: true,
      removalPolicy,
    });
    const { partitionKey, sortKey, kindIndex } = TABLE_KEYS;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      // Events expire an hour after they were last observed (functions/api/event.ts), the watch log after its
      // retention (adapters/dynamodb/watch-log.ts).
      timeToLiveAttribute: TABLE_KEYS.timeToLiveAttribute,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: kindIndex.indexName,
      partitionKey: { name: kindIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: kindIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** The ARNs the Store reads: the table and its kind index (by name, not index/*). */
  private get storeArns(): string[] {
    return [this.table.tableArn, `${this.table.tableArn}/index/${TABLE_KEYS.kindIndex.indexName}`];
  }

  private grantKey(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    // The key serves this table only through DynamoDB, never directly.
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com` } },
    });
  }

  /**
   * What the Store does: read, conditional put and delete of single items, queries of a partition or the index.
   * The unavailable offerings' marks (adapters/dynamodb/unavailable-offerings.ts) are not the Store's: only a
   * grantee that launches machines may write them; every other one is denied.
   */
  grantStore(grantee: iam.IGrantable, options: { writesUnavailableOfferings?: boolean } = {}): void {
    iam.Grant.addToPrincipal({ grantee, actions: [...STORE_READ_ACTIONS, ...STORE_WRITE_ACTIONS], resourceArns: this.storeArns });
    this.grantKey(grantee, [...KEY_READ_ACTIONS, ...KEY_WRITE_ACTIONS]);
    if (!options.writesUnavailableOfferings) this.denyUnavailableOfferingWrites(grantee);
  }

  /**
   * Denies writes to the unavailable offerings' partition: launches order their attempts by these marks, so a
   * principal that does not launch must not be able to steer them (the provision function alone writes them).
   */
  private denyUnavailableOfferingWrites(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: STORE_WRITE_ACTIONS,
        resources: [this.table.tableArn],
        conditions: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': [UNAVAILABLE_OFFERINGS_PARTITION] } },
      }),
    );
  }

  /** Single-item reads of the table only, no query and no index: the kubeconfig function reads one Cluster. */
  grantGetItem(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem'], resourceArns: [this.table.tableArn] });
    this.grantKey(grantee, KEY_READ_ACTIONS);
  }

  /**
   * Puts of watch log items only (the stream function): PutItem on the table, conditioned on partition keys in the
   * log's `watch#` partitions, so it can neither write nor overwrite an object, claim or lease.
   */
  grantWatchLogWrite(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${WATCH_LOG_PREFIX}*`] } },
    });
    // DynamoDB decrypts the table key with the caller's permissions on every request, a put included.
    this.grantKey(grantee, KEY_READ_ACTIONS);
  }

  /**
   * Adds to the clusters' usage records (Store.addUsage, once per task invocation): UpdateItem on the table, conditioned
   * on partition keys in the `usage/` partitions, so it can change no object, claim, lease or watch log item.
   */
  grantUsageCount(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${USAGE_PREFIX}*`] } },
    });
    this.grantKey(grantee, [...KEY_READ_ACTIONS, ...KEY_WRITE_ACTIONS]);
  }

  /**
   * Reads and conditional puts of single items, no query, no index and no delete: the instance-events function
   * records a spot notice on one Machine (Store.get, then Store.updateStatus guarded by its resourceVersion).
   */
  grantItemUpdate(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resourceArns: [this.table.tableArn] });
    this.grantKey(grantee, [...KEY_READ_ACTIONS, ...KEY_WRITE_ACTIONS]);
    this.denyUnavailableOfferingWrites(grantee);
  }

  /** Reads only (the sweep lists the fleet). */
  grantStoreRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: STORE_READ_ACTIONS, resourceArns: this.storeArns });
    this.grantKey(grantee, KEY_READ_ACTIONS);
  }
}
