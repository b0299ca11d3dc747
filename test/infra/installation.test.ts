/**
 * The installation id (functions/installation.ts): the stack's own unique id, told to every function that acts on
 * cloud resources, and the scope of the secrets' names, so that two control planes in one account never share.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { INSTALLATION_ENV, INSTALLATION_ID_PATTERN } from '../../functions/installation.js';
import type { ClusterlessApp } from '../../infra/app.js';
import type { HandlerName } from '../../infra/control-plane-stack.js';
import { STACK_UUID, resolve } from './iam-eval.js';
import { controlPlaneTemplate, logicalId, resourcesOf, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;
let resources: Resources;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  resources = template.toJSON()['Resources'] as Resources;
});

const variables = (name: HandlerName) =>
  (
    resourcesOf(template, 'AWS::Lambda::Function')[logicalId(app.controlPlane, app.controlPlane.functions[name].function)]!.Properties['Environment'] as {
      Variables: Record<string, unknown>;
    }
  ).Variables;

describe('the installation id', () => {
  it("is the UUID part of the stack's id, an output and a public field", () => {
    const output = template.findOutputs('InstallationId')['InstallationId'] as { Value: unknown };
    expect(output.Value).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] });
    expect(resolve(output.Value, resources)).toBe(STACK_UUID);
    expect(STACK_UUID).toMatch(INSTALLATION_ID_PATTERN);
    expect(app.controlPlane.resolve(app.controlPlane.installationId)).toEqual(output.Value);
  });

  it.each(['reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'sweep', 'instance-events', 'kubeconfig'] as HandlerName[])(
    '%s is told it by INSTALLATION_ID',
    (name) => {
      expect(resolve(variables(name)[INSTALLATION_ENV.id], resources)).toBe(STACK_UUID);
    },
  );

  it.each(['stream', 'fleet-resource', 'http'] as HandlerName[])('%s, which acts on no cloud resource, is not told it', (name) => {
    expect(variables(name)[INSTALLATION_ENV.id]).toBeUndefined();
  });

  it('scopes the secrets: their name prefix is clusterless/<id>/ in every function and in the key policy', () => {
    for (const name of ['reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'sweep', 'kubeconfig'] as HandlerName[])
      expect(resolve(variables(name)['SECRETS_NAME_PREFIX'], resources), name).toBe(`clusterless/${STACK_UUID}/`);
    const key = resourcesOf(template, 'AWS::KMS::Key')[logicalId(app.controlPlane, app.controlPlane.secrets.key)]!;
    const deny = (key.Properties['KeyPolicy'] as { Statement: { Sid?: string; Condition?: unknown }[] }).Statement.find(
      (s) => s.Sid === 'OnlyClusterlessSecrets',
    )!;
    expect(resolve(deny.Condition, resources)).toEqual({
      StringNotLike: { 'kms:EncryptionContext:SecretARN': `arn:aws:secretsmanager:us-east-1:123456789012:secret:clusterless/${STACK_UUID}/*` },
    });
  });
});
