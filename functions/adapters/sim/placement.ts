/**
 * Placement shared by the providers: which zones a machine may use, and the (instance type, zone) attempts of a
 * launch in the order to try them. Pure; it could live in core/ next to failure-domains.ts, and restates its
 * rules (the cluster's zones narrowed to the class's) for the provider side.
 */
import { InvalidSpecError, type LaunchAttempt, type LaunchSpec } from '../../ports.js';
import { seededUnit } from './random.js';

/**
 * The zones a launch may use, in the order to try them: the pinned failure domain alone, or the cluster's
 * zones narrowed to the class's, rotated to start at the preferred zone (where the MachineSet spread the machine)
 * or else at a zone picked by the machine uid (a retried launch tries the same order). The ec2 adapter maps the zones to the subnets of the cluster.
 */
export function zonesFor(spec: LaunchSpec, defaultZone: string): string[] {
  const p = spec.clusterProvider;
  const clusterZones = p.aws ? p.aws.subnets.map((s) => s.availabilityZone) : (p.sim?.failureDomains ?? []);
  const classZones = spec.machineClass.aws?.failureDomains ?? spec.machineClass.sim?.failureDomains ?? [];
  const allowed =
    clusterZones.length === 0 ? classZones : classZones.length === 0 ? clusterZones : clusterZones.filter((z) => classZones.includes(z));
  if (spec.failureDomain !== undefined) {
    if (allowed.includes(spec.failureDomain) || (clusterZones.length === 0 && classZones.length === 0)) return [spec.failureDomain];
    throw new InvalidSpecError(
      `failure domain ${spec.failureDomain} is not one the machine may use (${allowed.length ? allowed.join(', ') : 'none'})`,
    );
  }
  if (allowed.length === 0) {
    if (clusterZones.length > 0) throw new InvalidSpecError(`the machine class allows none of the cluster's zones (${clusterZones.join(', ')})`);
    return [defaultZone];
  }
  const preferred = spec.preferredFailureDomain !== undefined ? allowed.indexOf(spec.preferredFailureDomain) : -1;
  const start = preferred >= 0 ? preferred : Math.floor(seededUnit('zones', spec.machineUid) * allowed.length);
  return [...allowed.slice(start), ...allowed.slice(0, start)];
}

export const sameAttempt = (a: LaunchAttempt, b: LaunchAttempt | undefined): boolean =>
  b !== undefined && a.instanceType === b.instanceType && a.availabilityZone === b.availabilityZone;

/**
 * The attempts of a launch in the order to try them: each zone of zonesFor in order, each instance type in order
 * within it, and the recorded attempt (spec.recordedAttempt) first when it is still one of them (a class or
 * cluster changed since may have dropped it), so that a request that succeeded before a crash is sent again before
 * any other. The ec2 adapter maps each zone to the cluster's subnet there.
 */
export function launchAttempts(spec: LaunchSpec, instanceTypes: readonly string[], defaultZone: string): LaunchAttempt[] {
  const all = zonesFor(spec, defaultZone).flatMap((availabilityZone) => instanceTypes.map((instanceType) => ({ instanceType, availabilityZone })));
  const recorded = all.findIndex((a) => sameAttempt(a, spec.recordedAttempt));
  return recorded <= 0 ? all : [all[recorded]!, ...all.slice(0, recorded), ...all.slice(recorded + 1)];
}
