/**
 * revisionHistoryLimit: how many old MachineSets (with no replicas) a deployment keeps for rollbacks.
 * Learnt from Kubernetes pkg/controller/deployment/sync.go (cleanupDeployment): of the old sets not
 * already deleting, the ones beyond the limit go, lowest revision first, but never one that still has
 * replicas or machines. Cluster API dropped the limit (it deletes every empty old set); clusterless keeps
 * Kubernetes' behaviour so that `rollout undo` has something to go back to.
 */
import type { MachineSet } from '../../api/machine-set.js';
import { revisionOf } from './revisions.js';

export interface OldMachineSet {
  machineSet: MachineSet;
  /** spec.replicas after this plan. */
  replicas: number;
  /** Machines that still exist. */
  actual: number;
}

export function machineSetsBeyondHistoryLimit(old: readonly OldMachineSet[], revisionHistoryLimit: number): MachineSet[] {
  const alive = old.filter((o) => o.machineSet.metadata.deletionTimestamp === undefined);
  const diff = alive.length - revisionHistoryLimit;
  if (diff <= 0) return [];
  const created = (o: OldMachineSet) => Date.parse(o.machineSet.metadata.creationTimestamp ?? '') || 0;
  const ordered = [...alive].sort(
    (a, b) =>
      revisionOf(a.machineSet) - revisionOf(b.machineSet) || created(a) - created(b) || (a.machineSet.metadata.name < b.machineSet.metadata.name ? -1 : 1),
  );
  return ordered
    .slice(0, diff)
    .filter((o) => o.replicas === 0 && o.actual === 0)
    .map((o) => o.machineSet);
}
