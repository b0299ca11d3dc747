import { ArnFormat, Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DEFAULT_SECRET_PREFIX, SECRETS_ENV } from '../../functions/bootstrap/names.js';



const CRYPTO_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'];

export interface BootstrapSecretsProps {
  /**
   * The name prefix of the secrets; principals are granted these secrets only.
   * @default 'clusterless/'
   */
  readonly namePrefix?: string;
}

/**
 * Secrets Manager for machine bootstrap data and cluster CAs (DESIGN section 6: the user data only fetches
 * and deletes its secret). The secrets are made at run time, one per machine or cluster, under a name
 * prefix; this construct owns their KMS key (rotated) and its key policy, which lets the key encrypt and
 * decrypt only through Secrets Manager and only for secrets under the prefix, whoever the principal is.
 */
export class BootstrapSecrets extends Construct {
  public readonly key: kms.Key;
  public readonly namePrefix: string;
  /** The ARN pattern of the secrets (Secrets Manager appends `-` and six random characters to the name). */
  public readonly secretArnPattern: string;

  constructor(scope: Construct, id: string, props: BootstrapSecretsProps = {}) {
    super(scope, id);
    this.namePrefix = props.namePrefix ?? DEFAULT_SECRET_PREFIX;
    this.secretArnPattern = this.secretArn(`${this.namePrefix}*`);
    this.key = new kms.Key(this, 'Key', {
      description: `clusterless: encrypts the secrets under ${this.namePrefix} (bootstrap data, cluster CAs)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyThroughSecretsManager',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: CRYPTO_ACTIONS,
        resources: ['*'],
        conditions: { StringNotEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyClusterlessSecrets',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: CRYPTO_ACTIONS,
        resources: ['*'],
        conditions: { StringNotLike: { 'kms:EncryptionContext:SecretARN': this.secretArnPattern } },
      }),
    );
  }

  /**
   * Create, write, read and delete secrets under the prefix, encrypted with this key only (CreateSecret must
   * name the key by its ARN, which the function finds in SECRETS_KMS_KEY_ARN). The provision task: it makes the
   * cluster's certificates and each machine's bootstrap secret (functions/bootstrap/kubeadm-bootstrapper.ts).
   */
  grantManage(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:CreateSecret'],
      resourceArns: [this.secretArnPattern],
      conditions: { StringEquals: { 'secretsmanager:KmsKeyArn': this.key.keyArn } },
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:DeleteSecret'],
      resourceArns: [this.secretArnPattern],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    });
  }

  /**
   * Read and delete secrets under the prefix, never create or write them: the reconciling tasks read a cluster's
   * CA (to reach its API) and delete what is left of a machine's bootstrap, or a cluster's certificates at its end.
   */
  grantReadAndDelete(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'],
      resourceArns: [this.secretArnPattern],
    });
    this.grantDecrypt(grantee);
  }

  /** Read the clusters' certificates only (`{prefix}{ns}/{cluster}/certificates`): the API's admin kubeconfig route. */
  grantReadCertificates(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secretArn(`${this.namePrefix}*/*/certificates-??????`)],
    });
    this.grantDecrypt(grantee);
  }

  /**
   * What a machine's instance role needs for its user data: read and delete its bootstrap secret
   * (`{prefix}{ns}/{cluster}/machines/{uid}`), nothing else (not the clusters' certificates). The instance
   * role is the user's (MachineClass iamInstanceProfile); grant it here when it is defined in CDK.
   */
  grantFetchBootstrapData(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'],
      resourceArns: [this.secretArn(`${this.namePrefix}*/*/machines/*`)],
    });
    this.grantDecrypt(grantee);
  }

  private grantDecrypt(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    });
  }

  private secretArn(resourceName: string): string {
    return Stack.of(this).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  /** The environment a granted function needs to name the key and the prefix. */
  get environment(): Record<string, string> {
    return { [SECRETS_ENV.keyArn]: this.key.keyArn, [SECRETS_ENV.namePrefix]: this.namePrefix };
  }
}
