/**
 * Spreading worker machines across failure domains, which Cluster API does for control-plane machines
 * (util/failuredomains: pick the domain with the fewest machines) but not for MachineSets.
 *
 * The domains are the cluster's (provider.sim.failureDomains, or the availability zones of provider.aws
 * subnets), restricted to the MachineClass's failureDomains when it lists some; a template that sets
 * spec.failureDomain pins every machine to that one domain.
 */
import type { Cluster } from '../../api/cluster.js';
import type { MachineClass } from '../../api/machine-class.js';

export type FailureDomainPlacement =
  /** `domains` empty: no spreading, machines get no failure domain (unless pinned). */
  | { ok: true; domains: string[]; pinned?: string }
  | { ok: false; reason: 'InvalidFailureDomain'; message: string };

export function clusterFailureDomains(cluster: Cluster): string[] {
  const p = cluster.spec.provider;
  if (p.aws) return [...new Set(p.aws.subnets.map((s) => s.availabilityZone))];
  return [...(p.sim?.failureDomains ?? [])];
}

export function failureDomainPlacement(
  cluster: Cluster,
  machineClass: MachineClass | undefined,
  pinned: string | undefined,
): FailureDomainPlacement {
  const ofCluster = clusterFailureDomains(cluster);
  const ofClass = machineClass?.spec.aws?.failureDomains ?? machineClass?.spec.sim?.failureDomains ?? [];
  let domains = ofCluster;
  if (ofClass.length > 0) {
    domains = ofCluster.length > 0 ? ofCluster.filter((d) => ofClass.includes(d)) : [...ofClass];
    if (domains.length === 0)
      return {
        ok: false,
        reason: 'InvalidFailureDomain',
        message: `MachineClass ${machineClass!.metadata.name} allows failure domains ${ofClass.join(', ')}, none of which cluster ${cluster.metadata.name} has (${ofCluster.join(', ')})`,
      };
  }
  if (pinned === undefined) return { ok: true, domains };
  if (domains.length > 0 && !domains.includes(pinned))
    return {
      ok: false,
      reason: 'InvalidFailureDomain',
      message: `failure domain ${pinned} is not one of the allowed failure domains (${domains.join(', ')})`,
    };
  return { ok: true, domains: [pinned], pinned };
}

/**
 * The failure domain of each of `count` new machines: every one goes to the domain with the fewest
 * machines at that point, ties to the domain listed first. `existing` counts the machines per domain that
 * will stay (deleting ones excluded). Returns undefined entries when there are no domains.
 */
export function spreadNewMachines(
  placement: Extract<FailureDomainPlacement, { ok: true }>,
  existing: ReadonlyMap<string, number>,
  count: number,
): (string | undefined)[] {
  if (placement.domains.length === 0) return Array.from({ length: count }, () => undefined);
  const counts = placement.domains.map((d) => existing.get(d) ?? 0);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let best = 0;
    for (let i = 1; i < counts.length; i++) if (counts[i]! < counts[best]!) best = i;
    counts[best]!++;
    out.push(placement.domains[best]!);
  }
  return out;
}
