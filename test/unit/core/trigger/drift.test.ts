/**
 * The sweep's drift rules (core/trigger/drift.ts): which clusters need a reconcile, and why. Pure: the fleet is
 * plain objects. Kept under test/unit/core so that the mutation run of core sees them.
 */
import { describe, expect, it } from 'vitest';
import { API_VERSION, Annotations } from '../../../../functions/api/common.js';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import { clustersWithDrift, type FleetSnapshot } from '../../../../functions/core/trigger/index.js';
import { drifting, meta, settled, withHealthCheck } from './fleet-fixtures.js';

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
        s.healthChecks.push({
          apiVersion: API_VERSION,
          kind: 'MachineHealthCheck',
          metadata: meta('c1-mhc'),
          spec: { clusterName: 'c1' },
        } as unknown as MachineHealthCheck),
    ],
  ])('finds %s', (_what, change) => {
    const s = settled();
    change(s);
    expect(drifting(s)).toEqual(['default/c1']);
  });

  it('marks a cluster whose only drift is a settled health check, for the node probe', () => {
    expect(clustersWithDrift(withHealthCheck())).toEqual([
      { namespace: 'default', clusterName: 'c1', reasons: ['health check c1-mhc has timeouts to evaluate'], onlyHealthChecks: true },
    ]);
  });

  it('does not mark a cluster that also drifts otherwise: the probe must not talk it out of its reconcile', () => {
    const s = withHealthCheck();
    s.controlPlanes[0]!.status!.readyReplicas = 2;
    expect(clustersWithDrift(s)).toEqual([
      {
        namespace: 'default',
        clusterName: 'c1',
        reasons: ['control plane c1-cp has 2/3 ready replicas', 'health check c1-mhc has timeouts to evaluate'],
        onlyHealthChecks: false,
      },
    ]);
  });

  it.each<[string, (h: MachineHealthCheck) => void, string]>([
    ['a health check whose spec change is not observed yet', (h) => (h.metadata.generation = 2), 'health check c1-mhc generation not observed yet'],
    ['a health check being deleted', (h) => (h.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'), 'health check c1-mhc is being deleted'],
    [
      'a health check whose status says a target was not healthy (a node that recovered writes nothing)',
      (h) => (h.status!.currentHealthy = 1),
      'health check c1-mhc has 1/2 healthy targets',
    ],
    [
      'a health check that could not read the nodes last time',
      (h) =>
        (h.status!.conditions = [{ type: 'RemediationAllowed', status: 'Unknown', reason: 'InspectionFailed', lastTransitionTime: '2026-01-01T00:00:00Z' }]),
      'health check c1-mhc could not read the nodes last time',
    ],
  ])('reconciles %s without asking the nodes', (_what, change, reason) => {
    const s = withHealthCheck();
    change(s.healthChecks[0]!);
    expect(clustersWithDrift(s)).toEqual([{ namespace: 'default', clusterName: 'c1', reasons: [reason], onlyHealthChecks: false }]);
  });

  it('leaves a paused health check alone', () => {
    const s = withHealthCheck();
    s.healthChecks[0]!.metadata.annotations = { [Annotations.paused]: '' };
    expect(clustersWithDrift(s)).toEqual([]);
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

describe('clustersWithDrift, reasons', () => {
  it.each<[string, (s: FleetSnapshot) => void, string[]]>([
    ['a cluster being deleted', (s) => (s.clusters[0]!.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'), ['cluster is being deleted']],
    ['a cluster spec change', (s) => (s.clusters[0]!.metadata.generation = 2), ['cluster generation 2 not observed yet']],
    [
      'a cluster never reconciled',
      (s) => delete (s.clusters[0] as { status?: unknown }).status,
      ['cluster generation 1 not observed yet', 'cluster phase is unset'],
    ],
    ['a cluster provisioning', (s) => (s.clusters[0]!.status!.phase = 'Provisioning'), ['cluster phase is Provisioning']],
    [
      'a control plane being deleted',
      (s) => (s.controlPlanes[0]!.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'),
      ['control plane c1-cp is being deleted'],
    ],
    ['a control plane spec change', (s) => (s.controlPlanes[0]!.metadata.generation = 2), ['control plane c1-cp generation not observed yet']],
    ['a control plane with a machine not up to date', (s) => (s.controlPlanes[0]!.status!.updatedReplicas = 2), ['control plane c1-cp has 3/3 ready replicas']],
    [
      'a control plane without status nor generation',
      (s) => {
        delete (s.controlPlanes[0] as { status?: unknown }).status;
        s.controlPlanes[0]!.metadata.generation = 0;
      },
      ['control plane c1-cp has 0/3 ready replicas'],
    ],
    [
      'a deployment being deleted',
      (s) => (s.machineDeployments[0]!.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'),
      ['machine deployment c1-md is being deleted'],
    ],
    ['a deployment not complete', (s) => (s.machineDeployments[0]!.status!.availableReplicas = 1), ['machine deployment c1-md is not complete']],
  ])('names %s', (_what, change, reasons) => {
    const s = settled();
    change(s);
    expect(clustersWithDrift(s)).toEqual([{ namespace: 'default', clusterName: 'c1', reasons, onlyHealthChecks: false }]);
  });

  it.each<[string, (h: MachineHealthCheck) => void]>([
    ['without a RemediationAllowed condition', (h) => delete (h.status as { conditions?: unknown }).conditions],
    [
      'without status nor generation',
      (h) => {
        delete (h as { status?: unknown }).status;
        h.metadata.generation = 0;
      },
    ],
  ])('a health check %s has timeouts to evaluate', (_what, change) => {
    const s = withHealthCheck();
    change(s.healthChecks[0]!);
    expect(clustersWithDrift(s)).toEqual([
      { namespace: 'default', clusterName: 'c1', reasons: ['health check c1-mhc has timeouts to evaluate'], onlyHealthChecks: true },
    ]);
  });

  it('a paused cluster is not drifting for its control plane nor its health checks', () => {
    const s = withHealthCheck();
    s.clusters[0]!.spec.paused = true;
    s.controlPlanes[0]!.status!.readyReplicas = 2;
    expect(drifting(s)).toEqual([]);
  });

  it('a control plane of no replicas that reported nothing yet is not drifting', () => {
    const s = settled();
    delete (s.controlPlanes[0] as { status?: unknown }).status;
    s.controlPlanes[0]!.metadata.generation = 0;
    s.controlPlanes[0]!.spec.replicas = 0;
    expect(clustersWithDrift(s)).toEqual([]);
  });

  it('leaves objects of a cluster that is not in the snapshot to the stream', () => {
    const s = withHealthCheck();
    s.clusters = [];
    s.controlPlanes[0]!.status!.readyReplicas = 2;
    expect(clustersWithDrift(s)).toEqual([]);
  });

  it('keeps the drift of each cluster apart, the first listed included', () => {
    const a = settled('a');
    const b = settled('b');
    a.clusters[0]!.status!.phase = 'Provisioning';
    const s: FleetSnapshot = {
      clusters: [...a.clusters, ...b.clusters],
      controlPlanes: [...a.controlPlanes, ...b.controlPlanes],
      machineDeployments: [...a.machineDeployments, ...b.machineDeployments],
      healthChecks: [],
    };
    expect(drifting(s)).toEqual(['default/a']);
  });
});

describe('clustersWithDrift: ClusterResourceSets', () => {
  /** A settled fleet whose cluster c1 carries the label `cni: calico`, with a set selecting it. */
  const withSet = (recorded?: { hash: string; applied: boolean }): FleetSnapshot => {
    const s = settled();
    s.clusters[0]!.metadata.labels = { cni: 'calico' };
    s.clusters[0]!.metadata.uid = 'uid-c1';
    s.clusterResourceSets = [
      {
        apiVersion: API_VERSION,
        kind: 'ClusterResourceSet',
        metadata: meta('cni'),
        spec: { clusterSelector: { matchLabels: { cni: 'calico' } }, strategy: 'ApplyOnce', resources: [{ name: 'calico', digest: 'sha256:a', size: 10 }] },
      } as unknown as NonNullable<FleetSnapshot['clusterResourceSets']>[number],
    ];
    s.clusterResourceSetBindings = recorded
      ? [
          {
            apiVersion: API_VERSION,
            kind: 'ClusterResourceSetBinding',
            metadata: meta('c1', { ownerReferences: [{ apiVersion: API_VERSION, kind: 'Cluster', name: 'c1', uid: 'uid-c1' }] }),
            spec: { clusterName: 'c1' },
            status: {
              bindings: [{ clusterResourceSetName: 'cni', resources: [{ name: 'calico', ...recorded, lastAppliedTime: '2026-01-01T00:00:00Z' }] }],
            },
          } as unknown as NonNullable<FleetSnapshot['clusterResourceSetBindings']>[number],
        ]
      : [];
    return s;
  };

  it('finds a settled cluster a set selects but has not been applied to, and says which set', () => {
    expect(clustersWithDrift(withSet())).toEqual([
      expect.objectContaining({ clusterName: 'c1', reasons: ['ClusterResourceSet cni has 1 resource(s) not applied'] }),
    ]);
  });

  it('finds one whose resource failed, and none once it is applied', () => {
    expect(drifting(withSet({ hash: 'sha256:a', applied: false }))).toEqual(['default/c1']);
    expect(drifting(withSet({ hash: 'sha256:a', applied: true }))).toEqual([]);
  });

  it('finds none for a paused cluster, or one the set does not select', () => {
    const paused = withSet();
    paused.clusters[0]!.spec.paused = true;
    const other = withSet();
    other.clusters[0]!.metadata.labels = { cni: 'cilium' };
    expect(drifting(paused)).toEqual([]);
    expect(drifting(other)).toEqual([]);
  });
});
