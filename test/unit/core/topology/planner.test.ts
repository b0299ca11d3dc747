/** The topology planner: what a ClusterClass and a Cluster's topology generate, the upgrade order, and TopologyReconciled. */
import { describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
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
  expect(w.condition()).not.toHaveProperty('message');
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
    expect(w.condition()?.message).toBe('ControlPlane prod-control-plane is rolling to v1.32.0 on the way to v1.33.4');
    expect(version(w, 'ControlPlane', 'prod-control-plane')).toBe('v1.32.0');
    w.settleControlPlane();
    expect(World.described(w.pass())).toEqual(['Update ControlPlane prod-control-plane']);
    expect(version(w, 'ControlPlane', 'prod-control-plane')).toBe('v1.33.4');
    expect(version(w, 'MachineDeployment', 'prod-md-0')).toBe('v1.31.2');
    w.settleControlPlane();
    w.pass();
    expect(version(w, 'MachineDeployment', 'prod-md-0')).toBe('v1.33.4');
  });

  it('holds the control plane within three minors of the oldest worker, upgrading the workers to its version first', () => {
    const w = settled();
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.34.0'));
    for (const step of ['v1.32.0', 'v1.33.0', 'v1.34.0']) {
      w.pass();
      expect(version(w, 'ControlPlane', 'prod-control-plane')).toBe(step);
      w.settleControlPlane();
    }
    // A further minor before the workers moved: v1.35 would be four minors ahead of their v1.31.
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.35.0'));
    expect(World.described(w.pass())).toEqual(['Update MachineDeployment prod-md-0']);
    expect([version(w, 'ControlPlane', 'prod-control-plane'), version(w, 'MachineDeployment', 'prod-md-0')]).toEqual(['v1.34.0', 'v1.34.0']);
    for (const name of ['prod-md-0', 'prod-md-1', 'prod-gpu']) {
      w.settleMachineDeployment(name);
      w.pass();
    }
    expect(version(w, 'ControlPlane', 'prod-control-plane')).toBe('v1.35.0');
    expect(version(w, 'MachineDeployment', 'prod-gpu')).toBe('v1.34.0');
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
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'ClusterClassRollout', message: 'generated objects are being updated to the ClusterClass' });
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
    const plan = w.pass();
    expect(World.described(plan)).toEqual(['Delete MachineDeployment prod-md-1', 'Delete MachineHealthCheck prod-md-1']);
    expect(plan.writes.flatMap((x) => (x.type === 'Delete' ? [x.reason] : []))).toEqual([
      'removed from the Cluster topology',
      'no longer asked for by the ClusterClass',
    ]);
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

describe('planTopology: what it removes and what it reads', () => {
  it('removes a field it owns that the class or topology no longer gives (taints, a failure domain)', () => {
    const withTaints = withValue(twoWorkerClass(), 'spec.workers.machineDeployments[0].template.taints', [{ key: 'gpu', effect: 'NoSchedule' }]);
    const w = new World({
      clusterClass: withTaints,
      topology: { workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', failureDomain: 'zone-a' }] } },
    });
    w.pass();
    expect(w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!.spec.template.spec).toMatchObject({ taints: [{ key: 'gpu' }], failureDomain: 'zone-a' });
    // Still given: kept, nothing to write.
    expect(World.described(w.pass())).toEqual([]);
    w.clusterClass = parsed(twoWorkerClass());
    w.editCluster((c) => withValue(c, 'spec.topology.workers.machineDeployments[0].failureDomain', undefined));
    expect(World.described(w.pass())).toEqual(['Update MachineDeployment prod-md-0']);
    const spec = w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!.spec.template.spec;
    expect([spec.taints, spec.failureDomain]).toEqual([undefined, undefined]);
  });

  it('leaves alone what the topology of another cluster made', () => {
    const w = settled();
    const own = w.get<MachineDeployment>('MachineDeployment', 'prod-gpu')!;
    w.put({ ...own, metadata: { ...own.metadata, name: 'other-gpu', labels: { ...own.metadata.labels, 'clusterless.dev/cluster-name': 'other' } } });
    const check = w.get<MachineHealthCheck>('MachineHealthCheck', 'prod-md-0')!;
    w.put({ ...check, metadata: { ...check.metadata, name: 'other-md-0', labels: { ...check.metadata.labels, 'clusterless.dev/cluster-name': 'other' } } });
    expect(World.described(w.pass())).toEqual([]);
  });

  it('is not done while a MachineDeployment still has machines of an older MachineSet, however its status reads', () => {
    const w = settled();
    const oldSet = (replicas: number, statusReplicas: number) =>
      ({
        apiVersion: 'clusterless.dev/v1alpha1',
        kind: 'MachineSet',
        metadata: { name: 'prod-md-0-old', namespace: 'default', labels: { 'clusterless.dev/deployment-name': 'prod-md-0' } },
        spec: { clusterName: 'prod', replicas, template: { metadata: {}, spec: { version: 'v1.30.0', machineClassRef: { name: 'worker-m5' } } } },
        status: { replicas: statusReplicas },
      }) as unknown as MachineSet;
    w.put(oldSet(1, 1));
    w.pass();
    expect(w.condition()).toMatchObject({ status: 'False', reason: 'MachineDeploymentsUpgradePending', message: expect.stringContaining('prod-md-0') });
    w.put(oldSet(0, 1));
    w.pass();
    expect(w.condition()).toMatchObject({ reason: 'MachineDeploymentsUpgradePending' });
    w.put(oldSet(1, 0));
    w.pass();
    expect(w.condition()).toMatchObject({ reason: 'MachineDeploymentsUpgradePending' });
    const noStatus = oldSet(0, 0);
    delete (noStatus as { status?: unknown }).status;
    w.put(noStatus);
    w.pass();
    expect(w.condition()).toMatchObject({ status: 'True', reason: 'Reconciled' });
    // Machines of another deployment, or of the same version, hold nothing back.
    const other = oldSet(1, 1);
    w.put({ ...other, metadata: { ...other.metadata, labels: { 'clusterless.dev/deployment-name': 'prod-md-1-other' } } });
    const same = oldSet(1, 1);
    w.put({
      ...same,
      metadata: { ...same.metadata, name: 'prod-md-0-same' },
      spec: { ...same.spec, template: { ...same.spec.template, spec: { ...same.spec.template.spec, version: 'v1.31.2' } } },
    });
    w.pass();
    expect(w.condition()).toMatchObject({ status: 'True', reason: 'Reconciled' });
  });

  it('reports the control plane of another name as one it did not make', () => {
    const w = new World();
    w.put(
      parsed({
        apiVersion: 'clusterless.dev/v1alpha1',
        kind: 'ControlPlane',
        metadata: { name: 'prod-cp' },
        spec: { clusterName: 'prod', version: 'v1.31.2', machineClassRef: { name: 'x' } },
      }),
    );
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()).toMatchObject({ reason: 'TopologyInvalid', message: expect.stringContaining('ControlPlane prod-cp') });
  });
});

describe("planTopology: what the Cluster's status says", () => {
  it('records the generation of the class it reconciled against, and writes nothing more when neither changed', () => {
    const w = settled();
    expect(w.cluster.status?.observedClusterClassGeneration).toBe(1);
    expect(w.pass().writes).toEqual([]);
    w.clusterClass = { ...w.clusterClass!, metadata: { ...w.clusterClass!.metadata, generation: 2 } };
    const plan = w.pass();
    expect(plan.writes.map((x) => x.type)).toEqual(['UpdateStatus']);
    expect(w.cluster.status?.observedClusterClassGeneration).toBe(2);
    expect(w.condition()).toMatchObject({ status: 'True' });
  });

  it('says in its messages which objects it waits for', () => {
    const w = new World({ topology: threeMds });
    w.pass();
    expect(w.condition()?.message).toBe('ControlPlane being created at v1.31.2');
    w.pass();
    expect(w.condition()?.message).toBe('ControlPlane prod-control-plane is rolling to v1.31.2');
    w.settleAll();
    w.edit<MachineDeployment>('MachineDeployment', 'prod-md-1', (md) => md);
    w.edit<MachineDeployment>('MachineDeployment', 'prod-gpu', (md) => md);
    w.pass();
    expect(w.condition()).toMatchObject({ reason: 'ClusterClassRollout', message: 'MachineDeployments rolling out: prod-md-1, prod-gpu' });
    w.settleAll();
    w.editCluster((c) => withValue(c, 'spec.topology.version', 'v1.31.3'));
    w.pass();
    w.settleControlPlane();
    w.pass();
    expect(w.condition()?.message).toBe('MachineDeployments not yet at v1.31.3: prod-md-0, prod-md-1, prod-gpu');
    expect(w.pass().notes).toEqual([]);
  });

  it('notes its changes and its refusals for the logs', () => {
    expect(new World().pass().notes).toEqual(['topology: 4 change(s) to the generated objects']);
    expect(new World({ clusterClass: null }).pass().notes).toEqual(['topology: ClusterClassNotFound: ClusterClass standard not found in namespace default']);
  });

  it('reports a control plane that has not finished a class change as ClusterClassRollout', () => {
    const w = settled();
    w.edit<ControlPlane>('ControlPlane', 'prod-control-plane', (c) => c);
    w.pass();
    expect(w.condition()).toMatchObject({ reason: 'ClusterClassRollout', message: 'ControlPlane prod-control-plane is rolling out' });
  });

  it("reports VariablesInvalid only when every cause is a variable's, TopologyInvalid otherwise", () => {
    const w = new World({
      topology: { variables: [{ name: 'settings', value: { drain: 'x' } }], workers: { machineDeployments: [{ class: 'tpu', name: 'md-0' }] } },
    });
    w.pass();
    expect(w.condition()).toMatchObject({ reason: 'TopologyInvalid' });
    expect(w.condition()?.message).toContain('; ');
  });
});

describe('planTopology: replicas the topology leaves unset, and a status already said', () => {
  it('creates a MachineDeployment without topology replicas at 1, and keeps a scale made by hand (or an autoscaler)', () => {
    const w = new World({ topology: { workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0' }] } } });
    w.pass();
    expect(w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!.spec.replicas).toBe(1);
    w.edit<MachineDeployment>('MachineDeployment', 'prod-md-0', (md) => ({ ...md, spec: { ...md.spec, replicas: 5 } }));
    expect(World.described(w.pass())).toEqual([]);
    expect(w.get<MachineDeployment>('MachineDeployment', 'prod-md-0')!.spec.replicas).toBe(5);
  });

  it('writes nothing again while the condition and the class generation stay, also when the class is gone', () => {
    const w = settled();
    w.clusterClass = undefined;
    expect(w.pass().writes.map((x) => x.type)).toEqual(['UpdateStatus']);
    expect(w.condition()).toMatchObject({ reason: 'ClusterClassNotFound' });
    expect(w.pass().writes).toEqual([]);
  });
});

describe('planTopology: a patch that cannot be applied', () => {
  it('reports TopologyInvalid naming the object and the patch, for the control plane and a MachineDeployment alike', () => {
    const broken = withValue(
      withValue(twoWorkerClass(), 'spec.patches[0].definitions[0].jsonPatches[1]', {
        op: 'replace',
        path: '/spec/strategy/rollingUpdate/maxSurge/x',
        value: 1,
      }),
      'spec.patches[1]',
      {
        name: 'cp',
        definitions: [
          { selector: { kind: 'ControlPlane', matchResources: { controlPlane: true } }, jsonPatches: [{ op: 'remove', path: '/spec/remediation/maxRetry' }] },
        ],
      },
    );
    const w = new World({ clusterClass: broken });
    expect(World.described(w.pass())).toEqual([]);
    expect(w.condition()?.message).toBe(
      'ControlPlane: patch cp: remove /spec/remediation/maxRetry: no field maxRetry to remove; MachineDeployment md-0: patch worker-class: replace /spec/strategy/rollingUpdate/maxSurge/x: not inside an object',
    );
  });

  it('names a MachineDeployment the topology asks for but that is not made yet', () => {
    const w = settled();
    w.editCluster((c) => withValue(c, 'spec.topology.workers.machineDeployments[3]', { class: 'default-worker', name: 'md-3', replicas: 1 }));
    w.pass();
    expect(w.condition()?.message).toBe('MachineDeployments not yet at v1.31.2: prod-md-3');
  });
});
