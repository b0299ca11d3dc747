/**
 * The machines' own roles (NodeRoles) and what the provision task may launch: iam:PassRole of these roles only,
 * into subnets and security groups of this installation only (or the ones the stack names), and the
 * environment that tells the provision task the instance profiles and the instances' ARN prefix.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import { INSTALLATION_ENV } from '../../functions/installation.js';
import type { ClusterlessApp } from '../../infra/app.js';
import type { ControlPlaneStack, ControlPlaneStackProps } from '../../infra/control-plane-stack.js';
import { ACCOUNT, STACK_UUID, arns, decide, identityPolicyOf, resolve } from './iam-eval.js';
import { controlPlaneStack, controlPlaneTemplate, logicalId, newApp, resourcesOf, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;
let resources: Resources;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  resources = template.toJSON()['Resources'] as Resources;
});

const OTHER = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const provisionPolicy = (t: Template, stack: ControlPlaneStack) => identityPolicyOf(t, logicalId(stack, stack.functions.provision.role));
const roleArn = (stack: ControlPlaneStack, role: iam.IRole) => `arn:aws:iam::${ACCOUNT}:role/${logicalId(stack, role)}`;
const passRole = (t: Template, stack: ControlPlaneStack, role: string, service = 'ec2.amazonaws.com') =>
  decide(provisionPolicy(t, stack), { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': service } });

const stackWith = (props: ControlPlaneStackProps) => controlPlaneStack(props);

describe('NodeRoles', () => {
  it('are a control-plane role and a worker role, each with an instance profile, assumed by EC2 only', () => {
    const { controlPlane, worker, controlPlaneInstanceProfile, workerInstanceProfile } = app.controlPlane.nodeRoles;
    for (const role of [controlPlane, worker]) {
      const trust = resourcesOf(template, 'AWS::IAM::Role')[logicalId(app.controlPlane, role)]!.Properties['AssumeRolePolicyDocument'];
      expect(trust).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' } }] });
    }
    for (const [profile, role] of [
      [controlPlaneInstanceProfile, controlPlane],
      [workerInstanceProfile, worker],
    ] as const)
      expect(resourcesOf(template, 'AWS::IAM::InstanceProfile')[logicalId(app.controlPlane, profile)]!.Properties['Roles']).toEqual([{ Ref: logicalId(app.controlPlane, role) }]);
  });

  it.each(['controlPlane', 'worker'] as const)('the %s role may read its bootstrap secret and pull images from ECR, nothing else', (which) => {
    const policy = identityPolicyOf(template, logicalId(app.controlPlane, app.controlPlane.nodeRoles[which]));
    const actions = [...new Set(policy.Statement.flatMap((s) => [s['Action']].flat() as string[]))].sort();
    expect(actions).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetAuthorizationToken',
      'ecr:GetDownloadUrlForLayer',
      'kms:Decrypt',
      'secretsmanager:DeleteSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it("tells the provision task the instance profiles by role (NODE_INSTANCE_PROFILES) and the instances' ARN prefix", () => {
    const variables = (resourcesOf(template, 'AWS::Lambda::Function')[logicalId(app.controlPlane, app.controlPlane.functions.provision.function)]!.Properties['Environment'] as {
      Variables: Record<string, unknown>;
    }).Variables;
    const profiles = JSON.parse(resolve(variables[INSTALLATION_ENV.nodeInstanceProfiles], resources) as string) as Record<string, string>;
    expect(profiles).toEqual({
      'control-plane': `arn:aws:iam::${ACCOUNT}:instance-profile/${logicalId(app.controlPlane, app.controlPlane.nodeRoles.controlPlaneInstanceProfile)}`,
      worker: `arn:aws:iam::${ACCOUNT}:instance-profile/${logicalId(app.controlPlane, app.controlPlane.nodeRoles.workerInstanceProfile)}`,
    });
    expect(resolve(variables[INSTALLATION_ENV.instanceArnPrefix], resources)).toBe(`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/`);
  });
});

describe('iam:PassRole (provision)', () => {
  it('passes the two node roles, to EC2 only', async () => {
    for (const role of [app.controlPlane.nodeRoles.controlPlane, app.controlPlane.nodeRoles.worker]) {
      expect(await passRole(template, app.controlPlane, roleArn(app.controlPlane, role))).toBe('Allowed');
      expect(await passRole(template, app.controlPlane, roleArn(app.controlPlane, role), 'lambda.amazonaws.com')).not.toBe('Allowed');
    }
  });

  it('passes no other role, whatever its name', async () => {
    for (const name of ['clusterless-node-workers', 'admin', 'Clusterless-provisionhandlerRole'])
      expect(await passRole(template, app.controlPlane, arns.role(name)), name).not.toBe('Allowed');
  });

  it('passes the additional node roles a stack names, and still no other', async () => {
    const gpu = iam.Role.fromRoleArn(new Stack(), 'Gpu', arns.role('gpu-nodes'));
    const { stack, template: t } = stackWith({ additionalNodeRoles: [gpu] });
    expect(await passRole(t, stack, arns.role('gpu-nodes'))).toBe('Allowed');
    expect(await passRole(t, stack, arns.role('other-nodes'))).not.toBe('Allowed');
  });
});

describe("RunInstances in the installation's network (provision)", () => {
  const launchInto = (t: Template, stack: ControlPlaneStack, resource: string, installation?: string) =>
    decide(provisionPolicy(t, stack), {
      action: 'ec2:RunInstances',
      resource,
      context: installation === undefined ? {} : { [`aws:ResourceTag/${TagKeys.installation}`]: installation },
    });

  it.each([
    ['subnets', arns.subnet()],
    ['security groups', arns.securityGroup()],
  ])("uses %s tagged with this installation, not another installation's or untagged ones", async (_what, resource) => {
    expect(await launchInto(template, app.controlPlane, resource, STACK_UUID)).toBe('Allowed');
    expect(await launchInto(template, app.controlPlane, resource, OTHER)).not.toBe('Allowed');
    expect(await launchInto(template, app.controlPlane, resource)).not.toBe('Allowed');
  });

  it('uses exactly the subnets and security groups machineNetwork names, tagged or not', async () => {
    const { stack, template: t } = stackWith({ machineNetwork: { subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'], securityGroupIds: ['sg-0bbbbbbbbbbbbbbbb'] } });
    expect(await launchInto(t, stack, arns.subnet('subnet-0aaaaaaaaaaaaaaaa'))).toBe('Allowed');
    expect(await launchInto(t, stack, arns.securityGroup('sg-0bbbbbbbbbbbbbbbb'))).toBe('Allowed');
    expect(await launchInto(t, stack, arns.subnet('subnet-0cccccccccccccccc'), STACK_UUID)).not.toBe('Allowed');
    expect(await launchInto(t, stack, arns.securityGroup('sg-0cccccccccccccccc'), STACK_UUID)).not.toBe('Allowed');
  });

  it('takes machineNetwork from the app context as `cdk -c machineNetwork=JSON` gives it', async () => {
    const fromContext = newApp({ context: { machineNetwork: '{"subnetIds":["subnet-0aaaaaaaaaaaaaaaa"]}' } });
    const t = Template.fromStack(fromContext.controlPlane);
    expect(await launchInto(t, fromContext.controlPlane, arns.subnet('subnet-0aaaaaaaaaaaaaaaa'))).toBe('Allowed');
    expect(await launchInto(t, fromContext.controlPlane, arns.subnet('subnet-0cccccccccccccccc'), STACK_UUID)).not.toBe('Allowed');
    expect(await launchInto(t, fromContext.controlPlane, arns.securityGroup(), STACK_UUID)).toBe('Allowed');
  });
});
