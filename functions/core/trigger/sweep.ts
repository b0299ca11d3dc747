/**
 * What one sweep does with the drift it found: which clusters it reconciles at once, which it probes first (one
 * list of their nodes), and, once the probes answered, which of those it reconciles too. Pure; the reads and the
 * starts are functions/workflows/sweep.ts's.
 */
import type { NodeProbeInput, NodeProbeVerdict } from '../healthcheck/node-probe.js';
import type { ClusterDrift, FleetSnapshot } from './drift.js';

export interface SweepPlan {
  /** Every drifting cluster, in the order clustersWithDrift found them. */
  drifting: ClusterDrift[];
  /** The drifting clusters whose only drift is their health checks: their nodes are read before they are reconciled. */
  probe: ClusterDrift[];
}

/**
 * Splits the drift: with a node reader, a cluster whose only drift is its health checks is probed; without one
 * every drifting cluster is reconciled (a health-checked cluster then every sweep).
 */
export function planSweep(drifting: readonly ClusterDrift[], canReadNodes: boolean): SweepPlan {
  return { drifting: [...drifting], probe: canReadNodes ? drifting.filter((d) => d.onlyHealthChecks) : [] };
}

/** What the node probe of one cluster needs from the snapshot (its nodes are read by the caller). */
export function probeInputOf(snapshot: FleetSnapshot, drift: ClusterDrift): Omit<NodeProbeInput, 'nodes'> | undefined {
  const cluster = snapshot.clusters.find((c) => c.metadata.namespace === drift.namespace && c.metadata.name === drift.clusterName);
  if (!cluster) return undefined;
  const belongs = (o: { metadata: { namespace: string }; spec: { clusterName: string } }) =>
    o.metadata.namespace === drift.namespace && o.spec.clusterName === drift.clusterName;
  return {
    cluster,
    healthChecks: snapshot.healthChecks.filter(belongs),
    controlPlanes: snapshot.controlPlanes.filter(belongs),
    machineDeployments: snapshot.machineDeployments.filter(belongs),
  };
}

export interface SweepDecision {
  /** The clusters to reconcile now, in the order of the drift, each with every reason for the log. */
  reconcile: ClusterDrift[];
  /** Probed clusters whose nodes call for nothing: no reconcile this sweep. */
  settled: ClusterDrift[];
}

/**
 * The clusters to reconcile once the probes answered. `verdicts` follows `plan.probe`; undefined is a probe that
 * did not answer within `budgetMs` (or failed in a way nobody foresaw): that cluster is reconciled, the safe answer.
 */
export function decideSweep(plan: SweepPlan, verdicts: readonly (NodeProbeVerdict | undefined)[], budgetMs: number): SweepDecision {
  const byCluster = new Map(plan.probe.map((d, i) => [d, verdicts[i]]));
  const reconcile: ClusterDrift[] = [];
  const settled: ClusterDrift[] = [];
  for (const d of plan.drifting) {
    if (!byCluster.has(d)) reconcile.push(d);
    else {
      const v = byCluster.get(d);
      if (v === undefined) reconcile.push({ ...d, reasons: [...d.reasons, `nodes not judged within ${budgetMs} ms: reconcile anyway`] });
      else if (!v.reconcile) settled.push(d);
      else reconcile.push({ ...d, reasons: [...d.reasons, ...v.reasons.map((r) => r.message)] });
    }
  }
  return { reconcile, settled };
}
