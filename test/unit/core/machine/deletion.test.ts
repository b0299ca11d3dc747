/**
 * One step of a Machine's deletion: drain (workers), then the instance, as cluster-api
 * core/reconcilers/machine/machine_controller.go reconcileDelete orders them.
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import { deletionStep, type DeletionInput } from '../../../../functions/core/machine/deletion.js';
import type { ObjectRef } from '../../../../functions/core/plan.js';
import { T0, instance, iso, machine } from '../cluster/fixtures.js';

const ref: ObjectRef = { kind: 'Machine', namespace: 'default', name: 'w1', uid: 'uid-w1' };
const step = (m: Machine, lookup: DeletionInput['lookup']) =>
  deletionStep({ machine: m, ref, instance: instance(m), lookup, now: T0, controlPlane: false, teardown: false });

describe('deletionStep while the nodes cannot be read', () => {
  it('a worker that had a node waits to read it before draining, and looks again (drain timeout 0: no deadline)', () => {
    // Act
    const s = step(machine('w1', { drainTimeout: 0 }), { known: false });
    // Assess
    expect(s).toMatchObject({
      reason: 'DrainingNode',
      message: `Waiting to read the node to drain it (started at ${iso(T0)})`,
      actions: [],
      requeueAfterSeconds: 30,
    });
  });

  it.each([
    { name: 'never had a node', m: () => machine('w1', { node: false }) },
    {
      name: 'reported no status at all',
      m: () => {
        const { status: _s, ...rest } = machine('w1');
        return rest as Machine;
      },
    },
  ])('a worker that $name has nothing to drain: its instance goes', ({ m }) => {
    expect(step(m(), { known: false }).reason).toBe('WaitingForInfrastructureDeletion');
  });
});

describe('deletionStep with its node read', () => {
  it('drains the node of a machine that recorded nothing yet (no status), from now', () => {
    // Prepare
    const { status: _s, ...rest } = machine('w1');
    // Act
    const s = step(rest as Machine, { known: true, node: { name: 'node-w1', conditions: [] } });
    // Assess
    expect(s).toMatchObject({ reason: 'DrainingNode', message: `Drain not completed yet (started at ${iso(T0)})`, nodeDrainStartTime: iso(T0) });
  });
});
