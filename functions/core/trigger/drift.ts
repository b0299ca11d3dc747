/**
 * The sweep's drift rules: which clusters of a fleet need a reconcile, read from the objects whose status sums
 * up their machines (DESIGN section 5). Pure, the same for both hosts: the AWS sweep function and the embedded
 * host's periodic sweep ask it (functions/workflows/sweep.ts).
 */
import type { Cluster } from '../../api/cluster.js';
import type { ClusterResourceSetBinding, StoredClusterResourceSet } from '../../api/cluster-resource-set.js';
import type { ClusterClass } from '../../api/cluster-class.js';
import { Annotations } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';
import type { MachineHealthCheck } from '../../api/machine-health-check.js';
import { hasAnnotation, isPaused } from '../cluster/objects.js';
import { getCondition } from '../conditions.js';
import { RemediationAllowedReason } from '../healthcheck/planner.js';
import { machineDeploymentRolloutComplete } from '../machinedeployment/rollout-math.js';
import { bindingRecords, matchingClusterResourceSets, resourcesDue } from '../addons/planner.js';

/**
 * What the sweep reads: the objects whose status sums up their machines, across all namespaces.
 *
 * Note: Machines are not read. A fleet's machines outnumber everything else by far, and listing them every
 * minute was nearly all of an idle fleet's cost (BENCHMARKS.md, idle: $0.078 of $0.083 per cluster-month).
 * A machine that is not Running already shows in its owner's status (a deployment not complete, a control
 * plane short of ready replicas, a cluster not Provisioned), and a change to a machine triggers a reconcile
 * through the stream or the EC2 instance events anyway.
 */
export interface FleetSnapshot {
  clusters: Cluster[];
  controlPlanes: ControlPlane[];
  machineDeployments: MachineDeployment[];
  healthChecks: MachineHealthCheck[];
  /**
   * Read only where the reconcile applies addons: a set written after a cluster settled triggers nothing of its
   * own (it lives in the namespace's partition), so the sweep finds what it has not applied yet.
   */
  clusterResourceSets?: StoredClusterResourceSet[];
  clusterResourceSetBindings?: ClusterResourceSetBinding[];
  /** Read only when some Cluster has a topology: a class changed since its clusters were reconciled is drift. */
  clusterClasses?: ClusterClass[];
}

export interface ClusterDrift {
  namespace: string;
  clusterName: string;
  /** Why the cluster needs a reconcile, for the log. */
  reasons: string[];
  /**
   * The only reasons are health checks whose verdict depends on the nodes: one list of the cluster's nodes
   * tells whether a reconcile is needed (healthChecksNeedReconcile).
   */
  onlyHealthChecks: boolean;
}

const behind = (o: { metadata: { generation?: number | undefined }; status?: { observedGeneration?: number | undefined } | undefined }) =>
  (o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 1);

/**
 * The clusters that need a reconcile, and why: pure, so that it is tested without AWS. Objects whose cluster
 * does not exist are left to the stream (a Cluster write triggers its cluster).
 */
export function clustersWithDrift(s: FleetSnapshot): ClusterDrift[] {
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const drift = new Map<string, ClusterDrift & { healthChecks: string[] }>();
  for (const c of s.clusters)
    drift.set(key(c.metadata.namespace, c.metadata.name), {
      namespace: c.metadata.namespace,
      clusterName: c.metadata.name,
      reasons: [],
      onlyHealthChecks: false,
      healthChecks: [],
    });
  const note = (ns: string, cluster: string, reason: string) => drift.get(key(ns, cluster))?.reasons.push(reason);
  const paused = new Set(s.clusters.filter((c) => isPaused(c)).map((c) => key(c.metadata.namespace, c.metadata.name)));

  for (const c of s.clusters) {
    const { namespace, name } = c.metadata;
    if (c.metadata.deletionTimestamp) note(namespace, name, 'cluster is being deleted');
    if (behind(c)) note(namespace, name, `cluster generation ${c.metadata.generation ?? 1} not observed yet`);
    // A paused cluster gets nothing but its own status (core/cluster/planner.ts): the rest is not drift.
    if (!paused.has(key(namespace, name)) && c.status?.phase !== 'Provisioned') note(namespace, name, `cluster phase is ${c.status?.phase ?? 'unset'}`);
    // A managed topology not reconciled (rolling, or waiting for its ClusterClass, which lives in the namespace's
    // partition and triggers no reconcile of its own on AWS) is looked at again.
    if (!paused.has(key(namespace, name)) && c.spec.topology && getCondition(c.status?.conditions, 'TopologyReconciled')?.status !== 'True')
      note(namespace, name, `topology not reconciled (${getCondition(c.status?.conditions, 'TopologyReconciled')?.reason ?? 'not yet reported'})`);
    const cc = c.spec.topology && s.clusterClasses?.find((x) => x.metadata.namespace === namespace && x.metadata.name === c.spec.topology!.class);
    if (!paused.has(key(namespace, name)) && cc && cc.metadata.generation !== undefined && cc.metadata.generation !== c.status?.observedClusterClassGeneration)
      note(namespace, name, `ClusterClass ${cc.metadata.name} changed (generation ${cc.metadata.generation})`);
  }
  const active = (ns: string, cluster: string) => !paused.has(key(ns, cluster));
  for (const cp of s.controlPlanes) {
    const { namespace, name } = cp.metadata;
    const cluster = cp.spec.clusterName;
    if (!active(namespace, cluster)) continue;
    if (cp.metadata.deletionTimestamp) note(namespace, cluster, `control plane ${name} is being deleted`);
    else if (behind(cp)) note(namespace, cluster, `control plane ${name} generation not observed yet`);
    else if ((cp.status?.readyReplicas ?? 0) !== cp.spec.replicas || (cp.status?.updatedReplicas ?? cp.spec.replicas) !== cp.spec.replicas)
      note(namespace, cluster, `control plane ${name} has ${cp.status?.readyReplicas ?? 0}/${cp.spec.replicas} ready replicas`);
  }
  for (const md of s.machineDeployments) {
    const { namespace, name } = md.metadata;
    const cluster = md.spec.clusterName;
    if (!active(namespace, cluster)) continue;
    if (md.metadata.deletionTimestamp) note(namespace, cluster, `machine deployment ${name} is being deleted`);
    else if (!md.spec.paused && !machineDeploymentRolloutComplete(md)) note(namespace, cluster, `machine deployment ${name} is not complete`);
  }
  for (const h of s.healthChecks) {
    const { namespace, name } = h.metadata;
    const cluster = h.spec.clusterName;
    if (!active(namespace, cluster)) continue;
    const current = h.status?.currentHealthy ?? 0;
    const expected = h.status?.expectedMachines ?? 0;
    if (h.metadata.deletionTimestamp) note(namespace, cluster, `health check ${name} is being deleted`);
    else if (hasAnnotation(h, Annotations.paused)) continue;
    else if (behind(h)) note(namespace, cluster, `health check ${name} generation not observed yet`);
    // Its status is what the last reconcile saw; a node that recovered since writes nothing, so a status
    // that says not all is well is refreshed here, not left stale.
    else if (getCondition(h.status?.conditions, 'RemediationAllowed')?.reason === RemediationAllowedReason.InspectionFailed)
      note(namespace, cluster, `health check ${name} could not read the nodes last time`);
    else if (current < expected) note(namespace, cluster, `health check ${name} has ${current}/${expected} healthy targets`);
    else drift.get(key(namespace, cluster))?.healthChecks.push(`health check ${name} has timeouts to evaluate`);
  }
  const bindings = new Map((s.clusterResourceSetBindings ?? []).map((b) => [key(b.metadata.namespace, b.spec.clusterName), b]));
  for (const c of s.clusters) {
    const { namespace, name } = c.metadata;
    if (!active(namespace, name) || c.metadata.deletionTimestamp) continue;
    for (const set of matchingClusterResourceSets(c, s.clusterResourceSets ?? [])) {
      const due = resourcesDue(set, bindingRecords(c, bindings.get(key(namespace, name)), set.metadata.name));
      if (due.length > 0) note(namespace, name, `ClusterResourceSet ${set.metadata.name} has ${due.length} resource(s) not applied`);
    }
  }
  return [...drift.values()]
    .filter((d) => d.reasons.length > 0 || d.healthChecks.length > 0)
    .map(({ healthChecks, ...d }) => ({ ...d, reasons: [...d.reasons, ...healthChecks], onlyHealthChecks: d.reasons.length === 0 }));
}
