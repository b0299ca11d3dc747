/**
 * Mixed capacity (MachineDeployment spec.capacity, api/capacity.ts): the market of each new machine and which
 * machines a scale-down removes, decided from the counts of the machines the deployment's MachineSet has, so that
 * its split holds through scale up and scale down. Note: counted per set, not over the whole deployment. In a
 * rollout the new set grows while the old one shrinks; counted over both, the new set's first machines would fill
 * whichever side the old set is short of, and once the old set is gone the deployment would be left off its split
 * with nothing to correct it. Per set, the new set reaches the split by itself, and a deployment with one set (all
 * of them between rollouts) is that set. The on-demand fallback's bound is the deployment's, counted over all its
 * machines.
 *
 * The split is an Auto Scaling group's instances distribution, without one: the first `onDemandBase` machines are
 * on-demand, then `spotPercentageAboveBase` percent of the rest are spot, a fraction of a machine going to
 * on-demand (as the Auto Scaling group rounds, "in favor of On-Demand Instances": EC2 Auto Scaling user guide,
 * "Mixed instances groups", instances distribution). A machine's market is what its instance runs in when the
 * provider says (an on-demand fallback counts as on-demand), else what the planner decided (its label).
 *
 * Pure: machines and instance facts in, decisions out.
 */
import { CapacityAnnotations, CapacityLabels, type CapacityType, type MachineDeploymentCapacity } from '../../api/capacity.js';
import type { Machine } from '../../api/machine.js';
import type { InstanceFact } from '../observed.js';

/** What a launch is told of the machine's market (functions/ports.ts LaunchSpec.capacity). */
export interface LaunchCapacity {
  capacityType: CapacityType;
  /** The most a spot instance may cost per hour (USD). */
  spotMaxPrice?: string;
  /** May launch on-demand when no spot capacity is left (granted within onDemandFallback.maxMachines). */
  onDemandFallback?: boolean;
}

/** The machines of `total` that run on spot. */
export function spotShare(total: number, capacity: MachineDeploymentCapacity): number {
  if (total <= capacity.onDemandBase) return 0;
  return Math.floor(((total - capacity.onDemandBase) * capacity.spotPercentageAboveBase) / 100);
}

/** The deployment's machines by market, and how many hold a fallback grant not yet seen on spot. */
export interface CapacityCounts {
  onDemand: number;
  spot: number;
  /** Machines granted the on-demand fallback whose instance is not (yet) seen on spot: the fallback budget in use. */
  fallbackHeld: number;
}

/** A machine's market: its instance's, when the provider tells it, else the label the planner set, else on-demand. */
export function capacityTypeOf(machine: Machine, instance: InstanceFact | undefined): CapacityType {
  if (instance?.capacityType) return instance.capacityType;
  return machine.metadata.labels?.[CapacityLabels.capacityType] === 'spot' ? 'spot' : 'on-demand';
}

/** The instances of the machines, by machine uid, the live one preferred (one pass over the facts). */
export function instancesByMachine(instances: readonly InstanceFact[]): Map<string, InstanceFact> {
  const out = new Map<string, InstanceFact>();
  for (const i of instances) {
    const had = out.get(i.machineUid);
    if (!had || had.state === 'terminated' || had.state === 'shutting-down') out.set(i.machineUid, i);
  }
  return out;
}

/** Counts over the deployment's machines that are not being deleted. */
export function capacityCounts(machines: readonly Machine[], instances: ReadonlyMap<string, InstanceFact>): CapacityCounts {
  const counts: CapacityCounts = { onDemand: 0, spot: 0, fallbackHeld: 0 };
  for (const m of machines) {
    if (m.metadata.deletionTimestamp !== undefined) continue;
    const instance = instances.get(m.metadata.uid ?? '');
    if (capacityTypeOf(m, instance) === 'spot') counts.spot++;
    else counts.onDemand++;
    // Held until its instance is seen on spot: a machine not launched yet may still fall back.
    if (m.metadata.annotations?.[CapacityAnnotations.onDemandFallback] === 'true' && instance?.capacityType !== 'spot') counts.fallbackHeld++;
  }
  return counts;
}

/**
 * The markets of `count` new machines, in order: each new machine goes to spot while spot is below its share of
 * the deployment as that machine leaves it, to on-demand otherwise. A spot machine is granted the on-demand
 * fallback while fewer than `onDemandFallback.maxMachines` machines hold one.
 */
export function newMachineCapacities(capacity: MachineDeploymentCapacity, counts: CapacityCounts, count: number): LaunchCapacity[] {
  let { onDemand, spot, fallbackHeld } = counts;
  const out: LaunchCapacity[] = [];
  for (let i = 0; i < count; i++) {
    if (spot < spotShare(onDemand + spot + 1, capacity)) {
      spot++;
      const fallback = capacity.onDemandFallback !== undefined && fallbackHeld < capacity.onDemandFallback.maxMachines;
      if (fallback) fallbackHeld++;
      out.push({
        capacityType: 'spot',
        ...(capacity.spotMaxPrice !== undefined ? { spotMaxPrice: capacity.spotMaxPrice } : {}),
        ...(fallback ? { onDemandFallback: true } : {}),
      });
    } else {
      onDemand++;
      out.push({ capacityType: 'on-demand' });
    }
  }
  return out;
}

/**
 * The `count` machines a scale-down removes, from `order` (deletionOrder: deleting, delete-annotated and unhealthy
 * machines first, then the delete policy): the `forced` ones (already deleting, or marked by a user) first; then
 * the side above its share of what is left, each side in the deletion order (its unhealthy machines first), and
 * on the on-demand side the machines that fell back from spot before the others.
 * Note: an unhealthy machine on the side below its share stays rather than a healthy one above it going: a
 * machine that is still launching (no node yet) counts as unhealthy, and a scale-down soon after a scale-up would
 * otherwise remove the newest machines whatever their market and leave the split broken for good; a machine that
 * stays unhealthy is its MachineHealthCheck's to replace.
 */
export function capacityScaleDown(
  order: readonly Machine[],
  count: number,
  capacity: MachineDeploymentCapacity,
  counts: CapacityCounts,
  typeOf: (m: Machine) => CapacityType,
  forced: (m: Machine) => boolean,
): Machine[] {
  if (count <= 0) return [];
  const picks = new Set<Machine>();
  for (const m of order) {
    if (picks.size >= count) break;
    if (forced(m)) picks.add(m);
  }
  // What stays of each side once the forced picks are gone (machines already deleting are not counted).
  let onDemand = counts.onDemand;
  let spot = counts.spot;
  for (const m of picks)
    if (m.metadata.deletionTimestamp === undefined) {
      if (typeOf(m) === 'spot') spot--;
      else onDemand--;
    }
  const after = onDemand + spot - (count - picks.size);
  const spotWanted = spotShare(after, capacity);
  let spotAbove = spot - spotWanted;
  let onDemandAbove = onDemand - (after - spotWanted);
  // On the on-demand side, machines that fell back from spot go first: they cost what the split meant to save.
  const fellBack = (m: Machine) => m.metadata.labels?.[CapacityLabels.capacityType] === 'spot';
  for (const preferFallback of [true, false])
    for (const m of order) {
      if (picks.size >= count) break;
      if (picks.has(m)) continue;
      const type = typeOf(m);
      if (type === 'spot' && spotAbove > 0 && !preferFallback) {
        spotAbove--;
        picks.add(m);
      } else if (type === 'on-demand' && onDemandAbove > 0 && (!preferFallback || fellBack(m))) {
        onDemandAbove--;
        picks.add(m);
      }
    }
  // The machines this set has may not hold the side above its share (another set of the deployment does).
  for (const m of order) {
    if (picks.size >= count) break;
    picks.add(m);
  }
  return order.filter((m) => picks.has(m));
}

/** The label and annotations a new machine carries for its launch. */
export function capacityMetadata(c: LaunchCapacity): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { [CapacityLabels.capacityType]: c.capacityType },
    annotations: {
      ...(c.spotMaxPrice !== undefined ? { [CapacityAnnotations.spotMaxPrice]: c.spotMaxPrice } : {}),
      ...(c.onDemandFallback ? { [CapacityAnnotations.onDemandFallback]: 'true' } : {}),
    },
  };
}

/** The market a Machine's launch asks for, from what the planner recorded on it; undefined for a machine without. */
export function launchCapacityOf(machine: Machine): LaunchCapacity | undefined {
  const type = machine.metadata.labels?.[CapacityLabels.capacityType];
  if (type !== 'spot' && type !== 'on-demand') return undefined;
  if (type === 'on-demand') return { capacityType: 'on-demand' };
  const a = machine.metadata.annotations ?? {};
  const price = a[CapacityAnnotations.spotMaxPrice];
  return {
    capacityType: 'spot',
    ...(price !== undefined && /^\d+(\.\d+)?$/.test(price) ? { spotMaxPrice: price } : {}),
    ...(a[CapacityAnnotations.onDemandFallback] === 'true' ? { onDemandFallback: true } : {}),
  };
}
