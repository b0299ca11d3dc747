/**
 * Cluster API's MachineHealthCheck reconcile table, restated as data: the scenarios of
 * TestMachineHealthCheck_Reconcile in core/reconcilers/machinehealthcheck/machinehealthcheck_controller_test.go
 * (kubernetes-sigs/cluster-api), each with the status Cluster API reaches (expectedMachines, currentHealthy,
 * remediationsAllowed), how many machines it marks for remediation and when it asks to be woken
 * (machinehealthcheck_targets.go: the next time a timeout runs out, one second after). Cluster API's envtest
 * waits for the status; here one pass of the planner must produce it.
 */
import { describe, expect, it } from 'vitest';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import { planMachineHealthCheck } from '../../../../functions/core/healthcheck/planner.js';
import type { NodeFact } from '../../../../functions/core/observed.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { T0, at, cluster, condition, healthCheck, instance, machine, node, objects } from '../cluster/fixtures.js';
import * as setsFixtures from '../machineset/fixtures.js';

interface Fleet {
  machines: Machine[];
  nodes: NodeFact[];
}

/** `n` workers with a node Ready for an hour. */
function healthy(n: number, prefix = 'healthy'): Fleet {
  const machines = Array.from({ length: n }, (_, i) => machine(`${prefix}-${i}`, { age: 7200 }));
  return { machines, nodes: machines.map((m) => node(m, 'True', at(-3600))) };
}

/** `n` workers whose node has reported Ready Unknown for ten minutes (past the default 5m timeout). */
function unknown(n: number, o: { deleting?: boolean; prefix?: string } = {}): Fleet {
  const machines = Array.from({ length: n }, (_, i) => machine(`${o.prefix ?? 'unhealthy'}-${i}`, { age: 7200, ...(o.deleting ? { deleting: true } : {}) }));
  return { machines, nodes: machines.map((m) => node(m, 'Unknown', at(-600))) };
}

/** A worker created `age` seconds ago, its infrastructure ready at once, that has no node yet. */
function noNode(age: number): Fleet {
  const m = machine('no-node', { age, node: false });
  m.status = { ...m.status, conditions: [condition('InfrastructureReady', 'True', at(-age))] };
  return { machines: [m], nodes: [] };
}

/** A worker that had a node (status.nodeRef) the workload cluster no longer lists. */
function nodeGone(): Fleet {
  return { machines: [machine('node-gone', { age: 7200 })], nodes: [] };
}

/** Two workers whose nodes report no condition at all. */
function nodesWithoutConditions(n: number): Fleet {
  const machines = Array.from({ length: n }, (_, i) => machine(`bare-${i}`, { age: 7200 }));
  return { machines, nodes: machines.map((m) => ({ ...node(m), conditions: [] })) };
}

const join = (...fleets: Fleet[]): Fleet => ({ machines: fleets.flatMap((f) => f.machines), nodes: fleets.flatMap((f) => f.nodes) });

const statusOf = (plan: Plan) => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'MachineHealthCheck');
  return w?.type === 'UpdateStatus' ? (w.object as MachineHealthCheck).status : undefined;
};
/** Marked machines with the reason of their failed check, "name: reason". */
const markedWhy = (plan: Plan) =>
  plan.writes.flatMap((w) =>
    w.type === 'UpdateStatus' && w.object.kind === 'Machine' && getCondition(w.object.status?.conditions, 'OwnerRemediated')?.reason === 'WaitingForRemediation'
      ? [`${w.object.metadata.name}: ${getCondition(w.object.status?.conditions, 'HealthCheckSucceeded')?.reason}`]
      : [],
  );
const marked = (plan: Plan) =>
  plan.writes.flatMap((w) =>
    w.type === 'UpdateStatus' && w.object.kind === 'Machine' && getCondition(w.object.status?.conditions, 'OwnerRemediated')?.reason === 'WaitingForRemediation'
      ? [w.object.metadata.name]
      : [],
  );

describe("MachineHealthCheck reconcile (Cluster API's TestMachineHealthCheck_Reconcile)", () => {
  it.each([
    {
      name: "it doesn't mark anything unhealthy when cluster infrastructure is not ready",
      // Nodes Ready Unknown for ten minutes: not judged, so counted healthy, as Cluster API counts them.
      fleet: unknown(2),
      clusterReady: false,
      // As in Cluster API's case the control plane is initialized: only the infrastructure gate holds them back.
      expected: 2,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: [],
    },
    {
      name: "it doesn't mark anything unhealthy when all Machines are healthy",
      fleet: healthy(2),
      expected: 2,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: [],
    },
    {
      name: 'it marks unhealthy machines for remediation when there is one unhealthy Machine and skips deleting machines',
      fleet: join(healthy(2), unknown(1), unknown(1, { deleting: true, prefix: 'deleting' })),
      expected: 4,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: ['unhealthy-0: UnhealthyNode'],
    },
    {
      name: 'it marks unhealthy machines for remediation when a Machine has the remediate-machine annotation (its node Ready)',
      fleet: join(healthy(2), healthy(1, 'annotated')),
      annotate: 'annotated-0',
      expected: 3,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: ['annotated-0: HasRemediateAnnotation'],
    },
    {
      name: 'a Machine with a failureReason (its node Ready) is marked too (documented difference)',
      // Why: Cluster API v1beta2 dropped failureReason; clusterless still records one when a provision fails
      // (CreateError), and its health check is what replaces that machine.
      fleet: join(healthy(2), healthy(1, 'failed')),
      failed: 'failed-0',
      expected: 3,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: ['failed-0: MachineHasFailure'],
    },
    {
      name: 'it marks unhealthy machines as unhealthy but not for remediation when the unhealthy Machines exceed maxUnhealthy (40% of 3)',
      fleet: join(healthy(1), unknown(2)),
      spec: { maxUnhealthy: '40%' },
      expected: 3,
      currentHealthy: 1,
      remediationsAllowed: 0,
      marked: [],
      allowed: false,
    },
    {
      name: 'it marks unhealthy machines for remediation when number of unhealthy machines is within unhealthyRange [1-3]',
      fleet: join(healthy(2), unknown(1)),
      spec: { unhealthyRange: '[1-3]' },
      expected: 3,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: ['unhealthy-0: UnhealthyNode'],
    },
    {
      name: 'it marks unhealthy machines as unhealthy but not for remediation when the unhealthy Machines is not within unhealthyRange [3-5]',
      fleet: join(healthy(1), unknown(2)),
      spec: { unhealthyRange: '[3-5]' },
      expected: 3,
      currentHealthy: 1,
      remediationsAllowed: 0,
      marked: [],
      allowed: false,
    },
    {
      name: 'when a Machine has no Node ref for less than the nodeStartupTimeout (asks again when it runs out)',
      fleet: join(healthy(2), noNode(400)),
      expected: 3,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: [],
      requeue: 600 - 400 + 1,
    },
    {
      name: 'when a Machine has no Node ref for longer than the nodeStartupTimeout',
      fleet: join(healthy(2), noNode(1200)),
      expected: 3,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: ['no-node: NodeStartupTimeout'],
    },
    {
      name: "when a Machine's Node has gone away",
      fleet: join(healthy(2), nodeGone()),
      expected: 3,
      currentHealthy: 2,
      remediationsAllowed: 2,
      marked: ['node-gone: NodeDeleted'],
    },
    {
      name: "Machine's Node and Machine without conditions (no unhealthy conditions configured)",
      fleet: nodesWithoutConditions(3),
      spec: { unhealthyConditions: [] },
      expected: 3,
      currentHealthy: 3,
      remediationsAllowed: 3,
      marked: [],
    },
    {
      name: 'should react when a Node transitions to unhealthy',
      fleet: unknown(1),
      expected: 1,
      currentHealthy: 0,
      remediationsAllowed: 0,
      marked: ['unhealthy-0: UnhealthyNode'],
    },
  ])('$name', ({ fleet, spec, clusterReady, annotate, failed, expected, currentHealthy, remediationsAllowed, marked: wantMarked, allowed, requeue }) => {
    // Prepare
    for (const m of fleet.machines) {
      if (m.metadata.name === annotate) m.metadata.annotations = { 'clusterless.dev/remediate-machine': '' };
      if (m.metadata.name === failed) m.status = { ...m.status, failureReason: 'CreateError', failureMessage: 'no capacity' } as Machine['status'];
    }
    const mhc = healthCheck({ nodeStartupTimeout: '10m', ...(spec as Partial<MachineHealthCheck['spec']>) });
    const c = cluster({ ready: clusterReady ?? true, initialized: true, since: at(-7200) });
    const observed = { instances: fleet.machines.map((m) => instance(m)), nodes: fleet.nodes };
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ cluster: c, machines: fleet.machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    const status = statusOf(plan);
    expect(status).toMatchObject({ expectedMachines: expected, currentHealthy, remediationsAllowed });
    expect(getCondition(status?.conditions, 'RemediationAllowed')?.status).toBe((allowed ?? true) ? 'True' : 'False');
    expect(markedWhy(plan)).toEqual(wantMarked);
    expect(plan.requeueAfterSeconds).toBe(requeue);
  });
});

describe('when a health check asks to be woken (machinehealthcheck_targets.go nextCheckTimes)', () => {
  // Cluster API requeues at the smallest of the targets' next checks; a target's next check is its timeout minus
  // how long it has been degraded, plus one second (the first moment the timeout is strictly exceeded).
  const mhc = healthCheck({ nodeStartupTimeout: '10m' });

  it.each([
    { name: 'a node Ready Unknown for 100s and one for 200s of 300s: the later one first, 101s', fleet: 'unknown' as const, since: [100, 200], requeue: 101 },
    { name: 'a node NotReady for 299s of 300s: 2s', fleet: 'false' as const, since: [299], requeue: 2 },
    { name: 'a node NotReady for exactly 300s: not yet unhealthy, 1s', fleet: 'false' as const, since: [300], requeue: 1 },
    { name: 'a node NotReady past its timeout is unhealthy and asks for nothing', fleet: 'false' as const, since: [301], requeue: undefined },
    { name: 'every node Ready: nothing to wait for', fleet: 'true' as const, since: [10, 20], requeue: undefined },
  ])('$name', ({ fleet, since, requeue }) => {
    // Prepare
    const status = fleet === 'unknown' ? 'Unknown' : fleet === 'false' ? 'False' : 'True';
    const machines = since.map((_, i) => machine(`w${i}`, { age: 7200 }));
    const nodes = machines.map((m, i) => node(m, status, at(-since[i]!)));
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), { instances: [], nodes }, T0);
    // Assess
    expect(plan.requeueAfterSeconds).toBe(requeue);
  });

  it('a machine without a node and a degraded node: the earlier of the startup deadline and the condition deadline', () => {
    // Prepare: no node for 590s of 600s (11s to go); a node NotReady for 100s of 300s (201s to go).
    const waiting = noNode(590);
    const degraded = machine('w0', { age: 7200 });
    // Act
    const plan = planMachineHealthCheck(
      mhc,
      objects({ machines: [...waiting.machines, degraded], machineHealthChecks: [mhc] }),
      { instances: [], nodes: [node(degraded, 'False', at(-100))] },
      T0,
    );
    // Assess
    expect(plan.requeueAfterSeconds).toBe(11);
  });

  it('a machine without a node for exactly its startup timeout is not yet unhealthy: 1s', () => {
    // Prepare
    const waiting = noNode(600);
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines: waiting.machines, machineHealthChecks: [mhc] }), { instances: [], nodes: [] }, T0);
    // Assess
    expect([markedWhy(plan), plan.requeueAfterSeconds]).toEqual([[], 1]);
  });

  it('the startup timeout disabled ("0s"): a machine without a node gives nothing to wait for', () => {
    // Prepare
    const off = healthCheck({ nodeStartupTimeout: '0s' });
    const waiting = noNode(400);
    // Act
    const plan = planMachineHealthCheck(off, objects({ machines: waiting.machines, machineHealthChecks: [off] }), { instances: [], nodes: [] }, T0);
    // Assess
    expect(plan.requeueAfterSeconds).toBeUndefined();
  });
});

describe("remediation order and maxInFlight (Cluster API's machineset_controller_test.go: TestSortMachinesToRemediate, reconcileUnhealthyMachines)", () => {
  // Note: Cluster API reads maxInFlight from the MachineDeployment (spec.remediation.maxInFlight) and the
  // MachineSet defers; clusterless reads it from the MachineHealthCheck, which marks or defers, so one limit
  // covers every target of the check, control-plane machines included.
  /** Eight workers whose nodes are NotReady, `unhealthy-i` created i seconds after `unhealthy-0`. */
  const eight = (o: { deleting?: number[]; annotated?: number[] } = {}) => {
    const machines = Array.from({ length: 8 }, (_, i) =>
      machine(`unhealthy-${i}`, {
        age: 7200 - i,
        ...(o.deleting?.includes(i) ? { deleting: true } : {}),
        ...(o.annotated?.includes(i) ? { annotations: { 'clusterless.dev/remediate-machine': '' } } : {}),
      }),
    );
    return { machines, nodes: machines.map((m) => node(m, 'False', at(-3600))) };
  };
  const deferred = (plan: Plan) =>
    plan.writes.flatMap((w) =>
      w.type === 'UpdateStatus' && w.object.kind === 'Machine' && getCondition(w.object.status?.conditions, 'OwnerRemediated')?.reason === 'RemediationDeferred'
        ? [[w.object.metadata.name, getCondition(w.object.status?.conditions, 'OwnerRemediated')?.message]]
        : [],
    );
  const run = (fleet: { machines: Machine[]; nodes: NodeFact[] }, maxInFlight = 3) => {
    const mhc = healthCheck({ maxInFlight });
    return planMachineHealthCheck(mhc, objects({ machines: fleet.machines, machineHealthChecks: [mhc] }), { instances: [], nodes: fleet.nodes }, T0);
  };

  it('should only try to remediate up to maxInFlight unhealthy: the newest three, the five others deferred', () => {
    // Act
    const plan = run(eight());
    // Assess
    expect(marked(plan).sort()).toEqual(['unhealthy-5', 'unhealthy-6', 'unhealthy-7']);
    expect(deferred(plan).map(([name]) => name)).toEqual(['unhealthy-0', 'unhealthy-1', 'unhealthy-2', 'unhealthy-3', 'unhealthy-4']);
    expect(deferred(plan)[0]![1]).toBe('Waiting because there are already too many remediations in progress (maxInFlight is 3)');
  });

  it('with three remediations still deleting, the others wait (second pass)', () => {
    // Act
    const plan = run(eight({ deleting: [5, 6, 7] }));
    // Assess
    expect(marked(plan)).toEqual([]);
    expect(deferred(plan)).toHaveLength(5);
  });

  it('remediation machines with the remediate annotation are prioritised over other machines, newest first within each', () => {
    // Act: the two oldest carry the annotation; room for three.
    const plan = run(eight({ annotated: [0, 1] }));
    // Assess
    expect(marked(plan).sort()).toEqual(['unhealthy-0', 'unhealthy-1', 'unhealthy-7']);
  });
});

describe("an old MachineSet's unhealthy machines are left to the rollout (machineset_controller.go reconcileUnhealthyMachines)", () => {
  // Cluster API remediates only machines of the MachineSet at its MachineDeployment's revision: the rollout
  // removes the others anyway, and replacing one would make a machine of the old template.
  const rev = (n: number) => ({ 'clusterless.dev/revision': String(n) });
  const deployment = (o: { paused?: boolean; strategy?: 'RollingUpdate' | 'OnDelete' } = {}) =>
    setsFixtures.machineDeployment({ name: 'md', uid: 'md-uid', paused: o.paused ?? false, strategy: o.strategy ?? 'RollingUpdate' });
  const setOf = (md: ReturnType<typeof deployment>, name: string, revision: number) => {
    const ms = setsFixtures.machineSet({ name, uid: `${name}-uid`, annotations: rev(revision) });
    return {
      ...ms,
      metadata: {
        ...ms.metadata,
        ownerReferences: [{ apiVersion: md.apiVersion, kind: 'MachineDeployment', name: md.metadata.name, uid: md.metadata.uid!, controller: true }],
      },
    };
  };
  const ownedBy = (m: Machine, ms: { kind: string; apiVersion: string; metadata: { name: string; uid?: string } }): Machine => ({
    ...m,
    metadata: {
      ...m.metadata,
      ownerReferences: [{ apiVersion: ms.apiVersion, kind: ms.kind, name: ms.metadata.name, uid: ms.metadata.uid!, controller: true }],
    },
  });
  const ownerRemediated = (plan: Plan, name: string) => {
    const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'Machine' && x.object.metadata.name === name);
    return w?.type === 'UpdateStatus' ? getCondition(w.object.status?.conditions, 'OwnerRemediated') : undefined;
  };
  const remediated = (plan: Plan) => plan.actions.flatMap((a) => (a.type === 'RemediateMachine' ? [a.machine.name] : []));

  function world(o: { paused?: boolean; strategy?: 'RollingUpdate' | 'OnDelete'; oldMarked?: boolean; standalone?: boolean } = {}) {
    const md = { ...deployment(o), metadata: { ...deployment(o).metadata, annotations: rev(2) } };
    const oldSet = o.standalone ? setsFixtures.machineSet({ name: 'alone', uid: 'alone-uid', annotations: rev(1) }) : setOf(md, 'md-old', 1);
    const newSet = setOf(md, 'md-new', 2);
    const marks = [condition('InfrastructureReady', 'True', at(-7000)), condition('OwnerRemediated', 'False', at(-60), 'WaitingForRemediation')];
    const oldSick = ownedBy(machine('old-sick', { age: 7200, ...(o.oldMarked ? { conditions: marks } : {}) }), oldSet);
    const newSick = ownedBy(machine('new-sick', { age: 600 }), newSet);
    const fine = ownedBy(machine('new-fine', { age: 600 }), newSet);
    const machines = [oldSick, newSick, fine];
    const nodes = [node(oldSick, 'False', at(-3600)), node(newSick, 'False', at(-3600)), node(fine, 'True', at(-500))];
    const mhc = healthCheck();
    const plan = planMachineHealthCheck(
      mhc,
      objects({ machines, machineSets: [oldSet, newSet], machineDeployments: [md], machineHealthChecks: [mhc] }),
      { instances: [], nodes },
      T0,
    );
    return plan;
  }

  it('a RollingUpdate in progress: the old set’s machine is not marked but says why; the new set’s is marked; both count as unhealthy', () => {
    // Act
    const plan = world();
    // Assess
    expect(markedWhy(plan)).toEqual(['new-sick: UnhealthyNode']);
    expect(ownerRemediated(plan, 'old-sick')).toMatchObject({ status: 'False', reason: 'CannotBeRemediated' });
    expect(statusOf(plan)).toMatchObject({ expectedMachines: 3, currentHealthy: 1 });
  });

  it('an old-set machine marked before the rollout began is not replaced any more', () => {
    // Act
    const plan = world({ oldMarked: true });
    // Assess
    expect(remediated(plan)).toEqual([]);
    expect(ownerRemediated(plan, 'old-sick')).toMatchObject({ status: 'False', reason: 'CannotBeRemediated' });
  });

  it('a MachineSet of no MachineDeployment is always remediated', () => {
    // Act & Assess
    expect(markedWhy(world({ standalone: true }))).toEqual(['old-sick: UnhealthyNode', 'new-sick: UnhealthyNode']);
  });

  it.each([
    { name: 'the rollout is paused', o: { paused: true } },
    { name: 'the strategy is OnDelete', o: { strategy: 'OnDelete' as const } },
  ])('the old set’s machine is remediated when $name (documented difference)', ({ o }) => {
    // Why: the rollout removes nothing by itself then (paused, or waiting for the user's deletes), so a dead old
    // machine would stay dead; replacing it is what OnDelete means, and a paused rollout keeps its old set whole.
    // Act & Assess
    expect(markedWhy(world(o))).toEqual(['old-sick: UnhealthyNode', 'new-sick: UnhealthyNode']);
  });
});
