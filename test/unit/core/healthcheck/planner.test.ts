import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../../../functions/api/common.js';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import { evaluateHealthCheck, machinesToRemediate, planMachineHealthCheck, remediationMarkedAt } from '../../../../functions/core/healthcheck/planner.js';
import { maxInFlight, remediationAllowance } from '../../../../functions/core/healthcheck/remediation-allowed.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { Annotations, Labels, T0, at, cluster, condition, cpMachine, healthCheck, iso, machine, node, objects } from '../cluster/fixtures.js';

describe('remediationAllowance', () => {
  // TestIsAllowedRemediation and TestGetMaxUnhealthy of Cluster API's machinehealthcheck_controller_test.go.
  it.each([
    { name: 'when maxUnhealthy is not set (100%)', maxUnhealthy: undefined, expected: 3, healthy: 0, allowed: true },
    { name: 'when maxUnhealthy is an int less than current unhealthy', maxUnhealthy: 1, expected: 3, healthy: 1, allowed: false },
    { name: 'when maxUnhealthy is an int equal to current unhealthy', maxUnhealthy: 2, expected: 3, healthy: 1, allowed: true },
    { name: 'when maxUnhealthy is an int greater than current unhealthy', maxUnhealthy: 3, expected: 3, healthy: 1, allowed: true },
    { name: 'when maxUnhealthy is a percentage less than current unhealthy', maxUnhealthy: '50%', expected: 5, healthy: 2, allowed: false },
    { name: 'when maxUnhealthy is a percentage equal to current unhealthy', maxUnhealthy: '60%', expected: 5, healthy: 2, allowed: true },
    { name: 'when maxUnhealthy is a percentage greater than current unhealthy', maxUnhealthy: '70%', expected: 5, healthy: 2, allowed: true },
    { name: 'when maxUnhealthy is 40% of 5 (2, rounded down)', maxUnhealthy: '40%', expected: 5, healthy: 3, allowed: true },
    { name: 'when maxUnhealthy is 60% of 7 (4, rounded down)', maxUnhealthy: '60%', expected: 7, healthy: 2, allowed: false },
  ])('$name', ({ maxUnhealthy, expected, healthy, allowed }) => {
    // Prepare
    const mhc = healthCheck(maxUnhealthy === undefined ? {} : { maxUnhealthy });
    // Act & Assess
    expect(remediationAllowance(mhc, expected, healthy).allowed).toBe(allowed);
  });

  it.each([
    { name: 'within unhealthyRange', range: '[1-3]', expected: 5, healthy: 3, allowed: true, remaining: 1 },
    { name: 'above unhealthyRange', range: '[1-3]', expected: 5, healthy: 1, allowed: false, remaining: 0 },
    { name: 'below unhealthyRange', range: '[2-3]', expected: 5, healthy: 4, allowed: false, remaining: 0 },
    // Both bounds belong to the range (Cluster API: unhealthy >= min && unhealthy <= max).
    { name: 'unhealthyRange includes its lower bound', range: '[2-3]', expected: 5, healthy: 3, allowed: true, remaining: 1 },
    { name: 'unhealthyRange includes its upper bound, with no remediation left', range: '[1-3]', expected: 5, healthy: 2, allowed: true, remaining: 0 },
    { name: 'one above the upper bound of unhealthyRange', range: '[1-3]', expected: 6, healthy: 2, allowed: false, remaining: 0 },
    { name: 'one below the lower bound of unhealthyRange', range: '[2-3]', expected: 6, healthy: 5, allowed: false, remaining: 0 },
  ])('$name', ({ range, expected, healthy, allowed, remaining }) => {
    // Act
    const a = remediationAllowance(healthCheck({ unhealthyRange: range }), expected, healthy);
    // Assess
    expect([a.allowed, a.remediationsAllowed]).toEqual([allowed, remaining]);
  });

  it('outside unhealthyRange, says how many of how many are not healthy, and the range', () => {
    // Act
    const a = remediationAllowance(healthCheck({ unhealthyRange: '[1-3]' }), 5, 1);
    // Assess
    expect(a.message).toBe(
      'Remediation is not allowed, the number of not started or unhealthy machines does not fall within the range (total: 5, unhealthy: 4, unhealthyRange: [1-3])',
    );
  });

  it.each([
    { name: 'unset means no limit', maxInFlight: undefined, expected: 10, limit: Number.POSITIVE_INFINITY },
    { name: 'an int', maxInFlight: 2, expected: 10, limit: 2 },
    { name: 'a percentage rounds up', maxInFlight: '25%', expected: 10, limit: 3 },
  ])('maxInFlight: $name', ({ maxInFlight: m, expected, limit }) => {
    // Act & Assess
    expect(maxInFlight(healthCheck(m === undefined ? {} : { maxInFlight: m }), expected)).toBe(limit);
  });
});

const statusOf = (plan: Plan, kind: string, name: string) => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === kind && x.object.metadata.name === name);
  return w?.type === 'UpdateStatus' ? w.object.status : undefined;
};
const remediated = (plan: Plan) => plan.actions.flatMap((a) => (a.type === 'RemediateMachine' ? [a.machine.name] : []));
const isMarked = (conditions: Condition[] | undefined) => getCondition(conditions, 'OwnerRemediated')?.reason === 'WaitingForRemediation';
/** Machines the plan newly marks for remediation (a mark already there is not counted again). */
const markedIn = (plan: Plan, before: readonly Machine[] = []) =>
  plan.writes.flatMap((w) =>
    w.type === 'UpdateStatus' &&
    w.object.kind === 'Machine' &&
    isMarked(w.object.status?.conditions) &&
    !isMarked(before.find((m) => m.metadata.name === w.object.metadata.name)?.status?.conditions)
      ? [w.object.metadata.name]
      : [],
  );
const marks = (): Condition[] => [
  condition('InfrastructureReady', 'True', at(-86000)),
  condition('HealthCheckSucceeded', 'False', at(-10), 'UnhealthyNode'),
  condition('OwnerRemediated', 'False', at(-10), 'WaitingForRemediation'),
];

/** Workers w0..w(n-1); the ones in `sick` have a node NotReady for an hour; `markedNames` carry the remediation mark. */
function fleet(n: number, sick: number[], o: { marked?: number[]; deleting?: number[] } = {}) {
  const machines = Array.from({ length: n }, (_, i) =>
    machine(`w${i}`, {
      age: 86000 - i * 10,
      ...(o.marked?.includes(i) ? { conditions: marks() } : {}),
      ...(o.deleting?.includes(i) ? { deleting: true } : {}),
    }),
  );
  const nodes = machines.map((m, i) => node(m, sick.includes(i) ? 'False' : 'True', at(-3600)));
  return { machines, observed: { instances: [], nodes } };
}

describe('MachineHealthCheck planner', () => {
  it('marks an unhealthy machine first and replaces it on the next reconcile', () => {
    // Prepare
    const mhc = healthCheck();
    const a = fleet(3, [1]);
    const b = fleet(3, [1], { marked: [1] });
    // Act
    const first = planMachineHealthCheck(mhc, objects({ machines: a.machines, machineHealthChecks: [mhc] }), a.observed, T0);
    const second = planMachineHealthCheck(mhc, objects({ machines: b.machines, machineHealthChecks: [mhc] }), b.observed, T0);
    // Assess
    expect(markedIn(first)).toEqual(['w1']);
    expect(remediated(first)).toEqual([]);
    expect(remediated(second)).toEqual(['w1']);
    expect(second.actions[0]).toMatchObject({ type: 'RemediateMachine', healthCheck: 'mhc', reason: 'UnhealthyNode' });
    expect(getCondition(statusOf(first, 'Machine', 'w1')?.conditions, 'HealthCheckSucceeded')).toMatchObject({ status: 'False', reason: 'UnhealthyNode' });
  });

  it('names the remediation episode: the action carries when the machine was marked, and health clears the mark', () => {
    // Prepare
    const mhc = healthCheck();
    const sick = fleet(3, [1], { marked: [1] });
    const recovered = { ...sick, observed: fleet(3, []).observed };
    // Act
    const remediating = planMachineHealthCheck(mhc, objects({ machines: sick.machines, machineHealthChecks: [mhc] }), sick.observed, T0);
    const healthy = planMachineHealthCheck(mhc, objects({ machines: recovered.machines, machineHealthChecks: [mhc] }), recovered.observed, T0);
    // Assess: the mark's lastTransitionTime names the episode; once healthy the mark goes, so a later failure
    // is marked anew (a new time, a new remediate execution).
    expect(remediating.actions).toEqual([expect.objectContaining({ type: 'RemediateMachine', markedAt: iso(at(-10)) })]);
    expect(getCondition(statusOf(healthy, 'Machine', 'w1')?.conditions, 'OwnerRemediated')).toBeUndefined();
    expect(remediated(healthy)).toEqual([]);
  });

  it('names the episode from the first OwnerRemediated=False: a deferral then the mark keep one time; a mark cleared and made again gets a new one', () => {
    // Prepare: maxInFlight 1 and w1 in flight, so w2 (unhealthy) is deferred at T0.
    const mhc = healthCheck({ maxInFlight: 1 });
    const sick = fleet(4, [1, 2], { marked: [1] });
    const deferredPlan = planMachineHealthCheck(mhc, objects({ machines: sick.machines, machineHealthChecks: [mhc] }), sick.observed, T0);
    const deferred = getCondition(statusOf(deferredPlan, 'Machine', 'w2')?.conditions, 'OwnerRemediated');
    // w1's remediation is over (replaced by a healthy w1), w2 carries the deferral.
    const withStatus = (m: Machine, conditions: Condition[] | undefined): Machine => ({ ...m, status: { ...m.status, conditions } as Machine['status'] });
    const later = fleet(4, [2]);
    const w2Deferred = later.machines.map((m) => (m.metadata.name === 'w2' ? withStatus(m, statusOf(deferredPlan, 'Machine', 'w2')?.conditions) : m));
    // Act: the slot is free 100 s later (w2 marked), and the next reconcile asks for its remediation.
    const markPlan = planMachineHealthCheck(mhc, objects({ machines: w2Deferred, machineHealthChecks: [mhc] }), later.observed, at(100));
    const w2Marked = w2Deferred.map((m) => (m.metadata.name === 'w2' ? withStatus(m, statusOf(markPlan, 'Machine', 'w2')?.conditions) : m));
    const asked = planMachineHealthCheck(mhc, objects({ machines: w2Marked, machineHealthChecks: [mhc] }), later.observed, at(200));
    // The remediate execution clears the mark (remediation not allowed for a while), and the check marks it again.
    const w2Cleared = w2Marked.map((m) =>
      m.metadata.name === 'w2'
        ? withStatus(
            m,
            m.status?.conditions?.filter((c) => c.type !== 'OwnerRemediated'),
          )
        : m,
    );
    const remarked = planMachineHealthCheck(mhc, objects({ machines: w2Cleared, machineHealthChecks: [mhc] }), later.observed, at(300));
    // Assess: one episode from the deferral (T0) to the clearing, named by its first time; the next one by its own.
    expect(deferred).toMatchObject({ status: 'False', reason: 'RemediationDeferred', lastTransitionTime: iso(T0) });
    expect(getCondition(statusOf(markPlan, 'Machine', 'w2')?.conditions, 'OwnerRemediated')).toMatchObject({
      reason: 'WaitingForRemediation',
      lastTransitionTime: iso(T0),
    });
    expect(asked.actions).toEqual([expect.objectContaining({ type: 'RemediateMachine', machine: expect.objectContaining({ name: 'w2' }), markedAt: iso(T0) })]);
    expect(getCondition(statusOf(remarked, 'Machine', 'w2')?.conditions, 'OwnerRemediated')).toMatchObject({
      reason: 'WaitingForRemediation',
      lastTransitionTime: iso(at(300)),
    });
  });

  it('reports expected, healthy, remediations allowed and the sorted targets', () => {
    // Prepare
    const mhc = healthCheck({ maxUnhealthy: 2 });
    const { machines, observed } = fleet(4, [3]);
    // Act
    const status = statusOf(
      planMachineHealthCheck(mhc, objects({ machines: [...machines].reverse(), machineHealthChecks: [mhc] }), observed, T0),
      'MachineHealthCheck',
      'mhc',
    );
    // Assess
    expect(status).toMatchObject({ expectedMachines: 4, currentHealthy: 3, remediationsAllowed: 1, targets: ['w0', 'w1', 'w2', 'w3'], observedGeneration: 1 });
    expect(getCondition(status?.conditions, 'RemediationAllowed')).toMatchObject({ status: 'True', reason: 'RemediationAllowed' });
  });

  it('short-circuits when too many are unhealthy: RemediationAllowed False, TooManyUnhealthy, nothing marked or replaced', () => {
    // Prepare: 3 of 5 unhealthy, maxUnhealthy 40% = 2; w2 was marked before the storm.
    const mhc = healthCheck({ maxUnhealthy: '40%' });
    const { machines, observed } = fleet(5, [0, 1, 2], { marked: [2] });
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(getCondition(statusOf(plan, 'MachineHealthCheck', 'mhc')?.conditions, 'RemediationAllowed')).toMatchObject({
      status: 'False',
      reason: 'TooManyUnhealthy',
      message: 'Remediation is not allowed, the number of not started or unhealthy machines exceeds maxUnhealthy (total: 5, unhealthy: 3, maxUnhealthy: 40%)',
    });
    expect(statusOf(plan, 'MachineHealthCheck', 'mhc')?.remediationsAllowed).toBe(0);
    expect(remediated(plan)).toEqual([]);
    expect(markedIn(plan, machines)).toEqual([]);
  });

  it('limits remediations in flight: deleting targets and marked ones count, the newest unhealthy goes first', () => {
    // Prepare: maxInFlight 2; w0 is deleting (in flight); w1..w3 unhealthy, none marked.
    const mhc = healthCheck({ maxInFlight: 2 });
    const { machines, observed } = fleet(6, [1, 2, 3], { deleting: [0] });
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(markedIn(plan)).toEqual(['w3']);
    expect(getCondition(statusOf(plan, 'Machine', 'w1')?.conditions, 'OwnerRemediated')).toMatchObject({ reason: 'RemediationDeferred' });
    expect(plan.notes.join('\n')).toContain('w2, w1 deferred: 1 remediation(s) in flight, maxInFlight 2');
  });

  it('says on each unhealthy machine why it waits: marked for its owner, or deferred by maxInFlight (named)', () => {
    // Prepare: maxInFlight 1; w1 and w2 unhealthy, w2 the newer.
    const mhc = healthCheck({ maxInFlight: 1 });
    const { machines, observed } = fleet(3, [1, 2]);
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(getCondition(statusOf(plan, 'Machine', 'w2')?.conditions, 'OwnerRemediated')).toMatchObject({
      status: 'False',
      reason: 'WaitingForRemediation',
      message: 'Waiting for remediation (MachineHealthCheck mhc)',
    });
    expect(getCondition(statusOf(plan, 'Machine', 'w1')?.conditions, 'OwnerRemediated')).toMatchObject({
      status: 'False',
      reason: 'RemediationDeferred',
      message: 'Waiting because there are already too many remediations in progress (maxInFlight is 1)',
    });
  });

  it('of unhealthy machines of the same age, marks them in name order', () => {
    // Prepare: maxInFlight 1; w1 and w2 turned unhealthy and were made at the same time.
    const mhc = healthCheck({ maxInFlight: 1 });
    const { machines, observed } = fleet(4, [2, 1]);
    const sameAge = machines.map((m) => ({ ...m, metadata: { ...m.metadata, creationTimestamp: iso(at(-86000)) } }));
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines: sameAge, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(markedIn(plan)).toEqual(['w1']);
  });

  it.each([
    { name: 'paused', mhc: () => healthCheck({}, 'mhc'), paused: true, note: 'MachineHealthCheck mhc: paused, nothing done' },
    {
      name: 'being deleted',
      mhc: () => ({ ...healthCheck(), metadata: { ...healthCheck().metadata, deletionTimestamp: iso(T0) } }),
      paused: false,
      note: 'MachineHealthCheck mhc: deleting, nothing done',
    },
  ])('does nothing while $name, though a machine is unhealthy', ({ mhc, paused, note }) => {
    // Prepare
    const check = mhc() as MachineHealthCheck;
    if (paused) check.metadata.annotations = { ...check.metadata.annotations, [Annotations.paused]: '' };
    const { machines, observed } = fleet(3, [1], { marked: [1] });
    // Act
    const plan = planMachineHealthCheck(check, objects({ machines, machineHealthChecks: [check] }), observed, T0);
    // Assess
    expect([plan.writes, plan.actions, plan.notes]).toEqual([[], [], [note]]);
  });

  it('a machine that turns unhealthy later never takes the slot of a marked one', () => {
    // Prepare: maxInFlight 1; w1 is marked (its remediation started), w4 (newer) turns unhealthy.
    const mhc = healthCheck({ maxInFlight: 1 });
    const { machines, observed } = fleet(5, [1, 4], { marked: [1] });
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(remediated(plan)).toEqual(['w1']);
    expect(markedIn(plan, machines)).toEqual([]);
  });

  it('the remediate-machine annotation forces remediation, and goes first', () => {
    // Prepare
    const mhc = healthCheck({ maxInFlight: 1 });
    const { machines, observed } = fleet(3, [2]);
    machines[0] = machine('w0', { age: 86000, annotations: { [Annotations.remediateMachine]: '' } });
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(markedIn(plan)).toEqual(['w0']);
  });

  it('clears the mark of a machine that is healthy again', () => {
    // Prepare
    const mhc = healthCheck();
    const { machines, observed } = fleet(2, [], { marked: [0] });
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    const conditions = statusOf(plan, 'Machine', 'w0')?.conditions;
    expect(getCondition(conditions, 'OwnerRemediated')).toBeUndefined();
    expect(getCondition(conditions, 'HealthCheckSucceeded')).toMatchObject({ status: 'True', reason: 'HealthCheckSucceeded' });
    expect(remediated(plan)).toEqual([]);
  });

  it('asks to look again when the first degraded machine would cross its timeout', () => {
    // Prepare: NotReady for 200s of a 300s timeout.
    const mhc = healthCheck();
    const m = machine('w0');
    // Act
    const plan = planMachineHealthCheck(
      mhc,
      objects({ machines: [m], machineHealthChecks: [mhc] }),
      { instances: [], nodes: [node(m, 'False', at(-200))] },
      T0,
    );
    // Assess
    expect(plan.requeueAfterSeconds).toBe(101);
  });

  it('leaves control-plane machines to the ControlPlane, which finds them through machinesToRemediate', () => {
    // Prepare
    const mhc = healthCheck({ selector: { matchExpressions: [{ key: Labels.controlPlane, operator: 'Exists' }] } });
    const cp = cpMachine('cp-1', { conditions: marks() });
    const o = objects({ machines: [cp, cpMachine('cp-2'), cpMachine('cp-3')], machineHealthChecks: [mhc] });
    const observed = { instances: [], nodes: [node(cp, 'False', at(-3600)), node(o.machines[1]!), node(o.machines[2]!)] };
    // Act
    const plan = planMachineHealthCheck(mhc, o, observed, T0);
    // Assess
    expect(remediated(plan)).toEqual([]);
    expect([...machinesToRemediate(o, observed, T0).keys()]).toEqual(['cp-1']);
  });

  it('does nothing when the workload cluster cannot be read', () => {
    // Prepare
    const mhc = healthCheck();
    const { machines } = fleet(3, [0], { marked: [0] });
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), { instances: [] }, T0);
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.writes.map((w) => w.type === 'UpdateStatus' && w.object.kind)).toEqual(['MachineHealthCheck']);
  });
});

describe('remediation limits (property)', () => {
  const arbitrary = fc.record({
    n: fc.integer({ min: 1, max: 12 }),
    sick: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    marked: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    deleting: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    maxUnhealthy: fc.oneof(
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`),
    ),
    maxInFlight: fc.option(
      fc.oneof(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`),
      ),
      { nil: undefined },
    ),
  });

  it('never remediates past maxUnhealthy, and never has more than maxInFlight remediations under way', () => {
    fc.assert(
      fc.property(arbitrary, (a) => {
        // Prepare
        const idx = (flags: boolean[]) => flags.slice(0, a.n).flatMap((f, i) => (f ? [i] : []));
        const { machines, observed } = fleet(a.n, idx(a.sick), { marked: idx(a.marked).filter((i) => a.sick[i]), deleting: idx(a.deleting) });
        const mhc: MachineHealthCheck = healthCheck({ maxUnhealthy: a.maxUnhealthy, ...(a.maxInFlight !== undefined ? { maxInFlight: a.maxInFlight } : {}) });
        const o = objects({ machines, machineHealthChecks: [mhc] });
        // Act
        const e = evaluateHealthCheck(mhc, o, observed, T0);
        const plan = planMachineHealthCheck(mhc, o, observed, T0);
        // Assess
        const unhealthy = e.targets.length - e.targets.filter((t) => t.state === 'healthy').length;
        const limit = mhc.spec.maxUnhealthy;
        const maxUnhealthy = typeof limit === 'number' ? limit : Math.floor((Number(limit.slice(0, -1)) * e.targets.length) / 100);
        if (unhealthy > maxUnhealthy) {
          expect(remediated(plan)).toEqual([]);
          expect(markedIn(plan, machines)).toEqual([]);
        }
        const alreadyUnderWay = e.inFlight.length;
        const started = markedIn(plan, machines).length;
        // New marks only fill the room maxInFlight leaves; marks made earlier (before a limit was set) are never added to.
        if (started > 0) expect(alreadyUnderWay + started).toBeLessThanOrEqual(e.maxInFlight);
        expect(remediated(plan).length).toBeLessThanOrEqual(unhealthy);
      }),
      { numRuns: 500 },
    );
  });
});

// Which marked machines the health checks hand over for replacement (machinesToRemediate), after Cluster API's
// internal/controllers/machinehealthcheck/machinehealthcheck_controller.go (a paused cluster or health check, or
// one being deleted, remediates nothing).
describe('machinesToRemediate', () => {
  const sick = () => fleet(3, [1], { marked: [1] });

  it('hands over a marked machine that is still unhealthy, with its health check and reason', () => {
    // Prepare
    const mhc = healthCheck();
    const { machines, observed } = sick();
    // Act
    const out = machinesToRemediate(objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect([...out]).toEqual([['w1', { healthCheck: 'mhc', reason: 'UnhealthyNode', message: expect.stringContaining('Health check failed') }]]);
  });

  it.each([
    {
      name: 'the cluster is paused',
      o: (mhc: MachineHealthCheck, machines: Machine[]) => objects({ cluster: cluster({ paused: true }), machines, machineHealthChecks: [mhc] }),
    },
    {
      name: 'its health check is paused',
      o: (mhc: MachineHealthCheck, machines: Machine[]) =>
        objects({ machines, machineHealthChecks: [{ ...mhc, metadata: { ...mhc.metadata, annotations: { [Annotations.paused]: '' } } }] }),
    },
    {
      name: 'its health check is being deleted',
      o: (mhc: MachineHealthCheck, machines: Machine[]) =>
        objects({ machines, machineHealthChecks: [{ ...mhc, metadata: { ...mhc.metadata, deletionTimestamp: iso(T0), finalizers: ['x'] } }] }),
    },
  ])('hands over nothing when $name', ({ o }) => {
    // Prepare
    const { machines, observed } = sick();
    // Act & Assess
    expect(machinesToRemediate(o(healthCheck(), machines), observed, T0).size).toBe(0);
  });

  it('names the first health check that asks for a machine, when two do', () => {
    // Prepare
    const { machines, observed } = sick();
    // Act
    const out = machinesToRemediate(objects({ machines, machineHealthChecks: [healthCheck({}, 'first'), healthCheck({}, 'second')] }), observed, T0);
    // Assess
    expect(out.get('w1')?.healthCheck).toBe('first');
  });
});

describe('remediationMarkedAt', () => {
  it.each([
    { name: 'the time OwnerRemediated turned False', conditions: [condition('OwnerRemediated', 'False', at(-10), 'WaitingForRemediation')], at: iso(at(-10)) },
    { name: 'nothing once OwnerRemediated is True', conditions: [condition('OwnerRemediated', 'True', at(-10), 'Remediated')], at: undefined },
    { name: 'nothing without OwnerRemediated', conditions: [], at: undefined },
  ])('is $name', ({ conditions, at: markedAt }) => {
    expect(remediationMarkedAt(machine('w1', { conditions }))).toBe(markedAt);
  });

  it('is nothing for a machine without a status', () => {
    // Prepare
    const m = machine('w1');
    delete m.status;
    // Act & Assess
    expect(remediationMarkedAt(m)).toBeUndefined();
  });
});

describe('MachineHealthCheck status while the workload cluster cannot be read', () => {
  it('says RemediationAllowed is Unknown because the inspection failed, and that nothing was checked', () => {
    // Prepare
    const mhc = healthCheck();
    const { machines } = fleet(3, []);
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), { instances: [] }, T0);
    // Assess
    expect(getCondition(statusOf(plan, 'MachineHealthCheck', 'mhc')?.conditions, 'RemediationAllowed')).toMatchObject({
      status: 'Unknown',
      reason: 'InspectionFailed',
      message: 'The workload cluster could not be read',
    });
    expect(plan.notes).toEqual(['MachineHealthCheck mhc: workload cluster unreadable, nothing checked']);
  });
});

describe('MachineHealthCheck planner, more', () => {
  it('counts deleting targets and marked unhealthy ones as in flight, and marks no more than maxInFlight allows', () => {
    // Prepare: maxInFlight 3; w0 deleting, w1 marked and unhealthy, w2..w4 unhealthy.
    const mhc = healthCheck({ maxInFlight: 3 });
    const { machines, observed } = fleet(6, [1, 2, 3, 4], { deleting: [0], marked: [1] });
    // Act
    const e = evaluateHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(e.inFlight.map((m) => m.metadata.name)).toEqual(['w0', 'w1']);
    expect(e.toMark.map((m) => m.metadata.name)).toEqual(['w4']);
    expect(e.deferred.map((m) => m.metadata.name)).toEqual(['w3', 'w2']);
  });

  it('of unhealthy machines of the same age, marks them in name order whatever order they are listed in', () => {
    // Prepare
    const mhc = healthCheck({ maxInFlight: 1 });
    const { machines, observed } = fleet(4, [2, 1]);
    const sameAge = machines.map((m) => ({ ...m, metadata: { ...m.metadata, creationTimestamp: iso(at(-86000)) } })).reverse();
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines: sameAge, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(markedIn(plan)).toEqual(['w1']);
  });

  it('records why an unhealthy machine failed its check, and leaves a machine still within its timeouts alone', () => {
    // Prepare: w1 NotReady for an hour, w0 NotReady for 200 s of 300 s.
    const mhc = healthCheck();
    const [w0, w1] = [machine('w0'), machine('w1')];
    const observed = { instances: [], nodes: [node(w0, 'False', at(-200)), node(w1, 'False', at(-3600))] };
    // Act
    const plan = planMachineHealthCheck(mhc, objects({ machines: [w0, w1], machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(getCondition(statusOf(plan, 'Machine', 'w1')?.conditions, 'HealthCheckSucceeded')?.message).toMatch(/^Health check failed:\n {2}\* Condition Ready/);
    expect(statusOf(plan, 'Machine', 'w0')).toBeUndefined();
  });

  it('writes nothing to machines whose conditions did not change', () => {
    // Prepare
    const mhc = healthCheck();
    const { machines, observed } = fleet(2, []);
    const first = planMachineHealthCheck(mhc, objects({ machines, machineHealthChecks: [mhc] }), observed, T0);
    const updated = machines.map((m) => ({ ...m, status: statusOf(first, 'Machine', m.metadata.name) ?? m.status }) as Machine);
    // Act
    const second = planMachineHealthCheck(mhc, objects({ machines: updated, machineHealthChecks: [mhc] }), observed, T0);
    // Assess
    expect(second.writes.filter((w) => w.type === 'UpdateStatus' && w.object.kind === 'Machine')).toEqual([]);
  });

  it("says it leaves a control-plane machine to the ControlPlane's remediation rules", () => {
    // Prepare
    const mhc = healthCheck({ selector: { matchExpressions: [{ key: Labels.controlPlane, operator: 'Exists' }] } });
    const cp = cpMachine('cp-1', { conditions: marks() });
    const o = objects({ machines: [cp, cpMachine('cp-2'), cpMachine('cp-3')], machineHealthChecks: [mhc] });
    const observed = { instances: [], nodes: [node(cp, 'False', at(-3600)), node(o.machines[1]!), node(o.machines[2]!)] };
    // Act & Assess
    expect(planMachineHealthCheck(mhc, o, observed, T0).notes).toContain("MachineHealthCheck mhc: cp-1 left to the ControlPlane's remediation rules");
  });
});
