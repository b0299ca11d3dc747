import { ArnFormat, Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import { DEFAULT_SECRET_PREFIX, SECRETS_ENV } from '../../functions/bootstrap/names.js';

const CRYPTO_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'];

export interface BootstrapSecretsProps {
  /**
   * The name prefix of the secrets; principals are granted these secrets only.
   * @default 'clusterless/'
   */
  readonly namePrefix?: string;
  /**
   * The installation id: a secret may be tagged clusterless.dev/installation with this value only.
   * @default - any value
   */
  readonly installationId?: string;
}

/** The tag keys clusterless puts on secrets: its own (functions/adapters/aws/tags.ts), none of anyone else's. */
const CLUSTERLESS_TAG_KEYS = Object.values(TagKeys).filter((k) => k.startsWith('clusterless.dev/'));

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
  /** The machines' bootstrap secrets (`{prefix}{ns}/{cluster}/machines/{uid}`), with or without the suffix. */
  private readonly machineSecretArns: string;
  private readonly installationId: string | undefined;

  constructor(scope: Construct, id: string, props: BootstrapSecretsProps = {}) {
    super(scope, id);
    this.namePrefix = props.namePrefix ?? DEFAULT_SECRET_PREFIX;
    this.installationId = props.installationId;
    this.secretArnPattern = this.secretArn(`${this.namePrefix}*`);
    this.machineSecretArns = this.secretArn(`${this.namePrefix}*/*/machines/*`);
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
   * What the provision task's bootstrap calls (functions/adapters/kubeadm/kubeadm-bootstrapper.ts prepare, bindToInstance,
   * release; adapters/secrets/secrets-manager-store.ts): create secrets under the prefix, encrypted with this key
   * only (CreateSecret must name the key by its ARN, which the function finds in SECRETS_KMS_KEY_ARN); read the
   * clusters' certificates; write, bind (the instance-arn tag) and delete machines' bootstrap secrets. Nothing
   * describes a secret or encrypts with the key directly, so neither is granted.
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
      actions: ['secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'],
      resourceArns: [this.machineSecretArns],
    });
    this.grantReadCertificates(grantee);
    // CreateSecret with Tags needs TagResource too. Only the clusterless keys, this installation's id, and an
    // instance ARN of this account and region: a node's secret can be bound to an instance of ours only.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:TagResource'],
      resourceArns: [this.secretArnPattern],
      conditions: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': CLUSTERLESS_TAG_KEYS },
        ...(this.installationId ? { StringEqualsIfExists: { [`aws:RequestTag/${TagKeys.installation}`]: this.installationId } } : {}),
        StringLikeIfExists: { [`aws:RequestTag/${TagKeys.instanceArn}`]: `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:instance/*` },
      },
    });
    // Secrets Manager encrypts a value with a data key (GenerateDataKey) and decrypts it to read it back.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    });
  }

  /**
   * Create and read the clusters' certificates, nothing else: the cluster transfer function stores the CAs of a
   * cluster `clusterless import` adopts or `clusterless move` brings in (functions/handlers/cluster-import-deps.ts,
   * adapters/kubeadm/certificate-transfer.ts), and reads them to move a cluster out. Created only with the secrets
   * key and tagged only with the certificates' keys (adapters/aws/tags.ts certificatesSecretTags, and this
   * installation's id); never written over (the code refuses another set), so no PutSecretValue.
   */
  grantCreateCertificates(grantee: iam.IGrantable): void {
    const certificates = [this.secretArn(`${this.namePrefix}*/*/certificates`), this.secretArn(`${this.namePrefix}*/*/certificates-??????`)];
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:CreateSecret'],
      resourceArns: certificates,
      conditions: { StringEquals: { 'secretsmanager:KmsKeyArn': this.key.keyArn } },
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:TagResource'],
      resourceArns: certificates,
      conditions: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TagKeys.installation, TagKeys.cluster, TagKeys.clusterUid] },
        ...(this.installationId ? { StringEquals: { [`aws:RequestTag/${TagKeys.installation}`]: this.installationId } } : {}),
      },
    });
    this.grantReadCertificates(grantee);
    // Secrets Manager encrypts the new value with a data key of the secrets key.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateDataKey'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    });
  }

  /**
   * Delete any secret under the prefix, read none: the reconciling tasks delete what is left of a machine's
   * bootstrap (release) and a cluster's certificates at its end (releaseCluster). Their reads are
   * grantReadCertificates: the CA, to reach a workload API.
   */
  grantDelete(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:DeleteSecret'], resourceArns: [this.secretArnPattern] });
  }

  /**
   * Read the clusters' certificates only (`{prefix}{ns}/{cluster}/certificates`): the kubeconfig function, the sweep
   * and every task (a workload API is reached through a kubeconfig signed with the CA). Note: the bare name too,
   * not only the name with Secrets Manager's random suffix: a request for a secret that does not exist yet may be
   * checked against a name without one, and the bootstrap reads the certificates before it makes them
   * (ensureCertificates), so a read refused rather than not found would stop every first launch.
   */
  grantReadCertificates(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secretArn(`${this.namePrefix}*/*/certificates`), this.secretArn(`${this.namePrefix}*/*/certificates-??????`)],
    });
    this.grantDecrypt(grantee);
  }

  /**
   * What a machine's instance role needs for its user data: read and delete its own bootstrap secret
   * (`{prefix}{ns}/{cluster}/machines/{uid}`), the one tagged clusterless.dev/instance-arn with the ARN of the
   * instance making the call (the policy variable ec2:SourceInstanceARN, set for instance profile credentials),
   * nothing else: not another machine's, not the clusters' certificates. The provision task binds the secret once
   * the instance exists; until then the user data's retries are refused. NodeRoles have it; grant it to a role of
   * your own (ControlPlaneStackProps.additionalNodeRoles) defined in CDK.
   */
  grantFetchBootstrapData(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'],
      resourceArns: [this.machineSecretArns],
      // aws:ResourceTag rather than secretsmanager:ResourceTag: Secrets Manager honours both, the global key is the documented one.
      conditions: { StringEquals: { [`aws:ResourceTag/${TagKeys.instanceArn}`]: '${ec2:SourceInstanceARN}' } },
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
