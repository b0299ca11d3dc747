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
    expect(r.ok && r.object['metadata']).toEqual({ name: 'x', labels: { cluster: 'prod' } });
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
});
