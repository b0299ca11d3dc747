/**
 * Every destructive or mutating EC2 and ELBv2 permission requires the installation's tag
 * (clusterless.dev/installation = the stack's installation id), evaluated as AWS evaluates the synthesized
 * policies: a second control plane in the account, or anything untagged, is out of reach.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import type { ClusterlessApp } from '../../infra/app.js';
import type { HandlerName } from '../../infra/control-plane-stack.js';
import { STACK_UUID, arns, decide, identityPolicyOf, type PolicyDocument } from './iam-eval.js';
import { controlPlaneTemplate, logicalId } from './support.js';

let app: ClusterlessApp;
let template: Template;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
});

const policyOf = (name: HandlerName): PolicyDocument => identityPolicyOf(template, logicalId(app.controlPlane, app.controlPlane.functions[name].role));
const OTHER = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const RECONCILING = ['reconcile', 'rollout', 'remediate', 'teardown'] as HandlerName[];

/** The tags of a machine's instance (or a load balancer) of `installation`; none at all for undefined. */
const resourceTags = (installation: string | undefined): Record<string, string> =>
  installation === undefined ? {} : { [`aws:ResourceTag/${TagKeys.installation}`]: installation, [`aws:ResourceTag/${TagKeys.cluster}`]: 'default/prod' };
const requestTags = (installation: string | undefined): Record<string, string | string[]> => ({
  ...(installation === undefined ? {} : { [`aws:RequestTag/${TagKeys.installation}`]: installation }),
  [`aws:RequestTag/${TagKeys.cluster}`]: 'default/prod',
  [`aws:RequestTag/${TagKeys.machineUid}`]: '6f1c7c1e-0000-4000-8000-000000000001',
  'aws:TagKeys': [...(installation === undefined ? [] : [TagKeys.installation]), TagKeys.cluster, TagKeys.machineUid],
});

describe('TerminateInstances', () => {
  it('the provision role may terminate nothing, not even an instance of this installation', async () => {
    expect(await decide(policyOf('provision'), { action: 'ec2:TerminateInstances', resource: arns.instance(), context: resourceTags(STACK_UUID) })).not.toBe('Allowed');
  });

  it.each(RECONCILING)('%s may terminate an instance tagged with this installation, and not one of another installation or untagged', async (name) => {
    const terminate = (installation: string | undefined) => decide(policyOf(name), { action: 'ec2:TerminateInstances', resource: arns.instance(), context: resourceTags(installation) });
    expect(await terminate(STACK_UUID)).toBe('Allowed');
    expect(await terminate(OTHER)).not.toBe('Allowed');
    expect(await terminate(undefined)).not.toBe('Allowed');
  });
});

describe('RunInstances and the tags of the launch (provision)', () => {
  const launch = (resource: string, context: Record<string, string | string[]>) => decide(policyOf('provision'), { action: 'ec2:RunInstances', resource, context });

  it("creates an instance only with this installation's tag in the request (and IMDSv2)", async () => {
    const imds = { 'ec2:MetadataHttpTokens': 'required' };
    expect(await launch(arns.instance('*'), { ...requestTags(STACK_UUID), ...imds })).toBe('Allowed');
    expect(await launch(arns.instance('*'), { ...requestTags(OTHER), ...imds })).not.toBe('Allowed');
    expect(await launch(arns.instance('*'), { ...requestTags(undefined), ...imds })).not.toBe('Allowed');
    expect(await launch(arns.instance('*'), { ...requestTags(STACK_UUID), 'ec2:MetadataHttpTokens': 'optional' })).not.toBe('Allowed');
  });

  it("creates volumes only with this installation's tag in the request", async () => {
    expect(await launch(arns.volume('*'), requestTags(STACK_UUID))).toBe('Allowed');
    expect(await launch(arns.volume('*'), requestTags(OTHER))).not.toBe('Allowed');
    expect(await launch(arns.volume('*'), requestTags(undefined))).not.toBe('Allowed');
  });

  it("tags an instance or volume only while launching it, and only with this installation's tag", async () => {
    const tag = (resource: string, context: Record<string, string | string[]>) => decide(policyOf('provision'), { action: 'ec2:CreateTags', resource, context });
    const onLaunch = { 'ec2:CreateAction': 'RunInstances' };
    for (const resource of [arns.instance(), arns.volume()]) {
      expect(await tag(resource, { ...requestTags(STACK_UUID), ...onLaunch }), resource).toBe('Allowed');
      expect(await tag(resource, { ...requestTags(OTHER), ...onLaunch }), resource).not.toBe('Allowed');
      expect(await tag(resource, requestTags(STACK_UUID)), resource).not.toBe('Allowed');
    }
  });
});

describe('the control-plane load balancers and target groups', () => {
  const lb = arns.loadBalancer('clusterless-0123456789abcdef');
  const tg = arns.targetGroup('clusterless-0123456789abcdef');

  it.each(RECONCILING)("%s creates a load balancer or target group only with this installation's tag in the request", async (name) => {
    for (const [action, resource] of [
      ['elasticloadbalancing:CreateLoadBalancer', lb],
      ['elasticloadbalancing:CreateTargetGroup', tg],
    ] as const) {
      const create = (installation: string | undefined) => decide(policyOf(name), { action, resource, context: requestTags(installation) });
      expect(await create(STACK_UUID), action).toBe('Allowed');
      expect(await create(OTHER), action).not.toBe('Allowed');
      expect(await create(undefined), action).not.toBe('Allowed');
    }
  });

  it.each(RECONCILING)("%s adds listeners to and deletes only what carries this installation's tag", async (name) => {
    for (const [action, resource] of [
      ['elasticloadbalancing:CreateListener', lb],
      ['elasticloadbalancing:DeleteLoadBalancer', lb],
      ['elasticloadbalancing:DeleteTargetGroup', tg],
    ] as const) {
      const act = (installation: string | undefined) => decide(policyOf(name), { action, resource, context: resourceTags(installation) });
      expect(await act(STACK_UUID), action).toBe('Allowed');
      expect(await act(OTHER), action).not.toBe('Allowed');
      expect(await act(undefined), action).not.toBe('Allowed');
    }
  });

  it.each([
    ['provision', 'elasticloadbalancing:RegisterTargets'],
    ...RECONCILING.map((n) => [n, 'elasticloadbalancing:DeregisterTargets']),
  ] as [HandlerName, string][])("%s: %s only in target groups (the user's too) carrying this installation's tag", async (name, action) => {
    const userGroup = arns.targetGroup('prod-control-plane');
    const act = (installation: string | undefined) => decide(policyOf(name), { action, resource: userGroup, context: resourceTags(installation) });
    expect(await act(STACK_UUID)).toBe('Allowed');
    expect(await act(OTHER)).not.toBe('Allowed');
    expect(await act(undefined)).not.toBe('Allowed');
  });
});
