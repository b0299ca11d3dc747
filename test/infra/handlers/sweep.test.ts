/** The sweep's drift test: which clusters need a reconcile, and why. Pure: the fleet is plain objects. */
import { describe, expect, it } from 'vitest';
import { API_VERSION } from '../../../functions/api/common.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { MachineHealthCheck } from '../../../functions/api/machine-health-check.js';
import { clustersWithDrift, sweep, type FleetSnapshot } from '../../../functions/handlers/sweep.js';
import type { Store, Workflows } from '../../../functions/ports.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', generation: 1, ...extra });

/** A settled cluster: everything observed, provisioned, running and complete. */
function settled(name = 'c1'): FleetSnapshot {
  return {
    clusters: [{ apiVersion: API_VERSION, kind: 'Cluster', metadata: meta(name), spec: { paused: false }, status: { phase: 'Provisioned', observedGeneration: 1 } } as unknown as Cluster],
    controlPlanes: [
      {
        apiVersion: API_VERSION,
        kind: 'ControlPlane',
        metadata: meta(`${name}-cp`),
        spec: { clusterName: name, replicas: 3 },
        status: { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3 },
      } as unknown as ControlPlane,
    ],
    machineDeployments: [
      {
        apiVersion: API_VERSION,
        kind: 'MachineDeployment',
        metadata: meta(`${name}-md`),
        spec: { clusterName: name, replicas: 2, paused: false },
        status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 },
      } as unknown as MachineDeployment,
    ],
    healthChecks: [],
  };
}

const drifting = (s: FleetSnapshot) => clustersWithDrift(s).map((d) => `${d.namespace}/${d.clusterName}`);

describe('clustersWithDrift', () => {
  it('finds none in a settled fleet', () => {
    expect(clustersWithDrift(settled())).toEqual([]);
  });

  it.each<[string, (s: FleetSnapshot) => void]>([
    ['a spec change not observed yet', (s) => (s.clusters[0]!.metadata.generation = 2)],
    ['a cluster never reconciled (no status)', (s) => delete (s.clusters[0] as { status?: unknown }).status],
    ['a cluster being deleted', (s) => (s.clusters[0]!.metadata.deletionTimestamp = '2026-01-01T00:00:00Z')],
    ['a cluster not Provisioned', (s) => (s.clusters[0]!.status!.phase = 'Provisioning')],
    ['a worker not Running (its deployment short of available replicas)', (s) => (s.machineDeployments[0]!.status!.availableReplicas = 1)],
    ['a worker being deleted (its deployment has one replica too many)', (s) => (s.machineDeployments[0]!.status!.replicas = 3)],
    ['a MachineDeployment not complete', (s) => (s.machineDeployments[0]!.status!.availableReplicas = 1)],
    ['a MachineDeployment scaled but not observed', (s) => (s.machineDeployments[0]!.metadata.generation = 2)],
    ['a control plane short of ready replicas', (s) => (s.controlPlanes[0]!.status!.readyReplicas = 2)],
    [
      'a MachineHealthCheck, whose timeouts must be evaluated',
      (s) =>
        s.healthChecks.push({ apiVersion: API_VERSION, kind: 'MachineHealthCheck', metadata: meta('c1-mhc'), spec: { clusterName: 'c1' } } as unknown as MachineHealthCheck),
    ],
  ])('finds %s', (_what, change) => {
    const s = settled();
    change(s);
    expect(drifting(s)).toEqual(['default/c1']);
  });

  it('says why', () => {
    const s = settled();
    s.controlPlanes[0]!.status!.readyReplicas = 2;
    expect(clustersWithDrift(s)[0]!.reasons).toEqual(['control plane c1-cp has 2/3 ready replicas']);
  });

  it('reports each drifting cluster once, and only the drifting ones', () => {
    const a = settled('a');
    const b = settled('b');
    const s: FleetSnapshot = {
      clusters: [...a.clusters, ...b.clusters],
      controlPlanes: [...a.controlPlanes, ...b.controlPlanes],
      machineDeployments: [...a.machineDeployments, ...b.machineDeployments],
      healthChecks: [],
    };
    s.machineDeployments[1]!.status!.availableReplicas = 0;
    expect(drifting(s)).toEqual(['default/b']);
  });

  it('leaves a paused cluster alone unless its spec changed or it is deleted', () => {
    const s = settled();
    s.clusters[0]!.spec.paused = true;
    s.machineDeployments[0]!.status!.availableReplicas = 0;
    expect(drifting(s)).toEqual([]);
    s.clusters[0]!.metadata.generation = 2;
    expect(drifting(s)).toEqual(['default/c1']);
  });

  it('does not confuse clusters of the same name in different namespaces', () => {
    const s = settled();
    const other = settled();
    other.clusters[0]!.metadata.namespace = 'team';
    other.clusters[0]!.status!.phase = 'Provisioning';
    s.clusters.push(other.clusters[0]!);
    expect(drifting(s)).toEqual(['team/c1']);
  });
});

describe('sweep', () => {
  it('reads the fleet from the store and starts reconcile-cluster for the drifting clusters only', async () => {
    const store: Store = new MemoryStore();
    await store.create({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'fresh', namespace: 'default' }, spec: {} } as never);
    const started: Record<string, unknown>[] = [];
    const workflows: Workflows = { start: async (_w, _n, input) => (started.push(input), { started: true }) };
    const result = await sweep({ store, workflows });
    expect(result).toEqual({ clusters: 1, started: 1, failed: 0 });
    expect(started).toEqual([{ namespace: 'default', clusterName: 'fresh', trigger: 'sweep' }]);
  });
});
