import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import { healthCheckTargets, needsRemediation, targetsOf, type HealthCheckTarget } from '../../../../functions/core/healthcheck/targets.js';
import { Annotations, T0, at, cluster, condition, cpMachine, healthCheck, iso, machine, node } from '../cluster/fixtures.js';

// The cases of Cluster API's core/reconcilers/machinehealthcheck/machinehealthcheck_targets_test.go
// (TestHealthCheckTargets): timeouts of 5m for Ready Unknown/False and a node startup timeout of 10m.
const mhc = healthCheck({ nodeStartupTimeout: '10m' });
const c = cluster({ since: at(-3600) });

/** A machine created `age` seconds ago that has no node yet. */
function noNodeYet(age: number, infraReadyAfter?: number): Machine {
  const m = machine('machine1', { age, node: false, infrastructureReady: infraReadyAfter !== undefined });
  m.status = { ...m.status, conditions: infraReadyAfter !== undefined ? [condition('InfrastructureReady', 'True', at(-age + infraReadyAfter))] : [] };
  return m;
}

const withNode = (ready: 'True' | 'False' | 'Unknown', since: number): HealthCheckTarget => {
  const m = machine('machine1');
  return { machine: m, node: node(m, ready, at(-since)), nodeMissing: false };
};

describe('needsRemediation', () => {
  it.each([
    {
      name: 'when the node has not yet started for shorter than the timeout',
      target: { machine: noNodeYet(400), nodeMissing: false },
      unhealthy: false,
      next: 600 - 400 + 1,
    },
    {
      name: 'when the node has not yet started for shorter than the timeout, and infra is ready',
      target: { machine: noNodeYet(100, 50), nodeMissing: false },
      unhealthy: false,
      next: 600 - 50 + 1,
    },
    {
      name: 'when the node has not yet started for longer than the timeout',
      target: { machine: noNodeYet(1200), nodeMissing: false },
      unhealthy: true,
      reason: 'NodeStartupTimeout',
      message: 'Health check failed:\n  * Node failed to report startup in 10m0s',
    },
    {
      name: 'when the node has gone away',
      target: { machine: machine('machine1'), nodeMissing: true },
      unhealthy: true,
      reason: 'NodeDeleted',
      message: 'Health check failed:\n  * Node node-machine1 has been deleted',
    },
    { name: 'when the node has been in an unknown state for shorter than the timeout', target: withNode('Unknown', 200), unhealthy: false, next: 101 },
    {
      name: 'when the node has been in an unknown state for longer than the timeout',
      target: withNode('Unknown', 400),
      unhealthy: true,
      reason: 'UnhealthyNode',
      message: 'Health check failed:\n  * Condition Ready on Node is reporting status Unknown with reason NodeStatusUnknown for more than 5m0s',
    },
    { name: 'when the node is healthy', target: withNode('True', 400), unhealthy: false, next: 0 },
    {
      name: 'when the machine is manually marked for remediation',
      target: { machine: machine('machine1', { annotations: { [Annotations.remediateMachine]: '' }, node: false }), nodeMissing: false },
      unhealthy: true,
      reason: 'HasRemediateAnnotation',
      message: 'Health check failed: marked for remediation via clusterless.dev/remediate-machine annotation',
    },
    {
      name: 'when the machine has failed (v1beta1 failureReason)',
      target: { machine: machine('machine1', { failureReason: 'UpdateError' }), nodeMissing: false },
      unhealthy: true,
      reason: 'MachineHasFailure',
      message: 'Health check failed:\n  * Machine has failed: UpdateError: broken',
    },
  ])('$name', ({ target, unhealthy, next, reason, message }) => {
    // Act
    const need = needsRemediation(target as HealthCheckTarget, mhc, c, T0);
    // Assess
    expect(need.unhealthy).toBe(unhealthy);
    if (next !== undefined) expect(need.nextCheckSeconds).toBe(next);
    if (reason) expect(need.reason).toBe(reason);
    if (message) expect(need.message).toBe(message);
  });

  it('when the node has not started for a long time but the startup timeout is disabled', () => {
    // Act
    const need = needsRemediation({ machine: noNodeYet(4000), nodeMissing: false }, healthCheck({ nodeStartupTimeout: '0s' }), c, T0);
    // Assess
    expect(need).toEqual({ unhealthy: false, nextCheckSeconds: 0 });
  });

  it('health check with empty unhealthy conditions: a NotReady node is healthy, a missing node is not', () => {
    // Prepare
    const empty = healthCheck({ unhealthyConditions: [] });
    // Act & Assess
    expect(needsRemediation(withNode('False', 4000), empty, c, T0).unhealthy).toBe(false);
    expect(needsRemediation({ machine: machine('machine1'), nodeMissing: true }, empty, c, T0).unhealthy).toBe(true);
  });

  it.each([
    { name: 'a worker is not judged before the control plane is initialized', m: noNodeYet(4000), c: cluster({ initialized: false }), unhealthy: false },
    {
      name: 'a control-plane machine is (the first one may never come up)',
      m: cpMachine('cp-1', { age: 4000, node: false }),
      c: cluster({ initialized: false }),
      unhealthy: true,
    },
    {
      name: 'nothing is judged before the cluster infrastructure is ready',
      m: cpMachine('cp-1', { age: 4000, node: false }),
      c: cluster({ ready: false }),
      unhealthy: false,
    },
  ])('$name', ({ m, c: cl, unhealthy }) => {
    // Act & Assess
    expect(needsRemediation({ machine: m, nodeMissing: false }, mhc, cl, T0).unhealthy).toBe(unhealthy);
  });
});

describe('targetsOf', () => {
  // TestGetTargetsFromMHC
  it.each([
    { name: 'with no matching machines', machines: [cpMachine('cp-1')], expected: [] },
    { name: 'when a machine’s labels do not match the selector', machines: [machine('m1', { labels: { role: 'other' } })], expected: [] },
    {
      name: 'with multiple machines, only the matching ones',
      machines: [machine('m1'), machine('m2'), machine('m3', { labels: { role: 'db' } })],
      expected: ['m1', 'm2'],
    },
    {
      name: 'with machines having skip-remediation or paused annotation',
      machines: [
        machine('m1'),
        machine('m2', { annotations: { [Annotations.skipRemediation]: '' } }),
        machine('m3', { annotations: { [Annotations.paused]: '' } }),
      ],
      expected: ['m1'],
    },
  ])('$name', ({ machines, expected }) => {
    // Act & Assess
    expect(targetsOf(healthCheck(), machines).map((m) => m.metadata.name)).toEqual(expected);
  });

  it('includes control-plane machines when the selector selects them', () => {
    // Prepare
    const cpCheck = healthCheck({ selector: { matchExpressions: [{ key: 'clusterless.dev/control-plane', operator: 'Exists' }] } });
    // Act & Assess
    expect(targetsOf(cpCheck, [cpMachine('cp-1'), machine('w1')]).map((m) => m.metadata.name)).toEqual(['cp-1']);
  });
});

describe('needsRemediation with several unhealthy conditions', () => {
  const check = healthCheck({
    unhealthyConditions: [
      { type: 'Ready', status: 'Unknown', timeout: '1h30m' },
      { type: 'DiskPressure', status: 'True', timeout: '45s' },
    ],
  });
  const target = (readyFor: number, pressureFor: number): HealthCheckTarget => {
    const m = machine('machine1');
    return {
      machine: m,
      node: node(m, 'Unknown', at(-readyFor), [{ type: 'DiskPressure', status: 'True', lastTransitionTime: iso(at(-pressureFor)) }]),
      nodeMissing: false,
    };
  };

  it('looks again at the earliest deadline of the conditions not yet timed out', () => {
    // Act & Assess: Ready Unknown for 10 s (5390 s left), DiskPressure for 10 s (35 s left); one second after.
    expect(needsRemediation(target(10, 10), check, c, T0)).toMatchObject({ unhealthy: false, nextCheckSeconds: 36 });
    expect(needsRemediation(target(10, 40), check, c, T0)).toMatchObject({ unhealthy: false, nextCheckSeconds: 6 });
  });

  it('prints each timeout as Cluster API does (Go durations: 1h30m0s, 45s)', () => {
    // Act
    const need = needsRemediation(target(5401, 46), check, c, T0);
    // Assess
    expect(need.message).toBe(
      'Health check failed:\n' +
        '  * Condition Ready on Node is reporting status Unknown with reason NodeStatusUnknown for more than 1h30m0s\n' +
        '  * Condition DiskPressure on Node is reporting status True with reason  for more than 45s',
    );
  });
});

describe('healthCheckTargets', () => {
  it('with a mix of healthy and unhealthy nodes: next check is the earliest deadline', () => {
    // Prepare
    const ms = [machine('a'), machine('b'), machine('c'), machine('d')];
    const nodes = [node(ms[0]!, 'Unknown', at(-100)), node(ms[1]!, 'Unknown', at(-200)), node(ms[2]!, 'Unknown', at(-400)), node(ms[3]!, 'True', at(-400))];
    // Act
    const h = healthCheckTargets(mhc, c, ms, { instances: [], nodes }, T0);
    // Assess
    expect(h.targets.map((t) => [t.machine.metadata.name, t.state])).toEqual([
      ['a', 'degraded'],
      ['b', 'degraded'],
      ['c', 'unhealthy'],
      ['d', 'healthy'],
    ]);
    expect(h.nextCheckSeconds).toBe(101);
  });

  it('judges nothing when the workload cluster of an initialized control plane cannot be read', () => {
    // Act
    const h = healthCheckTargets(mhc, c, [machine('a')], { instances: [] }, T0);
    // Assess
    expect(h).toEqual({ evaluated: false, targets: [] });
  });

  it('counts a deleting machine as a target, neither healthy nor to remediate', () => {
    // Prepare
    const m = machine('a', { deleting: true });
    // Act
    const h = healthCheckTargets(mhc, c, [m], { instances: [], nodes: [node(m)] }, T0);
    // Assess
    expect(h.targets).toEqual([expect.objectContaining({ state: 'deleting', unhealthy: false })]);
  });

  it('says when the node became NotReady is what counts, not when it was seen', () => {
    // Prepare: NotReady since 299s: healthy for one more second, checked again 2 seconds from now.
    const m = machine('a');
    // Act
    const h = healthCheckTargets(mhc, c, [m], { instances: [], nodes: [node(m, 'False', iso(at(-299)))] }, T0);
    // Assess
    expect(h.targets[0]?.state).toBe('degraded');
    expect(h.nextCheckSeconds).toBe(2);
  });
});

describe('targets and timeouts, edges', () => {
  it.each([
    { name: 'of another cluster', change: (m: Machine) => ({ ...m, spec: { ...m.spec, clusterName: 'other' } }) },
    { name: 'in another namespace', change: (m: Machine) => ({ ...m, metadata: { ...m.metadata, namespace: 'other' } }) },
  ])('a machine $name is no target', ({ change }) => {
    expect(targetsOf(healthCheck(), [change(machine('m1'))])).toEqual([]);
  });

  it('a cluster that reported no status yet has nothing judged', () => {
    // Prepare
    const bare = cluster();
    delete bare.status;
    // Act
    const h = healthCheckTargets(mhc, bare, [noNodeYet(4000)], { instances: [] }, T0);
    // Assess
    expect(h.targets.map((t) => [t.state, t.unhealthy])).toEqual([['unknown', false]]);
  });

  it('a failed machine without a failure message says its reason only', () => {
    // Prepare
    const m = machine('machine1');
    m.status = { ...m.status, failureReason: 'UpdateError' } as Machine['status'];
    // Act & Assess
    expect(needsRemediation({ machine: m, nodeMissing: false }, mhc, c, T0).message).toBe('Health check failed:\n  * Machine has failed: UpdateError:');
  });

  it('a node missing for a machine that recorded no node name names none', () => {
    // Prepare
    const m = machine('machine1');
    delete m.status;
    // Act & Assess
    expect(needsRemediation({ machine: m, nodeMissing: true }, mhc, c, T0).message).toBe('Health check failed:\n  * Node  has been deleted');
  });

  it.each([
    { name: 'the control plane became initialized', type: 'ControlPlaneInitialized' },
    { name: 'the cluster infrastructure became ready', type: 'InfrastructureReady' },
  ])('the node startup timeout runs from when $name, if later than the creation', ({ type }) => {
    // Prepare: the machine is 4000 s old; the condition turned True 100 s ago, the other one long ago.
    const late = cluster({ since: at(-7200) });
    late.status!.conditions = late.status!.conditions!.map((x) => (x.type === type ? { ...x, lastTransitionTime: iso(at(-100)) } : x));
    // Act & Assess
    expect(needsRemediation({ machine: noNodeYet(4000), nodeMissing: false }, mhc, late, T0)).toEqual({ unhealthy: false, nextCheckSeconds: 600 - 100 + 1 });
  });

  it('a timeout counts once it is strictly exceeded: a node just at its startup timeout, a condition just at its timeout, are not unhealthy yet', () => {
    expect(needsRemediation({ machine: noNodeYet(600), nodeMissing: false }, mhc, c, T0)).toEqual({ unhealthy: false, nextCheckSeconds: 1 });
    expect(needsRemediation(withNode('False', 300), mhc, c, T0)).toEqual({ unhealthy: false, nextCheckSeconds: 1 });
  });

  it('looks again at the earliest deadline whatever the order of the unhealthy conditions', () => {
    // Prepare
    const check = healthCheck({
      unhealthyConditions: [
        { type: 'DiskPressure', status: 'True', timeout: '45s' },
        { type: 'Ready', status: 'Unknown', timeout: '1h30m' },
      ],
    });
    const m = machine('machine1');
    const target = {
      machine: m,
      node: node(m, 'Unknown', at(-10), [{ type: 'DiskPressure', status: 'True', lastTransitionTime: iso(at(-10)) }]),
      nodeMissing: false,
    };
    // Act & Assess
    expect(needsRemediation(target, check, c, T0)).toMatchObject({ unhealthy: false, nextCheckSeconds: 36 });
  });

  it('a target whose node is gone is unhealthy (NodeDeleted); one without node and without startup timeout is unknown', () => {
    // Prepare
    const gone = machine('gone');
    const waiting = noNodeYet(4000);
    // Act
    const h = healthCheckTargets(healthCheck({ nodeStartupTimeout: '0s' }), c, [gone, waiting], { instances: [], nodes: [] }, T0);
    // Assess
    expect(h.targets.map((t) => [t.machine.metadata.name, t.state, t.reason])).toEqual([
      ['gone', 'unhealthy', 'NodeDeleted'],
      ['machine1', 'unknown', undefined],
    ]);
    expect(h.nextCheckSeconds).toBeUndefined();
  });

  it('before the control plane is initialized, a machine with a recorded node is not taken for one whose node was deleted', () => {
    // Act
    const cpCheck = healthCheck({ selector: { matchExpressions: [{ key: 'clusterless.dev/control-plane', operator: 'Exists' }] } });
    const h = healthCheckTargets(cpCheck, cluster({ initialized: false }), [cpMachine('cp-1', { age: 60 })], { instances: [] }, T0);
    // Assess
    expect(h.targets.map((t) => t.unhealthy)).toEqual([false]);
  });
});
