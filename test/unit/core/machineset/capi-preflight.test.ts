/**
 * The MachineSet preflight checks against Cluster API (kubernetes-sigs/cluster-api):
 * core/reconcilers/machineset/machineset_preflight_test.go, TestMachineSetReconciler_runPreflightChecks, case by
 * case under its own name. Differences on purpose: the ControlPlane is named by its kind (Cluster API says
 * GenericControlPlane, its test double) and versions are printed as written ("v1.27.0", where Cluster API prints the
 * parsed "1.27.0"); "kubeadm" stands for the MachineSet's KubeadmConfigTemplate bootstrap reference (here the
 * cluster's provider bootstraps with kubeadm).
 *
 * Not ported, because clusterless cannot express them: a control plane or MachineSet without a version, or with an
 * invalid one (the schemas require a valid version), the skip annotation on a KubeadmConfigTemplate (there is no
 * bootstrap template: the MachineDeployment's annotations reach its sets), the topology cases (a Cluster's
 * topology version, the upgrade-step annotation, ControlPlaneVersionSkew) and the feature gate (the checks always
 * run; `All` in the annotation turns them off).
 */
import { describe, expect, it } from 'vitest';
import { API_VERSION, Annotations } from '../../../../functions/api/common.js';
import { controlPlaneSchema, type ControlPlane } from '../../../../functions/api/control-plane.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import { eventObjectKey, eventsOfWrite } from '../../../../functions/core/events.js';
import { reconcileMachineDeployment } from '../../../../functions/core/machinedeployment/reconcile.js';
import { planMachineSet } from '../../../../functions/core/machineset/planner.js';
import { planClusterReconcile } from '../../../../functions/core/reconcile.js';
import { preflightChecks } from '../../../../functions/core/machineset/preflight.js';
import { T0, cluster, machine, machineClass, machineDeployment, machineSet } from './fixtures.js';

function cp(version: string, statusVersion?: string): ControlPlane {
  return controlPlaneSchema.parse({
    apiVersion: API_VERSION,
    kind: 'ControlPlane',
    metadata: { name: 'cp1', namespace: 'ns1', uid: 'cp1-uid' },
    spec: { clusterName: 'c1', version, machineClassRef: { name: 'small' } },
    ...(statusVersion ? { status: { version: statusVersion } } : {}),
  });
}

const controlPlaneProvisioning = cp('v1.25.6');
const controlPlaneUpgrading = cp('v1.26.2', 'v1.25.2');
const controlPlaneStable = cp('v1.26.2', 'v1.26.2');
const controlPlaneStable128 = cp('v1.28.0', 'v1.28.0');

function ms(version: string, skip?: string): MachineSet {
  return machineSet({ version, ...(skip !== undefined ? { annotations: { [Annotations.skipPreflightChecks]: skip } } : {}) });
}

const stable = (check: string) => `("${check}" preflight check failed)`;

describe('MachineSet preflight checks (TestMachineSetReconciler_runPreflightChecks)', () => {
  it.each([
    { name: 'should pass if cluster has no control plane', controlPlane: undefined, machineSet: ms('v1.26.2'), kubeadm: false, want: [] },
    { name: 'should pass if all preflight checks are skipped', controlPlane: controlPlaneUpgrading, machineSet: ms('v1.26.2', 'All'), kubeadm: true, want: [] },
    {
      name: 'control plane preflight check: should fail if the control plane is provisioning',
      controlPlane: controlPlaneProvisioning,
      machineSet: ms('v1.25.6'),
      kubeadm: false,
      want: [`ControlPlane ns1/cp1 is provisioning ${stable('ControlPlaneIsStable')}`],
    },
    {
      name: 'control plane preflight check: should fail if the control plane is upgrading',
      controlPlane: controlPlaneUpgrading,
      machineSet: ms('v1.26.2'),
      kubeadm: false,
      want: [`ControlPlane ns1/cp1 is upgrading ${stable('ControlPlaneIsStable')}`],
    },
    {
      name: 'control plane preflight check: should pass if the control plane is upgrading but the preflight check is skipped',
      controlPlane: controlPlaneUpgrading,
      machineSet: ms('v1.26.2', 'ControlPlaneIsStable'),
      kubeadm: true,
      want: [],
    },
    {
      name: 'control plane preflight check: should pass if the control plane is stable',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.26.2'),
      kubeadm: false,
      want: [],
    },
    {
      name: 'kubernetes version preflight check: should fail if the machine set minor version is greater than control plane minor version',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.27.0'),
      kubeadm: false,
      want: [
        `MachineSet version (v1.27.0) and ControlPlane version (v1.26.2) do not conform to the kubernetes version skew policy as MachineSet version is higher than ControlPlane version ${stable('KubernetesVersionSkew')}`,
      ],
    },
    {
      name: 'kubernetes version preflight check: should fail if the machine set minor version is 4 older than control plane minor version',
      controlPlane: controlPlaneStable128,
      machineSet: ms('v1.24.0'),
      kubeadm: false,
      want: [
        `MachineSet version (v1.24.0) and ControlPlane version (v1.28.0) do not conform to the kubernetes version skew policy as MachineSet version is more than 3 minor versions older than the ControlPlane version ${stable('KubernetesVersionSkew')}`,
      ],
    },
    {
      name: 'kubernetes version preflight check: should pass if the machine set minor version is greater than control plane minor version but the preflight check is skipped',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.27.0', 'KubernetesVersionSkew'),
      kubeadm: false,
      want: [],
    },
    {
      name: 'kubernetes version preflight check: should pass if the machine set minor version and control plane version conform to kubernetes version skew policy',
      controlPlane: controlPlaneStable128,
      machineSet: ms('v1.25.0'),
      kubeadm: false,
      want: [],
    },
    {
      name: 'kubeadm version preflight check: should fail if the machine set version is not equal (major+minor) to control plane version when using kubeadm bootstrap provider',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.25.5'),
      kubeadm: true,
      want: [
        `MachineSet version (v1.25.5) and ControlPlane version (v1.26.2) do not conform to kubeadm version skew policy as kubeadm only supports joining with the same major+minor version as the control plane ${stable('KubeadmVersionSkew')}`,
      ],
    },
    {
      name: 'kubeadm version preflight check: should pass if the machine set is not using kubeadm bootstrap provider',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.25.0'),
      kubeadm: false,
      want: [],
    },
    {
      name: 'kubeadm version preflight check: should pass if the machine set version and control plane version do not conform to kubeadm version skew policy but the preflight check is skipped',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.25.0', 'foobar,KubeadmVersionSkew'),
      kubeadm: true,
      want: [],
    },
    {
      name: 'kubeadm version preflight check: should pass if the machine set version and control plane version conform to kubeadm version skew when using kubeadm bootstrap provider',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.26.2'),
      kubeadm: true,
      want: [],
    },
    {
      name: 'control plane version preflight check: should pass if the machine set version and control plane version are not the same but the Cluster does not have a managed topology',
      controlPlane: controlPlaneStable,
      machineSet: ms('v1.26.0', 'ControlPlaneIsStable'),
      kubeadm: false,
      want: [],
    },
  ])('$name', ({ controlPlane, machineSet, kubeadm, want }) => {
    expect(preflightChecks({ machineSet, controlPlane, kubeadm })).toEqual(want);
  });

  it('reports every check that fails, in Cluster API order, and trims the names it skips', () => {
    // Prepare: upgrading, and a set two minors behind on a kubeadm cluster
    const set = ms('v1.24.0', ' KubernetesVersionSkew , nothing');
    // Act / Assess
    expect(preflightChecks({ machineSet: set, controlPlane: controlPlaneUpgrading, kubeadm: true })).toEqual([
      `ControlPlane ns1/cp1 is upgrading ${stable('ControlPlaneIsStable')}`,
      `MachineSet version (v1.24.0) and ControlPlane version (v1.26.2) do not conform to kubeadm version skew policy as kubeadm only supports joining with the same major+minor version as the control plane ${stable('KubeadmVersionSkew')}`,
    ]);
  });
});

describe('planMachineSet with preflight checks', () => {
  const awsCluster = cluster({ aws: { subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] } });
  const classOf = machineClass();
  const plan = (set: MachineSet, machines: Machine[], controlPlane: ControlPlane | undefined, c = cluster()) =>
    planMachineSet({ machineSet: set, machines, cluster: c, machineClass: classOf, controlPlane, observed: { instances: [], nodes: [] }, now: T0 });

  it('holds a scale up while the control plane upgrades: no machine, the reasons in ScalingUp and MachinesCreated, a look again in 15 s', () => {
    // Prepare
    const set = machineSet({ replicas: 2, version: 'v1.26.2' });
    // Act
    const p = plan(set, [], controlPlaneUpgrading);
    // Assess
    expect(p.writes.filter((w) => w.type === 'Create')).toEqual([]);
    expect(getCondition(p.status?.conditions, 'ScalingUp')).toMatchObject({
      status: 'True',
      reason: 'ScalingUp',
      message: `Scaling up from 0 to 2 replicas is blocked because:\n* ControlPlane ns1/cp1 is upgrading ${stable('ControlPlaneIsStable')}`,
    });
    expect(getCondition(p.status?.conditions, 'MachinesCreated')).toMatchObject({
      status: 'False',
      reason: 'PreflightCheckFailed',
      message: `ControlPlane ns1/cp1 is upgrading ${stable('ControlPlaneIsStable')}`,
    });
    expect(p.requeueAfterSeconds).toBe(15);
    expect(p.notes).toContain(`MachineSet ms1: scale up on hold: ControlPlane ns1/cp1 is upgrading ${stable('ControlPlaneIsStable')}`);
  });

  it('checks the kubeadm skew only where the cluster bootstraps with kubeadm', () => {
    // Prepare
    const set = machineSet({ replicas: 1, version: 'v1.25.5' });
    // Act
    const onSim = plan(set, [], controlPlaneStable);
    const onAws = plan(set, [], controlPlaneStable, awsCluster);
    // Assess
    expect(onSim.writes.filter((w) => w.type === 'Create')).toHaveLength(1);
    expect(onAws.writes.filter((w) => w.type === 'Create')).toEqual([]);
    expect(getCondition(onAws.status?.conditions, 'MachinesCreated')?.message).toContain('KubeadmVersionSkew');
  });

  it('never holds a scale down', () => {
    // Prepare
    const set = machineSet({ replicas: 1, version: 'v1.26.2' });
    const machines = [machine('a', { owner: set }), machine('b', { owner: set })];
    // Act
    const p = plan(set, machines, controlPlaneUpgrading);
    // Assess
    expect(p.writes.filter((w) => w.type === 'Delete')).toHaveLength(1);
    expect(getCondition(p.status?.conditions, 'MachinesCreated')).toBeUndefined();
  });

  it('creates the machines once the control plane is stable, and drops MachinesCreated', () => {
    // Prepare: the status the held plan left
    const set = machineSet({ replicas: 2, version: 'v1.26.2' });
    const held = { ...set, status: plan(set, [], controlPlaneUpgrading).status };
    // Act
    const p = plan(held, [], controlPlaneStable);
    // Assess
    expect(p.writes.filter((w) => w.type === 'Create')).toHaveLength(2);
    expect(getCondition(p.status?.conditions, 'MachinesCreated')).toBeUndefined();
  });

  it('the skip annotation lets the scale up through', () => {
    // Prepare
    const set = machineSet({ replicas: 1, version: 'v1.26.2', annotations: { [Annotations.skipPreflightChecks]: 'ControlPlaneIsStable' } });
    // Act / Assess
    expect(plan(set, [], controlPlaneUpgrading).writes.filter((w) => w.type === 'Create')).toHaveLength(1);
  });

  it('records a PreflightCheckFailed event on the MachineSet when the hold starts, not again while it says the same', () => {
    // Prepare
    const set = machineSet({ replicas: 1, version: 'v1.26.2' });
    const p = plan(set, [], controlPlaneUpgrading);
    const write = p.writes.find((w) => w.type === 'UpdateStatus')!;
    const held = (write as { object: MachineSet }).object;
    // Act
    const first = eventsOfWrite(write, new Map([[eventObjectKey('MachineSet', 'ms1'), set]]));
    const again = eventsOfWrite(write, new Map([[eventObjectKey('MachineSet', 'ms1'), held]]));
    // Assess
    expect(first).toEqual([
      {
        regarding: expect.objectContaining({ kind: 'MachineSet', name: 'ms1' }),
        type: 'Normal',
        reason: 'PreflightCheckFailed',
        action: 'Create',
        note: `Scale up on hold: ControlPlane ns1/cp1 is upgrading ${stable('ControlPlaneIsStable')}`,
      },
    ]);
    expect(again).toEqual([]);
  });
});

describe('preflight checks in a whole reconcile', () => {
  it("a MachineDeployment's sets are held while the cluster's ControlPlane upgrades", () => {
    // Prepare: the deployment's set exists (a uid) and has no machine yet
    const md = machineDeployment({ replicas: 2 });
    const first = reconcileMachineDeployment({
      machineDeployment: md,
      machineSets: [],
      machines: [],
      cluster: cluster(),
      machineClasses: [machineClass()],
      observed: { instances: [] },
      now: T0,
    });
    const set = { ...first.machineDeployment.machineSets[0]!, metadata: { ...first.machineDeployment.machineSets[0]!.metadata, uid: 'ms-uid' } };
    const upgrading = cp(md.spec.template.spec.version.replace(/\.\d+$/, '.9'), md.spec.template.spec.version);
    // Act
    const r = reconcileMachineDeployment({
      machineDeployment: md,
      machineSets: [set],
      machines: [],
      cluster: cluster(),
      machineClasses: [machineClass()],
      controlPlane: upgrading,
      observed: { instances: [] },
      now: T0,
    });
    // Assess
    expect(r.writes.filter((w) => w.type === 'Create' && w.object.kind === 'Machine')).toEqual([]);
    expect(getCondition(r.machineSets[0]?.status?.conditions, 'MachinesCreated')?.reason).toBe('PreflightCheckFailed');
  });

  it("a MachineSet of its own is held by the cluster's ControlPlane in planClusterReconcile", () => {
    // Prepare
    const set = machineSet({ replicas: 1, version: 'v1.26.2' });
    const c = cluster();
    // Act
    const plan = planClusterReconcile(
      {
        cluster: { ...c, status: { ...c.status, infrastructureReady: true } },
        controlPlane: controlPlaneUpgrading,
        machineDeployments: [],
        machineSets: [set],
        machines: [],
        machineHealthChecks: [],
        machineClasses: [machineClass()],
      },
      { instances: [], nodes: [] },
      T0,
    );
    // Assess
    // (The ControlPlane, which has no machine in this scene, makes its own.)
    expect(plan.writes.filter((w) => w.type === 'Create' && w.object.kind === 'Machine' && w.object.metadata.name.startsWith('ms1'))).toEqual([]);
    expect(plan.notes).toContain(`MachineSet ms1: scale up on hold: ControlPlane ns1/cp1 is upgrading ${stable('ControlPlaneIsStable')}`);
  });
});
