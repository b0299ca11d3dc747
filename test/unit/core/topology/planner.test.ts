/** The topology planner: what a ClusterClass and a Cluster's topology generate, the upgrade order, and TopologyReconciled. */
import { describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import { withValue } from '../../api/fixtures.js';
import { World, parsed, twoWorkerClass } from './world.js';

const threeMds = {
  workers: {
    machineDeployments: [
      { class: 'default-worker', name: 'md-0', replicas: 2 },
      { class: 'default-worker', name: 'md-1', replicas: 2 },
      { class: 'gpu-worker', name: 'gpu', replicas: 1 },
    ],
  },
};

/** A world whose topology is created and settled: TopologyReconciled True. */
function settled(options: ConstructorParameters<typeof World>[0] = {}): World {
  const w = new World({ topology: threeMds, ...options });
  w.pass();
  w.settleAll();
  w.pass();
  expect(w.condition()).toMatchObject({ status: 'True', reason: 'Reconciled' });
  return w;
}

const version = (w: World, kind: 'ControlPlane' | 'MachineDeployment', name: string) =>
  kind === 'ControlPlane' ? w.get<ControlPlane>(kind, name)!.spec.version : w.get<MachineDeployment>(kind, name)!.spec.template.spec.version;

describe('planTopology: what a class and a topology generate', () => {
  it('creates the ControlPlane, the MachineDeployments and the MachineHealthChecks, named as generate cluster names them', () => {
    const w = new World({ topology: threeMds });
    const plan = w.pass();
    expect(World.described(plan)).toEqual([
      'Create ControlPlane prod-control-plane',
      'Create MachineDeployment prod-md-0',
      'Create MachineDeployment prod-md-1',
      'Create MachineDeployment prod-gpu',
      'Create MachineHealthCheck prod-control-plane',
      'Create MachineHealthCheck prod-md-0',
      'Create MachineHealthCheck prod-md-1',
    ]);
  });

  it("labels each generated object as the topology's, owned by the Cluster, with its finalizer", () => {
    const w = new World();
    w.pass();
    const md = w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!;
    expect(md.metadata.labels).toMatchObject({
      'clusterless.dev/topology-owned': '',
      'clusterless.dev/topology-machine-deployment-name': 'md-0',
      'clusterless.dev/cluster-name': 'prod',
    });
    expect(md.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Cluster', name: 'prod', uid: 'cluster-uid', controller: true })]);
    expect(md.metadata.finalizers).toEqual(['clusterless.dev/machine-deployment']);
    const cp = w.get<ControlPlane>('ControlPlane', 'prod-control-plane')!;
    expect(cp.spec).toMatchObject({ clusterName: 'prod', replicas: 3, version: 'v1.31.2', machineClassRef: { name: 'cp-m5' } });
    expect(cp.metadata.labels).toMatchObject({ 'clusterless.dev/topology-owned': '' });
  });

  it("applies the class's patches: a machine class from a variable's default and an inline value", () => {
    const w = new World();
    w.pass();
    const md = w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!;
    expect(md.spec.template.spec.machineClassRef.name).toBe('worker-m5');
    expect(md.spec.minReadySeconds).toBe(30);
    expect(md.spec.replicas).toBe(2);
  });

  it("applies a MachineDeployment's variable override over the Cluster's value", () => {
    const w = new World({
      topology: {
        workers: {
          machineDeployments: [
            { class: 'default-worker', name: 'md-0', variables: { overrides: [{ name: 'workerMachineClass', value: 'worker-g5' }] } },
            { class: 'default-worker', name: 'md-1' },
          ],
        },
      },
    });
    w.pass();
    expect(w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!.spec.template.spec.machineClassRef.name).toBe('worker-g5');
    expect(w.get<MachineDeployment>('MachineDeployment', 'prod-md-1')!.spec.template.spec.machineClassRef.name).toBe('worker-m5');
  });

  it('selects the control plane and worker machines by the labels they carry in its health checks', () => {
    const w = new World();
    w.pass();
    expect(w.get<MachineHealthCheck>('MachineHealthCheck', 'prod-control-plane')!.spec).toMatchObject({
      clusterName: 'prod',
      selector: { matchLabels: { 'clusterless.dev/cluster-name': 'prod', 'clusterless.dev/control-plane': '' } },
      maxUnhealthy: '40%',
    });
    expect(w.get<MachineHealthCheck>('MachineHealthCheck', 'prod-md-0')!.spec.selector.matchLabels).toEqual({
      'clusterless.dev/cluster-name': 'prod',
      'clusterless.dev/deployment-name': 'prod-md-0',
    });
  });
});

describe('planTopology: a version change', () => {
  it('upgrades the control plane first and leaves every worker alone until it runs the new version everywhere', () => {
    const w = settled();
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.32.1'));
    expect(World.described(w.pass())).toEqual(['Update ControlPlane prod-control-plane']);
    expect(version(w, 'ControlPlane', 'prod-control-plane')).toBe('v1.32.1');
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'ControlPlaneUpgradePending', observedGeneration: 2 });
    // Still rolling: the workers wait.
    expect(World.described(w.pass())).toEqual([]);
    expect(['prod-md-0', 'prod-md-1', 'prod-gpu'].map((n) => version(w, 'MachineDeployment', n))).toEqual(['v1.31.2', 'v1.31.2', 'v1.31.2']);
  });

  it('then upgrades one MachineDeployment at a time, the next only when the previous has finished rolling', () => {
    const w = settled();
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.32.1'));
    w.pass();
    w.settleControlPlane();
    expect(World.described(w.pass())).toEqual(['Update MachineDeployment prod-md-0']);
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'MachineDeploymentsUpgradePending' });
    expect(World.described(w.pass())).toEqual([]);
    w.settleMachineDeployment('prod-md-0');
    expect(World.described(w.pass())).toEqual(['Update MachineDeployment prod-md-1']);
    w.settleMachineDeployment('prod-md-1');
    expect(World.described(w.pass())).toEqual(['Update MachineDeployment prod-gpu']);
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'MachineDeploymentsUpgradePending' });
    w.settleMachineDeployment('prod-gpu');
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()).toMatchObject({ status: 'True', reason: 'Reconciled', observedGeneration: 2 });
  });

  it('upgrades as many MachineDeployments at once as the upgrade-concurrency annotation says', () => {
    const w = settled({ annotations: { 'clusterless.dev/upgrade-concurrency': '2' } });
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.32.1'));
    w.pass();
    w.settleControlPlane();
    expect(World.described(w.pass())).toEqual(['Update MachineDeployment prod-md-0', 'Update MachineDeployment prod-md-1']);
  });

  it('steps the control plane one minor at a time when the topology jumps two, the workers after the last step', () => {
    const w = settled();
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.33.4'));
    w.pass();
    expect(version(w, 'ControlPlane', 'prod-control-plane')).toBe('v1.32.0');
    w.settleControlPlane();
    expect(World.described(w.pass())).toEqual(['Update ControlPlane prod-control-plane']);
    expect(version(w, 'ControlPlane', 'prod-control-plane')).toBe('v1.33.4');
    expect(version(w, 'MachineDeployment', 'prod-md-0')).toBe('v1.31.2');
    w.settleControlPlane();
    w.pass();
    expect(version(w, 'MachineDeployment', 'prod-md-0')).toBe('v1.33.4');
  });

  it('is True only once every MachineDeployment is available at its replicas, not when its version is written', () => {
    const w = settled();
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.31.3'));
    w.pass();
    w.settleControlPlane();
    for (const name of ['prod-md-0', 'prod-md-1', 'prod-gpu']) {
      w.pass();
      w.settleMachineDeployment(name);
    }
    w.edit<MachineDeployment>('MachineDeployment', 'prod-gpu', (md) => md);
    w.settleMachineDeployment('prod-gpu');
    const md = w.get<MachineDeployment>('MachineDeployment', 'prod-md-1')!;
    w.put({ ...md, status: { ...md.status, availableReplicas: 1 } });
    w.pass();
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'ClusterClassRollout' });
    w.settleMachineDeployment('prod-md-1');
    w.pass();
    expect(w.condition()).toMatchObject({ status: 'True', reason: 'Reconciled' });
  });
});

describe('planTopology: class changes, hand edits, removals and what it does not own', () => {
  it("rolls only what a class change touches: one worker class's machine class", () => {
    const w = settled();
    const cc = twoWorkerClass() as { spec: { workers: { machineDeployments: { template: { machineClassRef: { name: string } } }[] } } };
    cc.spec.workers.machineDeployments[1]!.template.machineClassRef.name = 'worker-g6';
    w.clusterClass = parsed(cc);
    expect(World.described(w.pass())).toEqual(['Update MachineDeployment prod-gpu']);
    expect(w.get<MachineDeployment>('MachineDeployment', 'prod-gpu')!.spec.template.spec.machineClassRef.name).toBe('worker-g6');
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'ClusterClassRollout' });
  });

  it('puts back a hand edit of a field the topology owns, and keeps one of a field it does not', () => {
    const w = settled();
    w.edit<MachineDeployment>('MachineDeployment', 'prod-md-0', (md) => ({ ...md, spec: { ...md.spec, minReadySeconds: 5, revisionHistoryLimit: 3 } }));
    w.edit<ControlPlane>('ControlPlane', 'prod-control-plane', (cp) => ({ ...cp, spec: { ...cp.spec, machineClassRef: { name: 'by-hand' } } }));
    expect(World.described(w.pass())).toEqual(['Update ControlPlane prod-control-plane', 'Update MachineDeployment prod-md-0']);
    const md = w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!;
    expect([md.spec.minReadySeconds, md.spec.revisionHistoryLimit]).toEqual([30, 3]);
    expect(w.get<ControlPlane>('ControlPlane', 'prod-control-plane')!.spec.machineClassRef.name).toBe('cp-m5');
  });

  it('deletes the MachineDeployment and health check of a MachineDeployment removed from the topology', () => {
    const w = settled();
    w.editCluster((c) => withValue(c, 'spec.topology.workers.machineDeployments', c.spec.topology!.workers!.machineDeployments!.slice(0, 2)));
    expect(World.described(w.pass())).toEqual(['Delete MachineDeployment prod-gpu']);
    w.editCluster((c) => withValue(c, 'spec.topology.workers.machineDeployments', c.spec.topology!.workers!.machineDeployments!.slice(0, 1)));
    expect(World.described(w.pass())).toEqual(['Delete MachineDeployment prod-md-1', 'Delete MachineHealthCheck prod-md-1']);
  });

  it('never touches an object it did not make, even of its cluster', () => {
    const w = settled();
    const own = w.get<MachineDeployment>('MachineDeployment', 'prod-md-1')!;
    const labels = { ...own.metadata.labels };
    delete labels['clusterless.dev/topology-owned'];
    w.put({ ...own, metadata: { ...own.metadata, name: 'prod-by-hand', labels } });
    expect(World.described(w.pass())).toEqual([]);
    expect(w.log.some((x) => x.type !== 'UpdateStatus' && ('ref' in x ? x.ref.name : x.object.metadata.name) === 'prod-by-hand')).toBe(false);
  });

  it('reports TopologyInvalid, and changes nothing, when a name it would use is taken by an object it did not make', () => {
    const w = settled();
    const md = w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!;
    const labels = { ...md.metadata.labels };
    delete labels['clusterless.dev/topology-owned'];
    w.put({ ...md, metadata: { ...md.metadata, labels } });
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.32.0'));
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'TopologyInvalid', message: expect.stringContaining('prod-md-0') });
  });
});

describe('planTopology: TopologyReconciled when the topology cannot be reconciled', () => {
  it('reports ClusterClassNotFound and generates nothing while the class is missing', () => {
    const w = new World({ clusterClass: null });
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'ClusterClassNotFound', observedGeneration: 1 });
  });

  it('reports VariablesInvalid, naming the field, and changes nothing', () => {
    const w = settled();
    w.editCluster((c) => withValue(withValue(c, 'spec.topology.variables[0].value', { drain: 'x' }), 'spec.topology.version', 'v1.32.0'));
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'VariablesInvalid', message: expect.stringContaining('spec.topology.variables[0].value') });
  });

  it('reports TopologyInvalid for a worker class the class does not define', () => {
    const w = new World({ topology: { workers: { machineDeployments: [{ class: 'tpu', name: 'md-0' }] } } });
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()).toMatchObject({
      status: 'False',
      reason: 'TopologyInvalid',
      message: expect.stringContaining('spec.topology.workers.machineDeployments[0].class'),
    });
  });

  it('reports TopologyInvalid when a patch makes an object its kind refuses', () => {
    const cc = withValue(twoWorkerClass(), 'spec.patches[0].definitions[0].jsonPatches[1].value', -1);
    const w = new World({ clusterClass: cc });
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'TopologyInvalid', message: expect.stringContaining('spec.minReadySeconds') });
  });

  it('plans nothing for a Cluster without a topology', () => {
    const w = new World();
    w.cluster = { ...w.cluster, spec: { ...w.cluster.spec } };
    delete w.cluster.spec.topology;
    expect(w.pass().writes).toEqual([]);
  });
});
