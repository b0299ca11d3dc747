/** Keys, dead-letter queues and the bootstrap secrets: encryption, rotation, TLS and key policies. */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import { STACK_UUID, resolve } from './iam-eval.js';
import { controlPlaneTemplate, logicalId, resourcesOf, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
});

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
const keyPolicy = (key: unknown) =>
  (resourcesOf(template, 'AWS::KMS::Key')[logicalId(app.controlPlane, key)]!.Properties['KeyPolicy'] as { Statement: Statement[] }).Statement;

describe('KMS keys', () => {
  it('are five: the table, the secrets, the logs, the alarm topic and the addon payloads', () => {
    expect(Object.keys(resourcesOf(template, 'AWS::KMS::Key')).sort()).toEqual(
      [
        app.controlPlane.objectTable.key,
        app.controlPlane.secrets.key,
        app.controlPlane.logs.key,
        app.controlPlane.alarms.key,
        app.controlPlane.addonPayloads.key,
      ]
        .map((k) => logicalId(app.controlPlane, k))
        .sort(),
    );
  });

  it('all rotate', () => {
    for (const [id, key] of Object.entries(resourcesOf(template, 'AWS::KMS::Key'))) expect(key.Properties['EnableKeyRotation'], id).toBe(true);
  });

  it('let CloudWatch Logs use the logs key only for log groups of this account and region', () => {
    const logs = keyPolicy(app.controlPlane.logs.key).find((s) => s.Sid === 'CloudWatchLogsOfThisAccount')!;
    expect(logs.Principal).toEqual({ Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } });
    expect(JSON.stringify(logs.Condition?.['ArnLike']?.['kms:EncryptionContext:aws:logs:arn'])).toContain(':log-group:*');
  });

  it('encrypt every log group with the logs key', () => {
    const groups = Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(10);
    for (const [id, group] of groups)
      expect(group.Properties['KmsKeyId'], id).toEqual({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.logs.key), 'Arn'] });
  });
});

describe('dead-letter queues', () => {
  const queues = () => Object.entries(resourcesOf(template, 'AWS::SQS::Queue'));

  it('are one per trigger', () => {
    expect(queues()).toHaveLength(3);
  });

  it('are encrypted', () => {
    for (const [id, q] of queues()) expect(q.Properties['SqsManagedSseEnabled'] ?? q.Properties['KmsMasterKeyId'], id).toBeTruthy();
  });

  it('refuse requests without TLS', () => {
    for (const [id] of queues())
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
  });

  it('keep messages 14 days and raise an alarm at the first one', () => {
    for (const [id, q] of queues()) {
      expect(q.Properties['MessageRetentionPeriod'], id).toBe(14 * 24 * 3600);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
      });
    }
  });
});

describe('bootstrap secrets', () => {
  const crypto = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'];

  it('are encrypted only through Secrets Manager: the key policy denies any other use', () => {
    const deny = keyPolicy(app.controlPlane.secrets.key).find((s) => s.Sid === 'OnlyThroughSecretsManager')!;
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
    expect(deny.Action).toEqual(expect.arrayContaining(crypto));
    expect(deny.Condition?.['StringNotEquals']?.['kms:ViaService']).toEqual({
      'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
    });
  });

  it("are only this installation's secrets (clusterless/<id>/): the key policy denies the key to any other secret", () => {
    const deny = keyPolicy(app.controlPlane.secrets.key).find((s) => s.Sid === 'OnlyClusterlessSecrets')!;
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
    expect(deny.Action).toEqual(expect.arrayContaining(crypto));
    expect(resolve(deny.Condition?.['StringNotLike']?.['kms:EncryptionContext:SecretARN'], template.toJSON()['Resources'] as Resources)).toBe(
      `arn:aws:secretsmanager:us-east-1:123456789012:secret:clusterless/${STACK_UUID}/*`,
    );
  });
});
