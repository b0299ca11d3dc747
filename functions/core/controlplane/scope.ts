/**
 * Everything the ControlPlane rules look at, computed once per plan (Cluster API's internal.ControlPlane in
 * controlplane/kubeadm/pkg/control_plane.go plays the same part).
 */
import type { Cluster } from '../../api/cluster.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { Machine } from '../../api/machine.js';
import type { Action, Write } from '../plan.js';
import type { Observed } from '../observed.js';
import { controlPlaneMachinesOf, isDeleting, oldestFirst, timeOf, type ClusterObjects } from '../cluster/objects.js';
import { failureDomainNames } from '../cluster/failure-domains.js';
import { instanceOf, isNodeReady, nodeOf } from '../machine/facts.js';
import { etcdMembersOf, type EtcdMember } from './etcd.js';
import { isUpToDate } from './machines.js';

export interface MachineHealth {
  hasNode: boolean;
  /** The node is Ready as observed now (false when the workload cluster could not be read). */
  nodeReady: boolean;
  deleting: boolean;
  failed: boolean;
}

export interface ControlPlaneScope {
  objects: ClusterObjects;
  cp: ControlPlane;
  cluster: Cluster;
  /** The control plane's machines, deleting ones included, oldest first. */
  machines: Machine[];
  observed: Observed;
  now: Date;
  /** The replica count aimed at: spec.replicas, made odd if it somehow is not. */
  desiredReplicas: number;
  failureDomains: string[];
  nodesKnown: boolean;
  members: EtcdMember[];
  health: Map<string, MachineHealth>;
  /** Machines not deleting and not up to date. */
  outdated: Machine[];
}

export function controlPlaneScope(objects: ClusterObjects, cp: ControlPlane, observed: Observed, now: Date): ControlPlaneScope {
  const machines = controlPlaneMachinesOf(objects).sort(oldestFirst);
  const health = new Map<string, MachineHealth>();
  for (const m of machines) {
    const instance = instanceOf(m, observed);
    const lookup = nodeOf(m, observed, instance);
    const failed = m.status?.failureReason !== undefined;
    health.set(m.metadata.name, {
      hasNode: lookup.node !== undefined || m.status?.nodeRef !== undefined,
      nodeReady: lookup.known && isNodeReady(lookup.node) && !failed,
      deleting: isDeleting(m),
      failed,
    });
  }
  const machineClass = objects.machineClasses?.find((c) => c.metadata.name === cp.spec.machineClassRef.name);
  return {
    objects,
    cp,
    cluster: objects.cluster,
    machines,
    observed,
    now,
    desiredReplicas: cp.spec.replicas % 2 === 1 ? cp.spec.replicas : cp.spec.replicas + 1,
    failureDomains: failureDomainNames(objects.cluster, machineClass, true),
    nodesKnown: observed.nodes !== undefined,
    members: etcdMembersOf(machines, observed),
    health,
    outdated: machines.filter((m) => !isDeleting(m) && !isUpToDate(m, cp)),
  };
}

export function healthOf(scope: ControlPlaneScope, m: Machine): MachineHealth {
  return scope.health.get(m.metadata.name) ?? { hasNode: false, nodeReady: false, deleting: isDeleting(m), failed: false };
}

/** One operation of the control plane per reconcile: what it writes and does, and why it waits if it does. */
export interface Step {
  writes: Write[];
  actions: Action[];
  notes: string[];
  requeueAfterSeconds?: number;
  /** Why the operation cannot go on now (surfaces in the ScalingUp/ScalingDown/RollingOut messages). */
  waiting?: string;
}

export const emptyStep = (): Step => ({ writes: [], actions: [], notes: [] });

export function waitStep(reason: string, requeueAfterSeconds?: number): Step {
  return { writes: [], actions: [], notes: [reason], waiting: reason, ...(requeueAfterSeconds !== undefined ? { requeueAfterSeconds } : {}) };
}

/** Created at or after the moment (creation timestamps have a resolution of one second). */
export function createdSince(m: Machine, ts: string): boolean {
  return timeOf(m.metadata.creationTimestamp) >= Math.floor(timeOf(ts) / 1000) * 1000;
}
