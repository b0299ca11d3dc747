/**
 * The EC2 permissions of the task functions, scoped by the tags clusterless puts on what it launches
 * (functions/adapters/ec2/tags.ts) rather than by resource names, which it cannot know in advance.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TagKeys } from '../../functions/adapters/ec2/tags.js';

/**
 * The default name prefix of the IAM roles that machines' instance profiles may carry: the provision task may
 * pass only these roles to EC2 (iam:PassRole). A MachineClass's iamInstanceProfile must hold such a role.
 */
export const DEFAULT_INSTANCE_ROLE_PREFIX = 'clusterless-node-';

/** `{namespace}/{cluster}`: present and shaped like the value the provider writes. */
const CLUSTER_TAG_VALUE = '?*/?*';

function ec2Arn(resource: string, withAccount = true): string {
  return `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${withAccount ? Aws.ACCOUNT_ID : ''}:${resource}/*`;
}

const elbArn = (resource: string) => `arn:${Aws.PARTITION}:elasticloadbalancing:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;

export interface LaunchPermissionsOptions {
  /** @default DEFAULT_INSTANCE_ROLE_PREFIX */
  readonly instanceRolePrefix?: string;
}

/**
 * RunInstances as the provider makes it (adapters/ec2/ec2-machine-provider.ts): the instance and its volumes
 * only with the clusterless cluster and machine-uid tags in the request, the instance only with IMDSv2
 * required; tags only as part of that launch; and the other resources a launch touches (subnet, security
 * groups, network interface, image and its snapshot, key pair, a spot request).
 */
export function grantLaunchInstances(grantee: iam.IGrantable, options: LaunchPermissionsOptions = {}): void {
  const tagged = {
    StringLike: { [`aws:RequestTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE },
    Null: { [`aws:RequestTag/${TagKeys.machineUid}`]: 'false' },
  };
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:RunInstances'],
    resourceArns: [ec2Arn('instance')],
    conditions: { ...tagged, StringEquals: { 'ec2:MetadataHttpTokens': 'required' } },
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['ec2:RunInstances'], resourceArns: [ec2Arn('volume')], conditions: tagged });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:RunInstances'],
    resourceArns: [
      ec2Arn('subnet'),
      ec2Arn('security-group'),
      ec2Arn('network-interface'),
      ec2Arn('key-pair'),
      ec2Arn('spot-instances-request'),
      // Public and shared AMIs and their snapshots belong to other accounts.
      ec2Arn('image', false),
      ec2Arn('snapshot', false),
    ],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:CreateTags'],
    resourceArns: [ec2Arn('instance'), ec2Arn('volume')],
    conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
  });
  const prefix = options.instanceRolePrefix ?? DEFAULT_INSTANCE_ROLE_PREFIX;
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:PassRole'],
    resourceArns: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${prefix}*`],
    conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
  });
}

/** TerminateInstances of instances this control plane launched (they carry the cluster tag), nothing else. */
export function grantTerminateInstances(grantee: iam.IGrantable): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:TerminateInstances'],
    resourceArns: [ec2Arn('instance')],
    conditions: { StringLike: { [`aws:ResourceTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE } },
  });
}

/** EC2 Describe* calls, which have no resource-level permissions: they can only be granted on `*`. */
export function grantDescribe(grantee: iam.IGrantable, actions: ('ec2:DescribeInstances' | 'ec2:DescribeImages' | 'ec2:DescribeTags')[]): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: ['*'] });
}

/**
 * The control-plane target groups (functions/adapters/elbv2): register a control-plane instance (provision)
 * and deregister one before it goes (every reconciling task). Target groups are the user's, named by ARN in
 * Cluster.spec.provider.aws.controlPlaneLoadBalancer.targetGroupArn; only those tagged with the cluster tag
 * (`clusterless.dev/cluster`, `{namespace}/{cluster}`) may be changed.
 */
export function grantTargetRegistration(grantee: iam.IGrantable, actions: ('elasticloadbalancing:RegisterTargets' | 'elasticloadbalancing:DeregisterTargets')[]): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: [elbArn('targetgroup/*/*')],
    conditions: { StringLike: { [`aws:ResourceTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE } },
  });
}

/**
 * MachineClasses that name their image by imageSsmParameter (functions/adapters/ec2/image-parameter.ts):
 * ssm:GetParameter of the parameters AWS and vendors publish under /aws/service/ (public parameters have no
 * account in their ARN), nothing of the account's own parameters.
 */
export function grantImageParameters(grantee: iam.IGrantable): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ssm:GetParameter'],
    resourceArns: [`arn:${Aws.PARTITION}:ssm:${Aws.REGION}::parameter/aws/service/*`],
  });
}

/** The names clusterless gives the load balancers and target groups it makes (adapters/elbv2: loadBalancerName). */
export const MANAGED_LOAD_BALANCERS = elbArn('loadbalancer/net/clusterless-*/*');
export const MANAGED_TARGET_GROUPS = elbArn('targetgroup/clusterless-*/*');
export const MANAGED_LISTENERS = elbArn('listener/net/clusterless-*/*/*');

/**
 * The control-plane load balancers clusterless makes (adapters/elbv2/elbv2-load-balancers.ts). Describing has no
 * resource-level permissions. With `manage` (the reconciling tasks, whose plans may make or delete one): create a
 * load balancer or target group only under clusterless-* names and with the cluster tag in the request, tag only
 * while creating, add a listener and delete only what carries the cluster tag.
 */
export function grantControlPlaneLoadBalancers(grantee: iam.IGrantable, options: { manage: boolean }): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeListeners'],
    resourceArns: ['*'],
  });
  if (!options.manage) return;
  const tagged = { StringLike: { [`aws:ResourceTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE } };
  iam.Grant.addToPrincipal({ grantee, actions: ['ec2:DescribeSubnets'], resourceArns: ['*'] });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
    resourceArns: [MANAGED_LOAD_BALANCERS, MANAGED_TARGET_GROUPS],
    conditions: { StringLike: { [`aws:RequestTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE } },
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['elasticloadbalancing:AddTags'],
    resourceArns: [MANAGED_LOAD_BALANCERS, MANAGED_TARGET_GROUPS, MANAGED_LISTENERS],
    conditions: { StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateLoadBalancer', 'CreateTargetGroup', 'CreateListener'] } },
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteLoadBalancer'],
    resourceArns: [MANAGED_LOAD_BALANCERS],
    conditions: tagged,
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['elasticloadbalancing:DeleteTargetGroup'], resourceArns: [MANAGED_TARGET_GROUPS], conditions: tagged });
  // The first load balancer of an account makes ELB's service-linked role (as Cluster API AWS's controller policy
  // allows): that role only, and only for that service.
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:CreateServiceLinkedRole'],
    resourceArns: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`],
    conditions: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
  });
}
