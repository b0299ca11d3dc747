/**
 * The two waits of a Machine's deletion after its drain: the node's volumes detaching (nodeVolumeDetachTimeoutSeconds)
 * before the instance goes, and the Node object's deletion (nodeDeletionTimeoutSeconds) once it is gone, as cluster-api
 * core/reconcilers/machine/machine_controller.go reconcileDelete orders them (shouldWaitForNodeVolumes,
 * nodeVolumeDetachTimeoutExceeded, deleteNode retried up to nodeDeletionTimeout).
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import { deletionStep, type DeletionInput } from '../../../../functions/core/machine/deletion.js';
import { planMachine } from '../../../../functions/core/machine/planner.js';
import type { InstanceState, NodeFact } from '../../../../functions/core/observed.js';
import type { ObjectRef } from '../../../../functions/core/plan.js';
import { T0, at, cluster, instance, iso, machine, node, providerIDOf } from '../cluster/fixtures.js';

const ref: ObjectRef = { kind: 'Machine', namespace: 'default', name: 'w1', uid: 'uid-w1' };
const DRAINED = { type: 'DrainingSucceeded', status: 'True' as const, reason: 'Drained', lastTransitionTime: iso(at(-5)) };

/** A deleting worker, drained, with the given spec fields and status.deletion. */
function deleting(spec: Partial<Machine['spec']> = {}, deletion: Record<string, string> = {}): Machine {
  const m = machine('w1', { deleting: true });
  return {
    ...m,
    spec: { ...m.spec, ...spec },
    status: { ...m.status, conditions: [...(m.status?.conditions ?? []), DRAINED], deletion: { nodeDrainStartTime: iso(at(-60)), ...deletion } },
  };
}

function withVolumes(m: Machine, volumes: string[], ready: 'True' | 'Unknown' = 'True'): NodeFact {
  return { ...node(m, ready), volumesAttached: volumes };
}

function step(m: Machine, n: NodeFact | undefined | 'unread', state: InstanceState = 'running', o: Partial<DeletionInput> = {}) {
  return deletionStep({
    machine: m,
    ref,
    instance: { ...instance(m), state },
    lookup: n === 'unread' ? { known: false } : n ? { known: true, node: n } : { known: true },
    now: T0,
    controlPlane: false,
    teardown: false,
    ...o,
  });
}

describe('deletion: the wait for the node volumes to detach', () => {
  it('after the drain, a node with volumes attached keeps its instance: the wait starts now and is looked at again', () => {
    // Prepare
    const m = deleting();
    // Act
    const s = step(m, withVolumes(m, ['kubernetes.io/csi/ebs.csi.aws.com^vol-1']));
    // Assess
    expect(s).toMatchObject({
      reason: 'WaitingForVolumeDetach',
      message: `Waiting for Node volumes to be detached (started at ${iso(T0)}): kubernetes.io/csi/ebs.csi.aws.com^vol-1`,
      actions: [],
      waitForNodeVolumeDetachStartTime: iso(T0),
      requeueAfterSeconds: 20,
      done: false,
    });
  });

  it('keeps waiting within nodeVolumeDetachTimeoutSeconds from the recorded start, and asks to look again by then at the latest', () => {
    // Prepare
    const m = deleting({ nodeVolumeDetachTimeoutSeconds: 60 }, { waitForNodeVolumeDetachStartTime: iso(at(-55)) });
    // Act
    const s = step(m, withVolumes(m, ['v1']));
    // Assess
    expect(s).toMatchObject({ reason: 'WaitingForVolumeDetach', requeueAfterSeconds: 5 });
    expect(s).not.toHaveProperty('waitForNodeVolumeDetachStartTime');
  });

  it('once the timeout has passed the instance goes, volumes attached or not (300 s when unset)', () => {
    // Prepare
    const m = deleting({}, { waitForNodeVolumeDetachStartTime: iso(at(-300)) });
    // Act
    const s = step(m, withVolumes(m, ['v1']));
    // Assess
    expect(s.reason).toBe('WaitingForInfrastructureDeletion');
    expect(s.actions).toEqual([{ type: 'TerminateInstance', machine: ref, providerID: providerIDOf('w1') }]);
  });

  it('a timeout of 0 waits for ever', () => {
    // Prepare
    const m = deleting({ nodeVolumeDetachTimeoutSeconds: 0 }, { waitForNodeVolumeDetachStartTime: iso(at(-86400 * 30)) });
    // Act / Assess
    expect(step(m, withVolumes(m, ['v1'])).reason).toBe('WaitingForVolumeDetach');
  });

  it.each([
    { name: 'no volume is attached', n: (m: Machine) => withVolumes(m, []), state: 'running' as const },
    {
      name: 'the node is unreachable (Ready Unknown: no kubelet will detach anything)',
      n: (m: Machine) => withVolumes(m, ['v1'], 'Unknown'),
      state: 'running' as const,
    },
    { name: 'the instance is going already', n: (m: Machine) => withVolumes(m, ['v1']), state: 'shutting-down' as const },
  ])('does not wait when $name', ({ n, state }) => {
    // Prepare
    const m = deleting();
    // Act
    const s = step(m, n(m), state);
    // Assess
    expect(s.reason).not.toBe('WaitingForVolumeDetach');
  });

  it('does not wait when the whole cluster goes (teardown)', () => {
    // Prepare
    const m = deleting();
    // Act / Assess
    expect(step(m, withVolumes(m, ['v1']), 'running', { teardown: true }).reason).toBe('WaitingForInfrastructureDeletion');
  });

  it('while the nodes cannot be read, a machine that had a node waits within the same timeout', () => {
    // Prepare
    const m = deleting({ nodeVolumeDetachTimeoutSeconds: 30 });
    // Act
    const s = step(m, 'unread');
    // Assess
    expect(s).toMatchObject({ reason: 'WaitingForVolumeDetach', requeueAfterSeconds: 20, waitForNodeVolumeDetachStartTime: iso(T0) });
    expect(step(deleting({ nodeVolumeDetachTimeoutSeconds: 30 }, { waitForNodeVolumeDetachStartTime: iso(at(-30)) }), 'unread').reason).toBe(
      'WaitingForInfrastructureDeletion',
    );
  });

  it('comes after the drain: a node still draining is drained first', () => {
    // Prepare
    const m = machine('w1', { deleting: true });
    // Act / Assess
    expect(step(m, withVolumes(m, ['v1'])).reason).toBe('DrainingNode');
  });
});

describe('deletion: the Node object once the instance is gone', () => {
  it("asks to delete the machine's own Node, records when, and looks again in 2 s", () => {
    // Prepare
    const m = deleting();
    // Act
    const s = step(m, node(m), 'terminated');
    // Assess
    expect(s).toMatchObject({
      reason: 'DeletingNode',
      message: `Deleting Node node-w1 (started at ${iso(T0)})`,
      actions: [{ type: 'DeleteNode', machine: ref, nodeName: 'node-w1' }],
      nodeDeletionStartTime: iso(T0),
      requeueAfterSeconds: 2,
      done: false,
    });
  });

  it('asks again while the Node is there, within nodeDeletionTimeoutSeconds of the first ask', () => {
    // Prepare
    const m = deleting({ nodeDeletionTimeoutSeconds: 30 }, { nodeDeletionStartTime: iso(at(-29)) });
    // Act
    const s = step(m, node(m), 'terminated');
    // Assess
    expect(s).toMatchObject({ reason: 'DeletingNode', actions: [{ type: 'DeleteNode', nodeName: 'node-w1' }], requeueAfterSeconds: 1 });
  });

  it('goes on without it once the timeout has passed (10 s when unset), saying so', () => {
    // Prepare
    const m = deleting({}, { nodeDeletionStartTime: iso(at(-10)) });
    // Act
    const s = step(m, node(m), 'terminated');
    // Assess
    expect(s).toMatchObject({
      reason: 'DeletionCompleted',
      message: 'Deletion completed; Node node-w1 not deleted within nodeDeletionTimeout (10s), left behind',
      actions: [],
      done: true,
    });
  });

  it('a timeout of 0 asks for ever', () => {
    // Prepare
    const m = deleting({ nodeDeletionTimeoutSeconds: 0 }, { nodeDeletionStartTime: iso(at(-86400)) });
    // Act / Assess
    expect(step(m, node(m), 'terminated').actions).toEqual([{ type: 'DeleteNode', machine: ref, nodeName: 'node-w1' }]);
  });

  it('is done when the Node is gone', () => {
    // Prepare
    const m = deleting({}, { nodeDeletionStartTime: iso(at(-1)) });
    // Act / Assess
    expect(step(m, undefined, 'terminated')).toMatchObject({ reason: 'DeletionCompleted', message: 'Deletion completed', done: true });
  });

  it('waits for the instance to finish terminating before deleting the Node', () => {
    // Prepare
    const m = deleting();
    // Act / Assess
    expect(step(m, node(m), 'shutting-down')).toMatchObject({ reason: 'WaitingForInfrastructureDeletion', actions: [] });
  });

  it('while the nodes cannot be read, a machine that had a node waits within the timeout, then goes', () => {
    // Prepare
    const m = deleting();
    // Act
    const waiting = step(m, 'unread', 'terminated');
    const gone = step(deleting({}, { nodeDeletionStartTime: iso(at(-10)) }), 'unread', 'terminated');
    // Assess
    expect(waiting).toMatchObject({ reason: 'DeletingNode', actions: [], nodeDeletionStartTime: iso(T0), requeueAfterSeconds: 10 });
    expect(gone).toMatchObject({ reason: 'DeletionCompleted', done: true });
  });

  it('deletes no Node in a teardown: the whole cluster goes', () => {
    // Prepare
    const m = deleting();
    // Act / Assess
    expect(step(m, node(m), 'terminated', { teardown: true })).toMatchObject({ reason: 'DeletionCompleted', actions: [], done: true });
  });
});

describe('planMachine: the deletion waits', () => {
  it('records each start in status.deletion, keeps the drain start, and carries the DeleteNode action', () => {
    // Prepare
    const m = deleting();
    const n = node(m);
    // Act
    const plan = planMachine(m, { instances: [{ ...instance(m), state: 'terminated' }], nodes: [n] }, T0, { cluster: cluster() });
    // Assess
    const status = plan.writes.find((w) => w.type === 'UpdateStatus')?.object.status as Machine['status'];
    expect(status?.deletion).toEqual({ nodeDrainStartTime: iso(at(-60)), nodeDeletionStartTime: iso(T0) });
    expect(status?.conditions?.find((c) => c.type === 'Deleting')).toMatchObject({ status: 'True', reason: 'DeletingNode' });
    expect(plan.actions).toEqual([{ type: 'DeleteNode', machine: ref, nodeName: 'node-w1' }]);
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
  });

  it("never deletes a Node that a forged nodeRef names: only the Node of the machine's own instance", () => {
    // Prepare: the nodeRef names another machine's node, which is there on that machine's instance
    const m = deleting();
    const other = machine('w2');
    const forged: Machine = { ...m, status: { ...m.status, nodeRef: { name: 'node-w2' } } };
    // Act
    const plan = planMachine(forged, { instances: [{ ...instance(m), state: 'terminated' }, instance(other)], nodes: [node(other)] }, T0, {
      cluster: cluster(),
    });
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(true);
  });
});
