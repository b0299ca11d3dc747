/** The sweep's node probe: whether a cluster whose only drift is its health checks needs a reconcile now. */
import { describe, expect, it } from 'vitest';
import { machineDeploymentSchema, type MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import { healthChecksNeedReconcile, NodeProbeReason, type NodeProbeInput } from '../../../../functions/core/healthcheck/node-probe.js';
import type { NodeCondition, NodeFact } from '../../../../functions/core/observed.js';
import { Annotations, CLUSTER, T0, at, cluster, controlPlane, healthCheck, iso } from '../cluster/fixtures.js';

const ready = (status: NodeCondition['status'] = 'True', since = at(-3600)): NodeCondition => ({ type: 'Ready', status, lastTransitionTime: iso(since) });

function nodeNamed(name: string, conditions: NodeCondition[] = [ready()]): NodeFact {
  return { name, conditions };
}

/** 3 control-plane and 2 worker nodes, all Ready. */
const healthyNodes = (): NodeFact[] => ['cp-0', 'cp-1', 'cp-2', 'w-0', 'w-1'].map((n) => nodeNamed(n));

function readyControlPlane(readyReplicas = 3): ControlPlane {
  const cp = controlPlane({ replicas: 3 });
  cp.status = { ...cp.status, observedGeneration: 1, replicas: 3, readyReplicas, updatedReplicas: 3 };
  return cp;
}

function workers(o: { replicas?: number; readyReplicas?: number; paused?: boolean } = {}): MachineDeployment {
  const replicas = o.replicas ?? 2;
  const md = machineDeploymentSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name: 'md', generation: 1 },
    spec: { clusterName: CLUSTER, replicas, paused: o.paused ?? false, template: { spec: { version: 'v1.31.0', machineClassRef: { name: 'small' } } } },
  }) as MachineDeployment;
  md.status = {
    observedGeneration: 1,
    replicas,
    updatedReplicas: replicas,
    availableReplicas: o.readyReplicas ?? replicas,
    readyReplicas: o.readyReplicas ?? replicas,
  };
  return md;
}

/** A settled cluster with one health check (Ready Unknown/False for 300s) and readable, healthy nodes. */
function settled(): NodeProbeInput {
  return {
    cluster: cluster(),
    healthChecks: [healthCheck()],
    controlPlanes: [readyControlPlane()],
    machineDeployments: [workers()],
    nodes: { readable: true, nodes: healthyNodes() },
  };
}

const withNode = (i: NodeProbeInput, index: number, conditions: NodeCondition[]): NodeProbeInput => {
  if (!i.nodes.readable) throw new Error('unreadable');
  const nodes = [...i.nodes.nodes];
  nodes[index] = nodeNamed(nodes[index]!.name, conditions);
  return { ...i, nodes: { readable: true, nodes } };
};

describe('healthChecksNeedReconcile', () => {
  it.each<{ name: string; input: () => NodeProbeInput; reconcile: boolean; reasons?: NodeProbeReason[] }>([
    { name: 'healthy nodes, as many as claimed ready: no reconcile', input: settled, reconcile: false },
    {
      name: 'a node Ready=False just now (its timeout still ahead): reconcile, the reconcile times it',
      input: () => withNode(settled(), 3, [ready('False', T0)]),
      reconcile: true,
      reasons: [NodeProbeReason.UnhealthyCondition],
    },
    {
      name: 'a node Ready=Unknown for an hour: reconcile',
      input: () => withNode(settled(), 4, [ready('Unknown', at(-3600))]),
      reconcile: true,
      reasons: [NodeProbeReason.UnhealthyCondition],
    },
    {
      name: 'a control-plane node matching: reconcile (targets are the reconcile’s business)',
      input: () => withNode(settled(), 0, [ready('False')]),
      reconcile: true,
      reasons: [NodeProbeReason.UnhealthyCondition],
    },
    {
      name: 'a condition the health checks do not name (MemoryPressure=True): no reconcile',
      input: () => withNode(settled(), 3, [ready(), { type: 'MemoryPressure', status: 'True', lastTransitionTime: iso(T0) }]),
      reconcile: false,
    },
    {
      name: 'a named type with another status (only Ready=Unknown is checked, the node is Ready=False): no reconcile',
      input: () => ({
        ...withNode(settled(), 3, [ready('False')]),
        healthChecks: [healthCheck({ unhealthyConditions: [{ type: 'Ready', status: 'Unknown', timeout: '300s' }] })],
      }),
      reconcile: false,
    },
    {
      name: 'a custom condition named with its status (DiskPressure=True): reconcile',
      input: () => ({
        ...withNode(settled(), 3, [ready(), { type: 'DiskPressure', status: 'True', lastTransitionTime: iso(T0) }]),
        healthChecks: [healthCheck({ unhealthyConditions: [{ type: 'DiskPressure', status: 'True', timeout: '60s' }] })],
      }),
      reconcile: true,
      reasons: [NodeProbeReason.UnhealthyCondition],
    },
    {
      name: 'a node without the condition at all: no reconcile (Cluster API skips a missing condition)',
      input: () => withNode(settled(), 3, []),
      reconcile: false,
    },
    {
      name: 'a node missing (4 nodes, 5 ready replicas claimed): reconcile',
      input: () => ({ ...settled(), nodes: { readable: true, nodes: healthyNodes().slice(0, 4) } }),
      reconcile: true,
      reasons: [NodeProbeReason.NodeMissing],
    },
    {
      name: 'more nodes than claimed (a node joined by hand): no reconcile',
      input: () => ({ ...settled(), nodes: { readable: true, nodes: [...healthyNodes(), nodeNamed('extra')] } }),
      reconcile: false,
    },
    {
      name: 'nodes unreadable: reconcile anyway',
      input: () => ({ ...settled(), nodes: { readable: false, error: 'NodeReaderUnavailableError: connection refused' } }),
      reconcile: true,
      reasons: [NodeProbeReason.NodesUnreadable],
    },
    {
      name: 'a paused MachineDeployment short of ready replicas: reconcile (nodeStartupTimeout)',
      input: () => ({ ...settled(), machineDeployments: [workers({ replicas: 3, readyReplicas: 2, paused: true })] }),
      reconcile: true,
      reasons: [NodeProbeReason.NodeNotStarted],
    },
    {
      name: 'the same with nodeStartupTimeout 0s (the check is off): no reconcile',
      input: () => ({
        ...settled(),
        healthChecks: [healthCheck({ nodeStartupTimeout: '0s' })],
        machineDeployments: [workers({ replicas: 3, readyReplicas: 2, paused: true })],
      }),
      reconcile: false,
    },
    {
      name: 'cluster paused, even with a NotReady node: no reconcile',
      input: () => ({ ...withNode(settled(), 3, [ready('False')]), cluster: cluster({ paused: true }) }),
      reconcile: false,
    },
    {
      name: 'nodes unreadable but the cluster paused: no reconcile',
      input: () => ({ ...settled(), cluster: cluster({ paused: true }), nodes: { readable: false, error: 'x' } }),
      reconcile: false,
    },
    {
      name: 'the health check paused by annotation: no reconcile',
      input: () => {
        const h = healthCheck();
        h.metadata.annotations = { [Annotations.paused]: '' };
        return { ...withNode(settled(), 3, [ready('False')]), healthChecks: [h] };
      },
      reconcile: false,
    },
    {
      name: 'a health check of another cluster: ignored',
      input: () => ({ ...withNode(settled(), 3, [ready('False')]), healthChecks: [healthCheck({ clusterName: 'other' })] }),
      reconcile: false,
    },
    {
      name: 'owners of another cluster: not counted as claims',
      input: () => {
        const other = workers({ replicas: 50 });
        other.spec.clusterName = 'other';
        return { ...settled(), machineDeployments: [workers(), other] };
      },
      reconcile: false,
    },
    {
      name: 'a NotReady node and a missing one: both said',
      input: () => {
        const i = withNode(settled(), 3, [ready('False')]);
        return { ...i, nodes: { readable: true, nodes: (i.nodes as { nodes: readonly NodeFact[] }).nodes.slice(0, 4) } };
      },
      reconcile: true,
      reasons: [NodeProbeReason.UnhealthyCondition, NodeProbeReason.NodeMissing],
    },
  ])('$name', ({ input, reconcile, reasons }) => {
    // Act
    const verdict = healthChecksNeedReconcile(input());
    // Assess
    expect(verdict.reconcile).toBe(reconcile);
    expect(verdict.reasons.map((r) => r.reason)).toEqual(reasons ?? []);
  });

  it('names the nodes (a few), for the log', () => {
    const i = settled();
    const nodes = Array.from({ length: 8 }, (_, n) => nodeNamed(`w-${n}`, [ready('Unknown')]));
    const verdict = healthChecksNeedReconcile({ ...i, nodes: { readable: true, nodes } });
    expect(verdict.reasons[0]!.message).toBe('health check mhc: node(s) w-0, w-1, w-2, w-3, w-4 and 3 more report an unhealthy condition');
  });
});

describe('healthChecksNeedReconcile, what it says and counts', () => {
  it('says why, for the log: nodes unreadable, a node missing, machines waiting for their node', () => {
    const unreadable = healthChecksNeedReconcile({ ...settled(), nodes: { readable: false, error: 'connection refused' } });
    const missing = healthChecksNeedReconcile({ ...settled(), nodes: { readable: true, nodes: healthyNodes().slice(0, 4) } });
    const waiting = healthChecksNeedReconcile({ ...settled(), machineDeployments: [workers({ replicas: 3, readyReplicas: 2, paused: true })] });
    expect(unreadable.reasons.map((r) => r.message)).toEqual(['nodes could not be read (connection refused): reconcile anyway']);
    expect(missing.reasons.map((r) => r.message)).toEqual(['4 node(s) for 5 ready replicas claimed: a node is missing']);
    expect(waiting.reasons.map((r) => r.message)).toEqual(['5/6 replicas ready: a machine may be waiting for its node']);
  });

  it('names exactly five nodes without saying "more"', () => {
    const nodes = Array.from({ length: 5 }, (_, n) => nodeNamed(`w-${n}`, [ready('Unknown')]));
    const verdict = healthChecksNeedReconcile({ ...settled(), nodes: { readable: true, nodes } });
    expect(verdict.reasons[0]!.message).toBe('health check mhc: node(s) w-0, w-1, w-2, w-3, w-4 report an unhealthy condition');
  });

  it('a condition matches only by its type and its status together (MemoryPressure False is not Ready False)', () => {
    const input = withNode(settled(), 3, [ready(), { type: 'MemoryPressure', status: 'False', lastTransitionTime: iso(T0) }]);
    expect(healthChecksNeedReconcile(input).reconcile).toBe(false);
  });

  it('a health check of the same cluster name in another namespace is ignored', () => {
    const elsewhere = healthCheck();
    elsewhere.metadata.namespace = 'other';
    expect(healthChecksNeedReconcile({ ...withNode(settled(), 3, [ready('False')]), healthChecks: [elsewhere] }).reconcile).toBe(false);
  });

  it('an owner without status claims no ready replica', () => {
    const fresh = workers();
    delete fresh.status;
    expect(healthChecksNeedReconcile({ ...settled(), machineDeployments: [fresh] }).reasons.map((r) => r.reason)).toEqual([NodeProbeReason.NodeNotStarted]);
  });

  it('one health check with a node startup timeout is enough to look for machines waiting for their node', () => {
    const input = {
      ...settled(),
      healthChecks: [healthCheck({ nodeStartupTimeout: '0s' }), healthCheck({}, 'mhc-2')],
      machineDeployments: [workers({ replicas: 3, readyReplicas: 2, paused: true })],
    };
    expect(healthChecksNeedReconcile(input).reasons.map((r) => r.reason)).toEqual([NodeProbeReason.NodeNotStarted]);
  });
});
