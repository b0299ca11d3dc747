/**
 * Where a machine's instance goes: the zones its launch may use, and the (instance type, zone) attempts of the
 * launch in the order to try them. Both providers (adapters/sim and adapters/ec2) launch by these rules; which
 * zones are allowed is the MachineSet's rule too (machineset/failure-domains.ts), so that a provider never
 * places a machine where the planner would not have spread it.
 *
 * Pure: the providers pass in the seeded draw that picks the first zone of an unpinned machine without a
 * preference (functions/seeded-random.ts), and turn a refusal into their own error (InvalidSpecError).
 */
import type { ClusterSpec } from '../../api/cluster.js';
import type { MachineClassSpec } from '../../api/machine-class.js';
import { allowedFailureDomains, classFailureDomains, providerFailureDomains } from '../machineset/failure-domains.js';

/** One (instance type, zone) attempt of a launch's capacity fallback; the zone names the cluster's subnet there. */
export interface LaunchAttempt {
  instanceType: string;
  availabilityZone: string;
  /**
   * The market of the request, where the provider has more than one round (a spot machine's on-demand fallback
   * sends the same type and zone again on-demand, with a token of its own): a retry after a crash must resend the
   * round that was in flight, not the spot request before it.
   */
  capacityType?: 'spot' | 'on-demand';
}

/** What placement reads of a launch (functions/ports.ts LaunchSpec has all of it). */
export interface PlacementRequest {
  machineUid: string;
  /** The cluster's provider settings: the AWS subnets' zones, or the simulator's zones. */
  clusterProvider: ClusterSpec['provider'];
  machineClass: MachineClassSpec;
  /** Pins the machine to this zone alone. */
  failureDomain?: string;
  /** Without a pin: the zone to try first (where the MachineSet spread the machine). */
  preferredFailureDomain?: string;
  /** The attempt recorded on the Machine before an earlier launch request: tried first while still allowed. */
  recordedAttempt?: LaunchAttempt;
}

/**
 * A number in [0, 1) that depends only on (seed, key), the same on every call and every host
 * (functions/seeded-random.ts: seededUnit). A retried launch must try the same order.
 */
export type SeededUnit = (seed: string, key: string) => number;

/** The zones to try in order, or why the machine may use none. */
export type ZonePlacement = { ok: true; zones: string[] } | { ok: false; message: string };

/** The attempts to make in order, or why the machine may use no zone. */
export type LaunchPlacement = { ok: true; attempts: LaunchAttempt[] } | { ok: false; message: string };

/**
 * The zones a launch may use, in the order to try them: the pinned failure domain alone, or the zones the class
 * allows in the cluster, rotated to start at the preferred zone (where the MachineSet spread the machine) or else
 * at a zone drawn from the machine's uid (a retried launch tries the same order). `defaultZone` is the provider's
 * zone for a machine that neither the cluster nor the class places.
 */
export function zonesFor(request: PlacementRequest, defaultZone: string, unit: SeededUnit): ZonePlacement {
  const clusterZones = providerFailureDomains(request.clusterProvider);
  const classZones = classFailureDomains(request.machineClass);
  const allowed = allowedFailureDomains(clusterZones, classZones);
  if (request.failureDomain !== undefined) {
    if (allowed.includes(request.failureDomain) || (clusterZones.length === 0 && classZones.length === 0)) return { ok: true, zones: [request.failureDomain] };
    return { ok: false, message: `failure domain ${request.failureDomain} is not one the machine may use (${allowed.length ? allowed.join(', ') : 'none'})` };
  }
  if (allowed.length === 0) {
    if (clusterZones.length > 0) return { ok: false, message: `the machine class allows none of the cluster's zones (${clusterZones.join(', ')})` };
    return { ok: true, zones: [defaultZone] };
  }
  const preferred = request.preferredFailureDomain !== undefined ? allowed.indexOf(request.preferredFailureDomain) : -1;
  const start = preferred >= 0 ? preferred : Math.floor(unit('zones', request.machineUid) * allowed.length);
  return { ok: true, zones: [...allowed.slice(start), ...allowed.slice(0, start)] };
}

/** The same instance type in the same zone, whatever the market. */
const sameSlot = (a: LaunchAttempt, b: LaunchAttempt | undefined): boolean =>
  b !== undefined && a.instanceType === b.instanceType && a.availabilityZone === b.availabilityZone;

/** The same request: instance type, zone and market. */
export const sameAttempt = (a: LaunchAttempt, b: LaunchAttempt | undefined): boolean => sameSlot(a, b) && a.capacityType === b?.capacityType;

/**
 * The attempts of a launch in the order to try them: each zone of zonesFor in order, each instance type in order
 * within it, and the recorded attempt first when it is still one of them (a class or cluster changed since may
 * have dropped it), so that a request that succeeded before a crash is sent again before any other.
 */
export function launchAttempts(request: PlacementRequest, instanceTypes: readonly string[], defaultZone: string, unit: SeededUnit): LaunchPlacement {
  const placement = zonesFor(request, defaultZone, unit);
  if (!placement.ok) return placement;
  const all = placement.zones.flatMap((availabilityZone) => instanceTypes.map((instanceType) => ({ instanceType, availabilityZone })));
  const recorded = all.findIndex((a) => sameSlot(a, request.recordedAttempt));
  return { ok: true, attempts: recorded <= 0 ? all : [all[recorded]!, ...all.slice(0, recorded), ...all.slice(recorded + 1)] };
}
