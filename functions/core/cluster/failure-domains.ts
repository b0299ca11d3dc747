/**
 * Failure domains of a cluster, from its provider configuration as its provider reads them (api/providers: the
 * simulator's zones, or the availability zones of the AWS subnets). Cluster API reads them from the InfrastructureCluster into Cluster
 * status.failureDomains (core/reconcilers/cluster/cluster_controller_phases.go, reconcileInfrastructure);
 * here the provider config is part of the Cluster itself, so the planners compute them directly and never wait
 * for a status write to see a new zone.
 */
import type { Cluster } from '../../api/cluster.js';
import type { MachineClass } from '../../api/machine-class.js';
import { classFailureDomains, providerFailureDomains } from '../../api/providers/index.js';

export type FailureDomains = Record<string, { controlPlane?: boolean }>;

/** Every zone of the cluster, each eligible for control-plane machines. */
export function failureDomainsOf(cluster: Cluster): FailureDomains {
  const zones = providerFailureDomains(cluster.spec.provider);
  return Object.fromEntries([...new Set(zones)].sort().map((z) => [z, { controlPlane: true }]));
}

/**
 * The zones machines of a class may use: the cluster's, narrowed to the class's own list when it has one.
 * None left means no spreading: the machines get no failure domain and the provider places them.
 */
export function failureDomainNames(cluster: Cluster, machineClass?: MachineClass, controlPlane = false): string[] {
  const all = Object.entries(failureDomainsOf(cluster))
    .filter(([, fd]) => !controlPlane || fd.controlPlane)
    .map(([name]) => name);
  const allowed = classFailureDomains(machineClass?.spec);
  if (allowed.length === 0) return all;
  return all.filter((z) => allowed.includes(z));
}
