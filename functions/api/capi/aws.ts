/**
 * Cluster API Provider AWS objects as clusterless provider settings: an AWSCluster becomes the Cluster's
 * `spec.provider.aws`, an AWSMachineTemplate (or an AWSMachinePool's launch template) a MachineClass's
 * `spec.aws`. Field meanings learnt from cluster-api-provider-aws api/v1beta2 (awscluster_types.go,
 * awsmachine_types.go, awsmachinepool_types.go, network_types.go, types.go) and templates/cluster-template.yaml.
 */
import { type FieldReader, isRecord, type Path, str } from './fields.js';
import { acceleratedImageParameter } from '../providers/aws-accelerators.js';

/** What the machine settings need from the clusters of the file. */
export interface AwsContext {
  /** Subnet id -> availability zone, from every AWSCluster's spec.network.subnets. */
  subnetZones: ReadonlyMap<string, string>;
  /** The SSH key names the AWSClusters set (clusterless sets the key per cluster). */
  clusterSshKeys: ReadonlySet<string>;
  defaultImageSsmParameter?: string | undefined;
}

/** Cluster API AWS's load balancer types; clusterless makes a network load balancer (nlb) whatever was asked. */
const OTHER_LOAD_BALANCER_TYPES = new Set(['classic', 'elb', 'alb']);

/**
 * AWSCluster -> `spec.provider.aws` and, when the AWSCluster names one, the control plane endpoint. clusterless
 * never creates a VPC: it takes existing subnets (each with its availability zone), as AWSCluster's
 * "bring your own infrastructure" form names them.
 */
export function awsClusterProvider(
  r: FieldReader,
  errors: { path: string; message: string }[],
): { provider: Record<string, unknown>; endpoint?: { host: string; port: number } } {
  const aws: Record<string, unknown> = {};
  const region = r.get(['spec', 'region']);
  if (region !== undefined) aws['region'] = region;

  const subnets: Record<string, unknown>[] = [];
  const given = r.peek(['spec', 'network', 'subnets']);
  if (Array.isArray(given))
    given.forEach((s, i) => {
      const base = ['spec', 'network', 'subnets', i];
      if (!isRecord(s)) return;
      subnets.push({ id: r.get([...base, 'id']), availabilityZone: r.get([...base, 'availabilityZone']) });
      // Fields that describe a subnet Cluster API AWS would create: clusterless only uses existing ones.
      r.skip([...base, 'resourceID']);
    });
  if (subnets.length === 0)
    errors.push({
      path: 'spec.network.subnets',
      message: 'clusterless does not create a VPC: name the existing subnets, one per availability zone, each with id and availabilityZone',
    });
  else r.skip(['spec', 'network', 'vpc', 'id']); // the subnets' VPC: clusterless finds it from them
  aws['subnets'] = subnets;

  // The roles' security groups (network.securityGroupOverrides: bastion, controlplane, apiserver-lb, lb, node).
  const overrides = r.peek(['spec', 'network', 'securityGroupOverrides']);
  if (isRecord(overrides)) {
    const ids: string[] = [];
    for (const role of ['controlplane', 'node']) {
      const id = str(r.get(['spec', 'network', 'securityGroupOverrides', role]));
      if (id && !ids.includes(id)) ids.push(id);
    }
    if (ids.length > 0) aws['securityGroupIds'] = ids;
    if (ids.length > 1)
      r.warn(
        ['spec', 'network', 'securityGroupOverrides'],
        `converted to spec.provider.aws.securityGroupIds: clusterless attaches ${ids.join(' and ')} to every machine, control plane and workers alike`,
      );
  }

  const lbType = str(r.get(['spec', 'controlPlaneLoadBalancer', 'loadBalancerType']));
  const scheme = r.get(['spec', 'controlPlaneLoadBalancer', 'scheme']);
  if (lbType && OTHER_LOAD_BALANCER_TYPES.has(lbType))
    r.warn(['spec', 'controlPlaneLoadBalancer', 'loadBalancerType'], `clusterless makes a network load balancer, not ${lbType}`);
  // Cluster API AWS's load balancer is internet-facing unless told otherwise (awscluster_types.go, Scheme default).
  if (lbType !== 'disabled') aws['controlPlaneLoadBalancer'] = { scheme: scheme ?? 'internet-facing' };

  const ssh = r.get(['spec', 'sshKeyName']);
  if (typeof ssh === 'string' && ssh !== '') aws['sshKeyName'] = ssh;

  const host = str(r.get(['spec', 'controlPlaneEndpoint', 'host']));
  const port = r.get(['spec', 'controlPlaneEndpoint', 'port']);
  const endpoint = host ? { host, port: typeof port === 'number' && port > 0 ? port : 6443 } : undefined;
  return { provider: aws, ...(endpoint ? { endpoint } : {}) };
}

/**
 * EC2 launch settings at `base` (an AWSMachineTemplate's spec.template.spec, an AWSMachinePool's
 * spec.awsLaunchTemplate) -> a MachineClass's `spec.aws`.
 */
export function awsMachineClass(r: FieldReader, base: Path, ctx: AwsContext): Record<string, unknown> {
  const at = (...p: (string | number)[]) => [...base, ...p];
  const aws: Record<string, unknown> = {};
  const instanceType = r.get(at('instanceType'));
  aws['instanceTypes'] = instanceType === undefined ? [] : [instanceType];

  const ami = r.get(at('ami', 'id'));
  // An NVIDIA type with no image: the MachineClass's own default (the public GPU image), not the plain one, which
  // has no driver and which the API refuses for such types.
  const accelerated = typeof instanceType === 'string' ? acceleratedImageParameter([instanceType]) : undefined;
  if (ami !== undefined) aws['ami'] = ami;
  else if (accelerated) {
    aws['imageSsmParameter'] = accelerated;
    r.warn(
      at('ami'),
      `not set: Cluster API AWS looks up its own published image for the Kubernetes version; clusterless uses the GPU image of the SSM parameter ${accelerated} for ${instanceType}`,
    );
  } else if (ctx.defaultImageSsmParameter) {
    aws['imageSsmParameter'] = ctx.defaultImageSsmParameter;
    r.warn(
      at('ami'),
      `not set: Cluster API AWS looks up its own published image for the Kubernetes version; clusterless uses the image of the SSM parameter ${ctx.defaultImageSsmParameter}`,
    );
  }

  const profile = r.get(at('iamInstanceProfile'));
  if (profile !== undefined) aws['iamInstanceProfile'] = profile;

  const size = r.get(at('rootVolume', 'size'));
  const type = r.get(at('rootVolume', 'type'));
  if (size !== undefined || type !== undefined)
    aws['rootVolume'] = { ...(size !== undefined ? { sizeGiB: size } : {}), ...(type !== undefined ? { type } : {}) };
  if (r.get(at('rootVolume', 'encrypted')) === false) r.warn(at('rootVolume', 'encrypted'), 'not converted (clusterless always encrypts root volumes)');

  const spot = r.peek(at('spotMarketOptions'));
  if (spot !== undefined) {
    r.skip(at('spotMarketOptions'));
    const maxPrice = isRecord(spot) ? spot['maxPrice'] : undefined;
    aws['spot'] = maxPrice !== undefined ? { maxPrice } : {};
  }

  const tags = r.get(at('additionalTags'));
  if (isRecord(tags)) aws['additionalTags'] = tags;

  // A subnet pins the machines to its zone: clusterless restricts the class to that failure domain.
  const zones: string[] = [];
  const subnetId = str(r.peek(at('subnet', 'id')));
  if (subnetId) {
    const zone = ctx.subnetZones.get(subnetId);
    if (zone) {
      r.skip(at('subnet', 'id'));
      zones.push(zone);
    } else r.warn(at('subnet', 'id'), `not converted (${subnetId} is not among the AWSCluster's spec.network.subnets, so its zone is unknown)`);
  }
  const failureDomain = str(r.get(at('failureDomain')));
  if (failureDomain && !zones.includes(failureDomain)) zones.push(failureDomain);
  if (zones.length > 0) aws['failureDomains'] = zones;

  if (r.peek(at('additionalSecurityGroups')) !== undefined)
    r.warn(
      at('additionalSecurityGroups'),
      "not converted (clusterless attaches the Cluster's spec.provider.aws.securityGroupIds to every machine: add the groups there)",
    );

  const ssh = str(r.peek(at('sshKeyName')));
  if (ssh !== undefined) {
    if (ctx.clusterSshKeys.has(ssh)) r.skip(at('sshKeyName'));
    else r.warn(at('sshKeyName'), `not converted (clusterless sets the SSH key per cluster, in the AWSCluster's spec.sshKeyName; ${ssh} is not it)`);
  }
  return aws;
}
