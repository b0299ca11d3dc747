/**
 * Coalescing the writes of one reconcile: several planners that write the same object must not undo each
 * other's changes. Each change is taken against the object as read, as a three-way merge patch is
 * (k8s.io/apimachinery/pkg/util/strategicpatch, CreateThreeWayMergePatch), and conditions merge by type, the
 * listMapKey of Cluster API's conditions; where both planners changed one field the later one wins.
 */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../../functions/api/kind.js';
import { coalesceWrites, merge3 } from '../../../functions/core/coalesce.js';
import type { Write } from '../../../functions/core/plan.js';

const cond = (type: string, status: string) => ({ type, status });

describe('merge3', () => {
  it('keeps a change only one side made, whichever side made it', () => {
    // Prepare
    const base = { spec: { replicas: 1, paused: false }, status: { phase: 'Running' } };
    // Act & Assess
    expect(merge3(base, { spec: { replicas: 3, paused: false }, status: { phase: 'Running' } }, base)).toEqual({
      spec: { replicas: 3, paused: false },
      status: { phase: 'Running' },
    });
    expect(merge3(base, base, { spec: { replicas: 1, paused: false }, status: { phase: 'Failed' } })).toEqual({
      spec: { replicas: 1, paused: false },
      status: { phase: 'Failed' },
    });
  });

  it('merges nested changes of both sides field by field', () => {
    // Prepare
    const base = { spec: { replicas: 1, paused: false }, status: { phase: 'Running' } };
    // Act
    const merged = merge3(
      base,
      { spec: { replicas: 3, paused: false }, status: { phase: 'Running' } },
      { spec: { replicas: 1, paused: false }, status: { phase: 'Failed' } },
    );
    // Assess
    expect(merged).toEqual({ spec: { replicas: 3, paused: false }, status: { phase: 'Failed' } });
  });

  it('lets the later side win where both changed the same field', () => {
    // Act & Assess
    expect(merge3({ n: 1, m: 1 }, { n: 2, m: 1 }, { n: 3, m: 1 })).toEqual({ n: 3, m: 1 });
    expect(merge3({ list: ['a'] }, { list: ['a', 'b'] }, { list: ['c'] })).toEqual({ list: ['c'] });
    expect(merge3('a', 'b', 'c')).toBe('c');
  });

  it('removes a field one side removed and the other left alone, and keeps a field one side added', () => {
    // Act & Assess
    expect(merge3({ keep: 1, drop: 2 }, { keep: 1 }, { keep: 1, drop: 2, added: 3 })).toEqual({ keep: 1, added: 3 });
  });

  it('merges conditions by type: each side keeps the conditions it set, in the order they first appear', () => {
    // Prepare
    const base = { conditions: [cond('Ready', 'False'), cond('Available', 'False')] };
    const a = { conditions: [cond('Ready', 'True'), cond('Available', 'False')] };
    const b = { conditions: [cond('Ready', 'False'), cond('Available', 'False'), cond('Paused', 'False')] };
    // Act & Assess
    expect(merge3(base, a, b)).toEqual({ conditions: [cond('Ready', 'True'), cond('Available', 'False'), cond('Paused', 'False')] });
  });

  it('drops a condition one side removed when the other side did not touch it', () => {
    // Prepare
    const base = { conditions: [cond('Ready', 'False'), cond('OwnerRemediated', 'False')] };
    const a = { conditions: [cond('Ready', 'False')] };
    const b = { conditions: [cond('Ready', 'True'), cond('OwnerRemediated', 'False')] };
    // Act & Assess
    expect(merge3(base, a, b)).toEqual({ conditions: [cond('Ready', 'True')] });
  });

  it('merges the conditions two sides added to an object read without any', () => {
    // Act & Assess
    expect(merge3({}, { conditions: [cond('Ready', 'True')] }, { conditions: [cond('Paused', 'False')] })).toEqual({
      conditions: [cond('Ready', 'True'), cond('Paused', 'False')],
    });
    expect(merge3(undefined, { conditions: [cond('Ready', 'True')] }, { conditions: [cond('Paused', 'False')] })).toEqual({
      conditions: [cond('Ready', 'True'), cond('Paused', 'False')],
    });
  });

  it('treats a list of entries without a type as a plain value: the later side wins', () => {
    // Act & Assess
    expect(merge3([{ name: 'a' }], [{ name: 'b' }], [{ name: 'c' }])).toEqual([{ name: 'c' }]);
    expect(merge3([], [cond('Ready', 'True')], [{ name: 'c' }])).toEqual([{ name: 'c' }]);
  });

  it('merges two objects changed from a base that was not an object', () => {
    // Act & Assess
    expect(merge3(null, { a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
  });
});

function obj(kind: string, name: string, fields: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): ApiObject {
  return { apiVersion: 'clusterless.dev/v1alpha1', kind, metadata: { name, namespace: 'default', ...meta }, ...fields } as unknown as ApiObject;
}

describe('coalesceWrites', () => {
  it('merges two status writes of one object into one, at the place of the first, guarded by the resourceVersion read', () => {
    // Prepare: the MachineDeployment planner and the MachineSet planner both write the set's status.
    const read = obj('MachineSet', 'ms', { status: { replicas: 1, phase: 'Running' } }, { resourceVersion: '7' });
    const writes: Write[] = [
      { type: 'UpdateStatus', object: obj('MachineSet', 'ms', { status: { replicas: 3, phase: 'Running' } }, { resourceVersion: '7' }) },
      { type: 'Delete', ref: { kind: 'Machine', namespace: 'default', name: 'm1' }, reason: 'x' },
      { type: 'UpdateStatus', object: obj('MachineSet', 'ms', { status: { replicas: 1, phase: 'Scaling' } }, { resourceVersion: '8' }) },
    ];
    // Act
    const out = coalesceWrites(writes, [read]);
    // Assess
    expect(out).toEqual([
      { type: 'UpdateStatus', object: obj('MachineSet', 'ms', { status: { replicas: 3, phase: 'Scaling' } }, { resourceVersion: '7' }) },
      writes[1],
    ]);
  });

  it('keeps the resourceVersion of the first write when the object was not among those read', () => {
    // Prepare
    const writes: Write[] = [
      { type: 'Update', object: obj('Machine', 'm', { spec: { a: 1 } }, { resourceVersion: '3' }) },
      { type: 'Update', object: obj('Machine', 'm', { spec: { b: 2 } }) },
    ];
    // Act
    const out = coalesceWrites(writes, []);
    // Assess
    expect(out).toEqual([{ type: 'Update', object: obj('Machine', 'm', { spec: { a: 1, b: 2 } }, { resourceVersion: '3' }) }]);
  });

  it('writes no resourceVersion when none was read (the write is then unguarded, as before)', () => {
    // Act
    const out = coalesceWrites(
      [
        { type: 'Update', object: obj('Machine', 'm', { spec: { a: 1 } }) },
        { type: 'Update', object: obj('Machine', 'm', { spec: { b: 2 } }) },
      ],
      [],
    );
    // Assess
    expect(out).toHaveLength(1);
    expect(Object.hasOwn(out[0]!.type === 'Update' ? out[0]!.object.metadata : {}, 'resourceVersion')).toBe(false);
  });

  it('keeps an Update and an UpdateStatus of one object apart, and writes of other objects apart', () => {
    // Prepare
    const writes: Write[] = [
      { type: 'Update', object: obj('Machine', 'm', { spec: { a: 1 } }) },
      { type: 'UpdateStatus', object: obj('Machine', 'm', { status: { b: 2 } }) },
      { type: 'Update', object: obj('Machine', 'other', { spec: { a: 1 } }) },
      { type: 'Update', object: obj('MachineSet', 'm', { spec: { a: 1 } }) },
      { type: 'Update', object: obj('Machine', 'm', { spec: { a: 1 } }, { namespace: 'team-b' }) },
    ];
    // Act & Assess
    expect(coalesceWrites(writes, [])).toEqual(writes);
  });

  it('keeps one of a repeated Create, Delete or RemoveFinalizer of the same object, and every distinct finalizer', () => {
    // Prepare
    const ref = { kind: 'Machine' as const, namespace: 'default', name: 'm' };
    const writes: Write[] = [
      { type: 'Create', object: obj('Machine', 'new', { spec: { a: 1 } }) },
      { type: 'Delete', ref, reason: 'first' },
      { type: 'RemoveFinalizer', ref, finalizer: 'f1' },
      { type: 'Create', object: obj('Machine', 'new', { spec: { a: 2 } }) },
      { type: 'Delete', ref, reason: 'second' },
      { type: 'RemoveFinalizer', ref, finalizer: 'f1' },
      { type: 'RemoveFinalizer', ref, finalizer: 'f2' },
      { type: 'Delete', ref: { ...ref, name: 'n' }, reason: 'other' },
    ];
    // Act & Assess
    expect(coalesceWrites(writes, [])).toEqual([writes[0], writes[1], writes[2], writes[6], writes[7]]);
  });
});

describe('coalescing, edges', () => {
  it('a merged write is guarded by the resourceVersion read, even when the first write went without one', () => {
    // Prepare
    const read = obj('MachineSet', 'ms', { status: { replicas: 1 } }, { resourceVersion: '7' });
    const writes: Write[] = [
      { type: 'UpdateStatus', object: obj('MachineSet', 'ms', { status: { replicas: 3 } }) },
      { type: 'UpdateStatus', object: obj('MachineSet', 'ms', { status: { replicas: 1, phase: 'Scaling' } }) },
    ];
    // Act & Assess
    expect(coalesceWrites(writes, [read])).toEqual([
      { type: 'UpdateStatus', object: obj('MachineSet', 'ms', { status: { replicas: 3, phase: 'Scaling' } }, { resourceVersion: '7' }) },
    ]);
  });

  it('an object one side replaced with a plain value: the later side wins', () => {
    expect(merge3({ x: 1 }, { x: 2 }, 'gone')).toBe('gone');
  });

  it('a list of which only some entries have a type is a plain value: the later side wins', () => {
    expect(merge3([cond('A', 'True')], [cond('A', 'False'), 'x'], [cond('B', 'True'), 'y'])).toEqual([cond('B', 'True'), 'y']);
  });
});
