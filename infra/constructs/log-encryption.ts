import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface LogEncryptionProps {
  /**
   * How long every log group of the control plane keeps its events.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly retention?: logs.RetentionDays;
  /**
   * What happens to the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN - logs outlive the stack, for the post-mortem
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One customer-managed KMS key (rotated yearly) for every CloudWatch log group of the control plane, and the
 * factory of those log groups, so that each one is encrypted and has a retention. Lambda, Step Functions and
 * API Gateway logs can carry object names and error messages; they are kept under the account's own key.
 */
export class LogEncryption extends Construct {
  public readonly key: kms.Key;
  public readonly retention: logs.RetentionDays;
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: LogEncryptionProps = {}) {
    super(scope, id);
    this.retention = props.retention ?? logs.RetentionDays.ONE_MONTH;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new kms.Key(this, 'Key', {
      description: 'clusterless: encrypts the control plane log groups',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs uses the key on behalf of log groups of this account and region only.
    const { partition, region, account } = Stack.of(this);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*` } },
      }),
    );
  }

  /** A log group encrypted with the key, with the retention; `logGroupName` only where a name is required. */
  newLogGroup(scope: Construct, id: string, logGroupName?: string): logs.LogGroup {
    return new logs.LogGroup(scope, id, {
      encryptionKey: this.key,
      retention: this.retention,
      removalPolicy: this.removalPolicy,
      ...(logGroupName ? { logGroupName } : {}),
    });
  }
}
