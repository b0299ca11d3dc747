/**
 * The object graph of one cluster, as one Query of the store returns it (DESIGN section 4), and the small
 * selectors every planner shares: which machines belong to the control plane, what is paused or deleting,
 * which is older.
 */
import type { Cluster } from '../../api/cluster.js';
import type { ClusterClass } from '../../api/cluster-class.js';
import type { ClusterResourceSetBinding, StoredClusterResourceSet } from '../../api/cluster-resource-set.js';
import { Annotations, Labels } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { ApiObject } from '../../api/kind.js';
import type { MachineClass } from '../../api/machine-class.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineHealthCheck } from '../../api/machine-health-check.js';
import type { MachineSet } from '../../api/machine-set.js';
import type { Machine } from '../../api/machine.js';
import type { Write } from '../plan.js';
import { sameJson } from '../same-json.js';

/** Everything declared for one cluster. The planners never look outside it. */
export interface ClusterObjects {
  cluster: Cluster;
  controlPlane?: ControlPlane;
  machineDeployments: MachineDeployment[];
  machineSets: MachineSet[];
  machines: Machine[];
  machineHealthChecks: MachineHealthCheck[];
  /** The MachineClasses of the cluster's namespace (they narrow the failure domains machines may use). */
  machineClasses?: MachineClass[];
  /** The ClusterResourceSets of the cluster's namespace (read like the MachineClasses), as stored. */
  clusterResourceSets?: StoredClusterResourceSet[];
  /** The cluster's ClusterResourceSetBinding (in its partition). */
  clusterResourceSetBinding?: ClusterResourceSetBinding;
  /** The ClusterClass spec.topology.class names (read from the namespace like the MachineClasses), when it exists. */
  clusterClass?: ClusterClass;
}

/** A control-plane machine carries the control-plane label, as Cluster API's (collections.ControlPlaneMachines). */
export function isControlPlaneMachine(machine: Machine): boolean {
  return Object.hasOwn(machine.metadata.labels ?? {}, Labels.controlPlane);
}

export function controlPlaneMachinesOf(objects: ClusterObjects): Machine[] {
  return objects.machines.filter((m) => m.spec.clusterName === objects.cluster.metadata.name && isControlPlaneMachine(m));
}

export function workerMachinesOf(objects: ClusterObjects): Machine[] {
  return objects.machines.filter((m) => m.spec.clusterName === objects.cluster.metadata.name && !isControlPlaneMachine(m));
}

export function isDeleting(obj: ApiObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/**
 * Paused as Cluster API means it (util/annotations IsPaused): the Cluster's spec.paused, or the paused
 * annotation on the Cluster or on the object itself. A paused object gets no writes and no actions.
 */
export function isPaused(cluster: Cluster | undefined, obj?: ApiObject): boolean {
  if (cluster?.spec.paused) return true;
  if (cluster && Object.hasOwn(cluster.metadata.annotations ?? {}, Annotations.paused)) return true;
  return obj !== undefined && Object.hasOwn(obj.metadata.annotations ?? {}, Annotations.paused);
}

export function hasAnnotation(obj: ApiObject, key: string): boolean {
  return Object.hasOwn(obj.metadata.annotations ?? {}, key);
}

/** Milliseconds since the epoch of a stored timestamp; an object without one counts as infinitely old. */
export function timeOf(ts: string | undefined): number {
  if (ts === undefined) return 0;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? 0 : t;
}

/** Oldest first, the name breaking ties, so that every choice among equals is deterministic. */
export function oldestFirst(a: ApiObject, b: ApiObject): number {
  return timeOf(a.metadata.creationTimestamp) - timeOf(b.metadata.creationTimestamp) || compareNames(a, b);
}

export function compareNames(a: ApiObject, b: ApiObject): number {
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/**
 * A status write only when the status really changed: planners run on every event, and a write that changes
 * nothing would only wake the reconcile up again.
 */
export function statusWrite<T extends ApiObject>(obj: T, status: T['status']): Write[] {
  if (sameJson(obj.status ?? {}, status ?? {})) return [];
  return [{ type: 'UpdateStatus', object: { ...obj, status } as ApiObject }];
}
