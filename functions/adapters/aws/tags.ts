/**
 * The tags clusterless puts on everything it makes in AWS (instances and their volumes, load balancers and target
 * groups, secrets), and the helpers every AWS adapter reads and writes them with. One cluster tag with
 * `{namespace}/{cluster}` (a cluster is named within its namespace; one tag means one DescribeInstances filter),
 * the installation (functions/installation.ts), the machine's uid (adoption) and name, its role, a Name for the
 * console, and kubernetes.io/cluster/{name}=owned, which the AWS cloud provider and load balancer controller look
 * for. Learnt from cluster-api-provider-aws (api/v1beta2/tags.go, Build with ClusterName, Lifecycle owned, Name,
 * Role; pkg/cloud/filter/ec2.go, ClusterOwned and tag filters).
 */

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

/** The tags of a cluster's certificates secret: its cluster, and the Cluster's uid when known (a cluster made again under the name is another). */
export function certificatesSecretTags(namespace: string, clusterName: string, clusterUid?: string): Record<string, string> {
  return { [TagKeys.cluster]: clusterTagValue(namespace, clusterName), ...(clusterUid ? { [TagKeys.clusterUid]: clusterUid } : {}) };
}

/** The cloud provider's ownership tag. Note: it carries the cluster's name only, as Kubernetes knows no namespace. */
export const kubernetesClusterTagKey = (clusterName: string): string => `kubernetes.io/cluster/${clusterName}`;

/** A tag as every AWS SDK client spells it (EC2's, ELBv2's and Secrets Manager's Tag types all have this shape). */
export interface AwsTag {
  Key?: string;
  Value?: string;
}

/** Tags as the SDKs take them, sorted by key so that requests are stable. */
export function toTagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.keys(tags)
    .sort()
    .map((Key) => ({ Key, Value: tags[Key]! }));
}

export function tagValue(tags: readonly AwsTag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
