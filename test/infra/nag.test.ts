/**
 * cdk-nag: the app as `cdk synth` builds it has no unacknowledged finding of AwsSolutions or of the
 * Clusterless pack (IMDSv2, KMS), every acknowledgment gives its reason, and the checks do run.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import { ClusterlessChecks } from '../../infra/nag/clusterless-checks.js';
import { newApp } from './support.js';

let app: ClusterlessApp;

beforeAll(() => {
  app = newApp({ context: { fleet: 'example' } });
});

const violations = (pack: AwsSolutionsChecks | ClusterlessChecks, scope: IConstruct) => pack.validateScope(scope).violations;

describe('the app', () => {
  it('synthesizes with the cdk-nag plugins (a finding would throw)', () => {
    expect(() => app.app.synth()).not.toThrow();
  });

  it('has no unacknowledged AwsSolutions error or warning', () => {
    expect(violations(new AwsSolutionsChecks(), app.app).map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual(
      [],
    );
  });

  it('has no unacknowledged Clusterless (IMDSv2, KMS) finding', () => {
    expect(violations(new ClusterlessChecks(), app.app).map((v) => v.ruleName)).toEqual([]);
  });

  it('gives a specific reason for every acknowledgment', () => {
    const acknowledgments = app.app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledgments.length).toBeGreaterThan(20);
    for (const [id, reason] of acknowledgments) expect(reason.length, id).toBeGreaterThan(60);
  });

  it('fails to synthesize when a finding is not acknowledged', () => {
    const broken = newApp();
    const stack = new Stack(broken.app, 'Broken');
    new iam.Role(stack, 'TooMuch', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
    );
    expect(() => broken.app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});

describe('the Clusterless pack', () => {
  const stack = () => new Stack(undefined, 'Probe');
  const ruleNames = (s: Stack) => violations(new ClusterlessChecks(), s).map((v) => v.ruleName);

  it('refuses a policy that launches instances without ec2:MetadataHttpTokens = required', () => {
    const s = stack();
    new iam.Role(s, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: ['arn:aws:ec2:us-east-1:123456789012:instance/*'] }),
    );
    expect(ruleNames(s)).toContain('Clusterless-RunInstancesRequiresIMDSv2');
  });

  it('accepts one that requires IMDSv2', () => {
    const s = stack();
    new iam.Role(s, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/*'],
        conditions: { StringEquals: { 'ec2:MetadataHttpTokens': 'required' } },
      }),
    );
    expect(ruleNames(s)).toEqual([]);
  });

  it('refuses an instance without IMDSv2', () => {
    const s = stack();
    new ec2.CfnInstance(s, 'Instance', { imageId: 'ami-0123456789abcdef0' });
    expect(ruleNames(s)).toContain('Clusterless-EC2IMDSv2Enabled');
  });

  it('refuses a key that does not rotate', () => {
    const s = stack();
    new kms.Key(s, 'Key', { enableKeyRotation: false });
    expect(ruleNames(s)).toContain('Clusterless-KMSBackingKeyRotationEnabled');
  });
});
