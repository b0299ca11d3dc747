/**
 * The tags clusterless puts on what it launches, and the filters that find them again. One cluster tag with
 * `{namespace}/{cluster}` (a cluster is named within its namespace; one tag means one DescribeInstances
 * filter), the machine's uid (adoption) and name, its role, a Name for the console, and
 * kubernetes.io/cluster/{name}=owned, which the AWS cloud provider and load balancer controller look for.
 * Learnt from cluster-api-provider-aws (api/v1beta2/tags.go, Build with ClusterName, Lifecycle owned, Name,
 * Role; pkg/cloud/filter/ec2.go, ClusterOwned and tag filters).
 */
import type { Filter, Tag } from '@aws-sdk/client-ec2';
import type { LaunchSpec } from '../../ports.js';

export const TagKeys = {
  /** The installation that made the resource (functions/installation.ts). */
  installation: 'clusterless.dev/installation',
  cluster: 'clusterless.dev/cluster',
  /** On a cluster's certificates secret: the Cluster's uid, so that a cluster made again under the same name is told apart. */
  clusterUid: 'clusterless.dev/cluster-uid',
  machineUid: 'clusterless.dev/machine-uid',
  machineName: 'clusterless.dev/machine-name',
  role: 'clusterless.dev/role',
  /** On a machine's bootstrap secret once its instance exists: the instance's ARN, the only one that may read it. */
  instanceArn: 'clusterless.dev/instance-arn',
  name: 'Name',
} as const;

export const clusterTagValue = (namespace: string, clusterName: string): string => `${namespace}/${clusterName}`;

/** The cloud provider's ownership tag. Note: it carries the cluster's name only, as Kubernetes knows no namespace. */
export const kubernetesClusterTagKey = (clusterName: string): string => `kubernetes.io/cluster/${clusterName}`;

/** Instance states in which an instance still is, or may again be, the Machine's (adoption). */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/**
 * The tags of a machine's instance and volumes. The class's additionalTags may set Name; they can never
 * override ours (the API also refuses clusterless.dev/ keys in them).
 */
export function machineTags(spec: LaunchSpec, installationId: string): Record<string, string> {
  return {
    [TagKeys.name]: spec.machineName,
    ...(spec.machineClass.aws?.additionalTags ?? {}),
    [TagKeys.installation]: installationId,
    [TagKeys.cluster]: clusterTagValue(spec.namespace, spec.clusterName),
    [TagKeys.machineUid]: spec.machineUid,
    [TagKeys.machineName]: spec.machineName,
    [TagKeys.role]: spec.role,
    [kubernetesClusterTagKey(spec.clusterName)]: 'owned',
  };
}

export function toTagList(tags: Record<string, string>): Tag[] {
  return Object.keys(tags)
    .sort()
    .map((Key) => ({ Key, Value: tags[Key] }));
}

export function tagFilter(key: string, ...values: string[]): Filter {
  return { Name: `tag:${key}`, Values: values };
}

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
