/** How the topology planner is reached: the class in the cluster's objects, the reconcile, the sweep and the class trigger. */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../../functions/api/cluster.js';
import { clusterObjectsOf, planClusterReconcile } from '../../../../functions/core/reconcile.js';
import { clustersUsingClass } from '../../../../functions/core/topology/trigger.js';
import { clustersWithDrift } from '../../../../functions/core/trigger/drift.js';
import { withValue } from '../../api/fixtures.js';
import { T0, World } from './world.js';

const snapshot = (clusters: Cluster[]) => ({ clusters, controlPlanes: [], machineDeployments: [], healthChecks: [] });

describe('the topology planner in the reconcile', () => {
  it("finds the ClusterClass the topology names among the namespace's classes, and no other", () => {
    const w = new World();
    const other = withValue(w.clusterClass!, 'metadata.name', 'other');
    expect(clusterObjectsOf('prod', [w.cluster], [], [], [other, w.clusterClass!])?.clusterClass?.metadata.name).toBe('standard');
    expect(clusterObjectsOf('prod', [w.cluster], [], [], [other])).not.toHaveProperty('clusterClass');
  });

  it("plans the topology's creates and its condition in the cluster's reconcile", () => {
    const w = new World();
    const objects = clusterObjectsOf('prod', [w.cluster], [], [], [w.clusterClass!])!;
    const plan = planClusterReconcile(objects, { instances: [], nodes: [] }, T0);
    expect(plan.writes.filter((x) => x.type === 'Create').map((x) => 'object' in x && x.object.metadata.name)).toContain('prod-control-plane');
    const status = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'Cluster');
    expect(status && 'object' in status && (status.object as Cluster).status?.conditions?.map((c) => c.type)).toContain('TopologyReconciled');
  });

  it('plans nothing of the topology for a paused cluster', () => {
    const w = new World();
    const paused = withValue(w.cluster, 'spec.paused', true);
    const plan = planClusterReconcile(clusterObjectsOf('prod', [paused], [], [], [w.clusterClass!])!, { instances: [], nodes: [] }, T0);
    expect(plan.writes.filter((x) => x.type === 'Create')).toEqual([]);
  });
});

describe('what brings a topology cluster back to the reconcile', () => {
  it('the sweep: a topology not reconciled is drift, a reconciled one is not', () => {
    const w = new World({ clusterClass: null });
    w.pass();
    const provisioned = (c: Cluster): Cluster => ({ ...c, status: { ...c.status, phase: 'Provisioned', observedGeneration: c.metadata.generation } });
    expect(clustersWithDrift(snapshot([provisioned(w.cluster)]))[0]?.reasons).toEqual(['topology not reconciled (ClusterClassNotFound)']);
    const done = withValue(provisioned(w.cluster), 'status.conditions', [
      { type: 'TopologyReconciled', status: 'True', reason: 'Reconciled', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ]);
    expect(clustersWithDrift(snapshot([done]))).toEqual([]);
  });

  it('the sweep: a ClusterClass changed since the cluster was reconciled against it is drift', () => {
    const w = new World();
    w.pass();
    w.settleAll();
    w.pass();
    expect(w.cluster.status?.observedClusterClassGeneration).toBe(1);
    const reconciled = withValue(withValue(w.cluster, 'status.phase', 'Provisioned'), 'status.observedGeneration', 1);
    const at = (generation: number) => ({ ...snapshot([reconciled]), clusterClasses: [withValue(w.clusterClass!, 'metadata.generation', generation)] });
    expect(clustersWithDrift(at(1))).toEqual([]);
    expect(clustersWithDrift(at(2))[0]?.reasons).toEqual(['ClusterClass standard changed (generation 2)']);
  });

  it('a ClusterClass change: the clusters of the namespace whose topology names it', () => {
    const w = new World();
    const named = (name: string, cls?: string) => {
      const c = withValue(w.cluster, 'metadata.name', name);
      return cls ? withValue(c, 'spec.topology.class', cls) : withValue(c, 'spec.topology', undefined);
    };
    expect(clustersUsingClass([named('b', 'standard'), named('a', 'standard'), named('c', 'other'), named('d')], 'standard')).toEqual(['a', 'b']);
  });
});
