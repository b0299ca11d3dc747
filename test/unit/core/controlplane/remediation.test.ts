import { describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import { planControlPlane } from '../../../../functions/core/controlplane/planner.js';
import { machineToBeRemediated, safetyIssue } from '../../../../functions/core/controlplane/remediation.js';
import { controlPlaneScope } from '../../../../functions/core/controlplane/scope.js';
import type { NodeFact } from '../../../../functions/core/observed.js';
import type { Plan } from '../../../../functions/core/plan.js';
import {
  Annotations,
  Labels,
  T0,
  ZONES,
  ago,
  at,
  condition,
  controlPlane,
  cpMachine,
  healthCheck,
  instance,
  iso,
  machine,
  node,
  objects,
  type MachineOptions,
} from '../cluster/fixtures.js';

// Cases of Cluster API's controlplane/kubeadm/reconcilers/kubeadmcontrolplane/remediation_test.go
// (TestReconcileUnhealthyMachines, TestGetMachineToBeRemediated), with the MachineHealthCheck's verdict coming
// from a node NotReady for longer than 5 minutes and the mark the health check leaves on the machine.

const cpCheck = healthCheck({ selector: { matchExpressions: [{ key: Labels.controlPlane, operator: 'Exists' }] } }, 'cp-mhc');

const marked = (): MachineOptions['conditions'] => [
  condition('InfrastructureReady', 'True', at(-86000)),
  { ...condition('HealthCheckSucceeded', 'False', at(-60), 'UnhealthyNode') },
  { ...condition('OwnerRemediated', 'False', at(-60), 'WaitingForRemediation') },
];

interface M {
  name: string;
  unhealthy?: boolean;
  node?: boolean;
  deleting?: boolean;
  age?: number;
  version?: string;
  annotations?: Record<string, string>;
  /** The node went NotReady this many seconds ago: not yet long enough for the health check. */
  notReadyFor?: number;
}

function run(ms: M[], cp: ControlPlane = controlPlane(), opts: { nodesKnown?: boolean; now?: Date } = {}): Plan {
  const machines: Machine[] = ms.map((m, i) =>
    cpMachine(m.name, {
      failureDomain: ZONES[i % 3]!,
      age: m.age ?? 86000 - i * 100,
      ...(m.node === false ? { node: false } : {}),
      ...(m.deleting ? { deleting: true } : {}),
      ...(m.version ? { version: m.version } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
      ...(m.unhealthy ? { conditions: marked() } : {}),
    }),
  );
  const now = opts.now ?? T0;
  const nodes: NodeFact[] = machines
    .filter((m) => m.status?.nodeRef)
    .map((m, i) => {
      const spec = ms.find((x) => x.name === m.metadata.name);
      if (spec?.notReadyFor !== undefined) return node(m, 'False', at(-spec.notReadyFor));
      return node(m, spec?.unhealthy ? 'False' : 'True', at(-3000 - i));
    });
  const o = objects({ controlPlane: cp, machines, machineHealthChecks: [cpCheck] });
  return planControlPlane(o, { instances: machines.map((m) => instance(m)), ...(opts.nodesKnown === false ? {} : { nodes }) }, now);
}

const lastRemediationOf = (plan: Plan) => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'ControlPlane');
  return w?.type === 'UpdateStatus' ? (w.object as ControlPlane).status?.lastRemediation : undefined;
};
const remediated = (plan: Plan) => plan.actions.flatMap((a) => (a.type === 'RemediateMachine' ? [a.machine.name] : []));
const deletedOrCreated = (plan: Plan) => plan.writes.filter((w) => w.type === 'Delete' || w.type === 'Create');

describe('ControlPlane remediation', () => {
  it('Remediation does not happen if there are no unhealthy machines', () => {
    // Act
    const plan = run([{ name: 'm1' }, { name: 'm2' }, { name: 'm3' }]);
    // Assess
    expect(lastRemediationOf(plan)).toBeUndefined();
    expect(remediated(plan)).toEqual([]);
  });

  it('Remediation deletes unhealthy machine - 3 CP: the intent first, then the action', () => {
    // Act
    const first = run([{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }]);
    const second = run([{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }], controlPlane({}, { lastRemediation: lastRemediationOf(first)! }));
    // Assess
    expect(lastRemediationOf(first)).toEqual({ machine: 'm1', timestamp: iso(T0), retryCount: 0 });
    expect(remediated(first)).toEqual([]);
    expect(remediated(second)).toEqual(['m1']);
    expect(second.actions[0]).toMatchObject({ healthCheck: 'cp-mhc', reason: 'UnhealthyNode' });
  });

  it('names the remediation episode: the action carries when the machine was marked for remediation', () => {
    // Act
    const first = run([{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }]);
    const second = run([{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }], controlPlane({}, { lastRemediation: lastRemediationOf(first)! }));
    // Assess: the OwnerRemediated=False mark's lastTransitionTime (one workflow per episode), not the time of the plan.
    expect(second.actions).toEqual([expect.objectContaining({ type: 'RemediateMachine', markedAt: iso(at(-60)) })]);
  });

  it('does not carry out a recorded remediation that has become unsafe since', () => {
    // Prepare: m1's remediation was recorded 30s ago; m2 has failed in the meantime.
    const cp = controlPlane({}, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 30), retryCount: 0 } });
    // Act
    const plan = run([{ name: 'm1', unhealthy: true }, { name: 'm2', unhealthy: true }, { name: 'm3' }], cp);
    // Assess
    expect(remediated(plan)).toEqual([]);
    expect(plan.notes.join()).toContain('Machine m1 waits for its remediation: removing it would leave 1 healthy etcd member(s) of 2, quorum is 2');
  });

  it('Remediation deletes unhealthy machine - 1 CP not initialized', () => {
    // Act
    const plan = run([{ name: 'm1', unhealthy: true }], controlPlane({ replicas: 1 }, { initialized: false }));
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m1');
  });

  it('Remediation deletes unhealthy machine - 4 CP (during 3 CP rolling upgrade)', () => {
    // Act
    const plan = run([
      { name: 'm1', unhealthy: true, version: 'v1.30.0' },
      { name: 'm2', version: 'v1.30.0' },
      { name: 'm3', version: 'v1.30.0' },
      { name: 'm4' },
    ]);
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m1');
    expect(deletedOrCreated(plan)).toEqual([]);
  });

  it('Remediation deletes unhealthy machine failed to provision - 3 CP', () => {
    // Act
    const plan = run([{ name: 'm1' }, { name: 'm2' }, { name: 'm3', unhealthy: true, node: false }]);
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m3');
  });

  it.each([
    { name: 'Remediation does not happen if desired replicas <= 1', ms: [{ name: 'm1', unhealthy: true }], cp: () => controlPlane({ replicas: 1 }) },
    {
      name: 'Remediation does not happen if there is another machine being deleted (not the one to be remediated)',
      ms: [{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }, { name: 'm4', deleting: true }],
      cp: () => controlPlane(),
    },
    {
      name: 'Remediation does not happen if there is an healthy machine being provisioned',
      ms: [{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3', node: false, age: 10 }],
      cp: () => controlPlane(),
    },
    {
      name: 'Remediation does not happen if there is at least one additional unhealthy etcd member on a 3 machine CP',
      ms: [{ name: 'm1', unhealthy: true }, { name: 'm2', unhealthy: true }, { name: 'm3' }],
      cp: () => controlPlane(),
    },
    {
      name: 'Remediation does not happen if there are at least two additional unhealthy etcd member on a 5 machine CP',
      ms: [{ name: 'm1', unhealthy: true }, { name: 'm2', unhealthy: true }, { name: 'm3', unhealthy: true }, { name: 'm4' }, { name: 'm5' }],
      cp: () => controlPlane({ replicas: 5 }),
    },
  ])('$name', ({ ms, cp }) => {
    // Act
    const plan = run(ms, cp());
    // Assess
    expect(lastRemediationOf(plan)).toBeUndefined();
    expect(remediated(plan)).toEqual([]);
  });

  it('Remediation happens on a 5 machine CP with one additional unhealthy member', () => {
    // Act
    const plan = run(
      [{ name: 'm1', unhealthy: true }, { name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4' }, { name: 'm5' }],
      controlPlane({ replicas: 5 }),
    );
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m1');
  });

  it('Remediation does not happen when the workload cluster cannot be read', () => {
    // Act
    const plan = run([{ name: 'm1', unhealthy: true, annotations: { [Annotations.remediateMachine]: '' } }, { name: 'm2' }, { name: 'm3' }], controlPlane(), {
      nodesKnown: false,
    });
    // Assess
    expect(lastRemediationOf(plan)).toBeUndefined();
  });

  it('Remediates only one CP machine in case of multiple failures: another remediation is in progress', () => {
    // Prepare: m1 was remediated and is being deleted; m2 turned unhealthy since.
    const cp = controlPlane({ replicas: 5 }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 30), retryCount: 0 } });
    // Act
    const plan = run([{ name: 'm1', deleting: true }, { name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4' }, { name: 'm5' }], cp);
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m1');
    expect(remediated(plan)).toEqual([]);
    expect(plan.notes.join('\n')).toContain('the remediation of m1 is still in progress');
  });

  it('is no longer in progress once the replacement exists, and no longer blocks', () => {
    // Prepare: m1 was remediated 10 minutes ago and is gone; m4 (its replacement) was created since; m2 fails now.
    const cp = controlPlane({}, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 600), retryCount: 0 } });
    // Act
    const plan = run([{ name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4', age: 500 }], cp);
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm2', timestamp: iso(T0), retryCount: 0 });
  });
});

describe('ControlPlane remediation retries', () => {
  // m4 is the replacement made after the remediation of m1 (created since lastRemediation.timestamp).
  const replacementFails = (cp: ControlPlane, now = T0) => run([{ name: 'm2' }, { name: 'm3' }, { name: 'm4', unhealthy: true, age: 50 }], cp, { now });

  it('Remediation does not happen if MaxRetry is reached', () => {
    // Act
    const plan = replacementFails(
      controlPlane({ remediation: { maxRetry: 3 } }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 100), retryCount: 3 } }),
    );
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm1', timestamp: ago(T0, 100), retryCount: 3 });
    expect(plan.notes.join()).toContain('already failed 3 times (maxRetry 3)');
  });

  it('Remediation does not happen if RetryPeriodSeconds is not yet passed, and says when to look again', () => {
    // Act
    const plan = replacementFails(
      controlPlane({ remediation: { retryPeriodSeconds: 600 } }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 100), retryCount: 0 } }),
    );
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m1');
    expect(plan.requeueAfterSeconds).toBe(500);
  });

  it('Subsequent remediation of the same machine increase retry count', () => {
    // Act
    const plan = replacementFails(
      controlPlane({ remediation: { retryPeriodSeconds: 60, maxRetry: 3 } }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 100), retryCount: 1 } }),
    );
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm4', timestamp: iso(T0), retryCount: 2 });
  });

  it('Retry history is ignored if min healthy period is expired', () => {
    // Prepare: the replacement lived 2 hours, longer than minHealthyPeriod (1h by default).
    const cp = controlPlane({ remediation: { maxRetry: 1 } }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 7200), retryCount: 1 } });
    // Act
    const plan = run([{ name: 'm2' }, { name: 'm3' }, { name: 'm4', unhealthy: true, age: 7100 }], cp);
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm4', timestamp: iso(T0), retryCount: 0 });
  });
});

describe('machine to be remediated', () => {
  const pick = (ms: Machine[], ready: Record<string, boolean> = {}) => {
    const o = objects({ controlPlane: controlPlane(), machines: ms });
    const nodes = ms.filter((m) => m.status?.nodeRef).map((m) => node(m, ready[m.metadata.name] === false ? 'False' : 'True'));
    const scope = controlPlaneScope(o, controlPlane(), { instances: ms.map((m) => instance(m)), nodes }, T0);
    return machineToBeRemediated(scope, ms)?.metadata.name;
  };
  it.each([
    {
      name: 'returns the machine with the remediate-machine annotation first',
      ms: () => [cpMachine('a', { age: 900 }), cpMachine('b', { age: 100, annotations: { [Annotations.remediateMachine]: '' } })],
      ready: {} as Record<string, boolean>,
      expected: 'b',
    },
    {
      name: 'returns provisioning machines first',
      ms: () => [cpMachine('a', { age: 900 }), cpMachine('b', { age: 100, node: false })],
      ready: {},
      expected: 'b',
    },
    {
      name: 'returns the machines with a node that is not Ready first',
      ms: () => [cpMachine('a', { age: 900 }), cpMachine('b', { age: 100 })],
      ready: { b: false },
      expected: 'b',
    },
    { name: 'returns the oldest machine otherwise', ms: () => [cpMachine('a', { age: 100 }), cpMachine('b', { age: 900 })], ready: {}, expected: 'b' },
  ])('$name', ({ ms, ready, expected }) => {
    // Act & Assess
    expect(pick(ms(), ready)).toBe(expected);
  });
});

describe('Remediating condition', () => {
  it('is True while a machine waits for remediation', () => {
    // Act
    const plan = run([{ name: 'm1', unhealthy: true }, { name: 'm2', unhealthy: true }, { name: 'm3' }]);
    const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'ControlPlane');
    // Assess
    expect(getCondition(w?.type === 'UpdateStatus' ? w.object.status?.conditions : undefined, 'Remediating')).toMatchObject({
      status: 'True',
      reason: 'RemediationInProgress',
      message: '* Machine m1: UnhealthyNode (MachineHealthCheck cp-mhc)\n* Machine m2: UnhealthyNode (MachineHealthCheck cp-mhc)',
    });
  });
});

// More cases of remediation_test.go (TestReconcileUnhealthyMachines: "Remediation does not happen if ...") where
// several checks would refuse: each refusal names its own reason, so each check is seen to work on its own.
describe('ControlPlane remediation: why it waits', () => {
  const notesOf = (plan: Plan) => plan.notes.join('\n');

  it.each([
    {
      name: "the control plane can't remediate its only machine",
      ms: [{ name: 'm1', unhealthy: true }],
      cp: () => controlPlane({ replicas: 1 }),
      why: "Machine m1 needs remediation, but the control plane can't remediate its only machine",
    },
    {
      name: 'another machine is still being provisioned',
      ms: [{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3', node: false, age: 10 }],
      cp: () => controlPlane(),
      why: 'Machine m1 needs remediation, but Machine m3 is still being provisioned',
    },
    {
      name: 'another machine, without a node, is being deleted (it is not provisioning)',
      ms: [{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }, { name: 'm4', node: false, deleting: true }],
      cp: () => controlPlane(),
      why: 'Machine m1 needs remediation, but Machine m4 is being deleted',
    },
    {
      name: 'the retry period has not passed since the replacement was made',
      ms: [{ name: 'm2' }, { name: 'm3' }, { name: 'm4', unhealthy: true, age: 50 }],
      cp: () => controlPlane({ remediation: { retryPeriodSeconds: 600 } }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 100), retryCount: 0 } }),
      why: 'Machine m4 needs remediation, but the remediation of m1 already failed in the latest 600s (retryPeriodSeconds)',
    },
  ])('says so when $name', ({ ms, cp, why }) => {
    // Act
    const plan = run(ms, cp());
    // Assess
    expect(remediated(plan)).toEqual([]);
    expect(notesOf(plan)).toContain(`ControlPlane cp: ${why}`);
  });

  it('refuses when etcd health cannot be checked (the workload cluster could not be read)', () => {
    // Prepare: the health checks hand over no machine then (nothing is evaluated); the check guards safetyIssue
    // on its own all the same.
    const cp = controlPlane();
    const ms = ['m1', 'm2', 'm3'].map((n) => cpMachine(n));
    const scope = controlPlaneScope(objects({ controlPlane: cp, machines: ms }), cp, { instances: ms.map((m) => instance(m)) }, T0);
    const requests = new Map([['m1', { healthCheck: 'cp-mhc', reason: 'UnhealthyNode', message: '' }]]);
    // Act & Assess
    expect(safetyIssue(scope, ms[0]!, requests)).toBe('etcd health cannot be checked: the workload cluster could not be read');
  });

  it('records the intent alone, with no action, and says which machine will be remediated', () => {
    // Act
    const plan = run([{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }]);
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.notes).toEqual(['ControlPlane cp: Machine m1 will be remediated (UnhealthyNode, retry 0)']);
  });

  it('carries out the recorded intent with the one action, and says so', () => {
    // Prepare
    const cp = controlPlane({}, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 30), retryCount: 2 } });
    // Act
    const plan = run([{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }], cp);
    // Assess
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'RemediateMachine', machine: expect.objectContaining({ name: 'm1' }) })]);
    expect(plan.notes).toEqual(['ControlPlane cp: remediating Machine m1 (UnhealthyNode, retry 2)']);
  });

  it('remediates a control plane that has no status yet as one not initialized', () => {
    // Prepare
    const cp = controlPlane();
    delete cp.status;
    // Act
    const plan = run([{ name: 'm1', unhealthy: true }, { name: 'm2' }, { name: 'm3' }], cp);
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm1', timestamp: iso(T0), retryCount: 0 });
  });

  it('leaves a worker marked by a health check to its MachineSet: neither remediated nor listed by the control plane', () => {
    // Prepare: one health check for every machine; the worker w1 is marked, the control plane is healthy.
    const everyMachine = healthCheck({ selector: { matchExpressions: [{ key: Labels.clusterName, operator: 'Exists' }] } }, 'all-mhc');
    const cps = ['m1', 'm2', 'm3'].map((n, i) => cpMachine(n, { failureDomain: ZONES[i]! }));
    const worker = machine('w1', { conditions: marked() });
    const machines = [...cps, worker];
    const nodes = machines.map((m) => node(m, m === worker ? 'False' : 'True', at(-3000)));
    const o = objects({ controlPlane: controlPlane(), machines, machineHealthChecks: [everyMachine] });
    // Act
    const plan = planControlPlane(o, { instances: machines.map((m) => instance(m)), nodes }, T0);
    // Assess
    expect(lastRemediationOf(plan)).toBeUndefined();
    const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'ControlPlane');
    expect(getCondition(w?.type === 'UpdateStatus' ? w.object.status?.conditions : undefined, 'Remediating')?.status).toBe('False');
  });

  it('remediates the machine the health check marked, not an older one whose node only just went NotReady', () => {
    // Act: m1 is the oldest and its node NotReady for a minute, under the health check's 5 minutes.
    const plan = run(
      [{ name: 'm1', notReadyFor: 60 }, { name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4' }, { name: 'm5' }],
      controlPlane({ replicas: 5 }),
    );
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m2');
  });
});

// The remediation in progress (Cluster API: the remediation-in-progress annotation on the KubeadmControlPlane,
// cleared once the replacement exists; remediation.go reconcileUnhealthyMachines).
describe('ControlPlane remediation in progress', () => {
  const recorded = (seconds: number, replicas = 3) =>
    controlPlane({ replicas }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, seconds), retryCount: 0 } });

  it('blocks another remediation while the remediated machine is gone and its replacement not yet made', () => {
    // Act: m1 is gone, 2 of 3 machines live, none created since.
    const plan = run([{ name: 'm2', unhealthy: true }, { name: 'm3' }], recorded(30));
    // Assess
    expect(lastRemediationOf(plan)?.machine).toBe('m1');
    expect(plan.notes.join('\n')).toContain('Machine m2 needs remediation, but the remediation of m1 is still in progress');
  });

  it('does not count a deleting machine as live while waiting for the replacement', () => {
    // Act: m1 is gone; m2, m3 and a deleting m4 (made before the remediation) are there.
    const plan = run([{ name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4', deleting: true }], recorded(30));
    // Assess
    expect(plan.notes.join('\n')).toContain('the remediation of m1 is still in progress');
  });

  it('is over when the remaining machines are as many as desired, without a replacement (the machine was one too many)', () => {
    // Act: m1 was remediated during a rollout that had one machine more; m2, m3, m4 were all there before.
    const plan = run([{ name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4' }], recorded(30));
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm2', timestamp: iso(T0), retryCount: 0 });
  });

  it('is over once a replacement was made, though the control plane is still short of machines', () => {
    // Act: 5 desired, m1 gone, m6 made since the remediation: 4 live.
    const plan = run([{ name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4' }, { name: 'm6', age: 10 }], recorded(30, 5));
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm2', timestamp: iso(T0), retryCount: 0 });
  });

  it('is over when the remediated machine is still there and healthy again, though the control plane is short of machines', () => {
    // Act: m1's health came back before it was deleted; m2 fails now; 4 of 5 machines, none made since.
    const plan = run([{ name: 'm1' }, { name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4' }], recorded(30, 5));
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm2', timestamp: iso(T0), retryCount: 0 });
  });
});

describe('ControlPlane remediation retries at their bounds', () => {
  const replacementFails = (cp: ControlPlane) => run([{ name: 'm2' }, { name: 'm3' }, { name: 'm4', unhealthy: true, age: 50 }], cp);

  it('starts the count over when the replacement fails exactly minHealthyPeriodSeconds after the remediation', () => {
    // Act
    const plan = replacementFails(
      controlPlane(
        { remediation: { maxRetry: 1, minHealthyPeriodSeconds: 100 } },
        { lastRemediation: { machine: 'm1', timestamp: ago(T0, 100), retryCount: 1 } },
      ),
    );
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm4', timestamp: iso(T0), retryCount: 0 });
  });

  it('retries exactly retryPeriodSeconds after the remediation', () => {
    // Act
    const plan = replacementFails(
      controlPlane({ remediation: { retryPeriodSeconds: 100, maxRetry: 3 } }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 100), retryCount: 1 } }),
    );
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm4', timestamp: iso(T0), retryCount: 2 });
  });
});

// The replacement of a remediated machine may join although another machine wobbles, when etcd keeps quorum with
// the new member counted unhealthy (Cluster API preflight.go, checkHealthinessWhileRemediationInProgress).
describe('ControlPlane scale-up while a remediation is in progress', () => {
  const recorded = () => controlPlane({ replicas: 5 }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 30), retryCount: 0 } });
  const creates = (plan: Plan) => plan.writes.filter((w) => w.type === 'Create').length;

  it('makes the replacement although one of the other machines is not Ready, when etcd stays safe with one more member', () => {
    // Act: m1 remediated and gone; m2 NotReady for a minute; 4 of 5 machines.
    const plan = run([{ name: 'm2', notReadyFor: 60 }, { name: 'm3' }, { name: 'm4' }, { name: 'm5' }], recorded());
    // Assess
    expect(creates(plan)).toBe(1);
  });

  it('waits when the new member, counted unhealthy, would cost etcd its quorum', () => {
    // Act: 3 of 5 machines, one NotReady: with a fourth (unhealthy) member, 2 healthy of 4 is no quorum.
    const plan = run([{ name: 'm2', notReadyFor: 60 }, { name: 'm3' }, { name: 'm4' }], recorded());
    // Assess
    expect(creates(plan)).toBe(0);
  });

  it('waits for a machine being deleted, remediation or not', () => {
    // Act
    const plan = run([{ name: 'm2', deleting: true }, { name: 'm3' }, { name: 'm4' }, { name: 'm5' }], recorded());
    // Assess
    expect(creates(plan)).toBe(0);
  });
});

describe('ControlPlane remediation in progress, at the second', () => {
  it('a replacement made in the same second as the remediation ends it (creation times have a one-second resolution)', () => {
    // Act: 5 desired, m1 gone, m6 made 30 s ago, when m1 was remediated: 4 live.
    const cp = controlPlane({ replicas: 5 }, { lastRemediation: { machine: 'm1', timestamp: ago(T0, 30), retryCount: 0 } });
    const plan = run([{ name: 'm2', unhealthy: true }, { name: 'm3' }, { name: 'm4' }, { name: 'm6', age: 30 }], cp);
    // Assess
    expect(lastRemediationOf(plan)).toEqual({ machine: 'm2', timestamp: iso(T0), retryCount: 0 });
  });
});
