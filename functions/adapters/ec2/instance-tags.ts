/**
 * The tags of a machine's instance and volumes, and the EC2 filters and states that find them again (the tag keys
 * themselves are every AWS adapter's: aws/tags.ts). Learnt from cluster-api-provider-aws (api/v1beta2/tags.go;
 * pkg/cloud/filter/ec2.go, tag filters).
 */
import type { Filter } from '../aws/ec2-query/index.js';
import type { LaunchSpec } from '../../ports.js';
import { TagKeys, clusterTagValue, kubernetesClusterTagKey } from '../aws/tags.js';

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

export function tagFilter(key: string, ...values: string[]): Filter {
  return { Name: `tag:${key}`, Values: values };
}
