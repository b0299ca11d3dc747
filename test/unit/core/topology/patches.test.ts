/** The JSON-patch subset of a ClusterClass: add, replace, remove, inline values and valueFrom.variable. */
import { describe, expect, it } from 'vitest';
import type { ClusterClassPatch } from '../../../../functions/api/cluster-class.js';
import { applyPatches } from '../../../../functions/core/topology/patches.js';

const md = { kind: 'MachineDeployment' as const, class: 'default-worker' };
const patch = (jsonPatches: ClusterClassPatch['definitions'][number]['jsonPatches'], names = ['default-worker']): ClusterClassPatch => ({
  name: 'p',
  definitions: [{ selector: { kind: 'MachineDeployment', matchResources: { machineDeploymentClass: { names } } }, jsonPatches }],
});
const doc = () => ({ metadata: { name: 'x' }, spec: { minReadySeconds: 0, template: { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } } } });

describe('applyPatches', () => {
  it('adds a field, creating the objects on its way (Cluster API applies patches with EnsurePathExistsOnAdd)', () => {
    const r = applyPatches(doc(), [patch([{ op: 'add', path: '/metadata/labels/team~1name', value: 'db' }])], md, new Map());
    expect(r).toEqual({ ok: true, object: expect.objectContaining({ metadata: { name: 'x', labels: { 'team/name': 'db' } } }) });
  });

  it('replaces and removes fields, and appends to a list with -', () => {
    const r = applyPatches(
      doc(),
      [
        patch([
          { op: 'replace', path: '/spec/minReadySeconds', value: 30 },
          { op: 'add', path: '/spec/template/spec/taints/-', value: { key: 'b', effect: 'NoExecute' } },
          { op: 'remove', path: '/spec/template/spec/taints/0' },
        ]),
      ],
      md,
      new Map(),
    );
    expect(r.ok && r.object['spec']).toEqual({ minReadySeconds: 30, template: { spec: { taints: [{ key: 'b', effect: 'NoExecute' }] } } });
  });

  it('reads valueFrom.variable from the variables given, built-ins included, and leaves out an operation whose variable has no value', () => {
    const vars = new Map<string, unknown>([['builtin.cluster.name', 'prod']]);
    const r = applyPatches(
      doc(),
      [
        patch([
          { op: 'add', path: '/metadata/labels/cluster', valueFrom: { variable: 'builtin.cluster.name' } },
          { op: 'add', path: '/metadata/labels/unset', valueFrom: { variable: 'optional' } },
        ]),
      ],
      md,
      vars,
    );
    // toStrictEqual: an operation applied with no value would leave an `unset` key holding undefined.
    expect(r.ok && r.object['metadata']).toStrictEqual({ name: 'x', labels: { cluster: 'prod' } });
  });

  it('reads a field of an object variable by a dotted path', () => {
    const vars = new Map<string, unknown>([['settings', { drain: 120 }]]);
    const r = applyPatches(doc(), [patch([{ op: 'replace', path: '/spec/minReadySeconds', valueFrom: { variable: 'settings.drain' } }])], md, vars);
    expect(r.ok && (r.object['spec'] as { minReadySeconds: number }).minReadySeconds).toBe(120);
  });

  it('applies only the definitions that select the object', () => {
    const r = applyPatches(doc(), [patch([{ op: 'replace', path: '/spec/minReadySeconds', value: 30 }], ['gpu-worker'])], md, new Map());
    expect(r.ok && (r.object['spec'] as { minReadySeconds: number }).minReadySeconds).toBe(0);
    const cp = applyPatches(doc(), [patch([{ op: 'replace', path: '/spec/minReadySeconds', value: 30 }])], { kind: 'ControlPlane' }, new Map());
    expect(cp.ok && (cp.object['spec'] as { minReadySeconds: number }).minReadySeconds).toBe(0);
  });

  it.each([
    { name: 'replace of a missing field', op: { op: 'replace' as const, path: '/spec/paused', value: true } },
    { name: 'remove of a missing list item', op: { op: 'remove' as const, path: '/spec/template/spec/taints/3' } },
  ])('fails on a $name, naming the patch and the pointer', ({ op }) => {
    expect(applyPatches(doc(), [patch([op])], md, new Map())).toEqual({ ok: false, error: expect.stringMatching(new RegExp(`^patch p: ${op.op} ${op.path}`)) });
  });

  it('never changes the object it is given', () => {
    const d = doc();
    applyPatches(d, [patch([{ op: 'replace', path: '/spec/minReadySeconds', value: 30 }])], md, new Map());
    expect(d).toEqual(doc());
  });

  it.each([
    { name: 'a pointer without its leading slash', op: { op: 'add' as const, path: 'spec/x', value: 1 }, error: 'is not a JSON pointer' },
    {
      name: 'a list index that is not a number on the way',
      op: { op: 'replace' as const, path: '/spec/template/spec/taints/x/key', value: 'b' },
      error: 'no item x',
    },
    { name: 'a list index past the end on the way', op: { op: 'replace' as const, path: '/spec/template/spec/taints/1/key', value: 'b' }, error: 'no item 1' },
    { name: 'a field under a number', op: { op: 'add' as const, path: '/spec/minReadySeconds/x/y', value: 1 }, error: 'x is not inside an object or list' },
    { name: 'the last field under a number', op: { op: 'add' as const, path: '/spec/minReadySeconds/x', value: 1 }, error: 'not inside an object' },
    { name: 'an add past the end of a list', op: { op: 'add' as const, path: '/spec/template/spec/taints/2', value: {} }, error: 'past the end' },
    { name: 'a replace of - (past the end)', op: { op: 'replace' as const, path: '/spec/template/spec/taints/-', value: {} }, error: 'is not a list index' },
    { name: 'a list index that is not a number', op: { op: 'remove' as const, path: '/spec/template/spec/taints/first' }, error: 'is not a list index' },
    {
      name: 'an add at a list index that is not a number',
      op: { op: 'add' as const, path: '/spec/template/spec/taints/x', value: {} },
      error: 'is not a list index',
    },
    { name: 'a list index with letters after its digits', op: { op: 'remove' as const, path: '/spec/template/spec/taints/0a' }, error: 'is not a list index' },
    { name: 'a list index with letters before its digits', op: { op: 'remove' as const, path: '/spec/template/spec/taints/a0' }, error: 'is not a list index' },
    { name: 'a list index of two digits', op: { op: 'remove' as const, path: '/spec/template/spec/taints/10' }, error: 'no item 10' },
    {
      name: 'a list index with letters on the way',
      op: { op: 'replace' as const, path: '/spec/template/spec/taints/0a/key', value: 'b' },
      error: 'no item 0a',
    },
    {
      name: 'a list index with a leading letter on the way',
      op: { op: 'replace' as const, path: '/spec/template/spec/taints/a0/key', value: 'b' },
      error: 'no item a0',
    },
    { name: 'a replace of a missing list item', op: { op: 'replace' as const, path: '/spec/template/spec/taints/1', value: {} }, error: 'no item 1' },
    { name: 'a remove of a missing field on the way', op: { op: 'remove' as const, path: '/spec/strategy/type' }, error: 'no field strategy' },
  ])('fails on $name', ({ op, error }) => {
    const r = applyPatches(doc(), [patch([op])], md, new Map());
    expect(r.ok ? 'applied' : r.error).toContain(error);
  });

  it('walks through a list item to a field of it', () => {
    const r = applyPatches(doc(), [patch([{ op: 'replace', path: '/spec/template/spec/taints/0/key', value: 'z' }])], md, new Map());
    expect(r.ok && r.object['spec']).toStrictEqual({ minReadySeconds: 0, template: { spec: { taints: [{ key: 'z', effect: 'NoSchedule' }] } } });
  });

  it('replaces a list item in place, and removes a field', () => {
    const r = applyPatches(
      doc(),
      [
        patch([
          { op: 'replace', path: '/spec/template/spec/taints/0', value: { key: 'z', effect: 'NoSchedule' } },
          { op: 'remove', path: '/spec/minReadySeconds' },
        ]),
      ],
      md,
      new Map(),
    );
    expect(r.ok && r.object['spec']).toStrictEqual({ template: { spec: { taints: [{ key: 'z', effect: 'NoSchedule' }] } } });
  });

  it('applies a ControlPlane definition to the control plane only', () => {
    const cpPatch: ClusterClassPatch = {
      name: 'cp',
      definitions: [
        {
          selector: { kind: 'ControlPlane', matchResources: { controlPlane: true } },
          jsonPatches: [{ op: 'replace', path: '/spec/minReadySeconds', value: 7 }],
        },
      ],
    };
    const onCp = applyPatches(doc(), [cpPatch], { kind: 'ControlPlane' }, new Map());
    expect(onCp.ok && (onCp.object['spec'] as { minReadySeconds: number }).minReadySeconds).toBe(7);
    const onMd = applyPatches(doc(), [cpPatch], md, new Map());
    expect(onMd.ok && (onMd.object['spec'] as { minReadySeconds: number }).minReadySeconds).toBe(0);
  });

  it('leaves out a dotted variable whose object lacks the field, or that is not an object', () => {
    const vars = new Map<string, unknown>([
      ['settings', { drain: 120 }],
      ['name', 'x'],
    ]);
    const r = applyPatches(
      doc(),
      [
        patch([
          { op: 'add', path: '/metadata/labels/a', valueFrom: { variable: 'settings.other' } },
          { op: 'add', path: '/metadata/labels/b', valueFrom: { variable: 'name.length' } },
        ]),
      ],
      md,
      vars,
    );
    expect(r.ok && r.object['metadata']).toStrictEqual({ name: 'x' });
  });
});
