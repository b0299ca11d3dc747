import { describe, expect, it } from 'vitest';
import { clusterSchema, type Cluster } from '../../../../functions/api/cluster.js';
import { Finalizers } from '../../../../functions/api/common.js';
import { machineDeploymentSchema, type MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import { machineSetSchema, type MachineSet } from '../../../../functions/api/machine-set.js';
import { machineClassSchema } from '../../../../functions/api/machine-class.js';
import { failureDomainNames, failureDomainsOf } from '../../../../functions/core/cluster/failure-domains.js';
import type { ClusterObjects } from '../../../../functions/core/cluster/objects.js';
import { planCluster } from '../../../../functions/core/cluster/planner.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import type { Observed } from '../../../../functions/core/observed.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { CLUSTER, T0, cluster, condition, controlPlane, cpMachine, healthCheck, instance, iso, machine, objects } from './fixtures.js';

const statusOf = (plan: Plan): Cluster['status'] => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'Cluster');
  return w?.type === 'UpdateStatus' ? (w.object as Cluster).status : undefined;
};
const nothing: Observed = { instances: [], nodes: [] };

function deployment(name: string, available?: 'True' | 'False'): MachineDeployment {
  return machineDeploymentSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name, uid: `uid-${name}` },
    spec: { clusterName: CLUSTER, template: { spec: { version: 'v1.31.0', machineClassRef: { name: 'small' } } } },
    ...(available ? { status: { conditions: [condition('Available', available)] } } : {}),
  }) as MachineDeployment;
}

function machineSet(name: string): MachineSet {
  return machineSetSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineSet',
    metadata: { name, uid: `uid-${name}` },
    spec: { clusterName: CLUSTER, template: { spec: { version: 'v1.31.0', machineClassRef: { name: 'small' } } } },
  }) as MachineSet;
}

describe('Cluster phase', () => {
  it.each([
    { name: 'Pending without a ControlPlane', o: () => objects({ cluster: cluster({ initialized: false }) }), phase: 'Pending' },
    {
      name: 'Provisioning while the control plane is not initialized',
      o: () => objects({ cluster: cluster({ initialized: false }), controlPlane: controlPlane({}, { initialized: false }) }),
      phase: 'Provisioning',
    },
    {
      name: 'Provisioned once the infrastructure is ready and the control plane initialized',
      o: () => objects({ controlPlane: controlPlane() }),
      phase: 'Provisioned',
    },
    {
      name: 'Deleting once deletionTimestamp is set',
      o: () => objects({ cluster: cluster({ deleting: true }), controlPlane: controlPlane() }),
      phase: 'Deleting',
    },
  ])('$name', ({ o, phase }) => {
    // Act
    const plan = planCluster(o(), nothing, T0);
    // Assess
    expect(statusOf(plan)?.phase).toBe(phase);
  });

  it('is Failed, with failureReason, when its load balancer failed to provision', () => {
    // Prepare
    const c = awsCluster();
    // Act
    const status = statusOf(
      planCluster(objects({ cluster: c, controlPlane: controlPlane() }), { instances: [], loadBalancer: { name: 'lb', state: 'failed' } }, T0),
    );
    // Assess
    expect(status).toMatchObject({
      phase: 'Failed',
      failureReason: 'CreateError',
      failureMessage: 'Load balancer lb failed to provision',
      infrastructureReady: false,
    });
    expect(getCondition(status?.conditions, 'InfrastructureReady')).toMatchObject({ status: 'False', message: 'Load balancer lb failed' });
  });

  it('stays Failed once failed, asks for no new load balancer and does not look again (a permanent failure waits for a human)', () => {
    // Prepare: Cluster API keeps failureReason/failureMessage until someone clears them.
    const c = awsCluster();
    c.status = { failureReason: 'CreateError', failureMessage: 'Load balancer lb failed to provision' };
    // Act
    const plan = planCluster(objects({ cluster: c, controlPlane: controlPlane() }), { instances: [] }, T0);
    // Assess
    expect(statusOf(plan)).toMatchObject({ phase: 'Failed', failureReason: 'CreateError', failureMessage: 'Load balancer lb failed to provision' });
    expect(plan.actions).toEqual([]);
    expect(plan.requeueAfterSeconds).toBeUndefined();
  });

  it('a failure read without a message is kept with an empty one', () => {
    // Prepare
    const c = awsCluster();
    c.status = { failureReason: 'CreateError' };
    // Act & Assess
    expect(statusOf(planCluster(objects({ cluster: c }), { instances: [] }, T0))).toMatchObject({ failureReason: 'CreateError', failureMessage: '' });
  });
});

function awsCluster(opts: { targetGroupArn?: string; endpoint?: boolean; infrastructureReady?: boolean } = {}): Cluster {
  return clusterSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: CLUSTER, uid: 'uid-cluster', generation: 1, finalizers: [Finalizers.cluster] },
    spec: {
      provider: {
        aws: {
          region: 'us-east-1',
          subnets: [
            { id: 'subnet-0000000b', availabilityZone: 'us-east-1b' },
            { id: 'subnet-0000000a', availabilityZone: 'us-east-1a' },
          ],
          controlPlaneLoadBalancer: { scheme: 'internal', ...(opts.targetGroupArn ? { targetGroupArn: opts.targetGroupArn } : {}) },
        },
      },
      ...(opts.endpoint ? { controlPlaneEndpoint: { host: 'lb.example', port: 6443 } } : {}),
    },
    ...(opts.infrastructureReady ? { status: { infrastructureReady: true } } : {}),
  });
}

describe('Cluster infrastructure', () => {
  it('lists the failure domains from the provider config: zones of the AWS subnets, sorted', () => {
    // Act & Assess
    expect(failureDomainsOf(awsCluster())).toEqual({ 'us-east-1a': { controlPlane: true }, 'us-east-1b': { controlPlane: true } });
    expect(statusOf(planCluster(objects(), nothing, T0))?.failureDomains).toEqual({
      'zone-a': { controlPlane: true },
      'zone-b': { controlPlane: true },
      'zone-c': { controlPlane: true },
    });
  });

  it('lists each zone once, in name order (spreading breaks ties in this order)', () => {
    // Act & Assess
    expect(Object.keys(failureDomainsOf(cluster({ zones: ['zone-b', 'zone-a', 'zone-b'] })))).toEqual(['zone-a', 'zone-b']);
    expect(Object.keys(failureDomainsOf(awsCluster()))).toEqual(['us-east-1a', 'us-east-1b']);
  });

  it.each([
    { name: 'every zone of the cluster for a class without its own list', c: () => cluster(), spec: { sim: {} }, zones: ['zone-a', 'zone-b', 'zone-c'] },
    {
      name: 'the zones a simulated class allows',
      c: () => cluster(),
      spec: { sim: { failureDomains: ['zone-c', 'zone-a', 'zone-x'] } },
      zones: ['zone-a', 'zone-c'],
    },
    {
      name: 'the zones an AWS class allows',
      c: () => awsCluster(),
      spec: { aws: { instanceTypes: ['m7g.large'], ami: 'ami-0123456789abcdef0', failureDomains: ['us-east-1b'] } },
      zones: ['us-east-1b'],
    },
  ])('machines of a class use $name', ({ c, spec, zones }) => {
    // Prepare
    const machineClass = machineClassSchema.parse({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineClass', metadata: { name: 'small' }, spec });
    // Act & Assess
    expect(failureDomainNames(c(), machineClass)).toEqual(zones);
    expect(failureDomainNames(c(), machineClass, true)).toEqual(zones);
  });

  it.each([
    { name: 'a simulated cluster is ready at once', c: () => cluster({ ready: false }), observed: nothing, ready: true, provision: false },
    {
      name: 'a user-made load balancer (targetGroupArn) is ready at once',
      c: () => awsCluster({ targetGroupArn: 'arn:aws:elb:tg' }),
      observed: nothing,
      ready: true,
      provision: false,
    },
    {
      name: 'a load balancer to make is asked for',
      c: () => awsCluster(),
      observed: { instances: [] },
      ready: false,
      provision: true,
      message: 'Waiting for the control-plane load balancer to be created',
    },
    {
      name: 'a load balancer being made is waited for',
      c: () => awsCluster(),
      observed: { instances: [], loadBalancer: { name: 'lb', state: 'provisioning' as const } },
      ready: false,
      provision: false,
      message: 'Waiting for load balancer lb to be active',
    },
    {
      name: 'an active load balancer makes the infrastructure ready',
      c: () => awsCluster({ endpoint: true }),
      observed: { instances: [], loadBalancer: { name: 'lb', dnsName: 'lb.example', state: 'active' as const } },
      ready: true,
      provision: false,
    },
  ])('$name', ({ c, observed, ready, provision, message }) => {
    // Act
    const plan = planCluster(objects({ cluster: c() }), observed, T0);
    // Assess
    expect(statusOf(plan)?.infrastructureReady).toBe(ready);
    expect(getCondition(statusOf(plan)?.conditions, 'InfrastructureReady')?.status).toBe(ready ? 'True' : 'False');
    // What the cluster waits for is said in the condition, as Cluster API mirrors the InfrastructureCluster's.
    if (message !== undefined) expect(getCondition(statusOf(plan)?.conditions, 'InfrastructureReady')?.message).toBe(message);
    expect(plan.actions.some((a) => a.type === 'ProvisionInfrastructure')).toBe(provision);
    // Nothing writes when a load balancer becomes active: a cluster waiting for one is looked at again.
    expect(plan.requeueAfterSeconds).toBe(ready ? undefined : 15);
  });

  it('records no endpoint for a load balancer that has no DNS name yet, nor while the cluster is deleting', () => {
    // Act
    const noDns = planCluster(objects({ cluster: awsCluster() }), { instances: [], loadBalancer: { name: 'lb', state: 'active' } }, T0);
    const c = awsCluster();
    c.metadata.deletionTimestamp = iso(T0);
    const deletingPlan = planCluster(objects({ cluster: c }), { instances: [], loadBalancer: { name: 'lb', dnsName: 'lb.example', state: 'active' } }, T0);
    // Assess
    for (const plan of [noDns, deletingPlan]) expect(plan.writes.some((w) => w.type === 'Update' && w.object.kind === 'Cluster')).toBe(false);
  });

  it('records the endpoint of the load balancer it made, alone, as a spec update', () => {
    // Act
    const plan = planCluster(objects({ cluster: awsCluster() }), { instances: [], loadBalancer: { name: 'lb', dnsName: 'lb.example', state: 'active' } }, T0);
    // Assess
    expect(plan.writes).toEqual([
      { type: 'Update', object: expect.objectContaining({ spec: expect.objectContaining({ controlPlaneEndpoint: { host: 'lb.example', port: 6443 } }) }) },
    ]);
  });
});

describe('Cluster conditions', () => {
  it('mirrors the control plane’s Available as ControlPlaneAvailable and summarises Ready', () => {
    // Prepare
    const cp = controlPlane();
    cp.status = { ...cp.status, ready: true, conditions: [{ ...condition('Available', 'False', T0, 'NotAvailable'), message: 'etcd lost quorum' }] };
    // Act
    const status = statusOf(planCluster(objects({ controlPlane: cp }), nothing, T0));
    // Assess
    expect(getCondition(status?.conditions, 'ControlPlaneAvailable')).toMatchObject({ status: 'False', reason: 'NotAvailable', message: 'etcd lost quorum' });
    expect(status?.controlPlaneReady).toBe(true);
    expect(getCondition(status?.conditions, 'Ready')).toMatchObject({ status: 'False', message: '* ControlPlaneAvailable: etcd lost quorum' });
  });

  it.each([
    { name: 'no workers: WorkersAvailable True, NoWorkers', mds: [] as MachineDeployment[], status: 'True', reason: 'NoWorkers' },
    { name: 'every deployment available', mds: [deployment('a', 'True'), deployment('b', 'True')], status: 'True', reason: 'Available' },
    { name: 'one deployment not available', mds: [deployment('a', 'True'), deployment('b', 'False')], status: 'False', reason: 'NotAvailable' },
    { name: 'a deployment that has not reported yet', mds: [deployment('a', 'True'), deployment('b')], status: 'Unknown', reason: 'AvailableUnknown' },
  ])('$name', ({ mds, status, reason }) => {
    // Act
    const s = statusOf(planCluster(objects({ machineDeployments: mds }), nothing, T0));
    // Assess
    expect(getCondition(s?.conditions, 'WorkersAvailable')).toMatchObject({ status, reason });
  });

  it.each([
    {
      name: 'a cluster without a ControlPlane',
      cp: undefined,
      initialized: { status: 'False', reason: 'NotInitialized', message: 'No ControlPlane is declared for this cluster' },
      available: { status: 'False', reason: 'ControlPlaneDoesNotExist', message: 'No ControlPlane is declared for this cluster' },
    },
    {
      name: 'a cluster whose ControlPlane has no node yet',
      cp: () => controlPlane({}, { initialized: false }),
      initialized: { status: 'False', reason: 'NotInitialized', message: 'Waiting for the first control plane machine to have a node' },
      available: { status: 'Unknown' },
    },
    {
      name: 'a cluster whose ControlPlane is initialized',
      cp: () => controlPlane(),
      initialized: { status: 'True', reason: 'Initialized' },
      available: { status: 'Unknown' },
    },
  ])('writes every condition of Cluster API’s Cluster, by type, status and reason: $name', ({ cp, initialized, available }) => {
    // Prepare: a cluster that has never reported (no conditions), with its infrastructure made.
    const c = cluster();
    c.status = {};
    // Act
    const status = statusOf(planCluster(objects({ cluster: c, ...(cp ? { controlPlane: cp() } : {}) }), nothing, T0));
    // Assess
    const byType = Object.fromEntries(
      (status?.conditions ?? []).map(({ type, status: st, reason, message }) => [type, { status: st, reason, ...(message ? { message } : {}) }]),
    );
    expect(byType).toMatchObject({
      InfrastructureReady: { status: 'True', reason: 'InfrastructureReady' },
      ControlPlaneInitialized: initialized,
      ControlPlaneAvailable: available,
      WorkersAvailable: { status: 'True', reason: 'NoWorkers' },
      Deleting: { status: 'False', reason: 'NotDeleting' },
      Paused: { status: 'False', reason: 'NotPaused' },
    });
    expect(Object.keys(byType).sort()).toEqual([
      'ControlPlaneAvailable',
      'ControlPlaneInitialized',
      'Deleting',
      'InfrastructureReady',
      'Paused',
      'Ready',
      'WorkersAvailable',
    ]);
    expect(status?.observedGeneration).toBe(1);
    expect(getCondition(status?.conditions, 'InfrastructureReady')?.observedGeneration).toBe(1);
  });

  it('names each MachineDeployment that is not available in WorkersAvailable, with its message', () => {
    // Prepare
    const broken = deployment('b', 'False');
    broken.status!.conditions![0] = { ...broken.status!.conditions![0]!, reason: 'NotAvailable', message: '1 available replica, at least 2 required' };
    // Act
    const s = statusOf(planCluster(objects({ machineDeployments: [deployment('a', 'True'), broken] }), nothing, T0));
    // Assess
    expect(getCondition(s?.conditions, 'WorkersAvailable')).toMatchObject({
      status: 'False',
      reason: 'NotAvailable',
      message: '* MachineDeployment b: 1 available replica, at least 2 required',
    });
  });

  it('keeps ControlPlaneInitialized once true, like Cluster API', () => {
    // Prepare: the ControlPlane object is gone (deleting cluster), the condition stays.
    const o = objects({ cluster: cluster({ initialized: true }) });
    // Act
    const s = statusOf(planCluster(o, nothing, T0));
    // Assess
    expect(getCondition(s?.conditions, 'ControlPlaneInitialized')?.status).toBe('True');
  });
});

describe('Cluster paused', () => {
  it('writes only its own Paused condition: no writes to other objects, no actions, even when deleting', () => {
    // Prepare
    const c = cluster({ paused: true, deleting: true });
    const o = objects({ cluster: c, controlPlane: controlPlane(), machineDeployments: [deployment('md')], machines: [machine('w1')] });
    // Act
    const plan = planCluster(o, { instances: [instance(machine('w1'))], loadBalancer: { name: 'lb', state: 'active' } }, T0);
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.writes).toHaveLength(1);
    expect(plan.writes[0]).toMatchObject({ type: 'UpdateStatus', object: { kind: 'Cluster' } });
    expect(getCondition(statusOf(plan)?.conditions, 'Paused')).toMatchObject({ status: 'True', reason: 'Paused' });
  });
});

describe('Cluster deletion order', () => {
  const deleting = (partial: Partial<ClusterObjects>) => objects({ cluster: cluster({ deleting: true }), ...partial });
  const deleted = (plan: Plan) => plan.writes.filter((w) => w.type === 'Delete').map((w) => (w.type === 'Delete' ? `${w.ref.kind}/${w.ref.name}` : ''));

  it.each([
    {
      name: 'MachineDeployments first, health checks at once, nothing of the control plane',
      o: () =>
        deleting({
          machineDeployments: [deployment('md')],
          machineSets: [machineSet('ms')],
          machines: [machine('w1'), cpMachine('cp-1')],
          controlPlane: controlPlane(),
          machineHealthChecks: [healthCheck()],
        }),
      expected: ['MachineHealthCheck/mhc', 'MachineDeployment/md'],
      reason: 'WaitingForWorkersDeletion',
      message: '* MachineDeployments: md',
    },
    {
      name: 'then MachineSets',
      o: () => deleting({ machineSets: [machineSet('ms')], machines: [machine('w1'), cpMachine('cp-1')], controlPlane: controlPlane() }),
      expected: ['MachineSet/ms'],
      reason: 'WaitingForWorkersDeletion',
      message: '* MachineSets: ms',
    },
    {
      name: 'then stray worker Machines',
      o: () => deleting({ machines: [machine('w1'), machine('w2', { deleting: true }), cpMachine('cp-1')], controlPlane: controlPlane() }),
      expected: ['Machine/w1'],
      reason: 'WaitingForWorkersDeletion',
      message: '* Worker Machines: w1, w2',
    },
    {
      name: 'then the ControlPlane, once no worker is left',
      o: () => deleting({ machines: [cpMachine('cp-1')], controlPlane: controlPlane() }),
      expected: ['ControlPlane/cp'],
      reason: 'WaitingForControlPlaneDeletion',
      message: 'Waiting for ControlPlane cp to be deleted',
    },
    {
      name: 'waiting for a deleting ControlPlane deletes nothing more',
      o: () => deleting({ machines: [cpMachine('cp-1', { deleting: true })], controlPlane: controlPlane({}, { deleting: true }) }),
      expected: [],
      reason: 'WaitingForControlPlaneDeletion',
      message: 'Waiting for ControlPlane cp to be deleted',
    },
    {
      name: 'stray control-plane Machines without a ControlPlane',
      o: () => deleting({ machines: [cpMachine('cp-1')] }),
      expected: ['Machine/cp-1'],
      reason: 'WaitingForControlPlaneDeletion',
      message: '* Control plane Machines: cp-1',
    },
    {
      name: 'the names of what it waits for, sorted',
      o: () => deleting({ machineDeployments: [deployment('md-b'), deployment('md-a')] }),
      expected: ['MachineDeployment/md-b', 'MachineDeployment/md-a'],
      reason: 'WaitingForWorkersDeletion',
      message: '* MachineDeployments: md-a, md-b',
    },
    {
      name: 'health checks still deleting hold the finalizer, even with nothing else left',
      o: () => deleting({ machineHealthChecks: [{ ...healthCheck(), metadata: { ...healthCheck().metadata, deletionTimestamp: iso(T0) } }] }),
      expected: [],
      reason: 'WaitingForWorkersDeletion',
      message: '* MachineHealthChecks: mhc',
    },
  ])('$name', ({ o, expected, reason, message }) => {
    // Act
    const plan = planCluster(o(), nothing, T0);
    // Assess
    expect(deleted(plan)).toEqual(expected);
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
    // The Deleting condition says what the deletion waits for, as Cluster API's does
    // (internal/controllers/cluster/cluster_controller_status.go, setDeletingCondition).
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')).toMatchObject({ status: 'True', reason, message });
  });

  it.each([
    {
      name: 'its load balancer',
      observed: { instances: [], nodes: [], loadBalancer: { name: 'lb', state: 'active' as const } },
      action: { loadBalancer: 'lb', instanceIds: [] },
      message: 'Waiting for load balancer lb to be deleted',
    },
    {
      name: 'instances left behind, sorted',
      observed: { instances: [instance(machine('b')), instance(machine('a'))], nodes: [] },
      action: { instanceIds: ['i-a', 'i-b'] },
      message: 'Waiting for instances i-a, i-b to be deleted',
    },
    {
      name: 'both, in one action',
      observed: { instances: [instance(machine('gone'))], nodes: [], loadBalancer: { name: 'lb', state: 'active' as const } },
      action: { loadBalancer: 'lb', instanceIds: ['i-gone'] },
      message: 'Waiting for load balancer lb and instances i-gone to be deleted',
    },
  ])('then the infrastructure: $name', ({ observed, action, message }) => {
    // Act
    const plan = planCluster(deleting({}), observed, T0);
    // Assess
    expect(plan.actions).toEqual([{ type: 'DeleteInfrastructure', cluster: expect.objectContaining({ name: CLUSTER }), ...action }]);
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')).toMatchObject({ reason: 'WaitingForInfrastructureDeletion', message });
  });

  it('waits for instances shutting down before the finalizer goes', () => {
    // Act
    const plan = planCluster(deleting({}), { instances: [instance(machine('b'), 'shutting-down'), instance(machine('a'), 'shutting-down')], nodes: [] }, T0);
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')).toMatchObject({
      reason: 'WaitingForInfrastructureDeletion',
      message: 'Waiting for instances i-a, i-b to terminate',
    });
  });

  it("never deletes, nor waits for, machines of another cluster (Cluster API selects a cluster's machines by its cluster-name)", () => {
    // Prepare
    const ofOther = (m: ReturnType<typeof machine>) => ({ ...m, spec: { ...m.spec, clusterName: 'other' } });
    // Act
    const plan = planCluster(deleting({ machines: [ofOther(machine('w9')), ofOther(cpMachine('cp-9'))] }), nothing, T0);
    // Assess
    expect(deleted(plan)).toEqual([]);
    expect(plan.writes).toContainEqual({
      type: 'RemoveFinalizer',
      ref: expect.objectContaining({ kind: 'Cluster', name: CLUSTER }),
      finalizer: Finalizers.cluster,
    });
  });

  it('removes the finalizer last, when nothing of the cluster is left', () => {
    // Act
    const plan = planCluster(deleting({}), { instances: [instance(machine('gone'), 'terminated')], nodes: [] }, T0);
    // Assess
    expect(plan.writes).toContainEqual({
      type: 'RemoveFinalizer',
      ref: expect.objectContaining({ kind: 'Cluster', name: CLUSTER }),
      finalizer: Finalizers.cluster,
    });
    expect(plan.actions).toEqual([]);
  });

  it('never deletes the control plane while anything of the workers is left (property over every subset)', () => {
    // Prepare
    const parts = {
      machineDeployments: [deployment('md')],
      machineSets: [machineSet('ms')],
      workers: [machine('w1')],
    };
    for (let mask = 1; mask < 8; mask++) {
      const o = deleting({
        controlPlane: controlPlane(),
        machineDeployments: mask & 1 ? parts.machineDeployments : [],
        machineSets: mask & 2 ? parts.machineSets : [],
        machines: [...(mask & 4 ? parts.workers : []), cpMachine('cp-1')],
      });
      // Act
      const plan = planCluster(o, nothing, T0);
      // Assess
      expect(deleted(plan).filter((d) => d.startsWith('ControlPlane') || d === 'Machine/cp-1')).toEqual([]);
    }
  });

  it('stamps the Deleting condition with the time it started', () => {
    // Act
    const status = statusOf(planCluster(deleting({ machineDeployments: [deployment('md')] }), nothing, T0));
    // Assess
    expect(getCondition(status?.conditions, 'Deleting')?.lastTransitionTime).toBe(iso(T0));
  });
});

describe('Cluster notes and edges', () => {
  const deletingCluster = (partial: Partial<ClusterObjects>, finalizers = true) => {
    const c = cluster({ deleting: true });
    if (!finalizers) delete c.metadata.finalizers;
    return objects({ cluster: c, ...partial });
  };

  it('a paused cluster says so', () => {
    expect(planCluster(objects({ cluster: cluster({ paused: true }) }), nothing, T0).notes).toEqual([`Cluster ${CLUSTER}: paused, nothing done`]);
  });

  it('a deleting cluster says what its deletion waits for', () => {
    // Act
    const plan = planCluster(
      deletingCluster({ machineDeployments: [deployment('md')], machineSets: [machineSet('ms')], machines: [machine('w1')] }),
      nothing,
      T0,
    );
    // Assess
    const message = getCondition(statusOf(plan)?.conditions, 'Deleting')?.message ?? '';
    expect(plan.notes).toContain(`Cluster ${CLUSTER}: deleting: ${message}`);
  });

  it('once nothing is left, removes its finalizer and says so; without a finalizer it says nothing of deleting', () => {
    // Act
    const withFinalizer = planCluster(deletingCluster({}), nothing, T0);
    const without = planCluster(deletingCluster({}, false), nothing, T0);
    // Assess
    expect(withFinalizer.notes).toContain(`Cluster ${CLUSTER}: nothing left, finalizer removed`);
    expect(without.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
    expect(without.notes.some((n) => n.includes('deleting'))).toBe(false);
  });

  it('records the endpoint of its load balancer and says so, but not the endpoint of a load balancer that failed', () => {
    // Act
    const active = planCluster(objects({ cluster: awsCluster() }), { instances: [], loadBalancer: { name: 'lb', dnsName: 'lb.example', state: 'active' } }, T0);
    const failed = planCluster(objects({ cluster: awsCluster() }), { instances: [], loadBalancer: { name: 'lb', dnsName: 'lb.example', state: 'failed' } }, T0);
    // Assess
    expect(active.notes).toEqual([`Cluster ${CLUSTER}: control-plane endpoint lb.example:6443 recorded`]);
    expect(failed.writes.some((w) => w.type === 'Update')).toBe(false);
  });

  it("records the port of a load balancer that listens on one of its own (the process provider's proxy)", () => {
    // Act
    const plan = planCluster(
      objects({ cluster: awsCluster() }),
      { instances: [], loadBalancer: { name: 'lb', dnsName: '127.0.0.1', port: 41234, state: 'active' } },
      T0,
    );
    // Assess
    expect(plan.writes).toEqual([
      { type: 'Update', object: expect.objectContaining({ spec: expect.objectContaining({ controlPlaneEndpoint: { host: '127.0.0.1', port: 41234 } }) }) },
    ]);
  });

  it('a cluster waiting for its infrastructure says what it waits for, as its InfrastructureReady condition does', () => {
    // Act
    const plan = planCluster(objects({ cluster: awsCluster() }), { instances: [] }, T0);
    // Assess
    const c = getCondition(statusOf(plan)?.conditions, 'InfrastructureReady');
    expect(c).toMatchObject({ status: 'False', reason: 'InfrastructureNotReady' });
    expect(plan.notes).toContain(`Cluster ${CLUSTER}: ${c?.message}`);
  });

  it('a control plane that reported no status yet is not initialized, not ready, its availability not yet reported', () => {
    // Prepare
    const cp = controlPlane();
    delete cp.status;
    // Act
    const s = statusOf(planCluster(objects({ cluster: cluster({ initialized: false }), controlPlane: cp }), nothing, T0));
    // Assess
    expect(getCondition(s?.conditions, 'ControlPlaneInitialized')?.status).toBe('False');
    expect(getCondition(s?.conditions, 'ControlPlaneAvailable')).toMatchObject({ status: 'Unknown', reason: 'NotYetReported' });
    expect(s?.controlPlaneReady).toBe(false);
  });

  it('WorkersAvailable lists deployments by name, and one that reported nothing yet as not yet reported', () => {
    // Act
    const s = statusOf(planCluster(objects({ machineDeployments: [deployment('b', 'False'), deployment('a')] }), nothing, T0));
    // Assess
    expect(getCondition(s?.conditions, 'WorkersAvailable')?.message).toBe('* MachineDeployment a: NotYetReported\n* MachineDeployment b: NotYetReported');
  });
});
