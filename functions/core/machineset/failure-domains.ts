/**
 * Spreading worker machines across failure domains, which Cluster API does for control-plane machines
 * (util/failuredomains: pick the domain with the fewest machines) but not for MachineSets.
 *
 * The domains are the cluster's (its provider's: api/providers, e.g. the sim's failureDomains or the zones of the
 * aws subnets), restricted to the MachineClass's failureDomains when it lists some; a template that sets
 * spec.failureDomain pins every machine to that one domain.
 */
import type { Cluster } from '../../api/cluster.js';
import type { MachineClass } from '../../api/machine-class.js';
import { classFailureDomains, providerFailureDomains } from '../../api/providers/index.js';

// The provider registry answers for each provider; re-exported where the planners always found them.
export { classFailureDomains, providerFailureDomains };

export type FailureDomainPlacement =
  /** `domains` empty: no spreading, machines get no failure domain (unless pinned). */
  { ok: true; domains: string[]; pinned?: string } | { ok: false; reason: 'InvalidFailureDomain'; message: string };

export function clusterFailureDomains(cluster: Cluster): string[] {
  return providerFailureDomains(cluster.spec.provider);
}

/**
 * The zones machines of a class may use in a cluster: the cluster's, narrowed to the class's when both list some;
 * the class's alone when the cluster lists none. Empty when the two lists share no zone (the callers say why).
 */
export function allowedFailureDomains(ofCluster: readonly string[], ofClass: readonly string[]): string[] {
  if (ofClass.length === 0) return [...ofCluster];
  return ofCluster.length > 0 ? ofCluster.filter((d) => ofClass.includes(d)) : [...ofClass];
}

export function failureDomainPlacement(cluster: Cluster, machineClass: MachineClass | undefined, pinned: string | undefined): FailureDomainPlacement {
  const ofCluster = clusterFailureDomains(cluster);
  const ofClass = classFailureDomains(machineClass?.spec);
  const domains = allowedFailureDomains(ofCluster, ofClass);
  if (ofClass.length > 0 && domains.length === 0)
    return {
      ok: false,
      reason: 'InvalidFailureDomain',
      message: `MachineClass ${machineClass!.metadata.name} allows failure domains ${ofClass.join(', ')}, none of which cluster ${cluster.metadata.name} has (${ofCluster.join(', ')})`,
    };
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

/** Up to this many failure domains are numbered by a walk of their names; beyond, by a map. */
export const FEW_DOMAINS = 8;

/**
 * Failure domains numbered in order of first appearance, for walks that count or queue machines per domain. A set has
 * a handful (the walk of a few names costs less than a map read per machine); but a Machine's failureDomain is any
 * DNS label, and machines naming thousands of them must not make each lookup a walk of them all: past FEW_DOMAINS a
 * map answers.
 */
export class DomainNumbers {
  readonly names: string[] = [];
  private byName: Map<string, number> | undefined;

  /** The number of `domain`: a new one gets the next (names.length before the call). */
  idOf(domain: string): number {
    const names = this.names;
    if (this.byName === undefined) {
      for (let id = 0; id < names.length; id++) if (names[id] === domain) return id;
      names.push(domain);
      if (names.length > FEW_DOMAINS) this.byName = new Map(names.map((name, id) => [name, id]));
      return names.length - 1;
    }
    let id = this.byName.get(domain);
    if (id === undefined) {
      id = names.length;
      names.push(domain);
      this.byName.set(domain, id);
    }
    return id;
  }
}
