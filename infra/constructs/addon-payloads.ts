/**
 * The bucket that keeps ClusterResourceSets' manifests (functions/adapters/payloads/s3-payload-store.ts): private
 * (every public access blocked, objects owned by the bucket owner), TLS only, encrypted with a key of its own that
 * rotates and serves the bucket only through S3. The API function writes and reads payloads; the reconciling tasks
 * only read them; nothing else may touch them.
 */
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PAYLOAD_KEY_PREFIX } from '../../functions/adapters/payloads/s3-payload-store.js';

export interface AddonPayloadsProps {
  /**
   * What happens to the bucket and its key when the stack goes.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class AddonPayloads extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AddonPayloadsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new kms.Key(this, 'Key', { description: 'clusterless: encrypts the addon payloads bucket', enableKeyRotation: true, removalPolicy });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy,
    });
  }

  /** The variables functions/adapters/payloads reads (payloadStoreFromEnvironment). */
  get environment(): Record<string, string> {
    return { PAYLOAD_BUCKET: this.bucket.bucketName, PAYLOAD_KMS_KEY_ARN: this.key.keyArn };
  }

  private get objectsArn(): string {
    return this.bucket.arnForObjects(`${PAYLOAD_KEY_PREFIX}*`);
  }

  private grantKey(grantee: iam.IGrantable, actions: string[]): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
    });
  }

  /**
   * Puts and gets payloads (the API). ListBucket lets a get of a missing payload answer 404 rather than 403, which
   * the store reads as absent.
   */
  grantReadWrite(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject', 's3:PutObject'], resourceArns: [this.objectsArn] });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    this.grantKey(grantee, ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  /** Gets payloads only (the reconciling tasks). */
  grantRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.objectsArn] });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    this.grantKey(grantee, ['kms:Decrypt']);
  }
}
