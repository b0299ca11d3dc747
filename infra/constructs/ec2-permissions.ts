/**
 * The EC2 and ELBv2 permissions of the task functions, scoped by the tags clusterless puts on what it makes
 * (functions/adapters/aws/tags.ts) rather than by resource names, which it cannot know in advance. Every mutating
 * permission requires the installation's tag (functions/installation.ts), so that a second control plane in the
 * account, or anything else there, is out of reach.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TagKeys } from '../../functions/adapters/aws/tags.js';

/** `{namespace}/{cluster}`: present and shaped like the value the provider writes. */
const CLUSTER_TAG_VALUE = '?*/?*';

function ec2Arn(resource: string, withAccount = true): string {
  return `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${withAccount ? Aws.ACCOUNT_ID : ''}:${resource}/*`;
}

const exactEc2Arn = (resource: string, id: string) => `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}/${id}`;

const elbArn = (resource: string) => `arn:${Aws.PARTITION}:elasticloadbalancing:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;

/** Conditions on a resource that must carry the installation's tag and a cluster tag (what the control plane made). */
function taggedResource(installationId: string): Record<string, Record<string, string>> {
  return {
    StringEquals: { [`aws:ResourceTag/${TagKeys.installation}`]: installationId },
    StringLike: { [`aws:ResourceTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE },
  };
}

/**
 * The subnets and security groups machines may be launched into. Each list given names them exactly; a list not
 * given means those tagged `clusterless.dev/installation={installation id}` (the user tags what machines may use).
 */
export interface MachineNetworkProps {
  /** @default - the subnets tagged with the installation */
  readonly subnetIds?: string[];
  /** @default - the security groups tagged with the installation */
  readonly securityGroupIds?: string[];
}

export interface LaunchPermissionsOptions {
  /** The installation id: the launch must tag the instance and its volumes with it. */
  readonly installationId: string;
  /** The roles the machines' instance profiles may carry (iam:PassRole of these only). */
  readonly nodeRoles: readonly iam.IRole[];
  /** @default - subnets and security groups tagged with the installation */
  readonly machineNetwork?: MachineNetworkProps;
}

/**
 * RunInstances as the provider makes it (adapters/ec2/ec2-machine-provider.ts): the instance and its volumes
 * only with the installation, cluster and machine-uid tags in the request, the instance only with IMDSv2
 * required; tags only as part of that launch; subnets and security groups of the installation only; the other
 * resources a launch touches (network interface, image and its snapshot, key pair, a spot request); EC2 Spot's
 * service-linked role; and iam:PassRole of the node roles only.
 */
export function grantLaunchInstances(grantee: iam.IGrantable, options: LaunchPermissionsOptions): void {
  const installation = { [`aws:RequestTag/${TagKeys.installation}`]: options.installationId };
  const tagged = {
    StringEquals: installation,
    StringLike: { [`aws:RequestTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE },
    Null: { [`aws:RequestTag/${TagKeys.machineUid}`]: 'false' },
  };
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:RunInstances'],
    resourceArns: [ec2Arn('instance')],
    conditions: { ...tagged, StringEquals: { ...installation, 'ec2:MetadataHttpTokens': 'required' } },
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['ec2:RunInstances'], resourceArns: [ec2Arn('volume')], conditions: tagged });
  const network = options.machineNetwork ?? {};
  const byTag = { StringEquals: { [`aws:ResourceTag/${TagKeys.installation}`]: options.installationId } };
  for (const [resource, ids] of [
    ['subnet', network.subnetIds],
    ['security-group', network.securityGroupIds],
  ] as const) {
    if (ids?.length === 0) throw new Error(`machineNetwork.${resource === 'subnet' ? 'subnetIds' : 'securityGroupIds'}: name at least one, or leave it out to use the tagged ones`);
    if (ids) iam.Grant.addToPrincipal({ grantee, actions: ['ec2:RunInstances'], resourceArns: ids.map((id) => exactEc2Arn(resource, id)) });
    else iam.Grant.addToPrincipal({ grantee, actions: ['ec2:RunInstances'], resourceArns: [ec2Arn(resource)], conditions: byTag });
  }
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ec2:RunInstances'],
    resourceArns: [
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
    conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances', ...installation } },
  });
  // An account's first Spot launch makes EC2 Spot's service-linked role, and RunInstances fails without the right
  // to (cluster-api-provider-aws cmd/clusterawsadm/cloudformation/bootstrap/cluster_api_controller.go grants the
  // same): that role only, and only for that service.
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:CreateServiceLinkedRole'],
    resourceArns: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`],
    conditions: { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } },
  });
  if (options.nodeRoles.length === 0) throw new Error('grantLaunchInstances: no node role to pass');
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:PassRole'],
    resourceArns: options.nodeRoles.map((r) => r.roleArn),
    conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
  });
}

/** TerminateInstances of instances this installation launched (they carry its tag and a cluster tag), nothing else. */
export function grantTerminateInstances(grantee: iam.IGrantable, installationId: string): void {
  iam.Grant.addToPrincipal({ grantee, actions: ['ec2:TerminateInstances'], resourceArns: [ec2Arn('instance')], conditions: taggedResource(installationId) });
}

/** EC2 Describe* calls, which have no resource-level permissions: they can only be granted on `*`. */
export function grantDescribe(grantee: iam.IGrantable, actions: ('ec2:DescribeInstances' | 'ec2:DescribeImages' | 'ec2:DescribeTags')[]): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: ['*'] });
}

/**
 * The control-plane target groups (functions/adapters/elbv2): register a control-plane instance (provision)
 * and deregister one before it goes (every reconciling task). Target groups a Cluster names
 * (controlPlaneLoadBalancer.targetGroupArn) are the user's: only those tagged with this installation and a cluster
 * (`clusterless.dev/installation={id}`, `clusterless.dev/cluster={namespace}/{cluster}`) may be changed.
 */
export function grantTargetRegistration(
  grantee: iam.IGrantable,
  actions: ('elasticloadbalancing:RegisterTargets' | 'elasticloadbalancing:DeregisterTargets')[],
  installationId: string,
): void {
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [elbArn('targetgroup/*/*')], conditions: taggedResource(installationId) });
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
 * The control-plane load balancers clusterless makes (adapters/elbv2/elbv2-managed-load-balancers.ts). Describing has no
 * resource-level permissions. With `manage` (the reconciling tasks, whose plans may make or delete one): create a
 * load balancer or target group only under clusterless-* names and with the installation's and a cluster tag in the
 * request, tag only while creating, add a listener and delete only what carries both tags.
 */
export function grantManagedLoadBalancers(grantee: iam.IGrantable, options: { manage: boolean; installationId: string }): void {
  iam.Grant.addToPrincipal({
    grantee,
    // DescribeTags: what is found by name is ours only when it carries the installation's tag.
    actions: ['elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTags'],
    resourceArns: ['*'],
  });
  if (!options.manage) return;
  const tagged = taggedResource(options.installationId);
  iam.Grant.addToPrincipal({ grantee, actions: ['ec2:DescribeSubnets'], resourceArns: ['*'] });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
    resourceArns: [MANAGED_LOAD_BALANCERS, MANAGED_TARGET_GROUPS],
    conditions: {
      StringEquals: { [`aws:RequestTag/${TagKeys.installation}`]: options.installationId },
      StringLike: { [`aws:RequestTag/${TagKeys.cluster}`]: CLUSTER_TAG_VALUE },
    },
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
