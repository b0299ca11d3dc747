/**
 * Whether a cluster whose only drift is its MachineHealthChecks needs a reconcile now, judged from one list of
 * its nodes and the replica counts its owners claim: what the sweep asks before it starts a reconcile, so that
 * an idle cluster with a health check is not reconciled every minute (BENCHMARKS.md, idle).
 *
 * It over-approximates the health check itself (needsRemediation in ./targets.ts, learnt from Cluster API's
 * internal/controllers/machinehealthcheck/machinehealthcheck_targets.go): any node that matches an unhealthy
 * condition counts, however long it has lasted and whichever machine it belongs to, because the reconcile
 * evaluates the timeouts and the targets. While such a condition lasts the cluster is reconciled every sweep,
 * which is how a timeout that passes without any write is noticed.
 *
 * What it does not need the nodes for is decided elsewhere: a machine with a failure or the remediate-machine
 * annotation is a write (the stream triggers), a machine short of a node shows in its owner's status.
 */
import type { Cluster } from '../../api/cluster.js';
import { durationSeconds } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineHealthCheck } from '../../api/machine-health-check.js';
import { isDeleting, isPaused } from '../cluster/objects.js';
import type { NodeFact } from '../observed.js';

/** One read of a cluster's nodes: what it listed, or why it could not. */
export type NodeRead = { readable: true; nodes: readonly NodeFact[] } | { readable: false; error: string };

export interface NodeProbeInput {
  cluster: Cluster;
  /** The cluster's health checks, controlPlanes and machineDeployments; objects of other clusters are ignored. */
  healthChecks: readonly MachineHealthCheck[];
  controlPlanes: readonly ControlPlane[];
  machineDeployments: readonly MachineDeployment[];
  nodes: NodeRead;
}

export const NodeProbeReason = {
  /** A node reports a condition a health check of the cluster names (type and status). */
  UnhealthyCondition: 'UnhealthyCondition',
  /** Fewer nodes than the owners claim ready replicas: a node went away. */
  NodeMissing: 'NodeMissing',
  /** Owners want more replicas than are ready: a machine may be waiting for its node (nodeStartupTimeout). */
  NodeNotStarted: 'NodeNotStarted',
  /** The nodes could not be read: nothing can be ruled out. */
  NodesUnreadable: 'NodesUnreadable',
} as const;
export type NodeProbeReason = (typeof NodeProbeReason)[keyof typeof NodeProbeReason];

export interface NodeProbeVerdict {
  reconcile: boolean;
  /** Why, one line each, for the log; empty when no reconcile is needed. */
  reasons: { reason: NodeProbeReason; message: string }[];
}

const MAX_NODES_NAMED = 5;

/** The sweep's decision for one cluster; pure. */
export function healthChecksNeedReconcile(input: NodeProbeInput): NodeProbeVerdict {
  const { cluster } = input;
  const { namespace, name: clusterName } = cluster.metadata;
  const ofCluster = <T extends { metadata: { namespace: string }; spec: { clusterName: string } }>(xs: readonly T[]) =>
    xs.filter((x) => x.metadata.namespace === namespace && x.spec.clusterName === clusterName);
  // A paused cluster or health check is not evaluated (planner.ts), a deleting one remediates nothing.
  const checks = isPaused(cluster) ? [] : ofCluster(input.healthChecks).filter((h) => !isPaused(undefined, h) && !isDeleting(h));
  if (checks.length === 0) return { reconcile: false, reasons: [] };

  const reasons: NodeProbeVerdict['reasons'] = [];
  if (!input.nodes.readable) {
    reasons.push({ reason: NodeProbeReason.NodesUnreadable, message: `nodes could not be read (${input.nodes.error}): reconcile anyway` });
    return { reconcile: true, reasons };
  }
  const nodes = input.nodes.nodes;

  for (const h of checks) {
    const matching = nodes.filter((n) => h.spec.unhealthyConditions.some((uc) => n.conditions.some((c) => c.type === uc.type && c.status === uc.status)));
    if (matching.length === 0) continue;
    const names = matching.slice(0, MAX_NODES_NAMED).map((n) => n.name);
    const more = matching.length > MAX_NODES_NAMED ? ` and ${matching.length - MAX_NODES_NAMED} more` : '';
    reasons.push({
      reason: NodeProbeReason.UnhealthyCondition,
      message: `health check ${h.metadata.name}: node(s) ${names.join(', ')}${more} report an unhealthy condition`,
    });
  }

  // Note: Cluster API treats a target whose node is gone as unhealthy at once (nodeMissing). The sweep reads no
  // Machines, so it compares counts: every ready replica an owner claims has a node, so fewer nodes than that
  // means one went away since the last reconcile. A node of no owner's machine could hide a missing one; the
  // instance events and the stream remain for that.
  const owners = [...ofCluster(input.controlPlanes), ...ofCluster(input.machineDeployments)];
  const claimedReady = owners.reduce((sum, o) => sum + (o.status?.readyReplicas ?? 0), 0);
  if (nodes.length < claimedReady)
    reasons.push({ reason: NodeProbeReason.NodeMissing, message: `${nodes.length} node(s) for ${claimedReady} ready replicas claimed: a node is missing` });

  // A machine without a node is timed by nodeStartupTimeout ("0s" turns that off). Its owner is usually short of
  // ready replicas and drifting anyway; not when it is a paused MachineDeployment, which the sweep skips.
  const desired = owners.reduce((sum, o) => sum + o.spec.replicas, 0);
  if (claimedReady < desired && checks.some((h) => durationSeconds(h.spec.nodeStartupTimeout) !== 0))
    reasons.push({ reason: NodeProbeReason.NodeNotStarted, message: `${claimedReady}/${desired} replicas ready: a machine may be waiting for its node` });

  return { reconcile: reasons.length > 0, reasons };
}
