/**
 * The addon payloads bucket: private, TLS only, KMS-encrypted with a rotating key of its own; the API function may
 * put and get payloads, the reconciling tasks only get them, and no other function may touch the bucket or its key.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import type { HandlerName } from '../../infra/control-plane-stack.js';
import { actionsOf, controlPlaneTemplate, logicalId, statementsOfRole } from './support.js';

let app: ClusterlessApp;
let template: Template;
let bucketId: string;
let keyId: string;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  bucketId = logicalId(app.controlPlane, app.controlPlane.addonPayloads.bucket);
  keyId = logicalId(app.controlPlane, app.controlPlane.addonPayloads.key);
});

/** The actions a function's role holds on the payload bucket, its objects or its key. */
function payloadActions(name: HandlerName): string[] {
  const role = logicalId(app.controlPlane, app.controlPlane.functions[name].role);
  return statementsOfRole(template, role)
    .filter((s) => JSON.stringify(s.Resource ?? '').includes(bucketId) || JSON.stringify(s.Resource ?? '').includes(keyId))
    .flatMap(actionsOf)
    .sort();
}

describe('the addon payloads bucket', () => {
  it('blocks all public access, enforces bucket ownership and is encrypted with its own KMS key', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } }, BucketKeyEnabled: true },
        ],
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { Description: 'clusterless: encrypts the addon payloads bucket', EnableKeyRotation: true });
  });

  it('refuses every request without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('lets the API function put and get payloads, through S3 only for the key', () => {
    expect(payloadActions('http')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    const role = logicalId(app.controlPlane, app.controlPlane.functions.http.role);
    const kms = statementsOfRole(template, role).find((s) => actionsOf(s).includes('kms:GenerateDataKey') && JSON.stringify(s.Resource).includes(keyId));
    expect(JSON.stringify(kms?.Condition)).toContain('s3.');
  });

  it.each(['reconcile', 'rollout', 'remediate', 'teardown'] as const)('lets the %s task only get payloads', (name) => {
    expect(payloadActions(name)).toEqual(['kms:Decrypt', 's3:GetObject', 's3:ListBucket']);
  });

  it.each(['kubeconfig', 'provision', 'stream', 'sweep', 'instance-events', 'fleet-resource'] as const)('gives %s nothing of the bucket or its key', (name) => {
    expect(payloadActions(name)).toEqual([]);
  });

  it('tells the functions that use it where it is', () => {
    const fn = logicalId(app.controlPlane, app.controlPlane.functions.http.function);
    const env = (template.toJSON()['Resources'][fn].Properties.Environment.Variables ?? {}) as Record<string, unknown>;
    expect(env['PAYLOAD_BUCKET']).toEqual({ Ref: bucketId });
    expect(env['PAYLOAD_KMS_KEY_ARN']).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });
});
